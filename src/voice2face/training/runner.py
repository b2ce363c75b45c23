"""What `voice2face train-encoder` and `voice2face train` do, as functions a test can call.

Each call makes (or, with ``resume``, continues) a numbered run folder holding
``training_options.json`` (the resolved settings), ``stats.jsonl`` + TensorBoard events,
``model/`` (the latest snapshot, a model folder that ``voice2face portrait -m`` and
``voice2face evaluate`` accept) and, for stage 2, image grids ``fakesNNNNNN.png`` whose rows
show a speaker's true face followed by faces generated from that speaker's voice.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

import torch

from voice2face import __version__
from voice2face.config import (
    EncoderTrainingConfig,
    GANTrainingConfig,
    MapperTrainingConfig,
    ModelConfig,
    TrainingPreset,
    from_dict,
    to_dict,
)
from voice2face.errors import CheckpointError, ConfigError
from voice2face.storage import ModelFolder, RunFolder, RunOptions, resolve
from voice2face.storage.layout import OPTIONS_FILE
from voice2face.training.distributed import DistributedContext, init_distributed, shutdown
from voice2face.training.presets import get_preset
from voice2face.training.stats import StatsWriter

log = logging.getLogger(__name__)

GRID_ROWS, GRID_SAMPLES = 6, 5
GRID_SEED = 2024  # the training grids' latents: the same faces at every snapshot


def _read_options(run_dir: Path, stage: str) -> RunOptions:
    options = RunFolder(run_dir).read_options()
    if options.stage != stage:
        command = "train-encoder" if options.stage == "encoder" else "train"
        raise ConfigError(f"{run_dir} is a {options.stage!r} run; resume it with `voice2face {command}`.")
    if options.seed is None:
        raise ConfigError(f"{run_dir / OPTIONS_FILE} records no seed; the run folder is damaged.")
    return options


def _open_run(out_dir: Path | None, resume: Path | None, description: str, context: DistributedContext) -> Path:
    if resume is not None:
        if not resume.is_dir():
            raise ConfigError(f"Run folder {resume} does not exist; pass the folder printed when the run started.")
        RunFolder(resume).model.recover()
        return resume
    if out_dir is None:
        raise ConfigError("give --out RUNS_DIR for a new run (or --resume RUN_DIR to continue one).")
    if context.is_main:
        run_dir = RunFolder.create(out_dir, description).path
    if context.distributed:
        import torch.distributed as dist

        names = [str(run_dir) if context.is_main else None]
        dist.broadcast_object_list(names, src=0)
        run_dir = Path(names[0])
    return run_dir


def _optional_str(path: str | Path | None) -> str | None:
    return None if path is None else str(path)


def _left(budget_s: float | None, called: float, now: float | None = None) -> float | None:
    """What a call's time budget leaves for its training loop once its set-up (since ``called``,
    until ``now``; both ``time.monotonic()`` readings) is spent."""
    now = time.monotonic() if now is None else now
    return None if budget_s is None else max(0.0, budget_s - (now - called))


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
    dry_run: bool = False,
    progress: bool = True,
) -> Path | dict[str, Any]:
    """Stage 1. Returns the run folder (or, with ``dry_run``, the resolved options).

    time_budget_s (here and in :func:`train_generator`, :func:`train_mapper`): seconds for the
    whole call, its set-up (features, reading faces) included; training stops at the first step
    boundary after it and writes its snapshot."""
    called = time.monotonic()
    resume_dir = Path(resume) if resume is not None else None
    if resume_dir is not None:
        saved = _read_options(resume_dir, "encoder")
        config = from_dict(EncoderTrainingConfig, dict(saved.config), where=str(resume_dir / OPTIONS_FILE))
        seed, data_dir, name = saved.seed, saved.data, saved.preset
    else:
        chosen = get_preset(preset) if isinstance(preset, str) else preset
        config = chosen.encoder if steps is None else dataclasses.replace(chosen.encoder, steps=steps)
        name = chosen.name
    options = RunOptions(
        stage="encoder", preset=name, data=_optional_str(data_dir), seed=seed, config=to_dict(config),
        voice2face_version=__version__,
    )  # fmt: skip
    if dry_run:
        return options.to_dict()
    from voice2face.data.manifest import load_manifest
    from voice2face.training.data import utterance_features
    from voice2face.training.loop import run_training
    from voice2face.training.trainers.encoder import EncoderTrainer

    context = init_distributed(device)
    try:
        manifest = load_manifest(data_dir)
        train, holdout = utterance_features(
            manifest, "train", config.features, holdout_per_speaker=config.holdout_utterances,
            cache_dir=cache_dir, progress=progress and context.is_main,
        )  # fmt: skip
        verification = None
        if manifest.utterances_in("val"):
            verification, _ = utterance_features(
                manifest, "val", config.features, cache_dir=cache_dir, progress=progress and context.is_main
            )
        run_dir = _open_run(Path(out_dir) if out_dir else None, resume_dir, f"{name}-encoder", context)
        trainer = EncoderTrainer(config, train, holdout=holdout, verification=verification, seed=seed, context=context)
        if resume_dir is not None:
            trainer.load_snapshot(RunFolder(run_dir).model.path)
        elif context.is_main:
            RunFolder(run_dir).write_options(dataclasses.replace(options, world_size=context.world_size))
        stats = StatsWriter(run_dir) if context.is_main else None
        try:
            budget = _left(time_budget_s, called)
            run_training(trainer, RunFolder(run_dir), time_budget_s=budget, stats=stats, progress=progress)
        finally:
            if stats is not None:
                stats.close()
        return run_dir
    finally:
        shutdown(context)


def train_generator(
    preset: str | TrainingPreset,
    data_dir: str | Path,
    out_dir: str | Path | None = None,
    *,
    encoder: str | Path | None = None,
    kimg: float | None = None,
    seed: int = 0,
    resume: str | Path | None = None,
    cache_dir: str | Path | None = None,
    time_budget_s: float | None = None,
    max_steps: int | None = None,
    device: str = "auto",
    dry_run: bool = False,
    progress: bool = True,
) -> Path | dict[str, Any]:
    """Stage 2 with the frozen encoder of ``encoder`` (a run folder or a model folder); or, for a
    preset whose generator is unconditional (``c_dim`` 0, e.g. ``synthface-64``), pretraining on the
    split's faces alone, without an encoder."""
    called = time.monotonic()
    resume_dir = Path(resume) if resume is not None else None
    if resume_dir is not None:
        saved = _read_options(resume_dir, "gan")
        config = from_dict(GANTrainingConfig, dict(saved.config), where=str(resume_dir / OPTIONS_FILE))
        seed, data_dir, name, encoder = saved.seed, saved.data, saved.preset, saved.encoder
        if kimg is not None:
            config = dataclasses.replace(config, kimg=kimg)
    else:
        chosen = get_preset(preset) if isinstance(preset, str) else preset
        config = chosen.gan if kimg is None else dataclasses.replace(chosen.gan, kimg=kimg)
        name = chosen.name
    # Not checked here: a dry run may name an encoder that is still to be trained.
    encoder_dir = None if encoder is None else resolve(Path(encoder), check=False).path
    options = RunOptions(
        stage="gan", preset=name, data=_optional_str(data_dir), seed=seed, encoder=_optional_str(encoder_dir),
        config=to_dict(config), voice2face_version=__version__,
    )  # fmt: skip
    if dry_run:
        return options.to_dict()
    unconditional = config.generator.c_dim == 0
    if encoder_dir is None and not unconditional:
        raise ConfigError("stage 2 needs a trained voice encoder: pass --encoder RUN_OR_MODEL_DIR from train-encoder.")
    if encoder_dir is not None and unconditional:
        raise ConfigError(f"preset {name!r} pretrains an unconditional generator on faces alone; drop --encoder.")
    from voice2face.data.manifest import load_manifest
    from voice2face.training.data import face_tensors, paired_tensors
    from voice2face.training.loop import run_training
    from voice2face.training.trainers.gan import GANTrainer

    context = init_distributed(device)
    try:
        manifest = load_manifest(data_dir)
        if unconditional:
            voice_encoder = None
            data = face_tensors(manifest, "train", progress=progress and context.is_main)
            model_config = ModelConfig(generator=config.generator, discriminator=config.discriminator)
        else:
            encoder_model = ModelFolder(encoder_dir).load(("voice_encoder",), device=context.device)
            voice_encoder = encoder_model.modules["voice_encoder"]
            features = encoder_model.config.features
            data = paired_tensors(
                manifest, "train", voice_encoder, features, device=context.device, cache_dir=cache_dir,
                progress=progress and context.is_main,
            )  # fmt: skip
            discriminator = dataclasses.replace(config.discriminator, num_identities=data.num_identities)
            model_config = ModelConfig(
                features=features, voice_encoder=encoder_model.config.voice_encoder, generator=config.generator,
                discriminator=discriminator,
            )  # fmt: skip
        run_dir = _open_run(Path(out_dir) if out_dir else None, resume_dir, name, context)
        trainer = GANTrainer(config, model_config, voice_encoder, data, seed=seed, context=context)
        run = RunFolder(run_dir)
        if resume_dir is not None:
            trainer.load_snapshot(run.model.path)
        elif context.is_main:
            run.write_options(dataclasses.replace(options, world_size=context.world_size))
            _write_grid(trainer, run.reals_grid, real_only=True)
        stats = StatsWriter(run_dir) if context.is_main else None
        try:
            run_training(
                trainer, run, max_steps=max_steps, time_budget_s=_left(time_budget_s, called), stats=stats,
                progress=progress,
                on_snapshot=lambda t: _write_grid(t, run.fakes_grid(t.images_seen)),
            )  # fmt: skip
        finally:
            if stats is not None:
                stats.close()
        return run_dir
    finally:
        shutdown(context)


