"""Training configs: each stage's settings (voice encoder, GAN, projection, voice→W+ mapper) and presets."""

from __future__ import annotations

from dataclasses import dataclass, field

from voice2face.config.audio import FeatureConfig
from voice2face.config.base import check
from voice2face.config.models import (
    DEFAULT_OPS_IMPL,
    OPS_IMPLS,
    DiscriminatorConfig,
    GeneratorConfig,
    MapperConfig,
    VoiceEncoderConfig,
)


@dataclass(frozen=True)
class CropConfig:
    """Random training crops (paper: 3–8 s); test time uses whole utterances."""

    min_seconds: float = 3.0
    max_seconds: float = 8.0

    def __post_init__(self) -> None:
        check(
            0 < self.min_seconds <= self.max_seconds,
            f"need 0 < min_seconds <= max_seconds, got {self.min_seconds}, {self.max_seconds}.",
        )


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
        check(self.batch_size >= 2, f"encoder batch_size must be >= 2, got {self.batch_size}.")
        check(self.steps >= 1, f"encoder steps must be >= 1, got {self.steps}.")
        check(0 < self.lr <= 10, f"encoder lr must be in (0, 10], got {self.lr}.")
        check(0 <= self.momentum < 1, f"momentum must be in [0, 1), got {self.momentum}.")
        check(self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}.")
        check(self.lr_cycles >= 1, f"lr_cycles must be >= 1, got {self.lr_cycles}.")
        check(self.holdout_utterances >= 0, f"holdout_utterances must be >= 0, got {self.holdout_utterances}.")
        check(self.validate_every >= 1 and self.snapshot_every >= 1, "validate_every and snapshot_every must be >= 1.")
        check(
            self.encoder.input_dim == self.features.dim,
            f"the encoder's input_dim ({self.encoder.input_dim}) must equal the features' dimension "
            f"({self.features.dim} for {self.features.kind}).",
        )


