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
            item_cls = _tuple_item_dataclass(hint)
            if item_cls is not None:
                value = [from_dict(item_cls, v, where=f"{where}.{name}[{i}]") for i, v in enumerate(value)]
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


def _tuple_item_dataclass(hint: Any) -> type | None:
    """X for a ``tuple[X, ...]`` hint whose X is a config dataclass, else None."""
    args = typing.get_args(hint) if typing.get_origin(hint) is tuple else ()
    return args[0] if args and dataclasses.is_dataclass(args[0]) else None


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
    normalize: subtract each coefficient's mean over the utterance (cepstral mean normalisation,
        which removes a recording channel's and gain's constant colouring) and, with
        ``normalize_variance``, divide by its std (CMVN). Mean only keeps how widely each
        coefficient swings, which is where breathiness, shimmer and a voice's age show: on
        synthvox-200 a linear probe of per-speaker coefficient swings reads age R² 0.47 from
        unscaled MFCCs and 0.21 from variance-normalised ones.
    normalize_variance: with ``normalize``, also divide by the std (default, as before).
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
    normalize_variance: bool = True

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


# --------------------------------------------------------------------------- models (issue 4)
# Field names are the keyword names of the model constructors (official stylegan2-ada-pytorch
# names where they exist), so a config maps one to one onto a module and back.

GENERATOR_FAMILIES = ("stylegan2", "stylegan", "dcgan")
ENCODER_ATTENTIONS = ("se", "none")
ENCODER_ACTIVATIONS = ("mish", "relu")
ENCODER_POOLINGS = ("stats", "mean")


def _check_resolution(name: str, resolution: int) -> None:
    _check(
        isinstance(resolution, int) and 4 <= resolution <= 1024 and resolution & (resolution - 1) == 0,
        f"{name} img_resolution must be a power of two from 4 to 1024, got {resolution}.",
    )


@dataclass(frozen=True)
class VoiceEncoderConfig:
    """SE-ResNet18 voice encoder (models/voice_encoder.py): features [B, F, T] → [B, embedding_dim].

    input_dim: F, features per frame (39 for MFCC+Δ+ΔΔ, 64 for log-mel).
    width_multiplier: scales the stage widths 64-128-256-512 (0.5 for a CPU-sized encoder).
    blocks_per_stage: BasicBlocks in each of the 4 stages (ResNet18: 2, 2, 2, 2).
    attention: "se" (squeeze-and-excitation in every block) or "none" (the NoSE ablation).
    activation: "mish" (the paper) or "relu" (the ReLU ablation).
    se_reduction: r of the SE bottleneck (paper: 16).
    pooling: "stats" (mean and std over time) or "mean".
    num_speakers: size of the speaker-classification head; 0 for none.
    """

    input_dim: int = 39
    embedding_dim: int = 512
    width_multiplier: float = 1.0
    blocks_per_stage: tuple[int, ...] = (2, 2, 2, 2)
    attention: str = "se"
    activation: str = "mish"
    se_reduction: int = 16
    pooling: str = "stats"
    num_speakers: int = 0

    def __post_init__(self) -> None:
        _check(1 <= self.input_dim <= 1024, f"voice encoder input_dim must be 1–1024, got {self.input_dim}.")
        _check(self.embedding_dim >= 1, f"voice encoder embedding_dim must be >= 1, got {self.embedding_dim}.")
        _check(
            0 < self.width_multiplier <= 8,
            f"voice encoder width_multiplier must be in (0, 8], got {self.width_multiplier}.",
        )
        _check(
            len(self.blocks_per_stage) == 4 and all(n >= 1 for n in self.blocks_per_stage),
            f"voice encoder blocks_per_stage must be 4 counts >= 1, got {self.blocks_per_stage}.",
        )
        _check(
            self.attention in ENCODER_ATTENTIONS,
            f"attention must be one of {ENCODER_ATTENTIONS}, got {self.attention!r}.",
        )
        _check(
            self.activation in ENCODER_ACTIVATIONS,
            f"activation must be one of {ENCODER_ACTIVATIONS}, got {self.activation!r}.",
        )
        _check(self.se_reduction >= 1, f"se_reduction must be >= 1, got {self.se_reduction}.")
        _check(self.pooling in ENCODER_POOLINGS, f"pooling must be one of {ENCODER_POOLINGS}, got {self.pooling!r}.")
        _check(self.num_speakers >= 0, f"num_speakers must be >= 0, got {self.num_speakers}.")


