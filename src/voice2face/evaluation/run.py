"""`voice2face evaluate`: score a trained model folder on one split of a prepared dataset.

The field's protocol (Wen et al. 2019; SF2F, Bai et al. 2022): every utterance of the split,
whole and VAD'd, is embedded by the model's voice encoder; the generator makes
``samples_per_voice`` faces from it with fixed latents (the same for every voice, noise
'const'); generated and real faces of the split are embedded by a face embedder (synthvox: a
small CNN trained on the dataset's train-split faces; other data: dlib), and the metrics of
:mod:`voice2face.metrics` compare them. Each metric appends one record to the run's
``metrics.jsonl``; the identity record carries the dataset's ceiling and chance levels.

This module orchestrates: it reads model folders (:mod:`voice2face.checkpoint`), datasets
(:mod:`voice2face.data`) and calls metrics; it never imports :mod:`voice2face.training`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from voice2face.checkpoint import load_pretrained, read_model_config
from voice2face.config import EvaluationConfig, to_dict
from voice2face.data.datasets import VoiceFeatures, face_tensor, read_face
from voice2face.data.manifest import Manifest, load_manifest
from voice2face.errors import CheckpointError, DatasetError, MetricError, MetricUnavailableError
from voice2face.metrics.registry import StatsCache, append_result, make_record, run_metric

log = logging.getLogger(__name__)

TRAINER_STATE = "trainer_state.pt"
CACHE_FOLDER = ".cache"


# --------------------------------------------------------------------------- folders and snapshot


def resolve_model_dir(path: str | Path) -> tuple[Path, Path]:
    """(model folder, run folder) of a run folder (its ``model/``) or of a model folder: the run
    folder is the model folder's parent when it is a run's ``model/``, else the model folder itself."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"Model or run folder {path} does not exist; pass a run folder or its model/ folder.")
    if (path / "model" / "config.json").is_file():
        return path / "model", path
    if path.name == "model" and (path.parent / "training_options.json").is_file():
        return path, path.parent
    return path, path


def read_snapshot(model_dir: Path) -> dict[str, Any]:
    """Which snapshot a model folder holds: ``{"snapshot", "kimg", "step"}`` from its
    ``trainer_state.pt`` (loaded with ``weights_only=True``) when present, else its config's version."""
    state_path = model_dir / TRAINER_STATE
    kimg = step = None
    if state_path.is_file():
        try:
            state = torch.load(state_path, map_location="cpu", weights_only=True)
        except Exception as exc:
            log.warning("cannot read %s (%s); the snapshot is labelled by the model's config", state_path, exc)
            state = {}
        if "images_seen" in state:
            kimg = int(state["images_seen"]) / 1000
        if "step" in state:
            step = int(state["step"])
    if kimg is not None:
        label = f"kimg {kimg:.3f}"
    elif step is not None:
        label = f"step {step}"
    else:
        label = f"voice2face {read_model_config(model_dir).voice2face_version or 'unknown'}"
    return {"snapshot": label, "kimg": kimg, "step": step}


def manifest_hash(manifest: Manifest) -> str:
    """The first 16 hex digits of the manifest file's SHA-256 (names the data in cache keys)."""
    return hashlib.sha256(manifest.path.read_bytes()).hexdigest()[:16]


# --------------------------------------------------------------------------- voices and faces


@torch.no_grad()
def embed_voices(
    encoder: torch.nn.Module, voices: VoiceFeatures, records: Sequence[Any], *, device: torch.device, progress: bool
) -> torch.Tensor:
    """Whole-utterance voice embeddings ``[U, D]``, one encoder call per utterance (lengths differ)."""
    out = []
    for record in tqdm(records, desc="voices", unit="utt", disable=not progress, leave=False):
        features = torch.from_numpy(voices(record))[None].to(device)  # [1, F, T]
        out.append(encoder(features).float().cpu())  # [1, D]
    return torch.cat(out)


