"""Audio front end: decoding and validation, voice-activity detection, features.

Knows nothing of models. Every function that takes a file names it in its errors.
"""
