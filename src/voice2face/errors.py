"""The project's own exceptions: each carries one sentence a person can act on.

The CLI prints ``str(error)`` without a traceback and exits non-zero; library callers can
catch the narrow classes. Messages name the file concerned and what to do about it.
"""

from __future__ import annotations


class Voice2FaceError(Exception):
    """Base class of every error voice2face raises on purpose."""

    exit_code = 1


class AudioError(Voice2FaceError):
    """An audio file cannot be read, or its content cannot be used (empty, corrupt, NaN...)."""


class NoSpeechError(AudioError):
    """The voice-activity detector found no (or too little) speech in a recording."""


class ConfigError(Voice2FaceError, ValueError):
    """An option or configuration value is out of range or inconsistent."""

    exit_code = 2


class CheckpointError(Voice2FaceError):
    """A model folder or weight file is missing, truncated, mismatched or tampered with."""


class DatasetError(Voice2FaceError):
    """A prepared dataset folder is missing, empty or inconsistent."""


class MetricError(Voice2FaceError):
    """A metric cannot be computed from what it was given (bad weights file, inconsistent inputs)."""


class MetricUnavailableError(MetricError):
    """A metric needs something this machine does not have (weights, an optional package); it is skipped."""


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on Ctrl-C after writing a final snapshot; the message says how to resume."""


class OutputError(Voice2FaceError):
    """An output file or folder cannot be created or written (under a file, no permission, read-only)."""


class NonSpeechError(AudioError):
    """A recording holds sound that does not sound like speech (noise, a tone, music)."""