@dataclass(frozen=True)
class GeneratorConfig:
    """A face generator: ``family`` picks the network, the other fields are its constructor's.

    family: "stylegan2" (the paper's), "stylegan" (v1 baseline) or "dcgan" (baseline).
    c_dim: condition size = the voice embedding's (512); 0 for an unconditional generator.
    channel_base / channel_max: feature maps per resolution min(channel_base // res, channel_max)
        (official: 32768/512 for 1024 px config F, 16384/512 at 256 px).
    mapping_layers, mapping_lr_multiplier, w_avg_beta, w_dim: the mapping network (StyleGAN
        families; DCGAN has none and ignores them). conv_clamp: StyleGAN2 only (None = off).
    use_noise: StyleGAN2 only: per-pixel noise inputs in the synthesis layers (official: True;
        off in the CPU preset, where a few thousand steps let the noise strength grow into speckle).
    """

    family: str = "stylegan2"
    z_dim: int = 512
    c_dim: int = 512
    w_dim: int = 512
    img_resolution: int = 64
    img_channels: int = 3
    channel_base: int = 16384
    channel_max: int = 512
    mapping_layers: int = 8
    mapping_lr_multiplier: float = 0.01
    w_avg_beta: float = 0.995
    conv_clamp: float | None = None
    use_noise: bool = True

    def __post_init__(self) -> None:
        _check(
            self.family in GENERATOR_FAMILIES,
            f"generator family must be one of {GENERATOR_FAMILIES}, got {self.family!r}.",
        )
        _check(self.z_dim >= 1, f"generator z_dim must be >= 1, got {self.z_dim}.")
        _check(self.c_dim >= 0, f"generator c_dim must be >= 0, got {self.c_dim}.")
        _check(self.w_dim >= 1, f"generator w_dim must be >= 1, got {self.w_dim}.")
        _check_resolution("generator", self.img_resolution)
        _check(self.img_channels in (1, 3), f"generator img_channels must be 1 or 3, got {self.img_channels}.")
        _check(
            self.channel_base >= self.img_resolution,
            f"generator channel_base ({self.channel_base}) must be at least img_resolution ({self.img_resolution}).",
        )
        _check(self.channel_max >= 1, f"generator channel_max must be >= 1, got {self.channel_max}.")
        _check(self.mapping_layers >= 1, f"generator mapping_layers must be >= 1, got {self.mapping_layers}.")
        _check(self.mapping_lr_multiplier > 0, f"mapping_lr_multiplier must be > 0, got {self.mapping_lr_multiplier}.")
        _check(0 <= self.w_avg_beta < 1, f"w_avg_beta must be in [0, 1), got {self.w_avg_beta}.")
        _check(
            self.conv_clamp is None or self.conv_clamp > 0, f"conv_clamp must be None or > 0, got {self.conv_clamp}."
        )
        _check(
            self.use_noise or self.family == "stylegan2",
            f"use_noise=False applies to the stylegan2 generator only; drop it for the {self.family} generator.",
        )

    @property
    def num_ws(self) -> int:
        """Number of w vectors the synthesis takes (W+ size): 2·log2(img_resolution) − 2."""
        return 2 * (self.img_resolution.bit_length() - 1) - 2


@dataclass(frozen=True)
class DiscriminatorConfig:
    """A discriminator with an identity head: ``family`` picks the network (as for the generator).

    stylegan2: residual; stylegan: the same without residual skips (v1); dcgan: strided convs
    with BatchNorm. cmap_dim (None = channels at 4×4), mapping_layers, mbstd_* and conv_clamp
    apply to the StyleGAN families. num_identities: size of the identity classifier sharing the
    trunk (Wen et al.); 0 for none.
    """

    family: str = "stylegan2"
    c_dim: int = 512
    img_resolution: int = 64
    img_channels: int = 3
    channel_base: int = 16384
    channel_max: int = 512
    cmap_dim: int | None = None
    mapping_layers: int = 8
    mbstd_group_size: int = 4
    mbstd_num_channels: int = 1
    conv_clamp: float | None = None
    num_identities: int = 0

    def __post_init__(self) -> None:
        _check(
            self.family in GENERATOR_FAMILIES,
            f"discriminator family must be one of {GENERATOR_FAMILIES}, got {self.family!r}.",
        )
        _check(self.c_dim >= 0, f"discriminator c_dim must be >= 0, got {self.c_dim}.")
        _check_resolution("discriminator", self.img_resolution)
        _check(self.img_channels in (1, 3), f"discriminator img_channels must be 1 or 3, got {self.img_channels}.")
        _check(
            self.channel_base >= self.img_resolution,
            f"discriminator channel_base ({self.channel_base}) must be >= img_resolution ({self.img_resolution}).",
        )
        _check(self.channel_max >= 1, f"discriminator channel_max must be >= 1, got {self.channel_max}.")
        _check(self.cmap_dim is None or self.cmap_dim >= 1, f"cmap_dim must be None or >= 1, got {self.cmap_dim}.")
        _check(self.mapping_layers >= 1, f"discriminator mapping_layers must be >= 1, got {self.mapping_layers}.")
        _check(self.mbstd_group_size >= 1, f"mbstd_group_size must be >= 1, got {self.mbstd_group_size}.")
        _check(self.mbstd_num_channels >= 0, f"mbstd_num_channels must be >= 0, got {self.mbstd_num_channels}.")
        _check(
            self.conv_clamp is None or self.conv_clamp > 0, f"conv_clamp must be None or > 0, got {self.conv_clamp}."
        )
        _check(self.num_identities >= 0, f"num_identities must be >= 0, got {self.num_identities}.")


MAPPER_FAMILIES = ("wplus",)
SELECTION_TRAITS = ("sex", "age", "jaw_width", "face_length", "head_size")


