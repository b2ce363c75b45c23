"""Typed, frozen configuration for every component, serialisable to and from JSON.

No torch here: configs are read by the CLI, written beside weights and into run folders,
and must load without building anything. Each config validates its ranges on construction
and raises :class:`~voice2face.errors.ConfigError` with one sentence naming the field.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from voice2face.errors import ConfigError

C = TypeVar("C")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config dataclass (nested configs become nested dicts)."""
    return dataclasses.asdict(config)


def from_dict(cls: type[C], data: dict[str, Any], *, where: str = "config") -> C:
    """Rebuild config class ``cls`` from ``data``; unknown keys are an error, missing ones default."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be a JSON object, got {type(data).__name__}.")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(
            f"{where} has unknown field(s) {', '.join(unknown)} for {cls.__name__}; "
            f"known fields are {', '.join(sorted(names))}."
        )
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        hint = hints[name]
        nested = _dataclass_in(hint)
        if nested is not None and isinstance(value, dict):
            value = from_dict(nested, value, where=f"{where}.{name}")
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a wrong type that the dataclass itself rejects
        raise ConfigError(f"{where} cannot build {cls.__name__}: {exc}.") from None


def _dataclass_in(hint: Any) -> type | None:
    if dataclasses.is_dataclass(hint):
        return hint  # type: ignore[return-value]
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        for arg in typing.get_args(hint):
            if dataclasses.is_dataclass(arg):
                return arg
    return None


def save_json(config: Any, path: str | Path) -> None:
    """Write a config as indented JSON (atomically: temp file, fsync, rename)."""
    from voice2face.utils.files import atomic_write_text

    atomic_write_text(Path(path), json.dumps(to_dict(config), indent=2, sort_keys=True) + "\n")


def load_json(cls: type[C], path: str | Path) -> C:
    """Read config class ``cls`` from a JSON file, naming the file in any error."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Config file {path} does not exist; check the path.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"Config file {path} is not valid JSON ({exc}); fix or recreate it.") from None
    return from_dict(cls, data, where=str(path))


# --------------------------------------------------------------------------- audio


@dataclass(frozen=True)
class AudioConfig:
    """How recordings are decoded and which lengths are accepted.

    sample_rate: Hz that every recording is resampled to.
    min_speech_seconds: less speech than this (after VAD) is refused.
    max_seconds: longer recordings are refused before they are decoded in full.
    """

    sample_rate: int = 16000
    min_speech_seconds: float = 0.5
    max_seconds: float = 600.0

    def __post_init__(self) -> None:
        _check(4000 <= self.sample_rate <= 192000, f"sample_rate must be 4000–192000 Hz, got {self.sample_rate}.")
        _check(self.min_speech_seconds >= 0, f"min_speech_seconds must be >= 0, got {self.min_speech_seconds}.")
        _check(
            self.max_seconds > self.min_speech_seconds,
            f"max_seconds ({self.max_seconds}) must exceed min_speech_seconds ({self.min_speech_seconds}).",
        )


