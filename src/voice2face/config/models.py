"""Model configs: each network's constructor argument, and what a model folder's ``config.json`` holds.

Each model family's module takes its config and keeps it as ``.config`` (voice2face.models.registry
maps family → class), so a module is rebuilt from its config alone. Field names follow the
official stylegan2-ada-pytorch names where they exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from voice2face.config.audio import FeatureConfig
from voice2face.config.base import check
from voice2face.config.metrics import FaceCNNConfig

GENERATOR_FAMILIES = ("stylegan2", "stylegan", "dcgan")
ENCODER_ATTENTIONS = ("se", "none")
ENCODER_ACTIVATIONS = ("mish", "relu")
ENCODER_POOLINGS = ("stats", "mean")
OPS_IMPLS = ("plain", "fast")  # implementations of the StyleGAN ops (voice2face.models.ops)
DEFAULT_OPS_IMPL = "fast"


def _check_resolution(name: str, resolution: int) -> None:
    check(
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
        check(1 <= self.input_dim <= 1024, f"voice encoder input_dim must be 1–1024, got {self.input_dim}.")
        check(self.embedding_dim >= 1, f"voice encoder embedding_dim must be >= 1, got {self.embedding_dim}.")
        check(
            0 < self.width_multiplier <= 8,
            f"voice encoder width_multiplier must be in (0, 8], got {self.width_multiplier}.",
        )
        check(
            len(self.blocks_per_stage) == 4 and all(n >= 1 for n in self.blocks_per_stage),
            f"voice encoder blocks_per_stage must be 4 counts >= 1, got {self.blocks_per_stage}.",
        )
        check(
            self.attention in ENCODER_ATTENTIONS,
            f"attention must be one of {ENCODER_ATTENTIONS}, got {self.attention!r}.",
        )
        check(
            self.activation in ENCODER_ACTIVATIONS,
            f"activation must be one of {ENCODER_ACTIVATIONS}, got {self.activation!r}.",
        )
        check(self.se_reduction >= 1, f"se_reduction must be >= 1, got {self.se_reduction}.")
        check(self.pooling in ENCODER_POOLINGS, f"pooling must be one of {ENCODER_POOLINGS}, got {self.pooling!r}.")
        check(self.num_speakers >= 0, f"num_speakers must be >= 0, got {self.num_speakers}.")


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
    top_channels: StyleGAN2 only: feature maps of the top-resolution block instead of the rule's
        (0, the official networks, = the rule). Ours: a network grown by a block keeps every smaller
        block's width, and the rule would leave the new block very few maps (8 at 128 px for
        ``synthface-64``'s channel_base 1024), too few to draw the finer detail (issue 31).
    top_blocks: how many of the highest resolutions take ``top_channels`` (1, the default: the top
        block alone). 2 also widens the block below: growing 64 → 128 px then widens the pretrained
        64 px block too (its maps copied, the new ones starting where they change nothing drawn;
        :mod:`voice2face.models.stylegan2.grow`), for when its maps are too few to carry what the
        new block needs.
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
    top_channels: int = 0
    top_blocks: int = 1

    def __post_init__(self) -> None:
        check(
            self.family in GENERATOR_FAMILIES,
            f"generator family must be one of {GENERATOR_FAMILIES}, got {self.family!r}.",
        )
        check(self.z_dim >= 1, f"generator z_dim must be >= 1, got {self.z_dim}.")
        check(self.c_dim >= 0, f"generator c_dim must be >= 0, got {self.c_dim}.")
        check(self.w_dim >= 1, f"generator w_dim must be >= 1, got {self.w_dim}.")
        _check_resolution("generator", self.img_resolution)
        check(self.img_channels in (1, 3), f"generator img_channels must be 1 or 3, got {self.img_channels}.")
        check(
            self.channel_base >= self.img_resolution,
            f"generator channel_base ({self.channel_base}) must be at least img_resolution ({self.img_resolution}).",
        )
        check(self.channel_max >= 1, f"generator channel_max must be >= 1, got {self.channel_max}.")
        check(self.mapping_layers >= 1, f"generator mapping_layers must be >= 1, got {self.mapping_layers}.")
        check(self.mapping_lr_multiplier > 0, f"mapping_lr_multiplier must be > 0, got {self.mapping_lr_multiplier}.")
        check(0 <= self.w_avg_beta < 1, f"w_avg_beta must be in [0, 1), got {self.w_avg_beta}.")
        check(self.conv_clamp is None or self.conv_clamp > 0, f"conv_clamp must be None or > 0, got {self.conv_clamp}.")
        check(
            self.use_noise or self.family == "stylegan2",
            f"use_noise=False applies to the stylegan2 generator only; drop it for the {self.family} generator.",
        )
        check(
            self.top_channels == 0 or (self.top_channels >= 1 and self.family == "stylegan2"),
            f"generator top_channels must be 0 (the rule) or, for the stylegan2 family, >= 1; got "
            f"{self.top_channels} for {self.family!r}.",
        )
        blocks = self.img_resolution.bit_length() - 2  # 4 px … img_resolution
        check(
            1 <= self.top_blocks <= blocks and (self.top_blocks == 1 or self.top_channels > 0),
            f"generator top_blocks must be from 1 to its {blocks} blocks, and above 1 only with top_channels; "
            f"got {self.top_blocks} (top_channels {self.top_channels}).",
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
    trunk (Wen et al.); 0 for none. top_channels: StyleGAN families only, as the generator's: feature
    maps of the top-resolution block (0 = the rule).
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
    top_channels: int = 0

    def __post_init__(self) -> None:
        check(
            self.family in GENERATOR_FAMILIES,
            f"discriminator family must be one of {GENERATOR_FAMILIES}, got {self.family!r}.",
        )
        check(self.c_dim >= 0, f"discriminator c_dim must be >= 0, got {self.c_dim}.")
        _check_resolution("discriminator", self.img_resolution)
        check(self.img_channels in (1, 3), f"discriminator img_channels must be 1 or 3, got {self.img_channels}.")
        check(
            self.channel_base >= self.img_resolution,
            f"discriminator channel_base ({self.channel_base}) must be >= img_resolution ({self.img_resolution}).",
        )
        check(self.channel_max >= 1, f"discriminator channel_max must be >= 1, got {self.channel_max}.")
        check(self.cmap_dim is None or self.cmap_dim >= 1, f"cmap_dim must be None or >= 1, got {self.cmap_dim}.")
        check(self.mapping_layers >= 1, f"discriminator mapping_layers must be >= 1, got {self.mapping_layers}.")
        check(self.mbstd_group_size >= 1, f"mbstd_group_size must be >= 1, got {self.mbstd_group_size}.")
        check(self.mbstd_num_channels >= 0, f"mbstd_num_channels must be >= 0, got {self.mbstd_num_channels}.")
        check(self.conv_clamp is None or self.conv_clamp > 0, f"conv_clamp must be None or > 0, got {self.conv_clamp}.")
        check(self.num_identities >= 0, f"num_identities must be >= 0, got {self.num_identities}.")
        check(
            self.top_channels == 0 or (self.top_channels >= 1 and self.family != "dcgan"),
            f"discriminator top_channels must be 0 (the rule) or, for the StyleGAN families, >= 1; got "
            f"{self.top_channels} for {self.family!r}.",
        )


MAPPER_FAMILIES = ("wplus", "pool")
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
        check(self.candidates >= 1, f"selection candidates must be >= 1, got {self.candidates}.")
        check(self.z_dim >= 0, f"selection z_dim must be >= 0 (0 = not yet known), got {self.z_dim}.")
        check(len(self.traits) >= 1, "selection needs at least one trait to select by.")
        check(len(set(self.traits)) == len(self.traits), f"selection traits repeat a name: {self.traits}.")
        check(
            set(self.binary) <= set(self.traits), f"selection binary traits {self.binary} must be among {self.traits}."
        )
        check(
            len(self.weights) == len(self.traits) and all(w >= 0 for w in self.weights),
            f"selection weights must give one value >= 0 per trait ({len(self.traits)}), got {self.weights}.",
        )
        check(self.reader.blur == 0, "the selection reader learns from sharp faces only; use blur 0.")
        check(self.shortlist >= 0, f"selection shortlist must be >= 0 (0 = all candidates), got {self.shortlist}.")


#: The label-free voice side's face embeddings (PoolConfig.embedding).
POOL_EMBEDDINGS = ("pca", "identity")


@dataclass(frozen=True)
class PoolConfig:
    """The label-free voice side (voice2face.models.face_pool): the voice chooses among a pool of the
    frozen generator's own faces by a face embedding learnt without labels.

    The face embedding (``embedding``) works on faces at ``face_size`` px, with no trait label and no
    network: ``pca``, a PCA of the pool's renderings (``face_dims`` components, each scaled to unit
    variance when ``whiten``); or ``identity``, fitted on the training speakers' photos by who is in
    them: a PCA, whitened by how much one person's photos differ among themselves, then the
    ``face_dims`` directions along which people differ most (a linear discriminant of identity), so
    that lighting, pose and background, which change between one person's photos, weigh little. The voice
    predicts the embedding of its speaker's faces (the mean over their photos); the prediction's
    ``rank`` main directions over the training speakers are where voices differ, each rescaled
    (calibrated) so that the predictions of single recordings spread as far as the speakers' faces
    do. The pool is
    ``pool_size`` renderings of random codes (drawn from ``seed``), rendered once when the model is
    built and kept with it; for a latent z, the ``candidates`` pool faces whose keys (random
    directions, also from ``seed``) lie nearest z are the candidates, so z decides what the voice
    does not. The ``blend`` candidates nearest the voice in the calibrated directions are mixed in W
    with softmax weights of temperature ``temperature`` (in squared calibrated units), so nearby
    voices get nearby, but not identical, faces. With ``sex`` and a per-identity sex label in the
    data, the voice also predicts the speaker's sex, and only candidates of that sex (read off the
    pool by a logistic read-out of its ``face_size`` px pixels, fitted on the training photos) are chosen;
    with ``sex_confidence`` above 0.5, only those the read-out gives at least that probability of
    being of the voice's sex (while any such remain): faces that clearly show it, not ones in between.
    ``keep_norm``: give the blend the blended codes' (weighted) mean distance from ``w_avg``; a
    plain average of codes lies nearer the average face than any of them (as truncation does), so
    it loses what made each face distinct. ``edit``: then move the code toward the voice's wanted
    point along the voice directions, by a linear read-out of the directions from W fitted on the
    pool (least squares, a 1e-3 ridge on W's covariance): the step that changes the read-out by
    ``edit`` times what is missing, with the least change of W; 0 keeps the chosen code, 1 goes the
    whole way (the pool's faces lie only near the wanted point; this closes the rest). ``z_dim`` is
    the generator's (0 until the mapper stage fills it in). ``sex_confidence`` 0.5, ``keep_norm``
    off, ``embedding`` ``pca`` and ``edit`` 0 are how models built before these settings choose.
    """

    face_size: int = 32
    face_dims: int = 32
    whiten: bool = True
    embedding: str = "pca"
    rank: int = 4
    pool_size: int = 4096
    candidates: int = 64
    blend: int = 3
    temperature: float = 0.5
    sex: bool = True
    sex_confidence: float = 0.5
    keep_norm: bool = False
    edit: float = 0.0
    seed: int = 0
    z_dim: int = 0

    def __post_init__(self) -> None:
        check(8 <= self.face_size <= 128, f"pool face_size must be 8–128 px, got {self.face_size}.")
        check(
            1 <= self.face_dims <= 3 * self.face_size**2,
            f"pool face_dims must be 1–{3 * self.face_size**2}, got {self.face_dims}.",
        )
        check(self.embedding in POOL_EMBEDDINGS,
              f"pool embedding must be one of {', '.join(POOL_EMBEDDINGS)}, got {self.embedding!r}.")  # fmt: skip
        check(1 <= self.rank <= self.face_dims, f"pool rank must be 1–face_dims ({self.face_dims}), got {self.rank}.")
        check(self.pool_size >= 2, f"pool pool_size must be >= 2, got {self.pool_size}.")
        check(
            1 <= self.candidates <= self.pool_size,
            f"pool candidates must be 1–pool_size ({self.pool_size}), got {self.candidates}.",
        )
        check(1 <= self.blend <= self.candidates, f"pool blend must be 1–{self.candidates}, got {self.blend}.")
        check(self.temperature > 0, f"pool temperature must be > 0, got {self.temperature}.")
        check(0.5 <= self.sex_confidence < 1, f"pool sex_confidence must be in [0.5, 1), got {self.sex_confidence}.")
        check(0 <= self.edit <= 1, f"pool edit must be in [0, 1] (0 keeps the chosen code), got {self.edit}.")
        check(self.z_dim >= 0, f"pool z_dim must be >= 0 (0 = not yet known), got {self.z_dim}.")


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

    ``family`` "pool" is the label-free voice side (:class:`PoolConfig`, in ``pool``); the fields of
    the edit (hidden_dim, hidden_layers, rank, z_strength) are then unused.
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
    pool: PoolConfig | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "z_strength", tuple(float(s) for s in self.z_strength))
        check(
            not self.z_strength or len(self.z_strength) == self.num_ws,
            f"mapper z_strength must give one value per layer ({self.num_ws}), got {len(self.z_strength)}.",
        )
        check(all(0 <= s <= 1 for s in self.z_strength), "mapper z_strength values must be in [0, 1].")
        check(self.family in MAPPER_FAMILIES, f"mapper family must be one of {MAPPER_FAMILIES}, got {self.family!r}.")
        check(
            (self.family == "pool") == (self.pool is not None),
            "a mapper of family 'pool' needs its pool settings, and only that family takes them.",
        )
        check(self.pool is None or self.selection is None, "a mapper selects by traits or from a pool, not both.")
        check(self.embedding_dim >= 1, f"mapper embedding_dim must be >= 1, got {self.embedding_dim}.")
        check(
            self.num_ws >= 1 and self.w_dim >= 1,
            f"mapper num_ws and w_dim must be >= 1, got {self.num_ws}, {self.w_dim}.",
        )
        check(self.hidden_dim >= 1, f"mapper hidden_dim must be >= 1, got {self.hidden_dim}.")
        check(self.hidden_layers >= 0, f"mapper hidden_layers must be >= 0, got {self.hidden_layers}.")
        check(1 <= self.rank <= self.w_dim, f"mapper rank must be in [1, w_dim={self.w_dim}], got {self.rank}.")


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
        check(
            self.component in MODEL_COMPONENTS,
            f"weights component must be one of {MODEL_COMPONENTS}, got {self.component!r}.",
        )
        check(
            isinstance(self.file, str)
            and "/" not in self.file
            and "\\" not in self.file
            and not self.file.startswith("."),
            f"weights file must be a plain file name inside the model folder, got {self.file!r}.",
        )
        check(
            isinstance(self.sha256, str) and len(self.sha256) == 64,
            f"weights sha256 must be 64 hex digits, got {self.sha256!r}.",
        )
        check(isinstance(self.size, int) and self.size >= 0, f"weights size must be >= 0 bytes, got {self.size}.")


@dataclass(frozen=True)
class ModelConfig:
    """What a model folder's ``config.json`` holds: every component's config and its weight file.

    A model folder is ``config.json`` + ``<component>.safetensors`` per component present
    (see voice2face.storage.checkpoint). ``features`` are the voice features the encoder was trained on;
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
        check(self.format == MODEL_FORMAT, f"format must be {MODEL_FORMAT!r}, got {self.format!r}.")
        check(
            isinstance(self.format_version, int) and 1 <= self.format_version <= MODEL_FORMAT_VERSION,
            f"format_version {self.format_version} is not supported (this voice2face reads 1–{MODEL_FORMAT_VERSION}); "
            "upgrade voice2face.",
        )
        encoder, generator, disc = self.voice_encoder, self.generator, self.discriminator
        if encoder is not None:
            check(
                encoder.input_dim == self.features.dim,
                f"voice_encoder.input_dim ({encoder.input_dim}) must equal the features' dim ({self.features.dim}).",
            )
        if encoder is not None and generator is not None:
            # c_dim 0: an unconditional (e.g. pretrained high-resolution) generator driven through W+.
            check(
                generator.c_dim in (0, encoder.embedding_dim),
                f"generator.c_dim ({generator.c_dim}) must be 0 or the voice embedding size ({encoder.embedding_dim}).",
            )
        if generator is not None and disc is not None:
            for name in ("img_resolution", "img_channels"):
                check(
                    getattr(generator, name) == getattr(disc, name),
                    f"discriminator.{name} ({getattr(disc, name)}) must equal "
                    f"generator.{name} ({getattr(generator, name)}).",
                )
            # An unconditional discriminator (Wen et al.: real/fake + identity head) is allowed.
            check(
                disc.c_dim in (0, generator.c_dim),
                f"discriminator.c_dim ({disc.c_dim}) must be 0 or generator.c_dim ({generator.c_dim}).",
            )
        if self.mapper is not None:
            _check_mapper_fits(self.mapper, encoder, generator)
        names = [w.component for w in self.weights]
        check(len(names) == len(set(names)), f"weights lists a component twice: {names}.")

    def component(self, name: str) -> VoiceEncoderConfig | GeneratorConfig | MapperConfig | DiscriminatorConfig | None:
        """The config of component ``name`` (one of MODEL_COMPONENTS), or None if absent."""
        check(name in MODEL_COMPONENTS, f"component must be one of {MODEL_COMPONENTS}, got {name!r}.")
        return getattr(self, name)

    def weights_sha256(self, name: str) -> str | None:
        """The SHA-256 recorded for component ``name``'s weights file (None: none recorded)."""
        return next((w.sha256 for w in self.weights if w.component == name), None)

    @property
    def present(self) -> tuple[str, ...]:
        """The components this model has, in MODEL_COMPONENTS order."""
        return tuple(name for name in MODEL_COMPONENTS if getattr(self, name) is not None)


def _check_mapper_fits(
    mapper: MapperConfig, encoder: VoiceEncoderConfig | None, generator: GeneratorConfig | None
) -> None:
    """A mapper reads the encoder's embedding and writes the (unconditional) generator's W+."""
    if encoder is not None:
        check(
            mapper.embedding_dim == encoder.embedding_dim,
            f"mapper.embedding_dim ({mapper.embedding_dim}) must equal the voice embedding size "
            f"({encoder.embedding_dim}).",
        )
    if generator is not None:
        check(
            generator.c_dim == 0, f"a mapper drives an unconditional generator (c_dim 0), got c_dim {generator.c_dim}."
        )
        check(
            (mapper.num_ws, mapper.w_dim) == (generator.num_ws, generator.w_dim),
            f"mapper W+ shape ({mapper.num_ws}×{mapper.w_dim}) must equal the generator's "
            f"({generator.num_ws}×{generator.w_dim}).",
        )