@dataclass(frozen=True)
class SelectionConfig:
    """The mapper's selection mode (voice2face.models.wplus): the voice chooses among the generator's
    own samples.

    For each latent z, ``candidates`` latents are derived (z itself, then fixed permutations and sign
    flips of its entries, drawn once from ``seed``: each is again a standard normal vector) and
    rendered; a face-trait reader (``reader``: a small CNN trained on the voice corpus's training
    faces, shipped in the mapper) reads ``traits`` off each rendering, and the candidate nearest
    the traits predicted from the voice is kept: the distance is the ``weights``-weighted sum of
    absolute differences, binary traits (``binary``) compared as ``tanh(logit / 2)`` in [-1, 1] and
    the others in the reader's standardised units. Every portrait is then one of the generator's own
    samples. ``z_dim`` is the generator's (0 until the mapper stage fills it in).

    Rendering and reading every candidate costs K images per portrait; ``shortlist`` (M) cuts it to
    M: a linear read-out of the traits from the candidate's code in W (fitted on random renderings
    when the mapper is saved) ranks the K candidates, and only the M nearest are rendered and read
    (0 = render all K).
    """

    candidates: int = 64
    z_dim: int = 0
    traits: tuple[str, ...] = SELECTION_TRAITS
    binary: tuple[str, ...] = ("sex",)
    weights: tuple[float, ...] = (4.0, 1.0, 0.5, 0.5, 0.5)
    reader: FaceCNNConfig = field(default_factory=lambda: FaceCNNConfig(epochs=8, batch_size=64, seed=7))
    seed: int = 0
    shortlist: int = 8

    def __post_init__(self) -> None:
        for name in ("traits", "binary", "weights"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "weights", tuple(float(w) for w in self.weights))
        _check(self.candidates >= 1, f"selection candidates must be >= 1, got {self.candidates}.")
        _check(self.z_dim >= 0, f"selection z_dim must be >= 0 (0 = not yet known), got {self.z_dim}.")
        _check(len(self.traits) >= 1, "selection needs at least one trait to select by.")
        _check(len(set(self.traits)) == len(self.traits), f"selection traits repeat a name: {self.traits}.")
        _check(
            set(self.binary) <= set(self.traits), f"selection binary traits {self.binary} must be among {self.traits}."
        )
        _check(
            len(self.weights) == len(self.traits) and all(w >= 0 for w in self.weights),
            f"selection weights must give one value >= 0 per trait ({len(self.traits)}), got {self.weights}.",
        )
        _check(self.reader.blur == 0, "the selection reader learns from sharp faces only; use blur 0.")
        _check(self.shortlist >= 0, f"selection shortlist must be >= 0 (0 = all candidates), got {self.shortlist}.")


@dataclass(frozen=True)
class MapperConfig:
    """The voice→W+ mapper of the paper's route (voice2face.models.wplus.VoiceToWPlus).

    A voice embedding ``[embedding_dim]`` → the W+ code ``[num_ws, w_dim]`` of that speaker's
    face in a frozen, pretrained (unconditional) generator: an MLP of ``hidden_layers`` layers of
    ``hidden_dim`` predicts the offset from the generator's ``w_avg``. A random code from the
    generator's own mapping network (drawn from z) supplies what a voice cannot decide: its
    coordinates in the (at most) ``rank``-dimensional subspace where voices move the prediction are
    replaced by the voice's, by a calibrated edit in W (voice2face.models.wplus; the subspace and
    the calibration are fitted after training). num_ws and w_dim are the generator's (64 px: 10; 256 px: 14;
    1024 px: 18).

    ``z_strength``: per synthesis layer, a truncation of the random code towards ``w_avg`` before
    the voice's edit (1 = none, 0 = the average face's code there); empty means 1 for every layer.

    ``selection``: when set, the mapper selects rather than edits (:class:`SelectionConfig`): the
    voice predicts face traits, and among several of the generator's samples the one whose
    rendering shows the nearest traits is kept. The MLP, the subspace and the edit are then unused.
    """

    family: str = "wplus"
    embedding_dim: int = 512
    num_ws: int = 14
    w_dim: int = 512
    hidden_dim: int = 512
    hidden_layers: int = 1
    rank: int = 16
    z_strength: tuple[float, ...] = ()
    selection: SelectionConfig | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "z_strength", tuple(float(s) for s in self.z_strength))
        _check(
            not self.z_strength or len(self.z_strength) == self.num_ws,
            f"mapper z_strength must give one value per layer ({self.num_ws}), got {len(self.z_strength)}.",
        )
        _check(all(0 <= s <= 1 for s in self.z_strength), "mapper z_strength values must be in [0, 1].")
        _check(self.family in MAPPER_FAMILIES, f"mapper family must be one of {MAPPER_FAMILIES}, got {self.family!r}.")
        _check(self.embedding_dim >= 1, f"mapper embedding_dim must be >= 1, got {self.embedding_dim}.")
        _check(
            self.num_ws >= 1 and self.w_dim >= 1,
            f"mapper num_ws and w_dim must be >= 1, got {self.num_ws}, {self.w_dim}.",
        )
        _check(self.hidden_dim >= 1, f"mapper hidden_dim must be >= 1, got {self.hidden_dim}.")
        _check(self.hidden_layers >= 0, f"mapper hidden_layers must be >= 0, got {self.hidden_layers}.")
        _check(1 <= self.rank <= self.w_dim, f"mapper rank must be in [1, w_dim={self.w_dim}], got {self.rank}.")


MODEL_FORMAT = "voice2face-model"
MODEL_FORMAT_VERSION = 1
MODEL_COMPONENTS = ("voice_encoder", "generator", "mapper", "discriminator")


