"""Write a whole synthvox corpus: voices, faces, manifest (with the ceiling), preview, examples.

Layout of the folder (the dataset contract of :mod:`voice2face.data.manifest`)::

    OUT_DIR/manifest.json
    OUT_DIR/voices/sv00042/000.wav     16-bit PCM mono at config.sample_rate
    OUT_DIR/faces/sv00042/000.png      RGB, config.resolution square
    OUT_DIR/preview.png                contact sheet: faces of the first identities, labelled
    OUT_DIR/examples/*.wav             a few voices across sex and age, copied from the corpus

Everything is written into a hidden sibling folder and renamed into place at the end, so an
interrupted run never leaves a folder that looks like a dataset; an existing dataset is only
replaced (with ``overwrite``) once the new one is complete.
"""

from __future__ import annotations

import contextlib
import io
import math
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path

import numpy as np
import soundfile
from PIL import Image, ImageDraw, ImageFont

from voice2face import __version__
from voice2face.config import SynthVoxConfig, to_dict
from voice2face.data.manifest import FaceRecord, IdentityRecord, Manifest, UtteranceRecord, save_manifest
from voice2face.data.splits import assign_splits
from voice2face.data.synthvox.ceiling import chance_levels, identity_ceiling
from voice2face.data.synthvox.face import draw_nuisance, render_face
from voice2face.data.synthvox.traits import STREAM_FACE, STREAM_VOICE, Identity, corpus_rng, draw_identity, item_rng
from voice2face.data.synthvox.voice import synthesize_utterance, to_pcm16
from voice2face.errors import DatasetError
from voice2face.utils.files import make_staging_dir

SOURCE = "synthvox"


def utterance_path(identity: str, item: int) -> str:
    """Relative path of utterance ``item`` of ``identity``."""
    return f"voices/{identity}/{item:03d}.wav"


def face_path(identity: str, item: int) -> str:
    """Relative path of face image ``item`` of ``identity``."""
    return f"faces/{identity}/{item:03d}.png"


def utterance_seconds(config: SynthVoxConfig, rng: np.random.Generator) -> float:
    """A recording length, log-uniform between the configured bounds, in whole samples."""
    low, high = math.log(config.min_utterance_seconds), math.log(config.max_utterance_seconds)
    return round(math.exp(rng.uniform(low, high)) * config.sample_rate) / config.sample_rate


def wav_bytes(signal: np.ndarray, sample_rate: int) -> bytes:
    """16-bit PCM WAV of float ``[N]`` in [-1, 1], with no metadata that could vary."""
    buffer = io.BytesIO()
    soundfile.write(buffer, to_pcm16(signal), sample_rate, subtype="PCM_16", format="WAV")
    return buffer.getvalue()


def png_bytes(image: np.ndarray) -> bytes:
    """PNG of uint8 ``[H, W, 3]`` with fixed options and no metadata (same pixels, same bytes)."""
    buffer = io.BytesIO()
    Image.fromarray(image, "RGB").save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def generate_identity(identity: Identity, config: SynthVoxConfig, folder: str) -> tuple[list[dict], list[dict]]:
    """Write all recordings and images of one identity under ``folder``; return their records.

    Each item draws from its own generator, so the bytes do not depend on which process or in
    which order this runs.
    """
    root = Path(folder)
    utterances, faces = [], []
    for item in range(config.utterances_per_identity):
        rng = item_rng(config.seed, identity.index, STREAM_VOICE, item)
        seconds = utterance_seconds(config, rng)
        signal, info = synthesize_utterance(
            identity.voice,
            rng,
            seconds=seconds,
            sample_rate=config.sample_rate,
            silence_seconds=config.silence_seconds,
            snr_db=config.snr_db,
        )
        relative = utterance_path(identity.id, item)
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(wav_bytes(signal, config.sample_rate))
        details = asdict(info)
        utterances.append(
            {"identity": identity.id, "path": relative, "seconds": details.pop("seconds"), "info": details}
        )
    for item in range(config.faces_per_identity):
        rng = item_rng(config.seed, identity.index, STREAM_FACE, item)
        nuisance = draw_nuisance(rng)
        image = render_face(identity.face, rng, config.resolution, nuisance)
        relative = face_path(identity.id, item)
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(png_bytes(image))
        info = {
            "expression": nuisance.expression,
            "rotation_deg": round(nuisance.rotation_deg, 3),
            "scale": round(nuisance.scale, 4),
            "shift": [round(v, 4) for v in nuisance.shift],
        }
        faces.append({"identity": identity.id, "path": relative, "info": info})
    return utterances, faces


