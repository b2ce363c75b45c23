"""Named training recipes: the paper's models and ablations, and small CPU presets for synthvox.

Paper presets (Qin et al. 2025 §3.2, Table 2/3; data protocol of Wen et al. 2019): 64×64 faces,
MFCC+Δ+ΔΔ features (normalised per utterance: the paper gives no normalisation for MFCC, and an
unnormalised c0 spans ±100 with silence), the SE-ResNet18 + Mish encoder trained with SGD
(lr 1e-3, momentum 0.9, weight decay 1e-4, cosine cycles, batch 384, 10,000 steps), and a
generator trained with Adam (lr 2e-4, betas (0.5, 0.999)). The paper's reported "learning rate
0.05" and "50,000 rounds" (§3.1) are not used: they contradict its own §3.2 and StyleGAN2's
stable range. ``stylegan2`` uses the official StyleGAN2 optimiser (lr 0.0025, betas (0, 0.99)).

``synthvox-quick`` is sized for 2 CPU cores: both stages in a few minutes on a synthvox corpus.
"""

from __future__ import annotations

import dataclasses

from voice2face.config import (
    PAPER_FEATURES,
    PRESET_NAMES,
    CropConfig,
    DiscriminatorConfig,
    EncoderTrainingConfig,
    FeatureConfig,
    GANTrainingConfig,
    GeneratorConfig,
    MapperConfig,
    MapperTrainingConfig,
    MFCCConfig,
    PoolConfig,
    ProjectionConfig,
    SelectionConfig,
    TrainingPreset,
    VoiceEncoderConfig,
)
from voice2face.errors import ConfigError

_PAPER_ENCODER = EncoderTrainingConfig(features=PAPER_FEATURES, encoder=VoiceEncoderConfig(input_dim=39))


def _paper_gan(family: str) -> GANTrainingConfig:
    generator = GeneratorConfig(family=family, img_resolution=64, channel_base=16384, channel_max=512)
    discriminator = DiscriminatorConfig(family=family, img_resolution=64, channel_base=16384, channel_max=512)
    regularised = family != "dcgan"
    return GANTrainingConfig(
        generator=generator, discriminator=discriminator, batch_size=32, kimg=10000, g_lr=2e-4, d_lr=2e-4,
        betas=(0.5, 0.999), r1_gamma=0.05, pl_weight=2.0 if family == "stylegan2" else 0.0,
        style_mixing=0.9 if regularised else 0.0, ema_kimg=10.0, snapshot_kimg=200,
    )  # fmt: skip


def _ablation(attention: str = "se", activation: str = "mish") -> EncoderTrainingConfig:
    encoder = dataclasses.replace(_PAPER_ENCODER.encoder, attention=attention, activation=activation)
    return dataclasses.replace(_PAPER_ENCODER, encoder=encoder)


def _quick() -> TrainingPreset:
    # Cepstral mean normalisation only: dividing by each coefficient's std too (CMVN) erased most of
    # what tells a voice's age (see MFCCConfig.normalize); the bundled encoder's age R² was 0.24 with it.
    features = FeatureConfig(kind="mfcc", mfcc=MFCCConfig(normalize=True, normalize_variance=False))
    encoder = EncoderTrainingConfig(
        features=features,
        encoder=VoiceEncoderConfig(input_dim=39, embedding_dim=128, width_multiplier=0.25),
        crops=CropConfig(min_seconds=1.5, max_seconds=3.0),
        batch_size=32, steps=200, lr=0.05, validate_every=50, snapshot_every=100,
    )  # fmt: skip
    # Half the StyleGAN2 width of a 64 px config (16–64 feature maps): 2.7× the images per second of
    # channel_base 2048, which matters more in ten CPU minutes than capacity does. Noise inputs are off:
    # in a few thousand steps their strength grows into per-pixel speckle before faces form. The
    # matching-aware D (mismatch_weight) is what makes the faces follow the voice in so few kimg:
    # without it, sex agreement swung between 0.4 and 0.86 from one 2.5-kimg check to the next. With
    # it at lr 0.002 the faces still fell apart after ~45 kimg (stripes; agreement 0.9 → 0.6); lr 0.001
    # held 0.86–0.98 from 22.5 to 52.5 kimg on the same corpus, encoder and seed.
    generator = GeneratorConfig(
        family="stylegan2", z_dim=64, c_dim=128, w_dim=128, img_resolution=64, channel_base=1024, channel_max=64,
        mapping_layers=2, mapping_lr_multiplier=0.1, use_noise=False,
    )  # fmt: skip
    discriminator = DiscriminatorConfig(
        family="stylegan2", c_dim=128, img_resolution=64, channel_base=1024, channel_max=64, mapping_layers=2
    )
    gan = GANTrainingConfig(
        generator=generator, discriminator=discriminator, batch_size=16, kimg=40, g_lr=0.001, d_lr=0.001,
        betas=(0.0, 0.99), r1_gamma=0.1, pl_weight=0.0, style_mixing=0.0, identity_weight=1.0, mismatch_weight=1.0,
        ema_kimg=3.0, ema_rampup=0.05, report_every=20, snapshot_kimg=5,
    )  # fmt: skip
    return TrainingPreset("synthvox-quick", "small networks for a few CPU minutes on synthvox", encoder, gan)