@dataclass(frozen=True)
class WeightFile:
    """One weight file of a model folder, recorded so that loading can detect tampering.

    component: "voice_encoder", "generator" or "discriminator"; file: its name in the folder;
    sha256: hex digest of the file's bytes; size: its length in bytes.
    """

    component: str
    file: str
    sha256: str
    size: int

    def __post_init__(self) -> None:
        _check(
            self.component in MODEL_COMPONENTS,
            f"weights component must be one of {MODEL_COMPONENTS}, got {self.component!r}.",
        )
        _check(
            isinstance(self.file, str)
            and "/" not in self.file
            and "\\" not in self.file
            and not self.file.startswith("."),
            f"weights file must be a plain file name inside the model folder, got {self.file!r}.",
        )
        _check(
            isinstance(self.sha256, str) and len(self.sha256) == 64,
            f"weights sha256 must be 64 hex digits, got {self.sha256!r}.",
        )
        _check(isinstance(self.size, int) and self.size >= 0, f"weights size must be >= 0 bytes, got {self.size}.")


@dataclass(frozen=True)
class ModelConfig:
    """What a model folder's ``config.json`` holds: every component's config and its weight file.

    A model folder is ``config.json`` + ``<component>.safetensors`` per component present
    (see voice2face.checkpoint). ``features`` are the voice features the encoder was trained on;
    ``weights`` is filled in by ``save_pretrained`` (digest and size of each file). The
    components must agree: features.dim = voice_encoder.input_dim; generator.c_dim =
    voice_encoder.embedding_dim (or 0: an unconditional generator driven through W+); the
    discriminator sees the generator's images and its condition (or none: c_dim 0).
    """

    format: str = MODEL_FORMAT
    format_version: int = MODEL_FORMAT_VERSION
    voice2face_version: str = ""
    features: FeatureConfig = field(default_factory=FeatureConfig)
    voice_encoder: VoiceEncoderConfig | None = None
    generator: GeneratorConfig | None = None
    discriminator: DiscriminatorConfig | None = None
    weights: tuple[WeightFile, ...] = ()
    mapper: MapperConfig | None = None

    def __post_init__(self) -> None:
        _check(self.format == MODEL_FORMAT, f"format must be {MODEL_FORMAT!r}, got {self.format!r}.")
        _check(
            isinstance(self.format_version, int) and 1 <= self.format_version <= MODEL_FORMAT_VERSION,
            f"format_version {self.format_version} is not supported (this voice2face reads 1–{MODEL_FORMAT_VERSION}); "
            "upgrade voice2face.",
        )
        encoder, generator, disc = self.voice_encoder, self.generator, self.discriminator
        if encoder is not None:
            _check(
                encoder.input_dim == self.features.dim,
                f"voice_encoder.input_dim ({encoder.input_dim}) must equal the features' dim ({self.features.dim}).",
            )
        if encoder is not None and generator is not None:
            # c_dim 0: an unconditional (e.g. pretrained high-resolution) generator driven through W+.
            _check(
                generator.c_dim in (0, encoder.embedding_dim),
                f"generator.c_dim ({generator.c_dim}) must be 0 or the voice embedding size ({encoder.embedding_dim}).",
            )
        if generator is not None and disc is not None:
            for name in ("img_resolution", "img_channels"):
                _check(
                    getattr(generator, name) == getattr(disc, name),
                    f"discriminator.{name} ({getattr(disc, name)}) must equal "
                    f"generator.{name} ({getattr(generator, name)}).",
                )
            # An unconditional discriminator (Wen et al.: real/fake + identity head) is allowed.
            _check(
                disc.c_dim in (0, generator.c_dim),
                f"discriminator.c_dim ({disc.c_dim}) must be 0 or generator.c_dim ({generator.c_dim}).",
            )
        if self.mapper is not None:
            _check_mapper_fits(self.mapper, encoder, generator)
        names = [w.component for w in self.weights]
        _check(len(names) == len(set(names)), f"weights lists a component twice: {names}.")

    def component(self, name: str) -> VoiceEncoderConfig | GeneratorConfig | MapperConfig | DiscriminatorConfig | None:
        """The config of component ``name`` (one of MODEL_COMPONENTS), or None if absent."""
        _check(name in MODEL_COMPONENTS, f"component must be one of {MODEL_COMPONENTS}, got {name!r}.")
        return getattr(self, name)

    @property
    def present(self) -> tuple[str, ...]:
        """The components this model has, in MODEL_COMPONENTS order."""
        return tuple(name for name in MODEL_COMPONENTS if getattr(self, name) is not None)


def _check_mapper_fits(
    mapper: MapperConfig, encoder: VoiceEncoderConfig | None, generator: GeneratorConfig | None
) -> None:
    """A mapper reads the encoder's embedding and writes the (unconditional) generator's W+."""
    if encoder is not None:
        _check(
            mapper.embedding_dim == encoder.embedding_dim,
            f"mapper.embedding_dim ({mapper.embedding_dim}) must equal the voice embedding size "
            f"({encoder.embedding_dim}).",
        )
    if generator is not None:
        _check(
            generator.c_dim == 0, f"a mapper drives an unconditional generator (c_dim 0), got c_dim {generator.c_dim}."
        )
        _check(
            (mapper.num_ws, mapper.w_dim) == (generator.num_ws, generator.w_dim),
            f"mapper W+ shape ({mapper.num_ws}×{mapper.w_dim}) must equal the generator's "
            f"({generator.num_ws}×{generator.w_dim}).",
        )


