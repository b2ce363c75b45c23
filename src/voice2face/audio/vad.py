"""Voice-activity detection: keep the speech-bearing parts of a recording.

The default detector is WebRTC's (the ``webrtcvad-wheels`` package). An energy detector is
available by name and is used in ``auto`` mode only when webrtcvad cannot be imported, with
one warning per process. Frame decisions are cleaned up (short blips dropped, segments
padded and merged) and returned as sample ranges together with the concatenated speech.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from voice2face.audio.io import resample
from voice2face.config import VADConfig
from voice2face.errors import ConfigError, NoSpeechError

log = logging.getLogger(__name__)

_WEBRTC_RATES = (8000, 16000, 32000, 48000)
_WARMUP_MS = 300
_fallback_warned = False
_webrtcvad: ModuleType | None = None


@dataclass(frozen=True)
class Segment:
    """A stretch of speech, ``[start, end)`` in samples of the analysed signal."""

    start: int
    end: int

    def seconds(self, sample_rate: int) -> tuple[float, float]:
        """(start, end) in seconds."""
        return self.start / sample_rate, self.end / sample_rate


@dataclass(frozen=True)
class VADResult:
    """The speech-only signal ``[M]`` (segments concatenated), the segments, and how found."""

    speech: np.ndarray
    segments: tuple[Segment, ...]
    sample_rate: int
    backend: str

    @property
    def speech_seconds(self) -> float:
        """Seconds of speech kept."""
        return self.speech.shape[0] / self.sample_rate


def _import_webrtcvad() -> ModuleType:
    global _webrtcvad
    if _webrtcvad is None:
        import webrtcvad

        _webrtcvad = webrtcvad
    return _webrtcvad


def resolve_backend(backend: str) -> str:
    """The backend that will actually run for a configured one ("auto" → webrtc or energy)."""
    global _fallback_warned
    if backend == "energy":
        return "energy"
    try:
        _import_webrtcvad()
        return "webrtc"
    except ImportError as exc:
        if backend == "webrtc":
            raise ConfigError(
                f"VAD backend 'webrtc' needs the webrtcvad-wheels package ({exc}); "
                "run `pip install webrtcvad-wheels` or choose the 'energy' backend."
            ) from None
        if not _fallback_warned:
            log.warning("webrtcvad cannot be imported (%s); using the energy-based VAD instead.", exc)
            _fallback_warned = True
        return "energy"


def detect_speech(signal: np.ndarray, sample_rate: int, config: VADConfig | None = None) -> VADResult:
    """Find speech in ``signal`` (float ``[N]`` in [-1, 1]); never raises for silence.

    Returns a :class:`VADResult`; its ``speech`` is empty when nothing was found.
    """
    config = config or VADConfig()
    signal = np.asarray(signal, dtype=np.float32)
    if signal.ndim != 1:
        raise ValueError(f"detect_speech expects a mono signal [N], got shape {signal.shape}")
    backend = resolve_backend(config.backend)
    if backend == "webrtc":
        flags, frame_len = _webrtc_frames(signal, sample_rate, config)
    else:
        flags, frame_len = _energy_frames(signal, sample_rate, config)
    segments = _segments_from_flags(flags, frame_len, signal.shape[0], sample_rate, config)
    if segments:
        speech = np.concatenate([signal[s.start : s.end] for s in segments])
    else:
        speech = np.zeros(0, dtype=np.float32)
    return VADResult(speech=speech, segments=tuple(segments), sample_rate=sample_rate, backend=backend)


def speech_only(
    signal: np.ndarray,
    sample_rate: int,
    config: VADConfig | None = None,
    *,
    min_speech_seconds: float = 0.5,
    source: str = "the recording",
) -> VADResult:
    """Like :func:`detect_speech`, but raise :class:`NoSpeechError` when too little speech is found."""
    result = detect_speech(signal, sample_rate, config)
    if result.speech.size == 0:
        raise NoSpeechError(
            f"No speech found in {source} by the voice-activity detector ({result.backend}); "
            "check that the recording is not silent, or lower the VAD aggressiveness."
        )
    if result.speech_seconds < min_speech_seconds:
        raise NoSpeechError(
            f"Only {result.speech_seconds:.2f} s of speech found in {source}, under the "
            f"{min_speech_seconds:g} s minimum; use a longer recording or lower --min-speech."
        )
    return result


def _webrtc_frames(signal: np.ndarray, sample_rate: int, config: VADConfig) -> tuple[np.ndarray, int]:
    """Per-frame speech flags from webrtcvad and the frame length in samples of ``signal``."""
    webrtcvad = _import_webrtcvad()
    rate = sample_rate if sample_rate in _WEBRTC_RATES else 16000
    analysed = signal if rate == sample_rate else resample(signal, sample_rate, rate)
    frame = rate * config.frame_ms // 1000
    pcm = (np.clip(analysed, -1.0, 1.0) * 32767.0).astype("<i2")
    n_frames = pcm.shape[0] // frame
    vad = webrtcvad.Vad(config.aggressiveness)
    # A fresh webrtcvad calls its first 3-4 frames speech whatever they hold, while its noise
    # model adapts; prime it on the opening frames so that leading silence is not kept.
    for i in range(min(n_frames, _WARMUP_MS // config.frame_ms)):
        vad.is_speech(pcm[i * frame : (i + 1) * frame].tobytes(), rate)
    flags = np.fromiter(
        (vad.is_speech(pcm[i * frame : (i + 1) * frame].tobytes(), rate) for i in range(n_frames)),
        dtype=bool,
        count=n_frames,
    )
    return flags, sample_rate * config.frame_ms // 1000


def _energy_frames(signal: np.ndarray, sample_rate: int, config: VADConfig) -> tuple[np.ndarray, int]:
    """Frames within ``energy_threshold_db`` of the loudest 5%, and above -60 dBFS."""
    frame = sample_rate * config.frame_ms // 1000
    n_frames = signal.shape[0] // frame
    if n_frames == 0:
        return np.zeros(0, dtype=bool), frame
    frames = signal[: n_frames * frame].reshape(n_frames, frame).astype(np.float64)
    energy_db = 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-12)  # [n_frames]
    reference = np.percentile(energy_db, 95)
    flags = (energy_db > reference + config.energy_threshold_db) & (energy_db > -60.0)
    return flags, frame


def _segments_from_flags(
    flags: np.ndarray, frame_len: int, n_samples: int, sample_rate: int, config: VADConfig
) -> list[Segment]:
    """Runs of speech frames → padded, merged sample ranges; blips shorter than the minimum dropped."""
    if flags.size == 0 or not flags.any():
        return []
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    min_frames = config.min_segment_ms * sample_rate / 1000 / frame_len
    pad = config.padding_ms * sample_rate // 1000
    gap = config.merge_gap_ms * sample_rate // 1000
    segments: list[Segment] = []
    for start_frame, end_frame in zip(starts, ends, strict=True):
        if end_frame - start_frame < min_frames:
            continue
        start = max(0, int(start_frame) * frame_len - pad)
        end = min(n_samples, int(end_frame) * frame_len + pad)
        if segments and start - segments[-1].end <= gap:
            segments[-1] = Segment(segments[-1].start, end)
        else:
            segments.append(Segment(start, end))
    return segments