def _synthface() -> TrainingPreset:
    # The paper's route, step 1: an unconditional StyleGAN2 pretrained on unpaired faces (our stand-in
    # for FFHQ is `voice2face synth-faces`). Sized for 2 CPU cores: 128 feature maps at 4–8 px, halving
    # with each doubling of resolution down to 16 at 64 px (each resolution then costs about the same;
    # 15 s/kimg against 46 s/kimg for channel_base 2048, and kimg matter more than width here), w_dim 128,
    # no noise inputs (a W+ code then fixes the image, which projection and the voice→W+ mapper rely
    # on), no path-length regulariser (a third of the step's cost), DiffAugment's policy for
    # StyleGAN2 so D does not memorise; R1 γ by stylegan2-ada's rule 0.0002·R²/batch.
    generator = GeneratorConfig(
        family="stylegan2", z_dim=128, c_dim=0, w_dim=128, img_resolution=64, channel_base=1024, channel_max=128,
        mapping_layers=4, mapping_lr_multiplier=0.01, use_noise=False,
    )  # fmt: skip
    discriminator = DiscriminatorConfig(
        family="stylegan2", c_dim=0, img_resolution=64, channel_base=1024, channel_max=128
    )
    gan = GANTrainingConfig(
        generator=generator, discriminator=discriminator, batch_size=16, kimg=500, g_lr=0.002, d_lr=0.002,
        betas=(0.0, 0.99), r1_gamma=0.05, pl_weight=0.0, style_mixing=0.5, identity_weight=0.0, mismatch_weight=0.0,
        augment="color,translation,cutout", ema_kimg=5.0, ema_rampup=0.05, report_every=20, snapshot_kimg=5,
    )  # fmt: skip
    return TrainingPreset(
        "synthface-64",
        "unconditional StyleGAN2 pretrained on unpaired synthvox faces (the paper's route)",
        EncoderTrainingConfig(),
        gan,
    )


def _synthface_128() -> TrainingPreset:
    # synthface-64 grown by one block (issue 31): `train --preset synthface-128 --data FACES_128
    # --generator SYNTHFACE_64_RUN` starts from the 64 px run (its top block's toRGB at zero, so the first
    # images are its own, upsampled; models.stylegan2.grow), or from nothing without --generator. Same
    # widths below 128 px (growing keeps every smaller block's shape), R1 γ by the same rule at 128 px,
    # the rest as synthface-64. The first kimg train D alone (d_warmup_kimg): its new top block reads
    # noise at first, and in a first try without a warm-up the grown generator lost its beards and
    # glasses within 5 kimg, following those gradients.
    # With a 4 kimg warm-up it still drifted (two-sample 0.57 -> 0.65 within 15 kimg, benchmarks/README):
    # so the warm-up is 10 kimg, and at first the pretrained 64 px generator was held for the whole run
    # (g_freeze_*): only the 128 px block learnt, the detail on top of the 64 px faces. Held, the rule's
    # 8 feature maps at 128 px drew glinting, coloured eyes and wiped eyebrows within 90 kimg: the new
    # blocks of G and D get 32 maps (top_channels; every smaller block keeps its width). Even so, with
    # everything up to 64 px held, sharpness stayed at a plateau of 0.70-0.78 of real faces up to 105
    # kimg: the 128 px block had to invent eyes from the 16 maps the 64 px block carries. So only the
    # mapping and the blocks up to 32 px are held (g_freeze_resolution 32): the 64 px block learns
    # with the new one, and sharpness reached 0.92 at 60 kimg, eyes with lids and brows
    # (snapshots/synthface-128-freeze32, benchmarks/README "sixth stage"; a bundle built on its 60 kimg
    # snapshot missed two of issue 30's floors, "seventh stage"; continued to 100.51 kimg it draws the
    # bundled generator).
    small = _synthface().gan
    gan = dataclasses.replace(
        small,
        generator=dataclasses.replace(small.generator, img_resolution=128, top_channels=32),
        discriminator=dataclasses.replace(small.discriminator, img_resolution=128, top_channels=32),
        r1_gamma=0.0002 * 128**2 / small.batch_size,
        kimg=200,
        d_warmup_kimg=10.0,
        g_freeze_resolution=32,
        g_freeze_kimg=190.0,
    )
    return TrainingPreset(
        "synthface-128",
        "unconditional StyleGAN2 at 128 px on unpaired synthvox faces, grown from synthface-64 (--generator)",
        EncoderTrainingConfig(),
        gan,
    )