# --------------------------------------------------------------------------- training


@dataclass(frozen=True)
class EncoderTrainingConfig:
    """Stage 1: the voice encoder learns to tell the training speakers apart (cross-entropy).

    Paper: SGD, lr 1e-3, momentum 0.9, weight decay 1e-4, cosine-cycle schedule, batch 384,
    10,000 iterations, on random 3–8 s crops. ``lr_cycles`` cosine cycles span the run
    (warm restarts at each cycle's start). ``holdout_utterances``: per training speaker, this many
    utterances are kept out of training for the speaker-identification accuracy.
    """

    features: FeatureConfig = field(default_factory=FeatureConfig)
    encoder: VoiceEncoderConfig = field(default_factory=VoiceEncoderConfig)
    crops: CropConfig = field(default_factory=CropConfig)
    batch_size: int = 384
    steps: int = 10000
    lr: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 1e-4
    lr_cycles: int = 1
    holdout_utterances: int = 1
    validate_every: int = 500
    snapshot_every: int = 1000

    def __post_init__(self) -> None:
        _check(self.batch_size >= 2, f"encoder batch_size must be >= 2, got {self.batch_size}.")
        _check(self.steps >= 1, f"encoder steps must be >= 1, got {self.steps}.")
        _check(0 < self.lr <= 10, f"encoder lr must be in (0, 10], got {self.lr}.")
        _check(0 <= self.momentum < 1, f"momentum must be in [0, 1), got {self.momentum}.")
        _check(self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}.")
        _check(self.lr_cycles >= 1, f"lr_cycles must be >= 1, got {self.lr_cycles}.")
        _check(self.holdout_utterances >= 0, f"holdout_utterances must be >= 0, got {self.holdout_utterances}.")
        _check(self.validate_every >= 1 and self.snapshot_every >= 1, "validate_every and snapshot_every must be >= 1.")
        _check(
            self.encoder.input_dim == self.features.dim,
            f"the encoder's input_dim ({self.encoder.input_dim}) must equal the features' dimension "
            f"({self.features.dim} for {self.features.kind}).",
        )


AUGMENT_POLICIES = ("color", "translation", "cutout")
OPS_IMPLS = ("plain", "fast")  # implementations of the StyleGAN ops (voice2face.models.ops)
DEFAULT_OPS_IMPL = "fast"


@dataclass(frozen=True)
class GANTrainingConfig:
    """Stage 2: the face generator, conditioned on frozen stage-1 voice embeddings.

    Losses: non-saturating logistic G loss, logistic D loss, identity cross-entropy through the
    discriminator's identity head (real faces train it, generated faces are pushed towards their
    speaker) weighted by ``identity_weight``; lazy R1 every ``r1_interval`` D steps (γ =
    ``r1_gamma``) and lazy path-length regularisation every ``pl_interval`` G steps (weight
    ``pl_weight``, decay ``pl_decay``, batch shrunk by ``pl_batch_shrink``); Adam with lr and
    betas rescaled for the lazy intervals; EMA generator with half-life ``ema_kimg`` and ramp-up.

    ``mismatch_weight`` > 0 makes the discriminator matching-aware (Reed et al. 2016, GAN-CLS):
    real faces paired with the voice of another training speaker count as fake, with that weight,
    so D's projection term learns whether face and voice belong together and G must make faces
    that agree with the voice. Not in the paper (0 in its presets); ``synthvox-quick`` uses it.

    ``augment``: differentiable augmentation of every image the discriminator sees, real and
    generated alike (DiffAugment, Zhao et al. 2020): a comma-separated policy of ``color``,
    ``translation`` and ``cutout`` (see voice2face.training.augment); "" for none. It keeps D from
    memorising a small face corpus; the unconditional ``synthface-64`` pretraining uses it.

    ``ops_impl``: how the StyleGAN2 networks compute while training: ``"fast"`` (channels_last,
    demodulation as a small matrix product, gains folded into weights; about 1.5× the images/s
    of a ``synthface-64`` training step on one CPU thread) or ``"plain"``, the official arithmetic
    term for term, kept as the reference. Both compute the same functions to float32 rounding.
    """

    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    batch_size: int = 32
    kimg: float = 1000.0
    g_lr: float = 2e-4
    d_lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    r1_gamma: float = 0.05
    r1_interval: int = 16
    pl_weight: float = 2.0
    pl_interval: int = 4
    pl_decay: float = 0.01
    pl_batch_shrink: int = 2
    identity_weight: float = 1.0
    mismatch_weight: float = 0.0
    augment: str = ""
    style_mixing: float = 0.9
    ema_kimg: float = 10.0
    ema_rampup: float | None = 0.05
    report_every: int = 20
    snapshot_kimg: float = 50.0
    ops_impl: str = DEFAULT_OPS_IMPL

    def __post_init__(self) -> None:
        _check(self.batch_size >= 2, f"GAN batch_size must be >= 2, got {self.batch_size}.")
        _check(self.kimg > 0, f"kimg must be positive, got {self.kimg}.")
        _check(
            0 < self.g_lr <= 1 and 0 < self.d_lr <= 1,
            f"learning rates must be in (0, 1], got {self.g_lr}, {self.d_lr}.",
        )
        _check(
            len(self.betas) == 2 and all(0 <= b < 1 for b in self.betas),
            f"betas must be two values in [0, 1), got {self.betas}.",
        )
        _check(self.r1_gamma >= 0 and self.pl_weight >= 0, "r1_gamma and pl_weight must be >= 0.")
        _check(self.r1_interval >= 0 and self.pl_interval >= 0, "r1_interval and pl_interval must be >= 0 (0 = off).")
        _check(0 < self.pl_decay <= 1, f"pl_decay must be in (0, 1], got {self.pl_decay}.")
        _check(self.pl_batch_shrink >= 1, f"pl_batch_shrink must be >= 1, got {self.pl_batch_shrink}.")
        _check(self.identity_weight >= 0, f"identity_weight must be >= 0, got {self.identity_weight}.")
        _check(self.mismatch_weight >= 0, f"mismatch_weight must be >= 0, got {self.mismatch_weight}.")
        unknown = [p for p in self.augment.split(",") if p and p not in AUGMENT_POLICIES]
        _check(not unknown, f"augment takes a comma-separated list of {', '.join(AUGMENT_POLICIES)}; got {unknown}.")
        _check(0 <= self.style_mixing <= 1, f"style_mixing must be in [0, 1], got {self.style_mixing}.")
        _check(self.ema_kimg >= 0, f"ema_kimg must be >= 0, got {self.ema_kimg}.")
        _check(self.report_every >= 1 and self.snapshot_kimg > 0, "report_every must be >= 1 and snapshot_kimg > 0.")
        _check(self.ops_impl in OPS_IMPLS, f"ops_impl must be one of {OPS_IMPLS}, got {self.ops_impl!r}.")
        _check(
            self.generator.img_resolution == self.discriminator.img_resolution,
            "generator and discriminator must have the same img_resolution.",
        )


