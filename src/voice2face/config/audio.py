"""Audio configs: decoding limits, voice-activity detection and the voice features (MFCC, log-mel)."""

from __future__ import annotations

from dataclasses import dataclass, field

from voice2face.config.base import check

#: The rate every recording is resampled to and every feature config assumes (Hz).
SAMPLE_RATE = 16000


@dataclass(frozen=True)
class AudioConfig:
    """How recordings are decoded and which lengths are accepted.

    sample_rate: Hz that every recording is resampled to.
    min_speech_seconds: less speech than this (after VAD) is refused.
    max_seconds: longer recordings are refused before they are decoded in full.
    """

    sample_rate: int = SAMPLE_RATE
    min_speech_seconds: float = 0.5
    max_seconds: float = 600.0

    def __post_init__(self) -> None:
        check(4000 <= self.sample_rate <= 192000, f"sample_rate must be 4000–192000 Hz, got {self.sample_rate}.")
        check(self.min_speech_seconds >= 0, f"min_speech_seconds must be >= 0, got {self.min_speech_seconds}.")
        check(
            self.max_seconds > self.min_speech_seconds,
            f"max_seconds ({self.max_seconds}) must exceed min_speech_seconds ({self.min_speech_seconds}).",
        )


VAD_BACKENDS = ("auto", "webrtc", "energy")
#: webrtcvad's modes: 0 keeps most audio, 3 least.
VAD_AGGRESSIVENESS = (0, 1, 2, 3)


@dataclass(frozen=True)
class VADConfig:
    """Voice-activity detection settings.

    backend: "webrtc" (the webrtcvad-wheels package), "energy" (frame energy against the
        loudest frames), or "auto": webrtc, falling back to energy only when webrtcvad cannot
        be imported (logged once).
    frame_ms: analysis frame, 10, 20 or 30 ms (webrtcvad's sizes).
    aggressiveness: 0 (keeps most) … 3 (keeps least), webrtcvad's mode.
    padding_ms: speech segments are widened by this much on each side.
    merge_gap_ms: segments closer than this are joined.
    min_segment_ms: shorter detections are dropped as clicks.
    energy_threshold_db: energy backend: frames within this many dB of the loudest 5% count.
    """

    backend: str = "auto"
    frame_ms: int = 30
    aggressiveness: int = 2
    padding_ms: int = 90
    merge_gap_ms: int = 200
    min_segment_ms: int = 60
    energy_threshold_db: float = -35.0

    def __post_init__(self) -> None:
        check(self.backend in VAD_BACKENDS, f"VAD backend must be one of {VAD_BACKENDS}, got {self.backend!r}.")
        check(self.frame_ms in (10, 20, 30), f"VAD frame_ms must be 10, 20 or 30, got {self.frame_ms}.")
        check(
            VAD_AGGRESSIVENESS[0] <= self.aggressiveness <= VAD_AGGRESSIVENESS[-1],
            f"VAD aggressiveness must be 0–3, got {self.aggressiveness}.",
        )
        for name in ("padding_ms", "merge_gap_ms", "min_segment_ms"):
            check(getattr(self, name) >= 0, f"VAD {name} must be >= 0, got {getattr(self, name)}.")
        check(
            self.energy_threshold_db < 0, f"VAD energy_threshold_db must be negative, got {self.energy_threshold_db}."
        )


@dataclass(frozen=True)
class MFCCConfig:
    """The paper's MFCC (Qin et al. 2025, eqs. 4–10): pre-emphasis, framing, Hamming, FFT,
    triangular Mel filterbank, log, DCT-II, Δ and ΔΔ.

    frame_ms: 20–40 ms (paper), default 25; frames overlap by ``overlap`` (paper: half).
    n_fft: FFT size; None means the next power of two at or above the frame length.
    n_mels / n_ceps: the paper gives no numbers; 26 filters and 13 coefficients (c0…c12) are
        the usual choice and give the 39-dimensional MFCC+Δ+ΔΔ vector.
    lifter: sinusoidal liftering coefficient; 0 (the paper's pipeline) disables it.
    delta_width: K of the regression formula (paper: 2).
    log_floor: energies are clamped to this before the natural log.
    normalize: subtract each coefficient's mean over the utterance (cepstral mean normalisation,
        which removes a recording channel's and gain's constant colouring) and, with
        ``normalize_variance``, divide by its std (CMVN). Mean only keeps how widely each
        coefficient swings, which is where breathiness, shimmer and a voice's age show (a linear
        probe reads age far better from unscaled swings: docs/measurements.md).
    normalize_variance: with ``normalize``, also divide by the std (default, as before).
    """

    sample_rate: int = SAMPLE_RATE
    frame_ms: float = 25.0
    overlap: float = 0.5
    preemphasis: float = 0.95
    n_fft: int | None = None
    n_mels: int = 26
    n_ceps: int = 13
    fmin: float = 0.0
    fmax: float | None = None
    lifter: int = 0
    delta_width: int = 2
    log_floor: float = 1e-10
    normalize: bool = False
    normalize_variance: bool = True

    def __post_init__(self) -> None:
        check(
            20.0 <= self.frame_ms <= 40.0, f"MFCC frame_ms must be 20–40 ms (the paper's range), got {self.frame_ms}."
        )
        check(0.0 <= self.overlap < 1.0, f"MFCC overlap must be in [0, 1), got {self.overlap}.")
        check(0.0 <= self.preemphasis < 1.0, f"preemphasis must be in [0, 1), got {self.preemphasis}.")
        check(2 <= self.n_ceps <= self.n_mels, f"n_ceps must be 2..n_mels ({self.n_mels}), got {self.n_ceps}.")
        check(self.delta_width >= 1, f"delta_width must be >= 1, got {self.delta_width}.")
        check(self.lifter >= 0, f"lifter must be >= 0, got {self.lifter}.")
        _check_fft_and_band(self.sample_rate, self.frame_length, self.n_fft, self.fmin, self.fmax, self.n_mels)

    @property
    def frame_length(self) -> int:
        """Samples per frame."""
        return round(self.frame_ms * self.sample_rate / 1000.0)

    @property
    def hop_length(self) -> int:
        """Samples between frame starts."""
        return max(1, round(self.frame_length * (1.0 - self.overlap)))

    @property
    def fft_size(self) -> int:
        """The FFT size actually used."""
        return self.n_fft or _next_pow2(self.frame_length)

    @property
    def dim(self) -> int:
        """Feature dimension: 3·n_ceps (static, Δ, ΔΔ)."""
        return 3 * self.n_ceps