@torch.no_grad()
def _write_grid(trainer, path: Path, real_only: bool = False) -> None:
    """Rows: a training speaker's true face, then faces the EMA generator makes from their voice.
    Unconditional pretraining: a block of training faces, or of generated faces from fixed latents."""
    from voice2face.models.generation import generate_faces
    from voice2face.storage.png import save_synthetic_png, synthetic_metadata
    from voice2face.utils.images import grid, real_then_generated_grid, uint8_to_float

    data = trainer.data
    meta = synthetic_metadata(model=path.parent.name, kimg=f"{trainer.images_seen / 1000:.2f}")
    if not trainer.conditional:
        count = GRID_ROWS * (1 + GRID_SAMPLES)
        if real_only:
            faces = uint8_to_float(data.faces[:count])
        else:
            faces = generate_faces(
                trainer.G_ema, None, seed=GRID_SEED, samples_per_condition=count, latent_rule="per_sample",
                batch_size=count, device=trainer.context.device,
            )  # fmt: skip  # [count, 3, R, R]
        save_synthetic_png(grid(faces, columns=1 + GRID_SAMPLES), path, meta)
        return
    rows = min(GRID_ROWS, data.num_identities)
    reals = [uint8_to_float(data.faces[data.face_identity == k][:1]) for k in range(rows)]  # each [1, 3, R, R]
    generated = None
    if not real_only:
        conditions = torch.cat([data.embeddings[data.by_identity[k][:1]] for k in range(rows)])  # [rows, D]
        faces = generate_faces(
            trainer.G_ema, conditions, seed=GRID_SEED, samples_per_condition=GRID_SAMPLES, latent_rule="per_sample",
            batch_size=GRID_SAMPLES, device=trainer.context.device,
        )  # fmt: skip  # [rows·S, 3, R, R]
        generated = list(faces.split(GRID_SAMPLES))
    image = real_then_generated_grid(reals, generated, columns=1 if real_only else 1 + GRID_SAMPLES)
    save_synthetic_png(image, path, meta)