@dataclass(frozen=True)
class ProjectionConfig:
    """Projection of aligned faces into a frozen generator's W+ (the paper's route, step 3).

    A convolutional projector (voice2face.training.projection) learns image → W+ from the
    generator's own samples, whose codes are known (``style_mixing`` of them mix two codes, so
    the projector sees W+ beyond W); each training face's code is then its prediction, refined
    by ``refine_steps`` steps of Adam (lr ``refine_lr``) on the pixel error through the generator
    (0 = the projector's guess alone). A speaker's target is the mean code of their faces.
    """

    steps: int = 2000
    batch_size: int = 32
    lr: float = 1e-3
    width: int = 32
    style_mixing: float = 0.5
    refine_steps: int = 0
    refine_lr: float = 0.01

    def __post_init__(self) -> None:
        _check(self.steps >= 1 and self.batch_size >= 2, "projection steps must be >= 1 and batch_size >= 2.")
        _check(0 < self.lr <= 1 and 0 < self.refine_lr <= 1, "projection learning rates must be in (0, 1].")
        _check(self.width >= 1, f"projection width must be >= 1, got {self.width}.")
        _check(0 <= self.style_mixing <= 1, f"projection style_mixing must be in [0, 1], got {self.style_mixing}.")
        _check(self.refine_steps >= 0, f"projection refine_steps must be >= 0, got {self.refine_steps}.")


@dataclass(frozen=True)
class MapperTrainingConfig:
    """The paper's route, step 4: voice → W+ of a frozen pretrained generator.

    The speakers' faces are projected into W+ (``projection``); the voice encoder (from a
    ``train-encoder`` run, fine-tuned at ``encoder_lr``; 0 keeps it frozen) and the mapper
    (``mapper``, Adam at ``lr``) learn to predict a speaker's code from random crops of their
    voice: mean squared error in the ``target_rank`` principal directions of the training
    speakers' codes (0 = all of W+; a few hundred speakers cannot pin down 10 × 128 numbers, and
    the rest is what varies least between people). Nothing renders during this stage, so it is
    cheap; the mapper's voice subspace is fitted at each snapshot. ``attribute_weight`` > 0 adds
    an auxiliary loss on the embedding: a linear read-out of the identity attributes the manifest
    records for the training speakers (sex: logistic; age: standardised squared error), so the
    embedding keeps what the face shows of them (VoxCeleb records sex; synthvox sex and age).
    In selection mode (``mapper.selection`` set) nothing is projected: the mapper's selection
    reader is trained on the training faces, and the encoder and the mapper's trait head learn to
    predict from the voice what the reader reads off each speaker's faces (squared error in the
    selection's units, times ``trait_weight``).
    Every ``validate_every`` steps
    the error on the validation speakers is logged beside that of the training speakers' mean code.
    """

    mapper: MapperConfig = field(default_factory=MapperConfig)
    projection: ProjectionConfig = field(default_factory=ProjectionConfig)
    crops: CropConfig = field(default_factory=CropConfig)
    batch_size: int = 32
    steps: int = 1000
    lr: float = 1e-3
    encoder_lr: float = 3e-4
    weight_decay: float = 0.0
    target_rank: int = 32
    attribute_weight: float = 0.0
    trait_weight: float = 1.0
    validate_every: int = 100
    snapshot_every: int = 500

    def __post_init__(self) -> None:
        _check(self.batch_size >= 2 and self.steps >= 1, "mapper batch_size must be >= 2 and steps >= 1.")
        _check(0 < self.lr <= 1, f"mapper lr must be in (0, 1], got {self.lr}.")
        _check(0 <= self.encoder_lr <= 1, f"encoder_lr must be in [0, 1] (0 = frozen encoder), got {self.encoder_lr}.")
        _check(self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}.")
        _check(self.target_rank >= 0, f"target_rank must be >= 0 (0 = all of W+), got {self.target_rank}.")
        _check(self.attribute_weight >= 0, f"attribute_weight must be >= 0, got {self.attribute_weight}.")
        _check(self.trait_weight > 0, f"trait_weight must be > 0, got {self.trait_weight}.")
        _check(self.validate_every >= 1 and self.snapshot_every >= 1, "validate_every and snapshot_every must be >= 1.")