def _synthface_128_thaw() -> TrainingPreset:
    # The second stage of a synthface-128 run made with the earlier hold of its whole 64 px base
    # (`--set g_freeze_resolution=64`; issue 31): `train --preset synthface-128-thaw --data FACES_128
    # --generator SYNTHFACE_128_RUN` continues that run's networks (G, its EMA and D as saved, fresh
    # optimisers). With the 64 px base frozen the 128 px block plateaued from 35 to 105 kimg at a
    # sharpness of 0.70-0.78 of real faces (brows, wrinkles and glasses frames, the fine lines the base
    # draws faintly, stayed missing): here the base learns too, at a tenth of the rate (g_freeze_lr),
    # so that it can feed the top block what it needs without the drift that a full-rate fine-tune
    # showed (beards and glasses lost within 15 kimg). No D warm-up: D is the run's trained one.
    grown = _synthface_128().gan
    gan = dataclasses.replace(
        grown, kimg=100, d_warmup_kimg=0.0, g_freeze_resolution=64, g_freeze_kimg=100.0, g_freeze_lr=0.1
    )
    return TrainingPreset(
        "synthface-128-thaw",
        "synthface-128 continued with its 64 px base learning at a tenth of the rate (--generator a synthface-128 run)",
        EncoderTrainingConfig(),
        gan,
    )


def _wplus_edit() -> TrainingPreset:
    # The paper's route, step 4, as a regression to projected codes, sized for 2 CPU cores: the
    # synthface-64 generator (pretrained with this preset's `gan` settings, `train --preset
    # synthface-64`) stays frozen; the synthvox-quick encoder (this preset's `encoder`) is fine-tuned
    # with a one-hidden-layer mapper. Nothing renders while the voice side trains, so a step costs
    # what an encoder step costs. On synthvox at 64 px its calibrated edit moves faces too little for
    # the voice to show (see voice2face.models.wplus); `synthvox-wplus-64` selects instead.
    quick = _quick()
    mapper = MapperTrainingConfig(
        mapper=MapperConfig(embedding_dim=128, num_ws=10, w_dim=128, hidden_dim=256, hidden_layers=1, rank=8),
        projection=ProjectionConfig(steps=1500, batch_size=32, lr=1e-3, width=32, style_mixing=0.5),
        crops=quick.encoder.crops, batch_size=32, steps=600, lr=1e-3, encoder_lr=3e-4, target_rank=16,
        validate_every=50, snapshot_every=200,
    )  # fmt: skip
    return TrainingPreset(
        "synthvox-wplus-edit-64",
        "the paper's route by regression: voice→W+ codes of projected faces, a calibrated edit of a random code",
        quick.encoder,
        _synthface().gan,
        mapper,
    )


def _wplus() -> TrainingPreset:
    # The paper's route as the bundled model takes it: the frozen synthface-64 generator, and a
    # mapper that selects among its samples the one whose face shows the traits the voice predicts
    # (a reader CNN trained on the corpus's training faces; K = 64 candidates per portrait). The
    # encoder is fine-tuned to predict the reader's reading of each speaker's faces: that is what
    # gives the embedding the speaker's age. Nothing is projected, nothing renders while training.
    quick = _quick()
    mapper = MapperTrainingConfig(
        mapper=MapperConfig(embedding_dim=128, num_ws=10, w_dim=128, hidden_layers=0, rank=1,
                            selection=SelectionConfig()),
        crops=quick.encoder.crops, batch_size=32, steps=600, lr=1e-3, encoder_lr=3e-4, validate_every=50,
        snapshot_every=200,
    )  # fmt: skip
    return TrainingPreset(
        "synthvox-wplus-64",
        "the paper's route: the voice selects among the frozen synthface-64 generator's faces by their traits",
        quick.encoder,
        _synthface().gan,
        mapper,
    )


