"""What the voice→W+ stage trains on, and its trainer built from them.

Pool mode (the label-free voice side): the generator's own faces rendered into a pool, a PCA face
embedding fitted on them, each training speaker's mean embedding of their photos, and their sex
where the manifest records it: ids, recordings and photos, and nothing else about a person.

Selection mode: a reader CNN's readings of each speaker's faces (the reader trained here, kept in
the run folder, or reused from the generator's folder). Regression (edit) mode: each speaker's
faces projected into the generator's W+ (the codes cached in the run folder). Both: the speakers'
recorded sex and age, for the optional attribute head.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from voice2face.config import MapperTrainingConfig, ModelConfig
from voice2face.data.containers import UtteranceFeatures
from voice2face.errors import CheckpointError, DatasetError
from voice2face.models.wplus import VoiceToWPlus
from voice2face.storage import ModelFolder, RunFolder
from voice2face.training.data import speaker_faces
from voice2face.training.distributed import DistributedContext
from voice2face.training.grids import GRID_ROWS, write_projection_grid
from voice2face.training.trainers.mapper import MapperTrainer, speaker_means
from voice2face.training.trainers.pool import PoolTrainer

log = logging.getLogger(__name__)


def identity_attributes(identities, names: list[str]) -> torch.Tensor:
    """``[S, 2]`` (male 0/1, age in years) for the identities called ``names``, NaN where unknown.

    identities: manifest identity records (``.id``, ``.attributes`` with optional "sex", "age")."""
    by_id = {identity.id: identity.attributes for identity in identities}
    rows = []
    for name in names:
        attributes = by_id.get(name, {})
        sex = {"male": 1.0, "female": 0.0}.get(str(attributes.get("sex", "")).lower(), float("nan"))
        age = attributes.get("age")
        rows.append([sex, float(age) if isinstance(age, (int, float)) else float("nan")])
    return torch.tensor(rows, dtype=torch.float32)


def train_selection_reader(
    faces: torch.Tensor, identities: list, selection, *, progress: bool = False
) -> dict[str, torch.Tensor]:
    """The selection reader's weights: a trait network (``selection.reader``) trained on the voice
    corpus's training faces uint8 ``[N, 3, R, R]`` and their identities' recorded traits
    (``selection.traits``; see :func:`voice2face.metrics.traits.identity_traits`). Deterministic for
    the reader's seed (trained on the pinned instrument thread count)."""
    from voice2face.metrics.traits import TraitSpec, identity_traits, train_trait_net
    from voice2face.utils.images import uint8_to_float

    values = [identity_traits(identity) for identity in identities]
    missing = sorted({name for name in selection.traits for v in values if name not in v})
    if missing:
        raise DatasetError(
            f"the selection reader needs the traits {', '.join(missing)} of every training identity, which this "
            "manifest does not record; choose selection traits the dataset has (e.g. sex)."
        )
    targets = np.array([[v[name] for name in selection.traits] for v in values], dtype=np.float64)  # [N, T]
    specs = [TraitSpec(name, "binary" if name in selection.binary else "regression", True) for name in selection.traits]
    bar = tqdm(total=selection.reader.epochs, unit="epoch", desc="selection reader", disable=not progress)

    def advance(epoch: int, loss: float) -> None:
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3f}")

    try:
        network = train_trait_net(uint8_to_float(faces), targets, specs, selection.reader, progress=advance)
    finally:
        bar.close()
    return {key: value.detach().clone() for key, value in network.state_dict().items()}


@torch.no_grad()
def speaker_readings(
    mapper: VoiceToWPlus, faces: torch.Tensor, speaker: torch.Tensor, num_speakers: int
) -> torch.Tensor:
    """The mean of the mapper's reader over each speaker's faces: ``[S, T]`` in selection units.

    faces uint8 ``[N, 3, R, R]``; speaker ``[N]`` indices in [0, S)."""
    from voice2face.utils.images import uint8_to_float

    mapper.reader.eval()
    read = torch.cat([mapper.read_traits(uint8_to_float(faces[start : start + 256]))
                      for start in range(0, faces.shape[0], 256)])  # fmt: skip
    return speaker_means(read, speaker.numpy(), num_speakers)


def identity_sex(identities, names: list[str]) -> torch.Tensor:
    """``[S]``: male 1 / female 0 for the identities called ``names``, NaN where the manifest gives no
    sex. The only per-person label the label-free voice side may read (VoxCeleb records it)."""
    by_id = {identity.id: identity.attributes for identity in identities}
    values = [{"male": 1.0, "female": 0.0}.get(str(by_id.get(name, {}).get("sex", "")).lower(), float("nan"))
              for name in names]  # fmt: skip
    return torch.tensor(values, dtype=torch.float32)