AUGMENT_POLICIES = ("color", "translation", "cutout")
#: How the label-free voice side compares a voice's prediction with its speaker's faces.
FACE_LOSSES = ("mse", "contrastive")


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
    ``augment_p``: the probability with which each transformation of the policy is applied to each
    image; None (the default) means 1, always, as DiffAugment does. ``augment_target`` > 0 makes it
    adaptive (ADA, Karras et al. 2020): every ``augment_interval`` steps the trainer compares the
    overfitting heuristic r_t = E[sign(D(real))] over those steps with the target (ADA's is 0.6),
    and moves p up when D is surer of the real faces than that, down otherwise, by the amount that
    would take it from 0 to 1 in ``augment_kimg`` kimg; p then starts at ``augment_p``, None meaning
    0, as ADA's does. For a small face corpus (VGGFace's faces of the 924 training identities)
    rather than 30,000 synthetic ones. p and the last r_t go to ``stats.jsonl`` (``augment/p``,
    ``augment/rt``).

    ``d_warmup_kimg``: for this many kimg at the start of a run only the discriminator trains (G and
    its EMA stay as they are): a network grown by a block (``train --generator SMALLER``) has a new
    discriminator block at the top that reads garbage at first, and the pretrained generator would
    follow its random gradients and lose what it knew. 0 for runs from nothing.

    ``g_freeze_resolution`` and ``g_freeze_kimg``: for the first ``g_freeze_kimg`` kimg in which the
    generator trains, its mapping network and its synthesis blocks up to ``g_freeze_resolution`` px
    stay as they are and only the blocks above learn (G_ema follows). For a network grown by a block
    this keeps the pretrained smaller generator intact (its images, upsampled, are the start) while
    the new block learns the finer detail on top: in a first try that fine-tuned everything, the grown
    generator lost beards and glasses and drifted toward one face within 15 kimg. 0 for no freezing.
    ``g_freeze_lr``: while the freeze lasts, the held part learns at ``g_lr`` times this instead of
    standing still (0, the default): a thaw, for a grown network whose new block has settled and
    whose smaller blocks should adapt to it slowly (their own optimiser group, so Adam's steps shrink
    by exactly this factor).

    ``d_fresh``: a run grown from a smaller one (``train --generator SMALLER``) takes the smaller run's
    discriminator below its new top block (False, the default), which fixes D's widths to the
    smaller run's; True starts D from its initialisation instead, so that it may be wider than the
    base's (``--set discriminator.channel_base=…``). Give it a ``d_warmup_kimg`` to learn in first.
    A run from nothing starts a fresh D anyway.

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
    augment_p: float | None = None
    augment_target: float = 0.0
    augment_kimg: float = 500.0
    augment_interval: int = 4
    style_mixing: float = 0.9
    ema_kimg: float = 10.0
    ema_rampup: float | None = 0.05
    report_every: int = 20
    snapshot_kimg: float = 50.0
    ops_impl: str = DEFAULT_OPS_IMPL
    d_warmup_kimg: float = 0.0
    g_freeze_resolution: int = 0
    g_freeze_kimg: float = 0.0
    g_freeze_lr: float = 0.0
    d_fresh: bool = False

    def augment_start(self) -> float:
        """Where the augmentation probability starts: ``augment_p``, or when None 0 for an adaptive
        run (ADA's start) and 1 for a fixed one (DiffAugment's)."""
        if self.augment_p is not None:
            return self.augment_p
        return 0.0 if self.augment_target > 0 else 1.0

    def __post_init__(self) -> None:
        check(self.batch_size >= 2, f"GAN batch_size must be >= 2, got {self.batch_size}.")
        check(self.kimg > 0, f"kimg must be positive, got {self.kimg}.")
        check(0 <= self.d_warmup_kimg < self.kimg, f"d_warmup_kimg must be in [0, kimg), got {self.d_warmup_kimg}.")
        check(
            0 <= self.g_freeze_kimg <= self.kimg,
            f"g_freeze_kimg must be in [0, kimg], got {self.g_freeze_kimg}.",
        )
        check(
            self.g_freeze_resolution == 0
            or (
                4 <= self.g_freeze_resolution < self.generator.img_resolution
                and self.g_freeze_resolution & (self.g_freeze_resolution - 1) == 0
            ),
            f"g_freeze_resolution must be 0 (none) or a power of two from 4 below the generator's "
            f"{self.generator.img_resolution} px, got {self.g_freeze_resolution}.",
        )
        widest = self.generator.img_resolution >> (self.generator.top_blocks - 1)  # the lowest block top_blocks widens
        held = self.g_freeze_resolution >= widest and self.g_freeze_kimg > 0 and self.g_freeze_lr == 0
        check(
            self.generator.top_blocks == 1 or not held,
            f"generator.top_blocks {self.generator.top_blocks} widens the blocks from {widest} px, which "
            f"g_freeze_resolution {self.g_freeze_resolution} would hold still; set it below {widest}.",
        )
        check(
            0 <= self.g_freeze_lr < 1 and (self.g_freeze_lr == 0 or self.g_freeze_resolution > 0),
            f"g_freeze_lr must be in [0, 1) and needs a g_freeze_resolution to act on, got {self.g_freeze_lr}.",
        )
        check(
            0 < self.g_lr <= 1 and 0 < self.d_lr <= 1,
            f"learning rates must be in (0, 1], got {self.g_lr}, {self.d_lr}.",
        )
        check(
            len(self.betas) == 2 and all(0 <= b < 1 for b in self.betas),
            f"betas must be two values in [0, 1), got {self.betas}.",
        )
        check(self.r1_gamma >= 0 and self.pl_weight >= 0, "r1_gamma and pl_weight must be >= 0.")
        check(self.r1_interval >= 0 and self.pl_interval >= 0, "r1_interval and pl_interval must be >= 0 (0 = off).")
        check(0 < self.pl_decay <= 1, f"pl_decay must be in (0, 1], got {self.pl_decay}.")
        check(self.pl_batch_shrink >= 1, f"pl_batch_shrink must be >= 1, got {self.pl_batch_shrink}.")
        check(self.identity_weight >= 0, f"identity_weight must be >= 0, got {self.identity_weight}.")
        check(self.mismatch_weight >= 0, f"mismatch_weight must be >= 0, got {self.mismatch_weight}.")
        unknown = [p for p in self.augment.split(",") if p and p not in AUGMENT_POLICIES]
        check(not unknown, f"augment takes a comma-separated list of {', '.join(AUGMENT_POLICIES)}; got {unknown}.")
        policy = any(self.augment.split(","))
        check(
            self.augment_p is None or 0 <= self.augment_p <= 1,
            f"augment_p must be none or in [0, 1], got {self.augment_p}.",
        )
        check(0 <= self.augment_target < 1, f"augment_target must be in [0, 1), got {self.augment_target}.")
        check(
            policy or (self.augment_p is None and self.augment_target == 0),
            f"augment_p and augment_target act on an augment policy, and augment is {self.augment!r}: give one "
            "with them (augment=color,translation,cutout).",
        )
        check(
            self.augment_kimg > 0 and self.augment_interval >= 1,
            f"augment_kimg must be > 0 and augment_interval >= 1, got {self.augment_kimg}, {self.augment_interval}.",
        )
        check(0 <= self.style_mixing <= 1, f"style_mixing must be in [0, 1], got {self.style_mixing}.")
        check(self.ema_kimg >= 0, f"ema_kimg must be >= 0, got {self.ema_kimg}.")
        check(self.report_every >= 1 and self.snapshot_kimg > 0, "report_every must be >= 1 and snapshot_kimg > 0.")
        check(self.ops_impl in OPS_IMPLS, f"ops_impl must be one of {OPS_IMPLS}, got {self.ops_impl!r}.")
        check(
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
        check(self.steps >= 1 and self.batch_size >= 2, "projection steps must be >= 1 and batch_size >= 2.")
        check(0 < self.lr <= 1 and 0 < self.refine_lr <= 1, "projection learning rates must be in (0, 1].")
        check(self.width >= 1, f"projection width must be >= 1, got {self.width}.")
        check(0 <= self.style_mixing <= 1, f"projection style_mixing must be in [0, 1], got {self.style_mixing}.")
        check(self.refine_steps >= 0, f"projection refine_steps must be >= 0, got {self.refine_steps}.")


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
    selection's units, times ``trait_weight``). In pool mode (``mapper.pool`` set; label-free)
    the voice predicts its speaker's face embedding, by squared error (``face_loss`` "mse") or
    contrastively ("contrastive": InfoNCE over the batch's speakers at ``temperature``, CLIP-style:
    each crop must pick its speaker's faces among the others').
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
    face_loss: str = "mse"
    temperature: float = 0.1
    validate_every: int = 100
    snapshot_every: int = 500

    def __post_init__(self) -> None:
        check(self.batch_size >= 2 and self.steps >= 1, "mapper batch_size must be >= 2 and steps >= 1.")
        check(0 < self.lr <= 1, f"mapper lr must be in (0, 1], got {self.lr}.")
        check(0 <= self.encoder_lr <= 1, f"encoder_lr must be in [0, 1] (0 = frozen encoder), got {self.encoder_lr}.")
        check(self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}.")
        check(self.target_rank >= 0, f"target_rank must be >= 0 (0 = all of W+), got {self.target_rank}.")
        check(self.attribute_weight >= 0, f"attribute_weight must be >= 0, got {self.attribute_weight}.")
        check(self.trait_weight > 0, f"trait_weight must be > 0, got {self.trait_weight}.")
        check(self.face_loss in FACE_LOSSES, f"face_loss must be one of {FACE_LOSSES}, got {self.face_loss!r}.")
        check(0 < self.temperature <= 10, f"temperature must be in (0, 10], got {self.temperature}.")
        check(self.validate_every >= 1 and self.snapshot_every >= 1, "validate_every and snapshot_every must be >= 1.")


#: The names of voice2face.training.presets.PRESETS, in its order: the CLI lists them in its help
#: without importing training (presets.py checks that the two agree).
PRESET_NAMES = (
    "paper-stylegan2",
    "paper-stylegan",
    "paper-dcgan",
    "ablation-nose",
    "ablation-relu",
    "stylegan2",
    "synthvox-quick",
    "synthface-64",
    "synthface-128",
    "synthface-128-thaw",
    "synthvox-wplus-64",
    "synthvox-wplus-edit-64",
    "synthvox-pool-64",
    "highres-256",
    "highres-1024",
)


@dataclass(frozen=True)
class TrainingPreset:
    """A named recipe: each stage's settings (see voice2face.training.presets); ``mapper`` is set
    for the paper's route (a voice→W+ mapper on a pretrained generator), None otherwise."""

    name: str
    description: str
    encoder: EncoderTrainingConfig = field(default_factory=EncoderTrainingConfig)
    gan: GANTrainingConfig = field(default_factory=GANTrainingConfig)
    mapper: MapperTrainingConfig | None = None
