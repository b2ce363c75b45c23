"""`voice2face evaluate`: score a model folder on one split of a prepared dataset, beside reference rows.

The field's protocol (Wen et al. 2019; SF2F, Bai et al. 2022): every utterance of the split,
whole and VAD'd, is embedded by the model's voice encoder; the generator makes
``samples_per_voice`` faces from it with fixed latents (the same for every voice, noise
'const'). Those faces are the ``model`` row; the reference rows of
:mod:`voice2face.evaluation.rows` (real faces, blurred real faces, and on synthvox the oracles)
are built beside it, and every registered evaluation metric
(:mod:`voice2face.evaluation.metrics`) scores every row with the same instruments. The model
row's records are appended to the run's ``metrics.jsonl`` with the reference rows inside.

This module orchestrates: it reads model folders (:mod:`voice2face.storage`), datasets
(:mod:`voice2face.data`) and calls metrics; it never imports :mod:`voice2face.training`.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from voice2face.config import EvaluationConfig, to_dict
from voice2face.data.datasets import VoiceFeatures, read_faces
from voice2face.data.manifest import Manifest, load_manifest
from voice2face.errors import CheckpointError, DatasetError, MetricUnavailableError
from voice2face.models.embedding import embed_utterances
from voice2face.models.generation import generate_faces as generate_model_faces
from voice2face.storage import ModelFolder, RunFolder, metric_record, resolve
from voice2face.storage.instruments import shipped_instrument_files
from voice2face.storage.layout import MODEL_DIR
from voice2face.utils.devices import resolve_device
from voice2face.utils.files import atomic_write_bytes
from voice2face.utils.images import uint8_to_float

CACHE_FOLDER = ".cache"

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- data


def manifest_hash(manifest: Manifest) -> str:
    """The first 16 hex digits of the manifest file's SHA-256 (names the data in cache keys)."""
    return hashlib.sha256(manifest.path.read_bytes()).hexdigest()[:16]


# --------------------------------------------------------------------------- voices and faces


def embed_voices(
    encoder: torch.nn.Module, voices: VoiceFeatures, records: Sequence[Any], *, device: torch.device, progress: bool
) -> torch.Tensor:
    """Whole-utterance voice embeddings ``[U, D]``, one encoder call per utterance (lengths differ)."""
    bar = tqdm(records, desc="voices", unit="utt", disable=not progress, leave=False)
    return embed_utterances(encoder, (voices(record) for record in bar), device=device)  # [U, D]


@torch.no_grad()
def voice_probe(
    encoder: torch.nn.Module,
    voices: VoiceFeatures,
    manifest: Manifest,
    utterances: Sequence[Any],
    embeddings: torch.Tensor,
    *,
    device: torch.device,
    progress: bool,
) -> dict[str, Any]:
    """How much of each speaker's age and sex the voice embedding carries: a linear probe
    (voice2face.metrics.probe) fitted on the train split's speakers, scored on the evaluated ones."""
    from voice2face.metrics.probe import linear_probe

    attributes = {i.id: i.attributes for i in manifest.identities}
    train_records = manifest.utterances_in("train")
    if not train_records or not any("age" in a or "sex" in a for a in attributes.values()):
        return {"skipped": "the manifest records no training voices with sex or age"}
    train_embeddings = embed_voices(encoder, voices, train_records, device=device, progress=progress)

    def per_speaker(records: Sequence[Any], values: torch.Tensor) -> tuple[list[str], np.ndarray]:
        names = sorted({r.identity for r in records})
        index = np.array([names.index(r.identity) for r in records])
        return names, np.stack([values[index == k].mean(0).numpy() for k in range(len(names))])

    train_names, train_x = per_speaker(train_records, train_embeddings)
    test_names, test_x = per_speaker(utterances, embeddings)

    def column(names: list[str], key: str) -> np.ndarray:
        if key == "sex":
            return np.array([{"male": 1.0, "female": 0.0}.get(str(attributes[n].get("sex")), np.nan) for n in names])
        return np.array([float(attributes[n].get(key, np.nan)) for n in names])

    out: dict[str, Any] = {}
    for key, binary in (("age", False), ("sex", True)):
        try:
            out[key] = linear_probe(train_x, column(train_names, key), test_x, column(test_names, key), binary=binary)
        except ValueError as exc:
            out[key] = {"skipped": str(exc)}
    return out