#: How the label-free voice side chooses (session 15, on the voice corpus's validation voices, by the
#: model's own pool sex read-out: portraits of the voice's sex 0.984 → 0.995): only candidates that
#: read as the voice's sex with probability ≥ 0.9, and blends that keep their codes' distance from w_avg.
#: Session 16: the face embedding is the identity one (16 directions; FaceEmbedding.fit_identity), and
#: the voice chooses among 256 candidates, judged on the same validation voices by the model's own
#: identity guide (each portrait against its speaker's and the other same-sex speakers' mean photo in that
#: embedding; no instrument, no trait label): the PCA bundle 0.542; the identity embedding with a head
#: refitted on the frozen encoder, 64 candidates 0.552, 256 candidates 0.565 (rank 8: 0.566).
#: Session 18: after choosing, the code is moved (least change of W) until a linear read-out of the voice
#: directions from W, fitted on the pool, reads the wanted point (PoolConfig.edit 1.0). Same guide, four
#: latent seeds, every one up: 0.577 -> 0.582 on average (at seed 0 a perfect reader of the voice gives 0.580).
_POOL_CHOICE = PoolConfig(
    sex_confidence=0.9, keep_norm=True, embedding="identity", face_dims=16, candidates=256, edit=1.0
)


def _pool() -> TrainingPreset:
    # The label-free voice side: it reads identity ids, recordings and photos paired by identity, and
    # each person's sex where the data records it (VoxCeleb does), nothing else. The frozen
    # synthface-64 generator renders a pool of its own faces; the face embedding is a linear discriminant
    # of identity on the training photos (where people differ, not where one person's photos do); the
    # synthvox-quick encoder (a speaker classifier) is fine-tuned to predict the embedding of each
    # speaker's photos (and their sex, attribute_weight); a portrait blends the pool faces nearest the
    # voice among those z offers (voice2face.models.face_pool). Nothing renders while training.
    # Its stage 1 (`train-encoder --preset synthvox-pool-64`) keeps each MFCC's mean over the utterance
    # (no cepstral mean normalisation): breathiness and spectral tilt, which tell age, live in that mean.
    # A label-free speaker classifier's age R² by the linear probe, 600 steps on synthvox-200: 0.37
    # without CMN against 0.30 with it (synthvox-1225 seed 1, 924 → 189 unseen speakers; 0.31 against
    # 0.23 on synthvox-200's 151 → 31). Synthvox has no channel to normalise away; real data may want it.
    quick = _quick()
    features = quick.encoder.features
    # It also hears pitch and periodicity (FeatureConfig.voicing: five rows per frame): jitter, shimmer,
    # breath noise and tremor, which tell synthvox's ages, are cycle-level detail that MFCCs smooth away.
    features = dataclasses.replace(features, mfcc=dataclasses.replace(features.mfcc, normalize=False), voicing=True)
    encoder = dataclasses.replace(
        quick.encoder, features=features, encoder=dataclasses.replace(quick.encoder.encoder, input_dim=features.dim)
    )
    mapper = MapperTrainingConfig(
        mapper=MapperConfig(family="pool", embedding_dim=128, num_ws=10, w_dim=128, pool=_POOL_CHOICE),
        crops=quick.encoder.crops, batch_size=32, steps=1000, lr=1e-3, encoder_lr=3e-4, attribute_weight=1.0,
        validate_every=50, snapshot_every=250,
    )  # fmt: skip
    return TrainingPreset(
        "synthvox-pool-64",
        "the label-free voice side: the voice chooses among the frozen synthface-64 generator's faces by an identity "
        "face embedding (reads ids, recordings, photos and, where recorded, sex)",
        encoder,
        _synthface().gan,
        mapper,
    )


