"""An unpaired synthvox face corpus: many people, one face each, no voices (our stand-in for FFHQ).

The paper's route pretrains a StyleGAN2 on a large set of unpaired faces and only then learns
where voices belong in its latent space. This corpus draws its people from the same generative
model as the paired corpus (:func:`~voice2face.data.synthvox.traits.draw_identity`) and renders
them with the same renderer, so the pretrained generator knows exactly the face world of the
paired data, without ever seeing a paired test face: use another ``seed`` than the paired
corpus (the default, 1000, differs from the paired corpus's default 0; people are drawn per
(seed, index), so the same seed would repeat the paired corpus's people).

The folder follows the dataset contract (:mod:`voice2face.data.manifest`): a manifest with
every identity in the ``train`` split, its attributes and traits, one face record each and no
utterances (the manifest's mark of a face-only corpus); ``faces/<id>/000.png``; a
``preview.png``. Writing is staged and renamed into place, like the paired corpus, and the bytes
do not depend on the number of workers.
"""

from __future__ import annotations

from pathlib import Path

from voice2face import __version__
from voice2face.config import FACE_CORPUS_SEED, SAMPLE_RATE
from voice2face.data.manifest import FaceRecord, IdentityRecord, Manifest, save_manifest
from voice2face.data.synthvox.corpus import (
    check_destination,
    default_workers,
    face_path,
    map_in_workers,
    png_bytes,
    staged_dataset,
    write_preview,
)
from voice2face.data.synthvox.face import draw_nuisance, render_face
from voice2face.data.synthvox.traits import STREAM_FACE, draw_identity, item_rng
from voice2face.errors import DatasetError

SOURCE = "synthvox-faces"
DEFAULT_SEED = FACE_CORPUS_SEED
MAX_COUNT = 1_000_000
#: Identities per worker task: large enough that process overhead does not matter.
CHUNK = 256


def _render_chunk(task: tuple[int, int, int, int, str]) -> list[dict]:
    """Render identities ``[start, stop)`` of ``seed`` at ``resolution`` into ``folder``."""
    seed, start, stop, resolution, folder = task
    root = Path(folder)
    records = []
    for index in range(start, stop):
        identity = draw_identity(seed, index)
        rng = item_rng(seed, index, STREAM_FACE, 0)
        image = render_face(identity.face, rng, resolution, draw_nuisance(rng))
        relative = face_path(identity.id, 0)
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(png_bytes(image))
        records.append({"identity": identity.id, "traits": identity.traits_dict(), "latent": identity.latent})
    return records


def generate_face_corpus(
    out_dir: str | Path,
    *,
    count: int,
    resolution: int = 64,
    seed: int = DEFAULT_SEED,
    workers: int | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> Manifest:
    """Render ``count`` synthvox people, one face each at ``resolution`` px, into ``out_dir``.

    Returns the manifest. A non-empty ``out_dir`` is refused unless ``overwrite``.
    """
    if not 16 <= count <= MAX_COUNT:
        raise DatasetError(f"count must be 16–{MAX_COUNT} faces, got {count}; pass --count in that range.")
    if not 32 <= resolution <= 1024:
        raise DatasetError(f"resolution must be 32–1024 pixels, got {resolution}; pass --resolution in that range.")
    if not 0 <= seed < 2**63:
        raise DatasetError(f"seed must be a non-negative integer below 2**63, got {seed}.")
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise DatasetError(f"workers must be at least 1, got {workers}; pass --workers 1 or more.")
    out_dir = Path(out_dir)
    check_destination(out_dir, overwrite)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with staged_dataset(out_dir) as staging:
        tasks = [(seed, start, min(start + CHUNK, count), resolution, str(staging)) for start in range(0, count, CHUNK)]
        records = _render_all(tasks, workers, progress, count)
        manifest = Manifest(
            root=out_dir,
            name=f"synthface-{count}-{resolution}px-seed{seed}",
            source=SOURCE,
            created_by=f"voice2face {__version__}",
            sample_rate=SAMPLE_RATE,
            face_resolution=resolution,
            identities=tuple(
                IdentityRecord(r["identity"], "train", {"sex": r["latent"].sex, "age": r["latent"].age}, r["traits"])
                for r in records
            ),
            utterances=(),
            faces=tuple(FaceRecord(identity=r["identity"], path=face_path(r["identity"], 0)) for r in records),
            generator_config={"count": count, "resolution": resolution, "seed": seed, "faces_per_identity": 1},
            ceiling=None,
            chance=None,
        )
        people = [draw_identity(seed, index) for index in range(min(32, count))]
        write_preview(staging / "preview.png", manifest, people, staging)
        save_manifest(manifest, staging)  # last: a folder without it is not a dataset
    return manifest


def _render_all(tasks: list[tuple], workers: int, progress: bool, count: int) -> list[dict]:
    chunks = map_in_workers(
        _render_chunk, tasks, workers, desc="synth-faces", unit="face", progress=progress, total=count, count=len
    )
    return [record for chunk in chunks for record in chunk]