def generate_faces(
    generator: torch.nn.Module,
    embeddings: torch.Tensor,
    *,
    samples_per_voice: int,
    seed: int,
    batch_size: int,
    device: torch.device,
    progress: bool = False,
) -> torch.Tensor:
    """uint8 faces ``[U·S, 3, R, R]`` (voice-major: the S faces of voice 0 first) from embeddings
    ``[U, D]``; sample j of every voice uses the same latent z_j, drawn from ``seed``
    (:func:`voice2face.models.generation.generate_faces`, rule ``per_sample``, noise 'const')."""
    batches = -(-embeddings.shape[0] * samples_per_voice // batch_size)
    with tqdm(total=batches, desc="faces", unit="batch", disable=not progress, leave=False) as bar:
        return generate_model_faces(
            generator, embeddings, seed=seed, samples_per_condition=samples_per_voice, latent_rule="per_sample",
            noise_mode="const", batch_size=batch_size, device=device, as_uint8=True, progress=lambda: bar.update(1),
        )  # fmt: skip


# --------------------------------------------------------------------------- reference levels


def reference_levels(manifest: Manifest, split: str, gallery: int | None, ks: Sequence[int]) -> dict[str, dict]:
    """Ceiling and chance of the identity metrics, under the metrics' own keys.

    The ceiling is the manifest's (computed over all identities of its split, synthvox only); chance
    is 0.5 for 1:2 matching (also same-sex) and K/gallery for recall@K with the gallery used here.
    """
    ceiling: dict[str, float] = {}
    stored = manifest.ceiling or {}
    if stored and stored.get("split", split) == split:
        if "matching_1v2" in stored:
            ceiling["match_1v2"] = float(stored["matching_1v2"])
        for k in ks:
            if f"recall_at_{k}" in stored:
                ceiling[f"recall@{k}"] = float(stored[f"recall_at_{k}"])
    chance: dict[str, float] = {"match_1v2": 0.5, "match_1v2_same_sex": 0.5}
    if gallery:
        chance.update({f"recall@{k}": min(1.0, k / gallery) for k in ks})
    return {"ceiling": ceiling, "chance": chance}


# --------------------------------------------------------------------------- the evaluation


def _check_inputs(folder: ModelFolder, manifest: Manifest, split: str) -> None:
    model_dir = folder.path
    config = folder.config()
    if config.generator is None or config.voice_encoder is None:
        raise CheckpointError(
            f"Model folder {model_dir} has no generator and voice encoder; evaluate a `voice2face train` run."
        )
    if not manifest.utterances_in(split) or not manifest.faces_in(split):
        raise DatasetError(
            f"The {split} split of {manifest.path} has no utterances or no faces; choose another --split."
        )
    if config.generator.img_resolution != manifest.face_resolution:
        raise DatasetError(
            f"Model {model_dir} makes {config.generator.img_resolution} px faces but {manifest.path} holds "
            f"{manifest.face_resolution} px faces; evaluate on a dataset of the model's resolution."
        )


def _take_shipped_instruments(cache: Path) -> None:
    """Copy each instrument shipped with the package into ``cache`` unless it is there already."""
    for shipped in shipped_instrument_files():
        target = cache / shipped.name
        if not target.exists():
            cache.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(target, shipped.read_bytes())
            log.debug("evaluation cache: %s from the package's shipped instruments", shipped.name)


class _Comparisons:
    """What every row of an evaluation is scored against, read once: the split's real row and gallery
    (:func:`~voice2face.evaluation.rows.split_halves`), the realism pool of training faces, the
    instrument cache (the package's shipped instruments copied in when asked) and the instruments
    built on first use. :meth:`context` makes a row's :class:`EvalContext`; :meth:`reference` a
    reference row's faces."""

    def __init__(self, manifest: Manifest, config: EvaluationConfig, cache_dir: str | Path | None,
                 shipped_instruments: bool) -> None:  # fmt: skip
        from voice2face.evaluation.context import Instruments
        from voice2face.evaluation.rows import pool_records, split_halves

        self.manifest, self.config = manifest, config
        self.cache = Path(cache_dir) if cache_dir is not None else manifest.root / CACHE_FOLDER
        if shipped_instruments:
            _take_shipped_instruments(self.cache)
        self.row_records, self.gallery_records = split_halves(manifest, config.split)
        self.real_row = read_faces(manifest, self.row_records)  # [M1, 3, R, R] uint8
        self.gallery = read_faces(manifest, self.gallery_records)  # [M2, 3, R, R] uint8
        self.pooled = pool_records(manifest, config.realism_pool, config.seed)
        self.pool = read_faces(manifest, self.pooled)  # [P, 3, R, R]
        self.instruments = Instruments()
        self.data_key = f"{manifest.name}-{manifest_hash(manifest)}"

    @property
    def real_ids(self) -> list[str]:
        """The speaker of each face of the ``real`` row."""
        return [r.identity for r in self.row_records]

    def reference(self, row: str) -> tuple[torch.Tensor, list[str]]:
        """Reference row ``row``'s faces and speakers (MetricUnavailableError where it cannot be made)."""
        from voice2face.evaluation.rows import reference_row

        config = self.config
        return reference_row(row, self.manifest, config.split, self.real_row, self.real_ids,
                             per_identity=config.oracle_per_identity, seed=config.seed)  # fmt: skip

    def context(self, row: str, faces: torch.Tensor, ids: list[str], **model_parts: Any):
        """The :class:`~voice2face.evaluation.context.EvalContext` of a row; ``model_parts`` (generator,
        embeddings, face_voices, weight files) as the row has them."""
        from voice2face.evaluation.context import EvalContext

        return EvalContext(
            manifest=self.manifest, config=self.config, cache=self.cache, data_key=self.data_key, row=row,
            faces=faces, face_ids=ids, gallery=self.gallery, gallery_ids=[r.identity for r in self.gallery_records],
            pool=self.pool, instruments=self.instruments, pool_ids=[r.identity for r in self.pooled],
            two_sample_size=int(self.real_row.shape[0]), **model_parts,
        )  # fmt: skip


def evaluate_model(
    model_dir: str | Path | None,
    data_dir: str | Path,
    *,
    config: EvaluationConfig = EvaluationConfig(),
    inception_weights: str | Path | None = None,
    vgg16_weights: str | Path | None = None,
    lpips_weights: str | Path | None = None,
    cache_dir: str | Path | None = None,
    device: str = "auto",
    write: bool = True,
    progress: bool = True,
    shipped_instruments: bool = True,
) -> dict[str, Any]:
    """Evaluate a run folder, a model folder or the bundled model (``None``) on ``config.split``
    of the dataset at ``data_dir``, beside the reference rows of ``config.references``.

    inception_weights: the FID Inception weight file (else ``$VOICE2FACE_INCEPTION_WEIGHTS``;
    without either FID and KID are recorded as skipped, with the reason). vgg16_weights,
    lpips_weights: the optional ``lpips`` metric's VGG16 ImageNet and LPIPS lin weight files (else
    ``$VOICE2FACE_VGG16_WEIGHTS`` / ``$VOICE2FACE_LPIPS_WEIGHTS``, lin also the lpips package's own;
    without VGG16 weights lpips is recorded as skipped). cache_dir: where the
    trained instruments, real-image statistics and voice features are kept (default
    ``DATA_DIR/.cache``). write: append the model's records to ``RUN_DIR/metrics.jsonl`` and
    write the grid (never into the installed package: a bundled model is not written to).
    shipped_instruments: put the instruments shipped with the package
    (:func:`~voice2face.storage.layout.shipped_instruments_dir`: the default corpus's trait read-out)
    into the cache when it lacks them; an instrument is used only where its cache key (data,
    network, settings) matches, so a shipped one is the network the evaluation would train. False:
    every instrument missing from the cache is trained (what the bundle's build and re-measure do,
    and what checks the shipped ones).

    Returns ``{"run_dir", "model_dir", "metrics_file", "snapshot", "kimg", "step", "dataset",
    "split", "embedder", "results": {metric: results}, "references": {row: {metric: results}},
    "reference": {"ceiling", "chance"}, "options", "grid", "seconds" (each metric's wall time over
    all rows), ...}``; :func:`summary_json` gives the
    compact shape of ``voice2face evaluate --json``.
    """
    from voice2face.evaluation.metrics import embedder_name
    from voice2face.evaluation.registry import check_metric_names, run_metric

    check_metric_names(config.metrics)  # before any slow work
    folder = resolve(model_dir)
    # A bare model folder keeps its own metrics.jsonl, as a run folder does.
    model_dir, run_dir = folder.path, folder.run.path if folder.run is not None else folder.path
    manifest = load_manifest(data_dir)
    split = config.split
    _check_inputs(folder, manifest, split)
    run_device = torch.device(resolve_device(device))
    compared = _Comparisons(manifest, config, cache_dir, shipped_instruments)
    cache = compared.cache
    snapshot = folder.snapshot()

    model = folder.load_voice_to_face(device=run_device)
    encoder, generator = model.modules["voice_encoder"], model.modules["generator"]
    utterances = manifest.utterances_in(split)
    voices = VoiceFeatures(manifest, model.config.features, cache_dir=cache / "features")
    embeddings = embed_voices(encoder, voices, utterances, device=run_device, progress=progress)  # [U, D]
    fakes = generate_faces(
        generator, embeddings, samples_per_voice=config.samples_per_voice, seed=config.seed,
        batch_size=config.batch_size, device=run_device, progress=progress,
    )  # fmt: skip  # [U·S, 3, R, R] uint8
    fake_ids = [u.identity for u in utterances for _ in range(config.samples_per_voice)]
    fake_voices = [k for k in range(len(utterances)) for _ in range(config.samples_per_voice)]
    real_row, gallery = compared.real_row, compared.gallery

    def context(row: str, faces: torch.Tensor, ids: list[str]):
        model = row == "model"
        return compared.context(
            row, faces, ids, generator=generator if model else None, embeddings=embeddings if model else None,
            face_voices=fake_voices if model else None, inception_weights=inception_weights,
            vgg16_weights=vgg16_weights, lpips_weights=lpips_weights,
        )  # fmt: skip

    rows: dict[str, dict[str, dict[str, Any]]] = {}
    seconds: dict[str, float] = {}  # wall time of each metric over all rows (instruments trained on first use)
    row_names = ("model", *config.references)
    bar = tqdm(total=len(row_names) * len(config.metrics), desc="metrics", unit="metric", disable=not progress)
    try:
        for row in row_names:
            rows[row] = {}
            try:
                faces, ids = (fakes, fake_ids) if row == "model" else compared.reference(row)
            except MetricUnavailableError as exc:
                rows[row] = {name: {"skipped": str(exc)} for name in config.metrics}
                bar.update(len(config.metrics))
                continue
            ctx = context(row, faces, ids)
            for name in config.metrics:
                bar.set_postfix_str(f"{row}: {name}")
                began = time.perf_counter()
                rows[row][name] = run_metric(name, ctx)
                seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - began
                bar.update(1)
    finally:
        bar.close()
    _voice_trait_scores(rows)
    flags = family_flags(rows)
    if config.voice_probe:
        began = time.perf_counter()
        probe = voice_probe(encoder, voices, manifest, utterances, embeddings, device=run_device, progress=progress)
        seconds["voice_probe"] = time.perf_counter() - began
    else:
        probe = {"skipped": "left out of this evaluation (voice_probe=False)"}

    results = rows["model"]
    references = {row: values for row, values in rows.items() if row != "model"}
    reference = reference_levels(manifest, split, results.get("identity", {}).get("recall_gallery"),
                                 config.identity.recall_ks)  # fmt: skip
    options = {
        "data": str(data_dir), "samples_per_voice": config.samples_per_voice, "seed": config.seed,
        "embedder": embedder_name(config, manifest),
        "inception_weights": str(inception_weights) if inception_weights else None,
        "vgg16_weights": str(vgg16_weights) if vgg16_weights else None,
        "lpips_weights": str(lpips_weights) if lpips_weights else None, "config": to_dict(config),
    }  # fmt: skip
    dataset = {"name": manifest.name, "source": manifest.source, "manifest_sha256_16": manifest_hash(manifest)}
    summary = {
        "run_dir": run_dir, "model_dir": model_dir, "metrics_file": None, "snapshot": snapshot["snapshot"],
        "kimg": snapshot["kimg"], "step": snapshot["step"], "dataset": dataset, "split": split,
        "embedder": options["embedder"], "results": results, "references": references, "reference": reference,
        "options": options, "voices": len(utterances), "generated": int(fakes.shape[0]),
        "real_faces": int(real_row.shape[0] + gallery.shape[0]), "grid": None, "voice_probe": probe,
        "seconds": {name: round(value, 1) for name, value in seconds.items()}, "flags": flags,
    }  # fmt: skip
    if write and not folder.is_packaged():
        for name, values in results.items():
            record = metric_record(name, values, snapshot=snapshot["snapshot"], options=options)
            record.update(
                {"kimg": snapshot["kimg"], "step": snapshot["step"], "dataset": dataset, "split": split,
                 "model": str(model_dir), "references": {row: refs.get(name) for row, refs in references.items()}}
            )  # fmt: skip
            if name == "identity":
                record["reference"] = reference
            summary["metrics_file"] = RunFolder(run_dir).append_metrics(record)
        summary["grid"] = write_evaluation_grid(
            RunFolder(run_dir).evaluation_grid(split), fakes, fake_ids, real_row, compared.real_ids,
            config.samples_per_voice, model=model_dir.parent.name if model_dir.name == MODEL_DIR else model_dir.name,
            kimg=snapshot["kimg"],
        )  # fmt: skip
    return summary


#: What :func:`evaluate_samples` can measure: metrics that need no voice and no person behind a face.
SAMPLE_METRICS = ("realism",)


def generator_samples(
    generator: torch.nn.Module, manifest: Manifest, *, count: int, config: EvaluationConfig, device: str = "auto"
) -> torch.Tensor:
    """``count`` samples of an unconditional generator as :func:`evaluate_samples` scores them: latents
    from the config's seed, noise 'const', ψ 1, area-downsampled to ``manifest``'s face resolution
    (the instruments read it); uint8 ``[count, 3, R, R]`` on the CPU."""
    import torch.nn.functional as F

    from voice2face.utils.images import float_to_uint8

    if getattr(generator, "c_dim", 0):
        raise CheckpointError("evaluate_samples scores an unconditional generator (c_dim 0); use evaluate_model.")
    resolution = manifest.face_resolution
    if generator.img_resolution < resolution:
        raise DatasetError(f"the generator makes {generator.img_resolution} px faces, fewer than {manifest.path}'s "
                           f"{resolution} px; evaluate on a dataset of at most its resolution.")  # fmt: skip
    run_device = torch.device(resolve_device(device))
    images = generate_model_faces(generator.to(run_device).eval(), None, seed=config.seed, samples_per_condition=count,
                                  noise_mode="const", batch_size=config.batch_size, device=run_device)  # fmt: skip
    if images.shape[-1] != resolution:
        images = F.interpolate(images, size=(resolution, resolution), mode="area")
    return float_to_uint8(images)


def evaluate_samples(
    generator: torch.nn.Module,
    data_dir: str | Path,
    *,
    count: int = 1000,
    config: EvaluationConfig = EvaluationConfig(metrics=SAMPLE_METRICS, references=("real", "blurred_real_1.2")),
    cache_dir: str | Path | None = None,
    device: str = "auto",
    shipped_instruments: bool = True,
) -> dict[str, dict[str, dict[str, Any]]]:
    """An unconditional generator's own samples scored like a model row, beside reference rows:
    ``{row: {metric: results}}`` with ``"samples"`` first. ``count`` samples (latents from the config's
    seed, noise 'const', ψ 1); the two-sample tests use as many as the ``real`` row has (equal sizes),
    sharpness and the trait Fréchet distance all of them. Samples larger than the dataset's faces are
    area-downsampled to them (the instruments read the dataset's resolution). The instruments are
    the evaluation's (same cache, same keys), so a pretraining curve reads on the same scale as
    ``voice2face evaluate``'s realism rows."""
    from voice2face.evaluation.registry import check_metric_names, run_metric

    check_metric_names(config.metrics)
    unsupported = [name for name in config.metrics if name not in SAMPLE_METRICS]
    if unsupported:
        raise DatasetError(f"generator samples come from no voice; measure {', '.join(SAMPLE_METRICS)} only, not "
                           f"{', '.join(unsupported)}.")  # fmt: skip
    manifest = load_manifest(data_dir)
    samples = generator_samples(generator, manifest, count=count, config=config, device=device)
    compared = _Comparisons(manifest, config, cache_dir, shipped_instruments)
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    for row in ("samples", *config.references):
        faces, ids = (samples, [""] * count) if row == "samples" else compared.reference(row)
        ctx = compared.context(row, faces, ids)
        rows[row] = {name: run_metric(name, ctx) for name in config.metrics}
    return rows


#: The row a voice-revealed trait score calls 0 (a random person of the speaker's sex) and 1 (the
#: posterior's best guess of the face: the ceiling of a trait read-out).
TRAIT_SCORE_ANCHORS = ("oracle_sex", "oracle_voice_mode")
#: The metric groups that read traits, one per instrument family.
TRAIT_FAMILIES = ("traits", "descriptors")


def _voice_trait_scores(rows: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Add ``voice_trait_score`` to every row's trait readings, per instrument family: the raw
    voice-revealed mean scaled so that ``oracle_sex`` is 0 and ``oracle_voice_mode`` 1 (only when
    both anchor rows were measured by that family)."""
    for family in TRAIT_FAMILIES:
        low, high = (rows.get(row, {}).get(family, {}).get("voice_traits_mean") for row in TRAIT_SCORE_ANCHORS)
        for values in rows.values():
            traits = values.get(family, {})
            raw = traits.get("voice_traits_mean")
            if raw is not None and low is not None and high is not None and high != low:
                traits["voice_trait_score"] = (raw - low) / (high - low)


#: How far the two trait families may disagree on a model figure before it is flagged.
FAMILY_GAP = 0.1


def family_flags(rows: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    """The model's trait figures that only one instrument family sees: those where the CNN read-out
    (``traits``) and the descriptor read-out differ by more than :data:`FAMILY_GAP`, each as a
    sentence with both values and the real row's."""
    model, real = rows.get("model", {}), rows.get("real", {})
    cnn, other = model.get("traits", {}), model.get("descriptors", {})
    flags = []
    for key in ("voice_trait_score", "sex", "age", "age_over_50", "wrinkles", "greyness", "bald", "glasses",
                "jaw_width", "face_length", "head_size"):  # fmt: skip
        a, b = cnn.get(key), other.get(key)
        if isinstance(a, float) and isinstance(b, float) and abs(a - b) > FAMILY_GAP:
            seen = "the CNN read-out" if a > b else "the descriptor read-out"
            real_a, real_b = real.get("traits", {}).get(key), real.get("descriptors", {}).get(key)
            on_real = "" if real_a is None or real_b is None else f"; on real faces {real_a:.2f} and {real_b:.2f}"
            flags.append(f"{key}: CNN {a:.2f}, descriptors {b:.2f}: seen by {seen} only{on_real}.")
    return flags


def write_evaluation_grid(
    path: Path,
    fakes: torch.Tensor,
    fake_ids: Sequence[str],
    reals: torch.Tensor,
    real_ids: Sequence[str],
    samples_per_voice: int,
    *,
    model: str,
    kimg: float | None,
    rows: int = 8,
    columns: int = 6,
) -> Path:
    """A PNG grid of the evaluation (marked synthetic): per speaker of the split, a real face, then
    the faces generated from their first utterance(s). Rows: up to ``rows`` speakers."""
    from voice2face.storage.png import save_synthetic_png, synthetic_metadata
    from voice2face.utils.images import real_then_generated_grid

    speakers = sorted(set(fake_ids))[:rows]
    real_rows = [[i for i, r in enumerate(real_ids) if r == identity][:1] for identity in speakers]
    fake_rows = [[i for i, f in enumerate(fake_ids) if f == identity][: columns - 1] for identity in speakers]
    reals_shown = [uint8_to_float(reals[index]) for index in real_rows]  # each [1, 3, R, R]
    generated_shown = [uint8_to_float(fakes[index]) for index in fake_rows]  # each [≤C-1, 3, R, R]
    image = real_then_generated_grid(reals_shown, generated_shown, columns=columns)
    meta = synthetic_metadata(model=model, kimg=None if kimg is None else f"{kimg:.3f}")
    save_synthetic_png(image, path, meta)
    return path