def _generate_task(task: tuple[Identity, SynthVoxConfig, str]) -> tuple[list[dict], list[dict]]:
    return generate_identity(*task)


def default_workers() -> int:
    """Worker processes used when none are asked for: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def generate_corpus(
    out_dir: str | Path,
    config: SynthVoxConfig | None = None,
    *,
    workers: int | None = None,
    overwrite: bool = False,
    progress: bool = False,
    on_identity: Callable[[int], None] | None = None,
) -> Manifest:
    """Generate the corpus described by ``config`` into ``out_dir`` and return its manifest.

    ``workers`` processes share the identities (default: :func:`default_workers`; 1 runs in
    this process); the written bytes are the same for any number. A non-empty ``out_dir`` is
    refused unless ``overwrite``. ``on_identity(count)`` is called as identities finish.
    """
    config = config or SynthVoxConfig()
    out_dir = Path(out_dir)
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise DatasetError(f"workers must be at least 1, got {workers}; pass --workers 1 or more.")
    check_destination(out_dir, overwrite)
    out_dir.parent.mkdir(parents=True, exist_ok=True)

    identities = [draw_identity(config.seed, index) for index in range(config.identities)]
    split_of = assign_splits(
        [i.id for i in identities],
        corpus_rng(config.seed),
        config.split_weights,
        strata=[i.latent.sex for i in identities],
    )
    with staged_dataset(out_dir) as staging:
        results = _run(identities, config, staging, workers, progress, on_identity)
        utterances = [UtteranceRecord(**record) for per_identity in results for record in per_identity[0]]
        faces = [FaceRecord(**record) for per_identity in results for record in per_identity[1]]
        test = [i for i in identities if split_of[i.id] == "test"]
        manifest = Manifest(
            root=out_dir,
            name=f"synthvox-{config.identities}-seed{config.seed}",
            source=SOURCE,
            created_by=f"voice2face {__version__}",
            sample_rate=config.sample_rate,
            face_resolution=config.resolution,
            identities=tuple(
                IdentityRecord(
                    id=i.id,
                    split=split_of[i.id],
                    attributes={"sex": i.latent.sex, "age": i.latent.age},
                    traits=i.traits_dict(),
                )
                for i in identities
            ),
            utterances=tuple(utterances),
            faces=tuple(faces),
            generator_config=to_dict(config),
            ceiling={"split": "test", **identity_ceiling(test)} if len(test) >= 2 else None,
            chance={"split": "test", "identities": len(test), **chance_levels(len(test))},
        )
        write_preview(staging / "preview.png", manifest, identities[: config.preview_identities], staging)
        write_examples(staging / "examples", manifest, identities, config.example_voices, staging)
        save_manifest(manifest, staging)  # last: a folder without it is not a dataset
    return manifest


@contextlib.contextmanager
def staged_dataset(out_dir: Path) -> Iterator[Path]:
    """A hidden sibling folder to write a dataset into, renamed to ``out_dir`` when the block
    finishes and removed if it fails: an interrupted run never leaves a half-written dataset."""
    staging = make_staging_dir(out_dir.parent, f".{out_dir.name}.partial-")
    try:
        yield staging
        _move_into_place(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def check_destination(out_dir: str | Path, overwrite: bool = False) -> None:
    """Refuse a file, or a non-empty folder unless ``overwrite`` (DatasetError naming it)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise DatasetError(f"{out_dir} exists and is not a folder; choose another output folder.")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not overwrite:
        raise DatasetError(
            f"Output folder {out_dir} exists and is not empty; choose another folder or pass --overwrite "
            "to replace it once the new corpus is complete."
        )


