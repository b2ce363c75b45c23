"""What `voice2face train-encoder` and `voice2face train` do, as functions a test can call.

Each call makes (or, with ``resume``, continues) a numbered run folder holding
``training_options.json`` (the resolved settings), ``stats.jsonl`` + TensorBoard events,
``model/`` (the latest snapshot, a model folder that ``voice2face portrait -m`` and
``voice2face evaluate`` accept) and, for stage 2, image grids ``fakesNNNNNN.png`` whose rows
show a speaker's true face followed by faces generated from that speaker's voice.

Each returns the run folder. The settings alone (``--dry-run``) come from
:func:`voice2face.training.options.resolve_options`; every stage goes through the one stage
runner (:func:`voice2face.training.stages.run_stage`) and the one loop
(:func:`voice2face.training.loop.run_training`): a stage here is only what it reads and builds.

time_budget_s (all three): seconds for the whole call, its set-up (features, reading faces)
included; training stops at the first step boundary after it and writes its snapshot.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from voice2face.config import ModelConfig, TrainingPreset
from voice2face.errors import ConfigError
from voice2face.storage import ModelFolder, RunFolder, RunOptions
from voice2face.training.distributed import DistributedContext
from voice2face.training.options import mapper_preset, resolve_options
from voice2face.training.stages import Stage, run_stage

log = logging.getLogger(__name__)


def train_encoder(
    preset: str | TrainingPreset,
    data_dir: str | Path,
    out_dir: str | Path | None = None,
    *,
    steps: int | None = None,
    seed: int = 0,
    resume: str | Path | None = None,
    cache_dir: str | Path | None = None,
    time_budget_s: float | None = None,
    device: str = "auto",
    progress: bool = True,
    settings: Mapping[str, str] | None = None,
) -> Path:
    """Stage 1: the voice encoder as a speaker classifier. Returns the run folder."""
    called = time.monotonic()
    options = resolve_options("encoder", preset, data_dir, steps=steps, seed=seed, resume=resume, settings=settings)
    return run_stage(
        EncoderStage(options, cache_dir, progress), options, out_dir=out_dir, resume=resume, device=device,
        time_budget_s=time_budget_s, called=called, progress=progress,
    )  # fmt: skip


def train_generator(
    preset: str | TrainingPreset,
    data_dir: str | Path,
    out_dir: str | Path | None = None,
    *,
    encoder: str | Path | None = None,
    generator: str | Path | None = None,
    kimg: float | None = None,
    seed: int = 0,
    resume: str | Path | None = None,
    cache_dir: str | Path | None = None,
    time_budget_s: float | None = None,
    max_steps: int | None = None,
    device: str = "auto",
    progress: bool = True,
    settings: Mapping[str, str] | None = None,
) -> Path:
    """Stage 2 with the frozen encoder of ``encoder`` (a run folder or a model folder); or, for a
    preset whose generator is unconditional (``c_dim`` 0, e.g. ``synthface-64``), pretraining on the
    split's faces alone, without an encoder, from nothing or grown from the smaller pretrained
    ``generator`` (e.g. synthface-64 → synthface-128). Returns the run folder."""
    called = time.monotonic()
    options = resolve_options("gan", preset, data_dir, encoder=encoder, generator=generator, kimg=kimg, seed=seed,
                              resume=resume, settings=settings)  # fmt: skip
    unconditional = options.training_config().generator.c_dim == 0
    if options.encoder is None and not unconditional:
        raise ConfigError("stage 2 needs a trained voice encoder: pass --encoder RUN_OR_MODEL_DIR from train-encoder.")
    if options.encoder is not None and unconditional:
        raise ConfigError(
            f"preset {options.preset!r} pretrains an unconditional generator on faces alone; drop --encoder."
        )
    return run_stage(
        GeneratorStage(options, cache_dir, progress), options, out_dir=out_dir, resume=resume, device=device,
        time_budget_s=time_budget_s, called=called, max_steps=max_steps, progress=progress,
    )  # fmt: skip


def train_mapper(
    preset: str | TrainingPreset,
    data_dir: str | Path,
    out_dir: str | Path | None = None,
    *,
    generator: str | Path | None = None,
    encoder: str | Path | None = None,
    steps: int | None = None,
    seed: int = 0,
    resume: str | Path | None = None,
    cache_dir: str | Path | None = None,
    time_budget_s: float | None = None,
    device: str = "auto",
    progress: bool = True,
    settings: Mapping[str, str] | None = None,
) -> Path:
    """The paper's route: project the training faces into the W+ of the pretrained ``generator``
    (a model or run folder with an unconditional generator), then train the voice encoder of
    ``encoder`` (a train-encoder run) and a voice→W+ mapper to predict each speaker's code.
    Returns the run folder."""
    called = time.monotonic()
    if resume is None and (generator is None or encoder is None):
        name = mapper_preset(preset).name
        raise ConfigError(f"preset {name!r} needs --generator PRETRAINED_MODEL_DIR (e.g. a synthface-64 run) and "
                          "--encoder RUN_OR_MODEL_DIR (a train-encoder run).")  # fmt: skip
    options = resolve_options(
        "mapper",
        preset,
        data_dir,
        generator=generator,
        encoder=encoder,
        steps=steps,
        seed=seed,
        resume=resume,
        settings=settings,
    )
    return run_stage(
        MapperStage(options, cache_dir, progress), options, out_dir=out_dir, resume=resume, device=device,
        time_budget_s=time_budget_s, called=called, progress=progress,
    )  # fmt: skip


class EncoderStage(Stage):
    """Stage 1: the train split's utterances (some held out per speaker) and the val split's, for EER."""

    def __init__(self, options: RunOptions, cache_dir: str | Path | None, progress: bool) -> None:
        self.options, self.cache_dir, self.progress = options, cache_dir, progress
        self.config = options.training_config()
        self.description = f"{options.preset}-encoder"

    def load(self, context: DistributedContext) -> None:
        from voice2face.data.manifest import load_manifest
        from voice2face.training.data import utterance_features

        progress = self.progress and context.is_main
        manifest = load_manifest(self.options.data)
        self.train, self.holdout = utterance_features(
            manifest, "train", self.config.features, holdout_per_speaker=self.config.holdout_utterances,
            cache_dir=self.cache_dir, progress=progress,
        )  # fmt: skip
        self.verification = None
        if manifest.utterances_in("val"):
            self.verification, _ = utterance_features(
                manifest, "val", self.config.features, cache_dir=self.cache_dir, progress=progress
            )

    def build(self, run: RunFolder, context: DistributedContext):
        from voice2face.training.trainers.encoder import EncoderTrainer

        return EncoderTrainer(self.config, self.train, holdout=self.holdout, verification=self.verification,
                              seed=self.options.seed, context=context)  # fmt: skip


class GeneratorStage(Stage):
    """Stage 2: faces with the frozen encoder's embeddings of the same speakers' voices; or, for an
    unconditional generator, the faces alone. Grids of real faces, then of generated ones at each snapshot."""

    def __init__(self, options: RunOptions, cache_dir: str | Path | None, progress: bool) -> None:
        self.options, self.cache_dir, self.progress = options, cache_dir, progress
        self.config = options.training_config()
        self.description = str(options.preset)

    def load(self, context: DistributedContext) -> None:
        from voice2face.data.manifest import load_manifest
        from voice2face.training.data import face_tensors, paired_tensors

        config, progress = self.config, self.progress and context.is_main
        manifest = load_manifest(self.options.data)
        if self.options.encoder is None:
            self.voice_encoder = None
            self.data = face_tensors(manifest, "train", progress=progress)
            self.model_config = ModelConfig(generator=config.generator, discriminator=config.discriminator)
            return
        encoder_model = ModelFolder(self.options.encoder).load(("voice_encoder",), device=context.device)
        self.voice_encoder = encoder_model.modules["voice_encoder"]
        features = encoder_model.config.features
        self.data = paired_tensors(
            manifest, "train", self.voice_encoder, features, device=context.device, cache_dir=self.cache_dir,
            progress=progress,
        )  # fmt: skip
        discriminator = dataclasses.replace(config.discriminator, num_identities=self.data.num_identities)
        self.model_config = ModelConfig(
            features=features, voice_encoder=encoder_model.config.voice_encoder, generator=config.generator,
            discriminator=discriminator,
        )  # fmt: skip

    def build(self, run: RunFolder, context: DistributedContext):
        from voice2face.training.trainers.gan import GANTrainer

        trainer = GANTrainer(self.config, self.model_config, self.voice_encoder, self.data, seed=self.options.seed,
                             context=context)  # fmt: skip
        if self.options.generator is not None and not run.model.exists:  # a resumed run loads its own snapshot
            trainer.grow_from(self.options.generator)
        return trainer

    def start(self, run: RunFolder, trainer) -> None:
        from voice2face.training.grids import write_generator_grid

        write_generator_grid(trainer, run.reals_grid, real_only=True)

    def on_snapshot(self, run: RunFolder) -> Callable:
        from voice2face.storage.checkpoint import save_tensors
        from voice2face.training.grids import write_generator_grid

        def snapshot(trainer, scheduled: bool) -> None:
            # Grids and kept generators are named by whole kimg: a snapshot off the schedule (a stop, an
            # interrupt) that shares its kimg with a scheduled one (30.53 with 30) leaves that one as it
            # is, so that a curve's points stay the schedule's; a scheduled snapshot always writes.
            grid = run.fakes_grid(trainer.images_seen)
            if scheduled or not grid.exists():
                write_generator_grid(trainer, grid)
            if self.voice_encoder is None:  # pretraining: keep each snapshot's generator for the realism curve
                kept = run.history_generator(trainer.images_seen)  # read later with the run's model/config.json
                if scheduled or not kept.exists():
                    kept.parent.mkdir(parents=True, exist_ok=True)
                    save_tensors(kept, trainer.G_ema.state_dict())

        return snapshot


class MapperStage(Stage):
    """The voice→W+ stage: the pretrained generator, the stage-1 encoder, both splits' utterances;
    grids of validation speakers' faces and their portraits at each snapshot."""

    def __init__(self, options: RunOptions, cache_dir: str | Path | None, progress: bool) -> None:
        self.options, self.cache_dir, self.progress = options, cache_dir, progress
        self.config = options.training_config()
        self.description = str(options.preset)
        self.preview = None

    def load(self, context: DistributedContext) -> None:
        from voice2face.data.manifest import load_manifest
        from voice2face.training.data import utterance_features

        generator, progress = self.options.generator, self.progress
        self.manifest = manifest = load_manifest(self.options.data)
        self.gen_model = ModelFolder(generator).load(("generator",), device=context.device)
        gen_config = self.gen_model.config.generator
        if gen_config.c_dim != 0 or gen_config.family != "stylegan2":
            raise ConfigError(
                f"{generator} holds a conditional or non-StyleGAN2 generator; the voice→W+ mapper needs "
                "an unconditional StyleGAN2 (train --preset synthface-64, or an imported checkpoint)."
            )
        pool = self.config.mapper.pool
        if pool is not None:  # the pool's face embedding sees renderings and photos at its own size
            if manifest.face_resolution < pool.face_size:
                raise ConfigError(
                    f"{manifest.path} holds {manifest.face_resolution} px faces, under the {pool.face_size} px the "
                    "voice side's face embedding compares them at; use a corpus of larger photos."
                )
        elif gen_config.img_resolution != manifest.face_resolution:
            raise ConfigError(
                f"the generator in {generator} makes {gen_config.img_resolution} px faces but "
                f"{manifest.path} holds {manifest.face_resolution} px ones; use a matching corpus."
            )
        self.enc_model = ModelFolder(self.options.encoder).load(("voice_encoder",), device=context.device)
        features = self.enc_model.config.features
        self.train, _ = utterance_features(manifest, "train", features, cache_dir=self.cache_dir, progress=progress)
        self.validation = None
        if manifest.utterances_in("val"):
            self.validation, _ = utterance_features(
                manifest, "val", features, cache_dir=self.cache_dir, progress=progress
            )

    def build(self, run: RunFolder, context: DistributedContext):
        from voice2face.training.data import speaker_faces
        from voice2face.training.mapper_inputs import mapper_trainer

        trainer = mapper_trainer(
            self.config, self.manifest, self.gen_model, self.enc_model, self.train, self.validation, run,
            generator=Path(self.options.generator), seed=self.options.seed, context=context, progress=self.progress,
        )  # fmt: skip
        if self.validation is not None:
            self.preview = speaker_faces(self.manifest, "val", self.validation.speaker_names, progress=False)
        return trainer

    def on_snapshot(self, run: RunFolder) -> Callable:
        from voice2face.training.grids import write_mapper_grid

        return lambda trainer, scheduled: write_mapper_grid(trainer, self.preview, run.portraits_grid(trainer.step))

    def finish(self, trainer, reason: str | None) -> None:
        total = self.config.steps
        if trainer.step < total:
            log.warning("the mapper stopped at step %d of %d (%s); its codes are less trained than the preset asks",
                        trainer.step, total, reason)  # fmt: skip
