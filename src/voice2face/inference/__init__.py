"""Inference: from a recording to face images with a saved model. Never imports ``training/``.

``__version__`` is re-exported for the web service, which may import this package only."""

from voice2face import __version__

__all__ = ["__version__"]