def _highres(resolution: int) -> TrainingPreset:
    # The paper's high-resolution route (issue 16): an imported official StyleGAN2 (W+ of 14×512 at
    # 256 px, 18×512 at 1024 px; `voice2face import-stylegan2`) stays frozen and the label-free voice
    # side chooses among its faces, as synthvox-pool-64 does at 64 px. The pool is embedded at 64 px
    # (renderings and photos are area-downsampled for it, so the corpus's photos may have any size of
    # at least 64 px). The encoder is the paper's (SE-ResNet18 + Mish, 512-d) with the voicing rows.
    # `gan` is the official network of that size (stylegan2-ada-pytorch's paper256 at 256 px, config F
    # at 1024 px), what an imported checkpoint is checked against and what `train` would pretrain.
    # Meant for a GPU (`--device cuda`); on CPU they run on a small imported generator.
    features = dataclasses.replace(PAPER_FEATURES, voicing=True)
    encoder = dataclasses.replace(
        _PAPER_ENCODER, features=features, encoder=dataclasses.replace(_PAPER_ENCODER.encoder, input_dim=features.dim)
    )
    channel_base = 32768 if resolution >= 1024 else 16384
    generator = GeneratorConfig(c_dim=0, img_resolution=resolution, channel_base=channel_base, channel_max=512)
    discriminator = DiscriminatorConfig(c_dim=0, img_resolution=resolution, channel_base=channel_base, channel_max=512)
    gan = GANTrainingConfig(
        generator=generator, discriminator=discriminator, batch_size=32, kimg=25000, g_lr=0.0025, d_lr=0.0025,
        betas=(0.0, 0.99), r1_gamma=0.0002 * resolution**2 / 32, pl_weight=2.0, style_mixing=0.9, ema_kimg=10.0,
        identity_weight=0.0, mismatch_weight=0.0, snapshot_kimg=200,
    )  # fmt: skip
    mapper = MapperTrainingConfig(
        mapper=MapperConfig(family="pool", embedding_dim=512, num_ws=generator.num_ws, w_dim=512,
                            pool=dataclasses.replace(_POOL_CHOICE, face_size=64, pool_size=8192)),
        crops=CropConfig(), batch_size=64, steps=4000, lr=1e-3, encoder_lr=1e-4, attribute_weight=1.0,
        validate_every=200, snapshot_every=1000,
    )  # fmt: skip
    return TrainingPreset(
        f"highres-{resolution}",
        f"the label-free voice side on an imported official {resolution} px StyleGAN2 (W+ {generator.num_ws}×512); "
        "for a GPU",
        encoder,
        gan,
        mapper,
    )


def _official_stylegan2() -> TrainingPreset:
    gan = dataclasses.replace(_paper_gan("stylegan2"), g_lr=0.0025, d_lr=0.0025, betas=(0.0, 0.99))
    return TrainingPreset("stylegan2", "paper networks with the official StyleGAN2 optimiser", _PAPER_ENCODER, gan)


PRESETS: dict[str, TrainingPreset] = {
    preset.name: preset
    for preset in (
        TrainingPreset("paper-stylegan2", "the paper's BaseModel: SE-ResNet18+Mish encoder, StyleGAN2 generator",
                       _PAPER_ENCODER, _paper_gan("stylegan2")),
        TrainingPreset("paper-stylegan", "Table 2 baseline: StyleGAN (AdaIN) generator", _PAPER_ENCODER,
                       _paper_gan("stylegan")),
        TrainingPreset("paper-dcgan", "Table 2 baseline: DCGAN generator", _PAPER_ENCODER, _paper_gan("dcgan")),
        TrainingPreset("ablation-nose", "Table 3: encoder without squeeze-and-excitation", _ablation(attention="none"),
                       _paper_gan("stylegan2")),
        TrainingPreset("ablation-relu", "Table 3: encoder with ReLU in place of Mish", _ablation(activation="relu"),
                       _paper_gan("stylegan2")),
        _official_stylegan2(),
        _quick(),
        _synthface(),
        _synthface_128(),
        _synthface_128_thaw(),
        _wplus(),
        _wplus_edit(),
        _pool(),
        _highres(256),
        _highres(1024),
    )
}  # fmt: skip
assert tuple(PRESETS) == PRESET_NAMES, "list a new preset in voice2face.config.PRESET_NAMES too"


def get_preset(name: str) -> TrainingPreset:
    """The preset called ``name``; an unknown name is a ConfigError listing the known ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"no preset named {name!r}; choose one of {', '.join(sorted(PRESETS))}.") from None