VAD_BACKENDS = ("auto", "webrtc", "energy")


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
        _check(self.backend in VAD_BACKENDS, f"VAD backend must be one of {VAD_BACKENDS}, got {self.backend!r}.")
        _check(self.frame_ms in (10, 20, 30), f"VAD frame_ms must be 10, 20 or 30, got {self.frame_ms}.")
        _check(0 <= self.aggressiveness <= 3, f"VAD aggressiveness must be 0–3, got {self.aggressiveness}.")
        for name in ("padding_ms", "merge_gap_ms", "min_segment_ms"):
            _check(getattr(self, name) >= 0, f"VAD {name} must be >= 0, got {getattr(self, name)}.")
        _check(
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
    normalize: subtract each coefficient's mean and divide by its std over the utterance.
    """

    sample_rate: int = 16000
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

    def __post_init__(self) -> None:
        _check(
            20.0 <= self.frame_ms <= 40.0, f"MFCC frame_ms must be 20–40 ms (the paper's range), got {self.frame_ms}."
        )
        _check(0.0 <= self.overlap < 1.0, f"MFCC overlap must be in [0, 1), got {self.overlap}.")
        _check(0.0 <= self.preemphasis < 1.0, f"preemphasis must be in [0, 1), got {self.preemphasis}.")
        _check(2 <= self.n_ceps <= self.n_mels, f"n_ceps must be 2..n_mels ({self.n_mels}), got {self.n_ceps}.")
        _check(self.delta_width >= 1, f"delta_width must be >= 1, got {self.delta_width}.")
        _check(self.lifter >= 0, f"lifter must be >= 0, got {self.lifter}.")
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

    sample_rate: int = 16000
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
        _check(5.0 <= self.frame_ms <= 100.0, f"log-mel frame_ms must be 5–100 ms, got {self.frame_ms}.")
        _check(0.0 < self.hop_ms <= self.frame_ms, f"log-mel hop_ms must be in (0, frame_ms], got {self.hop_ms}.")
        _check(self.window in ("hamming", "hann"), f"window must be 'hamming' or 'hann', got {self.window!r}.")
        _check(0.0 <= self.preemphasis < 1.0, f"preemphasis must be in [0, 1), got {self.preemphasis}.")
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
    _check(n_fft is None or n_fft >= frame, f"n_fft ({n_fft}) must be at least the frame length ({frame} samples).")
    top = sr / 2 if fmax is None else fmax
    _check(0.0 <= fmin < top <= sr / 2, f"need 0 <= fmin < fmax <= sample_rate/2, got fmin={fmin}, fmax={fmax}.")
    _check(1 <= n_mels <= 256, f"n_mels must be 1–256, got {n_mels}.")


FEATURE_KINDS = ("mfcc", "logmel")


@dataclass(frozen=True)
class FeatureConfig:
    """Which time–frequency features feed the voice encoder, with both kinds' settings.

    kind: "mfcc" (the paper's 39-d MFCC+Δ+ΔΔ) or "logmel" (Wen et al.'s 64-band log-mel).
    """

    kind: str = "mfcc"
    mfcc: MFCCConfig = field(default_factory=MFCCConfig)
    logmel: LogMelConfig = field(default_factory=LogMelConfig)

    def __post_init__(self) -> None:
        _check(self.kind in FEATURE_KINDS, f"feature kind must be one of {FEATURE_KINDS}, got {self.kind!r}.")

    @property
    def active(self) -> MFCCConfig | LogMelConfig:
        """The settings of the selected kind."""
        return self.mfcc if self.kind == "mfcc" else self.logmel

    @property
    def dim(self) -> int:
        """Features per frame: 39 for default MFCC+Δ+ΔΔ, 64 for log-mel."""
        return self.active.dim

    @property
    def frames_per_second(self) -> float:
        """Frame rate of the selected kind (80/s for 25 ms MFCC at 50% overlap, 100/s for log-mel)."""
        active = self.active
        return active.sample_rate / active.hop_length


@dataclass(frozen=True)
class CropConfig:
    """Random training crops (paper: 3–8 s); test time uses whole utterances."""

    min_seconds: float = 3.0
    max_seconds: float = 8.0

    def __post_init__(self) -> None:
        _check(
            0 < self.min_seconds <= self.max_seconds,
            f"need 0 < min_seconds <= max_seconds, got {self.min_seconds}, {self.max_seconds}.",
        )


# --------------------------------------------------------------------------- synthvox (synthetic corpus)

#: The paper's identity split (Qin et al. 2025, Table 1): train / val / test subjects of 1 225.
PAPER_SPLIT_SUBJECTS = (924, 112, 189)
#: The paper's number of subjects; ``voice2face synth-corpus --identities 1225`` reproduces it.
PAPER_IDENTITIES = sum(PAPER_SPLIT_SUBJECTS)


@dataclass(frozen=True)
class SynthVoxConfig:
    """What the synthetic paired voice–face corpus (``voice2face.data.synthvox``) generates.

    Everything that changes the written bytes is here, so this config (saved in the manifest as
    ``generator_config``) and the voice2face version reproduce a corpus exactly.

    identities: number of people; the paper has 1 225 (:data:`PAPER_IDENTITIES`), the default of
        200 generates in well under a minute on 2 cores.
    utterances_per_identity / faces_per_identity: recordings and images per person.
    resolution: side of the square RGB face images in pixels (the paper's 64; up to 256).
    seed: every identity, utterance and image draws from its own generator derived from
        (seed, identity index, item index), so results do not depend on worker count or order.
    sample_rate: Hz of the written 16-bit PCM WAV files.
    min_utterance_seconds / max_utterance_seconds: whole-file lengths, silences included, drawn
        log-uniformly between the two.
    silence_seconds: (min, max) of the leading and of the trailing near-silence (background noise
        only), each at most a fifth of the file so that short files keep most of their speech.
    snr_db: (min, max) speech-to-background-noise ratio of a recording, in dB.
    split_weights: relative sizes of the identity-disjoint (train, val, test) splits; the paper's
        924/112/189 subjects by default.
    preview_identities: faces shown in ``preview.png``, the labelled contact sheet.
    example_voices: how many example WAVs (copies of utterances spanning sex and age) go to
        ``examples/`` beside the manifest.
    """

    identities: int = 200
    utterances_per_identity: int = 8
    faces_per_identity: int = 6
    resolution: int = 64
    seed: int = 0
    sample_rate: int = 16000
    min_utterance_seconds: float = 2.0
    max_utterance_seconds: float = 10.0
    silence_seconds: tuple[float, float] = (0.3, 1.0)
    snr_db: tuple[float, float] = (15.0, 40.0)
    split_weights: tuple[int, int, int] = PAPER_SPLIT_SUBJECTS
    preview_identities: int = 32
    example_voices: int = 4

    def __post_init__(self) -> None:
        _check(3 <= self.identities <= 100_000, f"identities must be 3–100000, got {self.identities}.")
        _check(
            1 <= self.utterances_per_identity <= 1000,
            f"utterances_per_identity must be 1–1000, got {self.utterances_per_identity}.",
        )
        _check(
            1 <= self.faces_per_identity <= 1000, f"faces_per_identity must be 1–1000, got {self.faces_per_identity}."
        )
        _check(32 <= self.resolution <= 256, f"resolution must be 32–256 pixels, got {self.resolution}.")
        _check(0 <= self.seed < 2**63, f"seed must be a non-negative integer below 2**63, got {self.seed}.")
        _check(16000 <= self.sample_rate <= 48000, f"sample_rate must be 16000–48000 Hz, got {self.sample_rate}.")
        _check(
            1.0 <= self.min_utterance_seconds <= self.max_utterance_seconds <= 60.0,
            "need 1 <= min_utterance_seconds <= max_utterance_seconds <= 60, got "
            f"{self.min_utterance_seconds}, {self.max_utterance_seconds}.",
        )
        _check(
            len(self.silence_seconds) == 2 and 0.1 <= self.silence_seconds[0] <= self.silence_seconds[1] <= 5.0,
            f"silence_seconds must be (min, max) with 0.1 <= min <= max <= 5, got {self.silence_seconds}.",
        )
        _check(
            len(self.snr_db) == 2 and 5.0 <= self.snr_db[0] <= self.snr_db[1] <= 80.0,
            f"snr_db must be (min, max) with 5 <= min <= max <= 80 dB, got {self.snr_db}.",
        )
        _check(
            len(self.split_weights) == 3 and all(w > 0 for w in self.split_weights),
            f"split_weights must be three positive (train, val, test) weights, got {self.split_weights}.",
        )
        _check(0 <= self.preview_identities <= 256, f"preview_identities must be 0–256, got {self.preview_identities}.")
        _check(0 <= self.example_voices <= 64, f"example_voices must be 0–64, got {self.example_voices}.")

    @classmethod
    def paper(cls, **overrides: Any) -> SynthVoxConfig:
        """The paper's scale: 1 225 identities split 924/112/189."""
        return cls(**{"identities": PAPER_IDENTITIES, **overrides})