@dataclass(frozen=True)
class TrainingPreset:
    """A named recipe: each stage's settings (see voice2face.training.presets); ``mapper`` is set
    for the paper's route (a voice→W+ mapper on a pretrained generator), None otherwise."""

    name: str
    description: str
    encoder: EncoderTrainingConfig = field(default_factory=EncoderTrainingConfig)
    gan: GANTrainingConfig = field(default_factory=GANTrainingConfig)
    mapper: MapperTrainingConfig | None = None


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
    blur: if > 0, each training image is also blurred by a Gaussian whose σ (in pixels of
        ``image_size``) is drawn uniformly from [0, blur], so that the network also judges soft
        images such as a small generator's faces (0 = no blur, the identity embedder's default).
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
    blur: float = 0.0
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
        _check(
            0 <= self.blur <= self.image_size / 8,
            f"blur must be 0–{self.image_size / 8:g} px for image_size {self.image_size}, got {self.blur}.",
        )


#: The face-trait read-out's network (voice2face.metrics.traits), fixed on *real* faces alone:
#: trained on synthvox-200's training faces and judged on its validation faces (never on a model's
#: output, nor on the test faces). Mean over the voice-revealed traits / sex / age r:
#: 10 epochs of batch 64: 0.75 / 0.90 / 0.71; 20 epochs of batch 32: 0.86 / 0.98 / 0.82;
#: 40 epochs of batch 32: 0.88 / 1.00 / 0.84 (wrinkles 0.79, greyness 0.95, glasses 1.00).
TRAIT_CNN = FaceCNNConfig(epochs=40, batch_size=32)


@dataclass(frozen=True)
class C2STConfig:
    """The classifier two-sample test (Lopez-Paz & Oquab 2017) behind the ``realism`` metric.

    A fixed small CNN (three blocks, ``width`` channels doubling per block) is trained afresh in
    each of ``folds`` cross-validation folds, for ``epochs`` passes (Adam, ``learning_rate``,
    ``batch_size``; random flips only), to tell real from generated faces; its held-out accuracy
    is the score (0.5 = indistinguishable). Each class is subsampled to the same size, at most
    ``max_per_class``; ``seed`` fixes the subsample, the folds and the training.
    """

    folds: int = 5
    epochs: int = 6
    batch_size: int = 64
    learning_rate: float = 2e-3
    width: int = 16
    max_per_class: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        _check(2 <= self.folds <= 20, f"c2st folds must be 2–20, got {self.folds}.")
        _check(self.epochs >= 1, f"c2st epochs must be >= 1, got {self.epochs}.")
        _check(self.batch_size >= 2, f"c2st batch_size must be >= 2, got {self.batch_size}.")
        _check(self.learning_rate > 0, f"c2st learning_rate must be > 0, got {self.learning_rate}.")
        _check(4 <= self.width <= 256, f"c2st width must be 4–256, got {self.width}.")
        _check(
            self.max_per_class >= 2 * self.folds, f"c2st max_per_class must be >= 2·folds, got {self.max_per_class}."
        )
        _check(self.seed >= 0, f"c2st seed must be >= 0, got {self.seed}.")


#: The blur (max σ, px at 64 px) of a *secondary* sex classifier, labelled as such, never the
#: default. History: the corpus sex classifier was once trained with blur up to 2 px so that it
#: could read the soft faces of a small generator (which it then scored 0.96); a classifier
#: trained on sharp real faces reads the same faces at chance. An instrument that must be trained
#: on blurred faces to see a sex in a model's output measures what the model's blur allows, not
#: faces, so the default (``EvaluationConfig.attribute_blur``) is 0 and the sharp trait read-out
#: (``traits``) is the instrument of record.
ATTRIBUTE_BLUR = 2.0


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


# --------------------------------------------------------------------------- inference (issue 7)


@dataclass(frozen=True)
class InferenceConfig:
    """How a recording becomes one voice embedding, and how faces are drawn from it.

    segment_seconds: speech longer than this is cut into near-equal windows of at most this
        length (the paper trains on 3–8 s crops); their embeddings are averaged.
    min_seconds: shorter speech is tiled (repeated) up to this length first.
    batch_size: encoder windows / generator images per forward pass (memory, not results).
    noise_mode: the generator's per-pixel noise; "const" (stored buffers) makes an image a
        function of (voice, seed) alone, "none" drops it.
    allow_non_speech: use a recording that does not sound like speech (noise, a tone, music;
        :mod:`voice2face.audio.speechlike`) with a warning, instead of refusing it.
    """

    segment_seconds: float = 8.0
    min_seconds: float = 3.0
    batch_size: int = 32
    noise_mode: str = "const"
    allow_non_speech: bool = False

    def __post_init__(self) -> None:
        _check(
            0 < self.min_seconds <= self.segment_seconds <= 60,
            f"need 0 < min_seconds <= segment_seconds <= 60, got {self.min_seconds}, {self.segment_seconds}.",
        )
        _check(self.batch_size >= 1, f"inference batch_size must be >= 1, got {self.batch_size}.")
        _check(
            self.noise_mode in ("const", "none"),
            f"inference noise_mode must be 'const' or 'none' (deterministic), got {self.noise_mode!r}.",
        )