def run_stage(run_dir: str | Path) -> str:
    """The stage a run folder belongs to ("encoder", "gan" or "mapper"), read from its options."""
    return str(RunFolder(run_dir).read_options().stage)


def _model_folder(path: Path, flag: str) -> Path:
    """The model folder an option names (a run folder's model/), or a ConfigError naming the option."""
    try:
        return resolve(path, flag=flag).path
    except CheckpointError as exc:
        raise ConfigError(str(exc)) from None


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
    dry_run: bool = False,
    progress: bool = True,
) -> Path | dict[str, Any]:
    """The paper's route: project the training faces into the W+ of the pretrained ``generator``
    (a model or run folder with an unconditional generator), then train the voice encoder of
    ``encoder`` (a train-encoder run) and a voice→W+ mapper to predict each speaker's code.
    Returns the run folder (or, with ``dry_run``, the resolved options)."""
    called = time.monotonic()
    resume_dir = Path(resume) if resume is not None else None
    if resume_dir is not None:
        saved = _read_options(resume_dir, "mapper")
        config = from_dict(MapperTrainingConfig, dict(saved.config), where=str(resume_dir / OPTIONS_FILE))
        seed, data_dir, name = saved.seed, saved.data, saved.preset
        generator, encoder = saved.generator, saved.encoder
    else:
        chosen = get_preset(preset) if isinstance(preset, str) else preset
        if chosen.mapper is None:
            raise ConfigError(f"preset {chosen.name!r} has no voice→W+ stage; choose a preset of the paper's route.")
        config = chosen.mapper if steps is None else dataclasses.replace(chosen.mapper, steps=steps)
        name = chosen.name
        if not dry_run and (generator is None or encoder is None):
            raise ConfigError(f"preset {name!r} needs --generator PRETRAINED_MODEL_DIR (e.g. a synthface-64 run) and "
                              "--encoder RUN_OR_MODEL_DIR (a train-encoder run).")  # fmt: skip
        if generator is not None:
            generator = _model_folder(Path(generator), "--generator")
        if encoder is not None:
            encoder = _model_folder(Path(encoder), "--encoder")
    options = RunOptions(
        stage="mapper", preset=name, data=_optional_str(data_dir), seed=seed, generator=_optional_str(generator),
        encoder=_optional_str(encoder), config=to_dict(config), voice2face_version=__version__,
    )  # fmt: skip
    if dry_run:
        return options.to_dict()
    from voice2face.data.manifest import load_manifest
    from voice2face.training.data import speaker_faces, utterance_features
    from voice2face.training.loop import run_training
    from voice2face.training.trainers.mapper import identity_attributes

    context = init_distributed(device)
    try:
        manifest = load_manifest(data_dir)
        gen_model = ModelFolder(generator).load(("generator",), device=context.device)
        gen_config, G = gen_model.config.generator, gen_model.modules["generator"]
        if gen_config.c_dim != 0 or gen_config.family != "stylegan2":
            raise ConfigError(
                f"{generator} holds a conditional or non-StyleGAN2 generator; the voice→W+ mapper needs "
                "an unconditional StyleGAN2 (train --preset synthface-64, or an imported checkpoint)."
            )
        if gen_config.img_resolution != manifest.face_resolution:
            raise ConfigError(
                f"the generator in {generator} makes {gen_config.img_resolution} px faces but "
                f"{manifest.path} holds {manifest.face_resolution} px ones; use a matching corpus."
            )
        enc_model = ModelFolder(encoder).load(("voice_encoder",), device=context.device)
        features, voice_encoder = enc_model.config.features, enc_model.modules["voice_encoder"]
        train, _ = utterance_features(manifest, "train", features, cache_dir=cache_dir, progress=progress)
        validation = None
        if manifest.utterances_in("val"):
            validation, _ = utterance_features(manifest, "val", features, cache_dir=cache_dir, progress=progress)
        run_dir = _open_run(Path(out_dir) if out_dir else None, resume_dir, name, context)
        run = RunFolder(run_dir)
        if resume_dir is None:  # before the projection, so that a run stopped during it can be resumed
            run.write_options(dataclasses.replace(options, world_size=context.world_size))
        mapper_config = dataclasses.replace(
            config.mapper, embedding_dim=enc_model.config.voice_encoder.embedding_dim, num_ws=G.num_ws, w_dim=G.w_dim
        )
        attributes = identity_attributes(manifest.identities, train.speaker_names)
        if mapper_config.selection is not None:
            mapper_config = dataclasses.replace(
                mapper_config, selection=dataclasses.replace(mapper_config.selection, z_dim=G.z_dim)
            )
            model_config = ModelConfig(features=features, voice_encoder=enc_model.config.voice_encoder,
                                       generator=gen_config, mapper=mapper_config)  # fmt: skip
            trainer = _selection_trainer(
                config, model_config, manifest, voice_encoder, G, train, validation, attributes, run_dir,
                Path(generator), seed=seed, context=context, progress=progress,
            )  # fmt: skip
        else:
            trainer = _code_trainer(
                config, mapper_config, gen_model, enc_model, manifest, voice_encoder, G, train, validation,
                attributes, run_dir, Path(generator), seed=seed, context=context, progress=progress,
            )  # fmt: skip
        if resume_dir is not None and run.model.exists:
            trainer.load_snapshot(run.model.path)
        preview = None
        if validation is not None:
            preview = speaker_faces(manifest, "val", validation.speaker_names, progress=False)
        with StatsWriter(run_dir) as stats:
            reason = run_training(
                trainer, run, time_budget_s=_left(time_budget_s, called), stats=stats, progress=progress,
                on_snapshot=lambda t: _write_mapper_grid(t, preview, run.portraits_grid(t.step)),
            )  # fmt: skip
        if trainer.step < config.steps:
            log.warning("the mapper stopped at step %d of %d (%s); its codes are less trained than the preset asks",
                        trainer.step, config.steps, reason)  # fmt: skip
        return run_dir
    finally:
        shutdown(context)