@dataclass(frozen=True)
class LogMelConfig:
    """64-band log-mel spectrogram (Wen et al. 2019 protocol, paper §3.1): 25 ms window,
    10 ms hop, natural log, then per-band mean and variance normalisation over the utterance."""

    sample_rate: int = SAMPLE_RATE
    n_mels: int = 64
    frame_ms: float = 25.0
    hop_ms: float = 10.0
    n_fft: int | None = None
    window: str = "hamming"
    preemphasis: float = 0.0
    fmin: float = 0.0
    fmax: float | None = None
    log_floor: float = 1e-10
    normalize: bool = True

    def __post_init__(self) -> None:
        check(5.0 <= self.frame_ms <= 100.0, f"log-mel frame_ms must be 5–100 ms, got {self.frame_ms}.")
        check(0.0 < self.hop_ms <= self.frame_ms, f"log-mel hop_ms must be in (0, frame_ms], got {self.hop_ms}.")
        check(self.window in ("hamming", "hann"), f"window must be 'hamming' or 'hann', got {self.window!r}.")
        check(0.0 <= self.preemphasis < 1.0, f"preemphasis must be in [0, 1), got {self.preemphasis}.")
        _check_fft_and_band(self.sample_rate, self.frame_length, self.n_fft, self.fmin, self.fmax, self.n_mels)

    @property
    def frame_length(self) -> int:
        """Samples per frame."""
        return round(self.frame_ms * self.sample_rate / 1000.0)

    @property
    def hop_length(self) -> int:
        """Samples between frame starts."""
        return max(1, round(self.hop_ms * self.sample_rate / 1000.0))

    @property
    def fft_size(self) -> int:
        """The FFT size actually used."""
        return self.n_fft or _next_pow2(self.frame_length)

    @property
    def dim(self) -> int:
        """Feature dimension (mel bands)."""
        return self.n_mels


def _next_pow2(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def _check_fft_and_band(sr: int, frame: int, n_fft: int | None, fmin: float, fmax: float | None, n_mels: int) -> None:
    check(n_fft is None or n_fft >= frame, f"n_fft ({n_fft}) must be at least the frame length ({frame} samples).")
    top = sr / 2 if fmax is None else fmax
    check(0.0 <= fmin < top <= sr / 2, f"need 0 <= fmin < fmax <= sample_rate/2, got fmin={fmin}, fmax={fmax}.")
    check(1 <= n_mels <= 256, f"n_mels must be 1–256, got {n_mels}.")


FEATURE_KINDS = ("mfcc", "logmel")
#: Rows that :attr:`FeatureConfig.voicing` appends (``voice2face.audio.voicing.VOICING_CHANNELS``).
VOICING_ROWS = 5


@dataclass(frozen=True)
class FeatureConfig:
    """Which time–frequency features feed the voice encoder, with both kinds' settings.

    kind: "mfcc" (the paper's 39-d MFCC+Δ+ΔΔ) or "logmel" (Wen et al.'s 64-band log-mel).
    voicing: append five rows per frame, pitch and periodicity in three bands
        (:mod:`voice2face.audio.voicing`): where age and breathiness show, which 13 MFCCs smooth
        away. Off in the paper's presets; on in the label-free route's.
    """

    kind: str = "mfcc"
    mfcc: MFCCConfig = field(default_factory=MFCCConfig)
    logmel: LogMelConfig = field(default_factory=LogMelConfig)
    voicing: bool = False

    def __post_init__(self) -> None:
        check(self.kind in FEATURE_KINDS, f"feature kind must be one of {FEATURE_KINDS}, got {self.kind!r}.")

    @property
    def active(self) -> MFCCConfig | LogMelConfig:
        """The settings of the selected kind."""
        return self.mfcc if self.kind == "mfcc" else self.logmel

    @property
    def dim(self) -> int:
        """Features per frame: 39 for default MFCC+Δ+ΔΔ, 64 for log-mel; 5 more with ``voicing``."""
        return self.active.dim + (VOICING_ROWS if self.voicing else 0)

    @property
    def frames_per_second(self) -> float:
        """Frame rate of the selected kind (80/s for 25 ms MFCC at 50% overlap, 100/s for log-mel)."""
        active = self.active
        return active.sample_rate / active.hop_length


#: The paper's features: MFCC+Δ+ΔΔ, each coefficient normalised over the utterance (the paper gives
#: no normalisation; see the training presets). What the paper presets train on and what
#: ``prepare voxceleb`` stores for ``mfcc``.
PAPER_FEATURES = FeatureConfig(kind="mfcc", mfcc=MFCCConfig(normalize=True))
#: Wen et al.'s features: 64-band log-mel, per-band mean/variance normalised; ``prepare``'s ``logmel``.
WEN_FEATURES = FeatureConfig(kind="logmel")