# --------------------------------------------------------------------------- evaluation (issue 6: voice2face evaluate)

EVALUATION_METRICS = ("realism", "traits", "identity", "attributes", "fd", "fid", "kid", "ppl")
#: What `voice2face evaluate` computes unless told otherwise (``attributes`` is the older, secondary
#: sex read-out; ``traits`` reads sex with the other traits).
DEFAULT_EVALUATION_METRICS = ("realism", "traits", "identity", "fd", "fid", "kid", "ppl")
#: Reference rows scored beside the model (see voice2face.evaluation.rows).
REFERENCE_ROWS = ("real", "blurred_real_1.2", "blurred_real_2.0", "oracle_voice", "oracle_sex")


@dataclass(frozen=True)
class EvaluationConfig:
    """How `voice2face evaluate` scores a model folder on one split of a prepared dataset.

    metrics: which evaluation metrics to compute (voice2face.evaluation.metrics): realism
        (two-sample test, sharpness, Fréchet distance in trait features), traits (the sharp
        trait read-out), identity, attributes (secondary sex classifier), fd (Fréchet distance in
        the identity embedder), fid, kid, ppl.
    references: the reference rows scored beside the model, by the same instruments.
    split: the identities whose whole utterances are the probes and whose faces are the reals.
    samples_per_voice: faces generated per utterance, from the same fixed latents for every voice.
    seed: the latents' random generator (and the metrics' pairs and galleries).
    batch_size: faces per generator / embedder call.
    embedder: the face embedder; "auto" is the dataset's own trained CNN for synthvox data and
        dlib's face-recognition ResNet otherwise.
    identity, ppl, fid, face_cnn: the settings of those metrics and of the corpus identity CNN.
    traits: the face-trait read-out's network (trained on sharp real training faces; blur must be 0).
    c2st: the two-sample test's classifier and folds.
    realism_pool: real training-split faces the realism measures compare every row with.
    oracle_per_identity: faces rendered per speaker for each oracle row.
    attribute_blur: the ``blur`` of the secondary sex classifier's training (0 by default; see
        :data:`ATTRIBUTE_BLUR` for why a blurred instrument is never the default).
    voice_probe: fit the linear probe of the voice embedding (age R², sex; it embeds every
        training utterance, minutes on a CPU); False records it as skipped.
    """

    metrics: tuple[str, ...] = DEFAULT_EVALUATION_METRICS
    references: tuple[str, ...] = REFERENCE_ROWS
    split: str = "test"
    samples_per_voice: int = 1
    seed: int = 0
    batch_size: int = 32
    embedder: str = "auto"
    identity: IdentityMetricsConfig = field(default_factory=IdentityMetricsConfig)
    ppl: PPLConfig = field(default_factory=lambda: PPLConfig(num_samples=2000))
    fid: FIDConfig = field(default_factory=FIDConfig)
    face_cnn: FaceCNNConfig = field(default_factory=FaceCNNConfig)
    traits: FaceCNNConfig = field(default_factory=lambda: TRAIT_CNN)
    c2st: C2STConfig = field(default_factory=C2STConfig)
    realism_pool: int = 1000
    oracle_per_identity: int = 4
    attribute_blur: float = 0.0
    voice_probe: bool = True

    @property
    def attribute_cnn(self) -> FaceCNNConfig:
        """The corpus sex classifier's settings: ``face_cnn`` trained with ``attribute_blur``."""
        return dataclasses.replace(self.face_cnn, blur=self.attribute_blur)

    def __post_init__(self) -> None:
        _check(len(self.metrics) > 0, "metrics must name at least one metric.")
        for name in self.metrics:
            _check(
                name in EVALUATION_METRICS,
                f"unknown metric {name!r}; choose from {', '.join(EVALUATION_METRICS)}.",
            )
        _check(self.split in ("train", "val", "test"), f"split must be train, val or test, got {self.split!r}.")
        unknown = [row for row in self.references if row not in REFERENCE_ROWS]
        _check(not unknown, f"unknown reference row {unknown[:1]}; choose from {', '.join(REFERENCE_ROWS)}.")
        _check(self.traits.blur == 0, "traits: the trait read-out learns from sharp real faces; its blur must be 0.")
        _check(self.realism_pool >= 20, f"realism_pool must be >= 20 faces, got {self.realism_pool}.")
        _check(
            1 <= self.oracle_per_identity <= 100, f"oracle_per_identity must be 1–100, got {self.oracle_per_identity}."
        )
        try:
            self.attribute_cnn  # noqa: B018 — FaceCNNConfig checks the blur against its image size
        except ConfigError as error:
            raise ConfigError(f"attribute_blur: {error}") from None
        _check(1 <= self.samples_per_voice <= 100, f"samples_per_voice must be 1–100, got {self.samples_per_voice}.")
        _check(self.seed >= 0, f"seed must be >= 0, got {self.seed}.")
        _check(self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}.")
        _check(bool(self.embedder), "embedder must be 'auto', 'dlib' or a corpus name such as 'synthvox'.")