def _run(
    identities: list[Identity],
    config: SynthVoxConfig,
    staging: Path,
    workers: int,
    progress: bool,
    on_identity: Callable[[int], None] | None,
) -> list[tuple[list[dict], list[dict]]]:
    tasks = [(identity, config, str(staging)) for identity in identities]
    return map_in_workers(
        _generate_task, tasks, workers, desc="synthvox", unit="identity", progress=progress,
        chunksize=max(1, len(tasks) // (workers * 16)), on_result=on_identity,
    )  # fmt: skip


def map_in_workers(
    fn: Callable,
    tasks: list,
    workers: int,
    *,
    desc: str,
    unit: str,
    progress: bool,
    chunksize: int = 1,
    total: int | None = None,
    count: Callable[[object], int] = lambda result: 1,
    on_result: Callable[[int], None] | None = None,
) -> list:
    """``[fn(task) for task in tasks]``, in order, over ``workers`` processes (1: in this one), with
    a progress bar of ``total`` (default: one per task) advanced by ``count(result)`` per result;
    ``on_result(results so far)`` after each."""
    from tqdm import tqdm

    bar = tqdm(total=len(tasks) if total is None else total, desc=desc, unit=unit, disable=not progress)
    results = []
    pool = None
    try:
        if workers == 1:
            iterator = map(fn, tasks)
        else:
            pool = _worker_context().Pool(min(workers, len(tasks)))
            iterator = pool.imap(fn, tasks, chunksize=chunksize)
        for result in iterator:
            results.append(result)
            bar.update(count(result))
            if on_result is not None:
                on_result(len(results))
        if pool is not None:
            pool.close()
            pool.join()
    finally:
        bar.close()
        if pool is not None:
            pool.terminate()
    return results


def _worker_context() -> multiprocessing.context.BaseContext:
    """fork where the platform has it: workers start at once and, unlike spawn, do not re-run the
    caller's script (which would need an ``if __name__ == "__main__"`` guard). The workers use
    only numpy, scipy, Pillow and soundfile, never torch, so threads the parent may hold do not
    matter to them."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _move_into_place(staging: Path, out_dir: Path) -> None:
    """Rename the finished corpus to ``out_dir``, replacing what was there only now."""
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
        os.replace(out_dir, old / "replaced")
    os.replace(staging, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_examples(folder: Path, manifest: Manifest, identities: list[Identity], count: int, root: Path) -> None:
    """Copy the first recording of ``count`` people spread over sex and age into ``folder``."""
    if count == 0:
        return
    folder.mkdir()
    first = {}
    for utterance in manifest.utterances:
        first.setdefault(utterance.identity, utterance.path)
    chosen: list[Identity] = []
    for position, sex in enumerate(("female", "male")):
        group = sorted((i for i in identities if i.latent.sex == sex), key=lambda i: (i.latent.age, i.index))
        share = (count + 1 - position) // 2
        if group and share:
            picks = np.unique(np.round(np.linspace(0, len(group) - 1, share)).astype(int))
            chosen.extend(group[k] for k in picks)
    for identity in chosen:
        name = f"{identity.latent.sex}-{round(identity.latent.age)}y-{round(identity.voice.f0_hz)}Hz-{identity.id}.wav"
        shutil.copyfile(root / first[identity.id], folder / name)


def write_preview(path: Path, manifest: Manifest, identities: list[Identity], root: Path) -> None:
    """A contact sheet: the first face of each identity, labelled with id, sex, age, F0 and VTL."""
    if not identities:
        return
    first = {}
    for face in manifest.faces:
        first.setdefault(face.identity, face.path)
    tile = max(128, manifest.face_resolution)
    label_height = 30
    columns = min(8, len(identities))
    rows = math.ceil(len(identities) / columns)
    sheet = Image.new("RGB", (columns * tile, rows * (tile + label_height)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=11)
    for k, identity in enumerate(identities):
        x, y = (k % columns) * tile, (k // columns) * (tile + label_height)
        with Image.open(root / first[identity.id]) as face:
            sheet.paste(face.convert("RGB").resize((tile, tile), Image.Resampling.LANCZOS), (x, y))
        sex = "F" if identity.latent.sex == "female" else "M"
        split = next(i.split for i in manifest.identities if i.id == identity.id)
        draw.text(
            (x + 3, y + tile + 2), f"{identity.id} {sex} {identity.latent.age:.0f}y {split}", fill=(0, 0, 0), font=font
        )
        draw.text(
            (x + 3, y + tile + 15),
            f"F0 {identity.voice.f0_hz:.0f}Hz VTL {identity.voice.vtl_cm:.1f}cm",
            fill=(70, 70, 70),
            font=font,
        )
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG", compress_level=6)
    path.write_bytes(buffer.getvalue())
