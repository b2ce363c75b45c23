"""Inference: from a recording to face images with a saved model. Never imports ``training/``."""
