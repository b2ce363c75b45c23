"""From a recording on disk (or a waveform in memory) to speech-only features.

This is the one place that chains decode → VAD → features, so the CLI, datasets and the
inference pipeline meet bad input with the same errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voice2face.audio.features import compute_features
from voice2face.audio.io import load_audio, prepare_waveform
from voice2face.audio.vad import Segment, VADResult, speech_only
from voice2face.config import AudioConfig, FeatureConfig, VADConfig
from voice2face.errors import ConfigError, NoSpeechError


@dataclass(frozen=True)
class Speech:
    """A decoded recording and the speech the VAD kept.

    ``waveform``: ``[N]`` float32 at ``sample_rate``; ``speech``: ``[M]`` (M ≤ N).
    """

    source: str
    waveform: np.ndarray
    speech: np.ndarray
    segments: tuple[Segment, ...]
    sample_rate: int
    vad_backend: str

    @property
    def duration_seconds(self) -> float:
        """Length of the whole recording."""
        return self.waveform.shape[0] / self.sample_rate

    @property
    def speech_seconds(self) -> float:
        """Length of the speech kept."""
        return self.speech.shape[0] / self.sample_rate


def extract_speech(
    waveform: np.ndarray,
    audio: AudioConfig,
    vad: VADConfig | None,
    *,
    source: str,
) -> Speech:
    """VAD on a prepared waveform ``[N]``; ``vad=None`` keeps everything (still length-checked)."""
    if vad is None:
        seconds = waveform.shape[0] / audio.sample_rate
        if not np.any(waveform):
            raise NoSpeechError(f"{source} is entirely silent (all samples are zero); use a recording with speech.")
        if seconds < audio.min_speech_seconds:
            raise NoSpeechError(
                f"{source} is only {seconds:.2f} s long, under the {audio.min_speech_seconds:g} s "
                "minimum; use a longer recording or lower --min-speech."
            )
        result = VADResult(waveform, (Segment(0, waveform.shape[0]),), audio.sample_rate, "none")
    else:
        result = speech_only(
            waveform, audio.sample_rate, vad, min_speech_seconds=audio.min_speech_seconds, source=source
        )
    return Speech(source, waveform, result.speech, result.segments, audio.sample_rate, result.backend)


def load_speech(path: str | Path, audio: AudioConfig | None = None, vad: VADConfig | None = VADConfig()) -> Speech:
    """Decode ``path`` and keep its speech; every failure is an :class:`AudioError` naming the file."""
    audio = audio or AudioConfig()
    waveform = load_audio(path, audio.sample_rate, max_seconds=audio.max_seconds)
    return extract_speech(waveform, audio, vad, source=str(path))


def speech_from_array(
    samples: np.ndarray,
    sample_rate: int,
    audio: AudioConfig | None = None,
    vad: VADConfig | None = VADConfig(),
) -> Speech:
    """Like :func:`load_speech` for an in-memory waveform ``[N]`` or ``[N, channels]``."""
    audio = audio or AudioConfig()
    waveform = prepare_waveform(samples, sample_rate, audio.sample_rate, max_seconds=audio.max_seconds)
    return extract_speech(waveform, audio, vad, source="the waveform")


def speech_features(speech: Speech, features: FeatureConfig | None = None) -> np.ndarray:
    """Features of the kept speech in the encoder layout ``[F, T]``."""
    features = features or FeatureConfig()
    if features.active.sample_rate != speech.sample_rate:
        raise ConfigError(
            f"features expect {features.active.sample_rate} Hz audio but {speech.source} was decoded at "
            f"{speech.sample_rate} Hz; use the same sample rate for both."
        )
    return compute_features(speech.speech, features)