def _selection_trainer(config, model_config, manifest, voice_encoder, G, train, validation, attributes, run_dir: Path,
                       generator: Path, *, seed: int, context, progress: bool):  # fmt: skip
    """The mapper trainer of selection mode: the reader (the run's, the one shipped in ``generator``'s
    mapper when it reads the same traits, or trained on the training faces) and the readings of
    every speaker's faces."""
    from voice2face.models.registry import build_mapper
    from voice2face.storage.checkpoint import load_tensors, save_tensors
    from voice2face.training.data import speaker_faces
    from voice2face.training.trainers.mapper import MapperTrainer, speaker_readings, train_selection_reader

    selection = model_config.mapper.selection
    reader_path = RunFolder(run_dir).reader_path
    faces, index = speaker_faces(manifest, "train", train.speaker_names, progress=progress)
    shipped_mapper = None  # a selecting mapper shipped with the generator: its reader and shortlist fit this one
    shipped = ModelFolder(generator).config().mapper
    if shipped is not None and shipped.selection is not None and _same_reader(shipped.selection, selection):
        shipped_mapper = ModelFolder(generator).load(("mapper",)).modules["mapper"]
    if reader_path.is_file():
        reader_state = load_tensors(reader_path)
    else:
        reader_state, source = None, "trained on the training faces"
        if shipped_mapper is not None:
            reader_state = shipped_mapper.reader.state_dict()
            source = f"shipped in {generator}"
        if reader_state is None:
            identities = [manifest.identity(train.speaker_names[i]) for i in index.tolist()]
            reader_state = train_selection_reader(faces, identities, selection, progress=progress)
        save_tensors(reader_path, reader_state, {"source": source})
        log.info("selection reader %s", source)
    probe = build_mapper(model_config.mapper)
    probe.reader.load_state_dict(reader_state)
    traits = speaker_readings(probe, faces, index, len(train.speaker_names))
    val = None
    if validation is not None:
        val_faces, val_index = speaker_faces(manifest, "val", validation.speaker_names, progress=progress)
        val = (validation, speaker_readings(probe, val_faces, val_index, len(validation.speaker_names)))
    trainer = MapperTrainer(config, model_config, voice_encoder, G, train, None, None, validation=val,
                            attributes=attributes, traits=traits, reader_state=reader_state, seed=seed,
                            context=context)  # fmt: skip
    if (
        shipped_mapper is not None
        and shipped_mapper.shortlisting()
        and _same_tensors(reader_state, shipped_mapper.reader.state_dict())
    ):
        with torch.no_grad():  # the same generator and reader: the shipped shortlist read-out holds as it is
            trainer.mapper.shortlist_weight.copy_(shipped_mapper.shortlist_weight)
            trainer.mapper.shortlist_bias.copy_(shipped_mapper.shortlist_bias)
    return trainer