def pool_trainer(
    config: MapperTrainingConfig,
    mapper_config,
    gen_model,
    enc_model,
    manifest,
    train: UtteranceFeatures,
    validation: UtteranceFeatures | None,
    *,
    seed: int,
    context: DistributedContext,
    progress: bool,
) -> PoolTrainer:
    """The label-free voice side's trainer: the pool rendered and its face embedding fitted (a PCA of
    the generator's own faces, or an identity embedding of the training photos), each speaker's target
    (the mean embedding of their photos), and, when the preset asks for it and the manifest records it,
    each speaker's sex. Reads nothing else."""
    from voice2face.models.registry import build_mapper
    from voice2face.utils.images import uint8_to_float

    G, voice_encoder = gen_model.modules["generator"], enc_model.modules["voice_encoder"]
    mapper_config = dataclasses.replace(mapper_config, pool=dataclasses.replace(mapper_config.pool, z_dim=G.z_dim))
    model_config = ModelConfig(features=enc_model.config.features, voice_encoder=enc_model.config.voice_encoder,
                               generator=gen_model.config.generator, mapper=mapper_config)  # fmt: skip
    mapper = build_mapper(mapper_config).to(context.device)
    faces, speaker = speaker_faces(manifest, "train", train.speaker_names, progress=False)  # uint8 [N, 3, R, R]
    sex = identity_sex(manifest.identities, train.speaker_names) if mapper_config.pool.sex else None
    known = sex is not None and bool(torch.isfinite(sex).any()) and len(set(sex[torch.isfinite(sex)].tolist())) == 2
    pool = mapper_config.pool
    if pool.embedding == "identity" and len(train.speaker_names) <= pool.face_dims:
        raise DatasetError(
            f"the identity face embedding ({pool.face_dims} directions) needs photos of more than {pool.face_dims} "
            f"training speakers, and {manifest.path} has {len(train.speaker_names)}; use a larger corpus."
        )
    photos = uint8_to_float(faces)
    with torch.no_grad():
        kept = mapper.fit_pool(G, sex_faces=(photos, sex[speaker]) if known else None, identity_faces=(photos, speaker))
        targets = speaker_means(mapper.face_embedding(photos), speaker.numpy(), len(train.speaker_names))
    log.info("voice side: a pool of %d faces; the %s face embedding (%d components) keeps %.0f%% of the variance%s",
             mapper_config.pool.pool_size, mapper_config.pool.embedding, mapper_config.pool.face_dims, 100 * kept,
             "; sex from the manifest" if known else "; no sex labels")  # fmt: skip
    held = None
    if validation is not None:
        val_faces, val_speaker = speaker_faces(manifest, "val", validation.speaker_names, progress=False)
        with torch.no_grad():
            val_targets = speaker_means(mapper.face_embedding(uint8_to_float(val_faces)), val_speaker.numpy(),
                                        len(validation.speaker_names))  # fmt: skip
        held = (validation, val_targets, identity_sex(manifest.identities, validation.speaker_names) if known else None)
    return PoolTrainer(config, model_config, voice_encoder, G, mapper, train, targets, sex if known else None,
                       validation=held, seed=seed, context=context)  # fmt: skip


def mapper_trainer(
    config: MapperTrainingConfig,
    manifest,
    gen_model,
    enc_model,
    train: UtteranceFeatures,
    validation: UtteranceFeatures | None,
    run: RunFolder,
    *,
    generator: Path,
    seed: int,
    context: DistributedContext,
    progress: bool,
) -> MapperTrainer | PoolTrainer:
    """The voice→W+ stage's trainer on the pretrained generator of ``gen_model`` (loaded from the
    model folder ``generator``) and the voice encoder of ``enc_model``: the mapper sized to both, its
    targets (readings or codes) computed, or read back from ``run``, where they are kept."""
    G, voice_encoder = gen_model.modules["generator"], enc_model.modules["voice_encoder"]
    mapper_config = dataclasses.replace(
        config.mapper, embedding_dim=enc_model.config.voice_encoder.embedding_dim, num_ws=G.num_ws, w_dim=G.w_dim
    )
    if mapper_config.pool is not None:
        return pool_trainer(config, mapper_config, gen_model, enc_model, manifest, train, validation, seed=seed,
                            context=context, progress=progress)  # fmt: skip
    attributes = identity_attributes(manifest.identities, train.speaker_names)
    if mapper_config.selection is None:
        return _code_trainer(
            config, mapper_config, gen_model, enc_model, manifest, voice_encoder, G, train, validation,
            attributes, run.path, generator, seed=seed, context=context, progress=progress,
        )  # fmt: skip
    mapper_config = dataclasses.replace(
        mapper_config, selection=dataclasses.replace(mapper_config.selection, z_dim=G.z_dim)
    )
    model_config = ModelConfig(features=enc_model.config.features, voice_encoder=enc_model.config.voice_encoder,
                               generator=gen_model.config.generator, mapper=mapper_config)  # fmt: skip
    return _selection_trainer(
        config, model_config, manifest, voice_encoder, G, train, validation, attributes, run.path,
        generator, seed=seed, context=context, progress=progress,
    )  # fmt: skip


def _selection_trainer(config, model_config, manifest, voice_encoder, G, train, validation, attributes, run_dir: Path,
                        generator: Path, *, seed: int, context, progress: bool):  # fmt: skip
    """The mapper trainer of selection mode: the reader (the run's, the one shipped in ``generator``'s
    mapper when it reads the same traits, or trained on the training faces) and the readings of
    every speaker's faces."""
    from voice2face.models.registry import build_mapper
    from voice2face.storage.checkpoint import load_tensors, save_tensors

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
    from voice2face.training.projection import (
        calibration_codes,
        load_projector,
        project_faces,
        save_projector,
        speaker_codes,
        train_projector,
    )  # fmt: skip

    run = RunFolder(run_dir)
    codes_path = run.codes_path
    gen_sha = gen_model.config.weights_sha256("generator")
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
                write_projection_grid(G, faces[: GRID_ROWS * 4], ws[: GRID_ROWS * 4], run.projection_grid)
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