@torch.no_grad()
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
    ``[U, D]``; sample j of every voice uses the same latent z_j, drawn from ``seed``."""
    rng = torch.Generator().manual_seed(seed)
    z = torch.randn([samples_per_voice, generator.z_dim], generator=rng)  # [S, z_dim]
    conditions = embeddings.repeat_interleave(samples_per_voice, dim=0)  # [U·S, D]
    latents = z.repeat(embeddings.shape[0], 1)  # [U·S, z_dim]
    chunks = []
    starts = range(0, conditions.shape[0], batch_size)
    for start in tqdm(starts, desc="faces", unit="batch", disable=not progress, leave=False):
        c = conditions[start : start + batch_size].to(device)
        images = generator(latents[start : start + batch_size].to(device), c, noise_mode="const")  # [B, 3, R, R]
        chunks.append(((images.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu())
    return torch.cat(chunks)


def read_faces(manifest: Manifest, records: Sequence[Any]) -> torch.Tensor:
    """uint8 ``[M, 3, R, R]`` of face records (at the manifest's resolution)."""
    pixels = [read_face(manifest.file(record), manifest.face_resolution) for record in records]  # [R, R, 3] each
    return torch.from_numpy(np.stack(pixels)).permute(0, 3, 1, 2).contiguous()


def float_batches(images: torch.Tensor, batch_size: int) -> Iterator[torch.Tensor]:
    """uint8 ``[N, 3, H, W]`` → batches ``[B, 3, H, W]`` float in [-1, 1] (the paper's normalisation)."""
    for start in range(0, images.shape[0], batch_size):
        yield (images[start : start + batch_size].float() - 127.5) / 127.5


def _embed(embedder: Any, images: torch.Tensor, batch_size: int) -> torch.Tensor:
    return torch.cat([embedder.embed(batch) for batch in float_batches(images, batch_size)])  # [N, D]


def _train_faces(manifest: Manifest, label: str):
    """A ``data()`` function for the corpus CNNs: train-split faces ``[N, 3, R, R]`` in [-1, 1] and labels."""

    def data() -> tuple[torch.Tensor, list[Any]]:
        records = manifest.faces_in("train")
        if label != "identity":
            records = [r for r in records if manifest.identity(r.identity).attributes.get(label) not in (None, "")]
        if not records:
            raise MetricUnavailableError(
                f"Dataset {manifest.path} has no train-split faces with {label} labels to train the face network on."
            )
        images = torch.stack([face_tensor(read_face(manifest.file(r), manifest.face_resolution)) for r in records])
        labels = [
            r.identity if label == "identity" else manifest.identity(r.identity).attributes[label] for r in records
        ]
        return images, labels

    return data


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


def _check_inputs(model_dir: Path, manifest: Manifest, split: str) -> None:
    config = read_model_config(model_dir)
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


def _metric_names(config: EvaluationConfig, embedder: str) -> list[str]:
    names = []
    for name in config.metrics:
        name = f"fd_{embedder}" if name == "fd" else name
        if name not in names:
            names.append(name)
    return names


def evaluate_model(
    model_dir: str | Path,
    data_dir: str | Path,
    *,
    config: EvaluationConfig = EvaluationConfig(),
    inception_weights: str | Path | None = None,
    cache_dir: str | Path | None = None,
    device: str = "auto",
    write: bool = True,
    progress: bool = True,
) -> dict[str, Any]:
    """Evaluate a run folder (or model folder) on ``config.split`` of the dataset at ``data_dir``.

    inception_weights: the FID Inception weight file (else ``$VOICE2FACE_INCEPTION_WEIGHTS``;
    without either FID and KID are recorded as skipped, with the reason). cache_dir: where the
    corpus face networks, real-image statistics and voice features are kept (default
    ``DATA_DIR/.cache``). write: append the records to ``RUN_DIR/metrics.jsonl``.

    Returns ``{"run_dir", "model_dir", "metrics_file", "snapshot", "kimg", "step", "dataset",
    "split", "embedder", "results": {record name: results}, "reference": {"ceiling", "chance"},
    "options", "grid"}`` (grid: ``RUN_DIR/eval-<split>-fakes.png``, written with the records);
    record names are the metric names, with ``fd`` resolved to ``fd_<embedder>``.
    """
    from voice2face.metrics.embedders import (
        corpus_attribute_classifier,
        embedding_distance,
        make_embedder,
    )

    model_dir, run_dir = resolve_model_dir(model_dir)
    manifest = load_manifest(data_dir)
    split = config.split
    _check_inputs(model_dir, manifest, split)
    run_device = torch.device(
        "cuda" if device == "auto" and torch.cuda.is_available() else "cpu" if device == "auto" else device
    )
    cache = Path(cache_dir) if cache_dir is not None else manifest.root / CACHE_FOLDER
    data_key = f"{manifest.name}-{manifest_hash(manifest)}"
    snapshot = read_snapshot(model_dir)

    model = load_pretrained(model_dir, ("voice_encoder", "generator"), device=run_device)
    encoder, generator = model.modules["voice_encoder"], model.modules["generator"]
    utterances = manifest.utterances_in(split)
    voices = VoiceFeatures(manifest, model.config.features, cache_dir=cache / "features")
    embeddings = embed_voices(encoder, voices, utterances, device=run_device, progress=progress)  # [U, D]
    fakes = generate_faces(
        generator, embeddings, samples_per_voice=config.samples_per_voice, seed=config.seed,
        batch_size=config.batch_size, device=run_device, progress=progress,
    )  # fmt: skip  # [U·S, 3, R, R] uint8
    fake_ids = [u.identity for u in utterances for _ in range(config.samples_per_voice)]
    real_records = manifest.faces_in(split)
    reals = read_faces(manifest, real_records)  # [M, 3, R, R] uint8
    real_ids = [r.identity for r in real_records]
    sex_of = {i.id: i.attributes.get("sex") for i in manifest.identities if i.split == split}

    embedder_name = (
        config.embedder if config.embedder != "auto" else ("synthvox" if manifest.source == "synthvox" else "dlib")
    )
    embedders: dict[str, Any] = {}

    def embedder_for(name: str) -> Any:
        if name not in embedders:
            if name == "dlib":
                embedders[name] = make_embedder("dlib")
            else:
                embedders[name] = make_embedder(
                    name, data=_train_faces(manifest, "identity"), dataset=f"{data_key}/train", cache_dir=cache,
                    config=config.face_cnn,
                )  # fmt: skip
        return embedders[name]

    stats_cache = StatsCache(cache / "stats")
    inception: dict[Path, Any] = {}  # the Inception network, loaded once for FID and KID
    results: dict[str, dict[str, Any]] = {}
    gallery = None
    for name in _metric_names(config, embedder_name):
        log.info("evaluating %s", name)
        try:
            if name == "identity":
                embedder = embedder_for(embedder_name)
                results[name] = run_metric(
                    "identity", generated=_embed(embedder, fakes, config.batch_size), generated_ids=fake_ids,
                    real=_embed(embedder, reals, config.batch_size), real_ids=real_ids, embedder=embedder.name,
                    identity_sex=sex_of, config=config.identity,
                )  # fmt: skip
                gallery = results[name].get("recall_gallery")
            elif name == "attributes":
                classifier = corpus_attribute_classifier(
                    _train_faces(manifest, "sex"), dataset=f"{data_key}/train", cache_dir=cache, attribute="sex",
                    name=embedder_name if embedder_name != "dlib" else manifest.name,
                    config=config.attribute_cnn,
                )  # fmt: skip
                predicted = [p for batch in float_batches(fakes, config.batch_size) for p in classifier.predict(batch)]
                results[name] = run_metric(
                    "attributes", predicted={"sex": predicted}, target={"sex": [sex_of.get(i) for i in fake_ids]},
                    classifier=classifier.name,
                )  # fmt: skip
            elif name.startswith("fd_"):
                results[name] = run_metric(
                    "fd_embedding", fake_images=float_batches(fakes, config.batch_size),
                    embedder=embedder_for(name[3:]), real_images=float_batches(reals, config.batch_size),
                    cache=stats_cache, dataset=f"{data_key}/{split}",
                )  # fmt: skip
            elif name in ("fid", "kid"):
                results[name] = _inception_metric(
                    name, inception_weights, inception, fakes, reals, stats_cache, f"{data_key}/{split}",
                    config.fid,
                )  # fmt: skip
            elif name == "ppl":
                results[name] = _path_length(
                    generator, embedder_for(embedder_name), embeddings, config, embedding_distance
                )
        except MetricUnavailableError as exc:
            results[name] = {"skipped": str(exc)}
        except MetricError as exc:
            # One metric's failure (e.g. too few images for a covariance) must not lose the others.
            log.warning("%s failed: %s", name, exc)
            results[name] = {"failed": str(exc)}

    reference = reference_levels(manifest, split, gallery, config.identity.recall_ks)
    options = {
        "data": str(data_dir), "samples_per_voice": config.samples_per_voice, "seed": config.seed,
        "embedder": embedder_name, "inception_weights": str(inception_weights) if inception_weights else None,
        "config": to_dict(config),
    }  # fmt: skip
    dataset = {"name": manifest.name, "source": manifest.source, "manifest_sha256_16": manifest_hash(manifest)}
    summary = {
        "run_dir": run_dir, "model_dir": model_dir, "metrics_file": None, "snapshot": snapshot["snapshot"],
        "kimg": snapshot["kimg"], "step": snapshot["step"], "dataset": dataset, "split": split,
        "embedder": embedder_name, "results": results, "reference": reference, "options": options,
        "voices": len(utterances), "generated": int(fakes.shape[0]), "real_faces": int(reals.shape[0]), "grid": None,
    }  # fmt: skip
    if write:
        for name, values in results.items():
            record = make_record(name, values, snapshot=snapshot["snapshot"], options=options)
            record.update(
                {"kimg": snapshot["kimg"], "step": snapshot["step"], "dataset": dataset, "split": split,
                 "model": str(model_dir)}
            )  # fmt: skip
            if name == "identity":
                record["reference"] = reference
            summary["metrics_file"] = append_result(run_dir, record)
        summary["grid"] = write_evaluation_grid(
            run_dir / f"eval-{split}-fakes.png", fakes, fake_ids, reals, real_ids, config.samples_per_voice,
            model=model_dir.parent.name if model_dir.name == "model" else model_dir.name, kimg=snapshot["kimg"],
        )  # fmt: skip
    return summary


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
    from voice2face.inference.png import save_synthetic_png, synthetic_metadata
    from voice2face.utils.images import grid

    tiles = []
    for identity in sorted(set(fake_ids))[:rows]:
        real = reals[[i for i, r in enumerate(real_ids) if r == identity][:1]]  # [1, 3, R, R]
        generated = fakes[[i for i, f in enumerate(fake_ids) if f == identity][: columns - 1]]  # [≤C-1, 3, R, R]
        blank = torch.full((columns - 1 - generated.shape[0], *fakes.shape[1:]), 255, dtype=torch.uint8)
        tiles.append(torch.cat([real, generated, blank]))
    images = (torch.cat(tiles).float() - 127.5) / 127.5  # [rows·C, 3, R, R]
    meta = synthetic_metadata(model=model, kimg=None if kimg is None else f"{kimg:.3f}")
    save_synthetic_png(grid(images, columns=columns), path, meta)
    return path


def _inception_metric(
    name: str,
    weights: str | Path | None,
    loaded: dict[Path, Any],
    fakes: torch.Tensor,
    reals: torch.Tensor,
    cache: StatsCache,
    dataset: str,
    fid_config: Any,
) -> dict[str, Any]:
    """FID or KID with the user's Inception weights; skipped (with the reason) without them."""
    from voice2face.metrics.inception import load_fid_inception, resolve_inception_weights

    path = resolve_inception_weights(weights)  # MetricUnavailableError → skipped
    if path not in loaded:
        loaded[path] = load_fid_inception(path)
    return run_metric(
        name, fake_images=float_batches(fakes, fid_config.batch_size),
        real_images=float_batches(reals, fid_config.batch_size), inception=loaded[path], cache=cache,
        dataset=dataset, config=fid_config,
    )  # fmt: skip


def _path_length(generator, embedder, embeddings: torch.Tensor, config: EvaluationConfig, embedding_distance) -> dict:
    """PPL in the face embedder's distance, conditioned on the split's voice embeddings."""
    if not (hasattr(generator, "mapping") and hasattr(generator, "synthesis")):
        raise MetricUnavailableError(
            f"Path length needs a generator with a mapping network; the {type(generator).__name__} has none."
        )
    ppl_config = dataclasses.replace(config.ppl, seed=config.seed)
    return run_metric("ppl", generator=generator, distance=embedding_distance(embedder), conditions=embeddings,
                      config=ppl_config)  # fmt: skip


# --------------------------------------------------------------------------- printing

#: Metric keys shown in the table, in order, with their labels (others are not printed).
TABLE_KEYS = (
    ("identity", "match_1v2", "1:2 matching"),
    ("identity", "match_1v2_same_sex", "1:2 matching, same sex"),
    ("identity", "recall@1", "recall@1"),
    ("identity", "recall@2", "recall@2"),
    ("identity", "recall@5", "recall@5"),
    ("identity", "recall@10", "recall@10"),
    ("identity", "cosine_speaker", "cosine to speaker"),
    ("identity", "cosine_others", "cosine to others"),
    ("attributes", "sex_agreement", "sex agreement"),
    ("fid", "fid", "FID"),
    ("kid", "kid", "KID"),
)


def table_rows(results: dict[str, dict[str, Any]], reference: dict[str, dict]) -> list[tuple[str, str, str, str]]:
    """(metric, value, ceiling, chance) rows as text; skipped or failed metrics show their reason."""
    ceiling, chance = reference.get("ceiling", {}), reference.get("chance", {})
    rows = []

    def fmt(value: Any) -> str:
        return "–" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)

    shown: set[str] = set()
    for record, key, label in TABLE_KEYS:
        values = results.get(record)
        if values is None or key not in values:
            continue
        shown.add(record)
        rows.append((label, fmt(values[key]), fmt(ceiling.get(key)), fmt(chance.get(key))))
    for record, values in results.items():
        if record.startswith("fd_") and record in values:
            rows.append((f"Fréchet distance ({record[3:]} embedding)", fmt(values[record]), "–", "–"))
        elif record == "ppl":
            for key, value in values.items():
                if key.startswith("ppl_") and isinstance(value, float):
                    rows.append((f"path length ({key[4:]}, {values.get('ppl_distance')})", fmt(value), "–", "–"))
        if "skipped" in values or "failed" in values:
            why = values.get("skipped") or values.get("failed")
            rows.append((record, "skipped" if "skipped" in values else "failed", why, ""))
    return rows


def format_table(summary: dict[str, Any]) -> str:
    """The evaluation as a plain-text table: metric, value, ceiling, chance."""
    rows = table_rows(summary["results"], summary["reference"])
    header = ("metric", "value", "ceiling", "chance")
    measured = [r for r in rows if r[1] not in ("skipped", "failed")]
    widths = [
        max(len(header[i]), *(len(r[i]) for r in measured), *(len(r[0]) for r in rows if i == 0)) for i in range(4)
    ]
    lines = [
        f"model:   {summary['model_dir']} ({summary['snapshot']})",
        f"data:    {summary['dataset']['name']} / {summary['split']}: {summary['voices']} voices → "
        f"{summary['generated']} generated faces (synthetic), {summary['real_faces']} real faces; "
        f"embedder {summary['embedder']}",
        "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    for row in rows:
        if row[1] in ("skipped", "failed"):
            reason = row[2] if row[2].startswith(row[1]) else f"{row[1]}: {row[2]}"
            lines.append(f"{row[0].ljust(widths[0])}  {reason}")
        else:
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    if summary.get("metrics_file"):
        lines.append(f"appended to {summary['metrics_file']}")
    return "\n".join(lines)