def _same_tensors(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _same_reader(a, b) -> bool:
    """Whether two selection configs' readers read the same traits with the same network."""
    return (a.reader, a.traits, a.binary) == (b.reader, b.traits, b.binary)


def _code_trainer(config, mapper_config, gen_model, enc_model, manifest, voice_encoder, G, train, validation,
                  attributes, run_dir: Path, generator: Path, *, seed: int, context, progress: bool):  # fmt: skip
    """The mapper trainer of the regression (edit) mode: the speakers' faces projected into W+."""
    from voice2face.storage.checkpoint import load_tensors, read_tensor_metadata, save_tensors
    from voice2face.training.data import speaker_faces
    from voice2face.training.projection import (
        calibration_codes,
        load_projector,
        project_faces,
        save_projector,
        speaker_codes,
        train_projector,
    )  # fmt: skip
    from voice2face.training.trainers.mapper import MapperTrainer

    run = RunFolder(run_dir)
    codes_path = run.codes_path
    gen_sha = next(r.sha256 for r in gen_model.config.weights if r.component == "generator")
    if codes_path.is_file():
        if read_tensor_metadata(codes_path).get("generator_sha256") != gen_sha:
            raise CheckpointError(
                f"{codes_path} was projected with other generator weights than those now in {generator} (the "
                "pretraining went on?); start a new run, or delete the file to project again."
            )
        codes = load_tensors(codes_path)
    else:
        shipped = ModelFolder(generator).projector_path
        projector = load_projector(shipped, gen_sha) if shipped.is_file() else None
        if projector is not None:
            log.info("projecting with the projector shipped beside the generator (%s)", shipped)
        else:
            if shipped.is_file():
                log.warning("%s belongs to another generator; training a projector for this one.", shipped)
            projector = train_projector(G, config.projection, seed=seed, progress=progress)
        save_projector(projector, run.projector_path, gen_sha)
        codes = {}
        for split, utterances in (("train", train), ("val", validation)):
            if utterances is None:
                continue
            faces, identity = speaker_faces(manifest, split, utterances.speaker_names, progress=progress)
            ws = project_faces(G, projector, faces, config.projection, progress=progress)
            codes[split] = speaker_codes(ws, identity, len(utterances.speaker_names))
            if split == "train":
                _write_projection_grid(G, faces[: GRID_ROWS * 4], ws[: GRID_ROWS * 4], run.projection_grid)
        codes["random"], codes["random_projected"] = calibration_codes(G, projector, seed=seed)
        save_tensors(codes_path, codes, {"generator": str(generator), "generator_sha256": gen_sha})
    model_config = ModelConfig(features=enc_model.config.features, voice_encoder=enc_model.config.voice_encoder,
                               generator=gen_model.config.generator, mapper=mapper_config)  # fmt: skip
    val = None if validation is None else (validation, codes["val"])
    if "random" not in codes:
        raise CheckpointError(f"{codes_path} was written by an older version; delete it to project again.")
    calibration = (codes["random"], codes["random_projected"])
    return MapperTrainer(config, model_config, voice_encoder, G, train, codes["train"], calibration,
                         validation=val, attributes=attributes, seed=seed, context=context)  # fmt: skip


def _write_projection_grid(G, faces: torch.Tensor, ws: torch.Tensor, path: Path) -> None:
    """Pairs of columns: a training face, then the generator's rendering of its projected code."""
    from voice2face.storage.png import save_synthetic_png, synthetic_metadata
    from voice2face.utils.images import grid, uint8_to_float

    with torch.no_grad():
        rendered = G.synthesis(ws.to(next(G.parameters()).device), noise_mode="const").cpu()
    tiles = torch.stack([uint8_to_float(faces), rendered.clamp(-1, 1)], dim=1).flatten(0, 1)  # [2N, 3, R, R]
    save_synthetic_png(grid(tiles, columns=8), path, synthetic_metadata(model=path.parent.name, kind="projection"))


def _write_mapper_grid(trainer, preview, path: Path) -> None:
    """Rows: a validation speaker's true face, then faces the model makes from their voice."""
    if preview is None:
        return
    from voice2face.models.generation import generate_faces
    from voice2face.storage.png import save_synthetic_png, synthetic_metadata
    from voice2face.utils.images import real_then_generated_grid, uint8_to_float

    faces, identity = preview
    names = trainer.validation[0].speaker_names
    rows = min(GRID_ROWS, len(names))
    embeddings = trainer.speaker_embeddings(trainer.validation[0])  # [S, D]
    generated = generate_faces(
        trainer.voice_generator(), embeddings[:rows], seed=GRID_SEED, samples_per_condition=GRID_SAMPLES,
        latent_rule="per_sample", batch_size=GRID_SAMPLES,
    )  # fmt: skip  # [rows·S, 3, R, R]
    reals = [uint8_to_float(faces[identity == k][:1]) for k in range(rows)]  # each [1, 3, R, R]
    image = real_then_generated_grid(reals, list(generated.split(GRID_SAMPLES)), columns=1 + GRID_SAMPLES)
    save_synthetic_png(image, path, synthetic_metadata(model=path.parent.name, step=str(trainer.step)))
