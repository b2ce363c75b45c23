"""Training: the two-stage recipe (voice encoder, then face generator), run folders, resume.

Nothing outside ``training/`` imports from it: inference and metrics work from saved models.
"""
