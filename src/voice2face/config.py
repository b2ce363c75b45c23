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


# --------------------------------------------------------------------------- metrics (issue 6)

PPL_SPACES = ("z", "w")
PPL_SAMPLINGS = ("full", "end")


@dataclass(frozen=True)
class FIDConfig:
    """Fréchet Inception Distance and KID settings.

    batch_size: images per Inception forward pass.
    kid_subsets / kid_subset_size: KID averages the unbiased MMD² over this many random subsets
        of this size (stylegan2-ada: 100 × 1000); smaller feature sets use their own size.
    seed: the subsets' random generator.
    frechet_method: "sqrtm" (scipy's matrix square root: pytorch-fid's, the reference) or
        "eigh" (symmetric eigendecompositions, about 5× faster at 2048 dimensions).
    """

    batch_size: int = 32
    kid_subsets: int = 100
    kid_subset_size: int = 1000
    seed: int = 0
    frechet_method: str = "sqrtm"

    def __post_init__(self) -> None:
        _check(self.batch_size >= 1, f"FID batch_size must be >= 1, got {self.batch_size}.")
        _check(self.kid_subsets >= 1, f"kid_subsets must be >= 1, got {self.kid_subsets}.")
        _check(self.kid_subset_size >= 2, f"kid_subset_size must be >= 2, got {self.kid_subset_size}.")
        _check(
            self.frechet_method in ("sqrtm", "eigh"),
            f"frechet_method must be 'sqrtm' or 'eigh', got {self.frechet_method!r}.",
        )


@dataclass(frozen=True)
class PPLConfig:
    """StyleGAN's perceptual path length (Karras et al. 2019/2020).

    space: interpolate in "z" (slerp, then mapping) or "w" (lerp after mapping).
    sampling: "full" draws t ~ U(0, 1); "end" uses t = 0 (the path's end points).
    epsilon: the step between the two images; distances are divided by epsilon².
    num_samples: interpolation pairs; batch_size: pairs per generator call.
    crop: keep the central face region (StyleGAN's FFHQ crop) before the distance network.
    max_resolution: larger images are area-downsampled to this before the distance network.
    noise_mode: the synthesis noise; "const" so that only the latent moves.
    low_percentile / high_percentile: distances outside these percentiles are dropped.
    """

    space: str = "w"
    sampling: str = "end"
    epsilon: float = 1e-4
    num_samples: int = 10000
    batch_size: int = 16
    crop: bool = False
    max_resolution: int = 256
    noise_mode: str = "const"
    low_percentile: float = 1.0
    high_percentile: float = 99.0
    seed: int = 0

    def __post_init__(self) -> None:
        _check(self.space in PPL_SPACES, f"PPL space must be one of {PPL_SPACES}, got {self.space!r}.")
        _check(self.sampling in PPL_SAMPLINGS, f"PPL sampling must be one of {PPL_SAMPLINGS}, got {self.sampling!r}.")
        _check(0 < self.epsilon < 0.1, f"PPL epsilon must be in (0, 0.1), got {self.epsilon}.")
        _check(self.num_samples >= 2, f"PPL num_samples must be >= 2, got {self.num_samples}.")
        _check(self.batch_size >= 1, f"PPL batch_size must be >= 1, got {self.batch_size}.")
        _check(self.max_resolution >= 8, f"PPL max_resolution must be >= 8, got {self.max_resolution}.")
        _check(self.noise_mode in ("const", "random", "none"), f"PPL noise_mode bad: {self.noise_mode!r}.")
        _check(
            0 <= self.low_percentile < self.high_percentile <= 100,
            f"need 0 <= low_percentile < high_percentile <= 100, got {self.low_percentile}, {self.high_percentile}.",
        )


@dataclass(frozen=True)
class IdentityMetricsConfig:
    """Voice-to-face identity metrics (Wen et al. 2019; SF2F, Bai et al. 2022).

    num_pairs: random 1:2 trials (voice, its speaker's face, another identity's face); 0 means
        every such triple (exact, for small sets).
    recall_ks: K values of recall@K against per-identity mean embeddings of real faces.
    gallery_size: identities per recall gallery (all of them when fewer); folds: galleries averaged.
    seed: the pairs' and galleries' random generator.
    """

    num_pairs: int = 10000
    recall_ks: tuple[int, ...] = (1, 2, 5, 10)
    gallery_size: int = 100
    folds: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        _check(self.num_pairs >= 0, f"num_pairs must be >= 0 (0 = all triples), got {self.num_pairs}.")
        _check(
            len(self.recall_ks) > 0 and all(k >= 1 for k in self.recall_ks),
            f"recall_ks must be positive integers, got {self.recall_ks}.",
        )
        _check(self.gallery_size >= 2, f"gallery_size must be >= 2, got {self.gallery_size}.")
        _check(self.folds >= 1, f"folds must be >= 1, got {self.folds}.")


@dataclass(frozen=True)
class FaceCNNConfig:
    """A small face CNN trained on a corpus's own faces: the identity embedder for synthvox
    (and the sex classifier behind attribute agreement).

    image_size: faces are resized to this square before the network (synthvox: 64).
    width: channels of the first block, doubled at each of the ``depth`` blocks.
    embedding_dim: the embedding's size (L2-normalised).
    epochs, batch_size, learning_rate, weight_decay: Adam training on identity classification.
    augment: random horizontal flips and small shifts while training.
    seed: initialisation and shuffling; the same inputs and seed give the same weights.
    """

    image_size: int = 64
    width: int = 32
    depth: int = 4
    embedding_dim: int = 128
    epochs: int = 10
    batch_size: int = 64
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    augment: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        _check(16 <= self.image_size <= 512, f"image_size must be 16–512, got {self.image_size}.")
        _check(self.image_size >> self.depth >= 1, f"image_size {self.image_size} too small for depth {self.depth}.")
        _check(4 <= self.width <= 256, f"width must be 4–256, got {self.width}.")
        _check(1 <= self.depth <= 6, f"depth must be 1–6, got {self.depth}.")
        _check(2 <= self.embedding_dim <= 2048, f"embedding_dim must be 2–2048, got {self.embedding_dim}.")
        _check(self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}.")
        _check(self.batch_size >= 2, f"batch_size must be >= 2, got {self.batch_size}.")
        _check(self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}.")
        _check(self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}.")
