"""``voice2face prepare voxceleb``: VoxCeleb1 ∩ VGGFace → a prepared dataset, resumable and parallel.

The work is cut into units, one per person and side (their recordings; their face images), run
by ``workers`` processes. Each file a unit finishes is written atomically and then recorded as one
line of the unit's ledger (``.prepare/ledger/<side>-<id>.jsonl``: the source, its size, what came
of it and the output's size), so a rerun after a crash or ``kill -9`` skips every file whose
ledger line is there and whose output still has the recorded size, and redoes nothing else.
When all units are done the manifest and ``prepare_report.json`` are written (atomically), from
the ledgers alone; the same sources and settings give the same dataset for any number of workers.
A source counts as unchanged while its size and modification time are.

Written layout (``DATA_DIR``):

- ``manifest.json`` (:mod:`voice2face.data.manifest`; identities are VoxCeleb1 ids, with the
  person's ``name``, ``sex`` and ``nationality`` as attributes);
- ``voices/<id>/<video>/<n>.wav``: links to the recordings (or copies, ``audio_files="copy"``);
  the recordings stay the source of truth;
- ``features/<digest>/<id>.npy|.json``: each requested feature kind of every kept recording,
  after voice activity detection, packed per person (:class:`voice2face.data.datasets.PackedFeatures`);
- ``faces/<id>/<image>.png``: ``face_size`` px crops aligned on the 5-point template
  (:mod:`voice2face.data.align`); ``faces-hq/<id>/<image>.png``: FFHQ-style ``hq_size`` px crops
  when asked;
- ``prepare_report.json``: counts, who matched and who did not, every skipped file with its
  reason, and the throughput (files per second per worker, by kind);
- ``.prepare/``: settings, ledgers, done markers and the staged features of each recording (kept, so
  that a rerun resumes, and a person whose recordings change later is repacked without decoding the
  others again; delete ``.prepare/staging`` to save its disk once nothing will change).

A recording or image that cannot be used (unreadable, corrupt, no speech, no face, no clear
subject) is skipped and listed in the report, never fatal.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError
from tqdm.auto import tqdm

from voice2face import __version__
from voice2face.config import (
    PAPER_FEATURES,
    SPLITS,
    WEN_FEATURES,
    AudioConfig,
    FeatureConfig,
    PrepareConfig,
    VADConfig,
)
from voice2face.data.datasets import PackedFeatures, feature_digest
from voice2face.data.manifest import (
    FaceRecord,
    IdentityRecord,
    Manifest,
    UtteranceRecord,
    save_manifest,
)
from voice2face.data.voxceleb import Person, Plan, plan, wav_folder
from voice2face.errors import DatasetError, Voice2FaceError
from voice2face.utils.files import atomic_open, atomic_write_text

REPORT_NAME = "prepare_report.json"
STATE_FOLDER = ".prepare"
SAMPLE_RATE = 16000  # VoxCeleb1's


@dataclass
class PrepareResult:
    """What a preparation did: where its files are, and its counts."""

    manifest: Path
    report: Path
    counts: dict[str, Any] = field(default_factory=dict)


def feature_configs(kinds: Sequence[str]) -> list[FeatureConfig]:
    """The feature settings stored for each kind: ``mfcc`` the paper's (what its presets train on),
    ``logmel`` Wen et al.'s, both at VoxCeleb's 16 kHz."""
    return [{"mfcc": PAPER_FEATURES, "logmel": WEN_FEATURES}[kind] for kind in kinds]


# ---------------------------------------------------------------------------------------- ledgers


def _ledger_path(out: Path, side: str, identity: str) -> Path:
    return out / STATE_FOLDER / "ledger" / f"{side}-{identity}.jsonl"


def read_ledger(path: Path) -> dict[str, dict[str, Any]]:
    """A unit's finished files (source path → entry); a torn last line (a kill mid-write) is ignored."""
    entries: dict[str, dict[str, Any]] = {}
    if not path.is_file():
        return entries
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
            entries[entry["source"]] = entry
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
    return entries


def _sources(person: Person, side: str) -> tuple[Path, ...]:
    """A unit's source files: the person's recordings ("voices") or images ("faces")."""
    return person.utterances if side == "voices" else person.faces


def _kept(entries: dict[str, dict[str, Any]], sources: Sequence[Path]) -> list[dict[str, Any]]:
    """The ledger entries of ``sources`` that were kept, in the sources' order."""
    return [entries[str(s)] for s in sources if entries.get(str(s), {}).get("status") == "kept"]


def _intact(out: Path, outputs: dict[str, int]) -> bool:
    """Every output (path under ``out`` → size) is there at its recorded size (OSError when one is gone)."""
    return all((out / rel).stat().st_size == size for rel, size in outputs.items())


def _stamp(source: Path) -> list[int]:
    """What says a source file is the one an output was made from: its size and modification time."""
    stat = source.stat()
    return [stat.st_size, stat.st_mtime_ns]


def _still_valid(out: Path, entry: dict[str, Any], source: Path) -> bool:
    """A ledger entry is reusable when its source has the recorded size and its outputs theirs."""
    try:
        if _stamp(source) != [entry["source_bytes"], entry.get("source_mtime_ns")]:
            return False
        return _intact(out, entry.get("outputs", {}))
    except (OSError, KeyError, TypeError):
        return False


class _Ledger:
    def __init__(self, out: Path, side: str, identity: str) -> None:
        self.path = _ledger_path(out, side, identity)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.done = read_ledger(self.path)
        self._handle = None

    def record(self, entry: dict[str, Any]) -> None:
        if self._handle is None:
            self._handle = self.path.open("a+b")  # appends go to the end, wherever it reads
            if self._handle.tell() > 0:
                self._handle.seek(-1, os.SEEK_END)
                if self._handle.read(1) != b"\n":  # a kill cut the last line short: end it first
                    self._handle.write(b"\n")
        self._handle.write((json.dumps(entry, sort_keys=True) + "\n").encode())
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.done[entry["source"]] = entry

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


def _marker_path(out: Path, side: str, identity: str) -> Path:
    return out / STATE_FOLDER / "done" / f"{side}-{identity}.json"


def _unit_finished(out: Path, side: str, person: Person) -> bool:
    """A unit is finished when its marker lists exactly the person's sources, at their sizes, and
    every output it names still has its recorded size."""
    try:
        marker = json.loads(_marker_path(out, side, person.id).read_text())
        if marker["sources"] != {str(s): _stamp(s) for s in _sources(person, side)}:
            return False
        return _intact(out, marker["outputs"])
    except (OSError, KeyError, TypeError, json.JSONDecodeError):
        return False


def _mark_finished(
    out: Path, side: str, person: Person, ledger: dict[str, dict[str, Any]], extra: Sequence[Path]
) -> None:
    """Write the unit's marker: its sources' sizes and its lasting outputs' (crops, recordings, packs)."""
    sources = _sources(person, side)
    outputs = {rel: size for s in sources for rel, size in ledger[str(s)].get("outputs", {}).items()
               if not rel.startswith(STATE_FOLDER)}  # fmt: skip
    outputs.update({p.relative_to(out).as_posix(): p.stat().st_size for p in extra})
    marker = _marker_path(out, side, person.id)
    marker.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(marker, json.dumps({"sources": {str(s): _stamp(s) for s in sources}, "outputs": outputs}))


# ---------------------------------------------------------------------------------------- units

_ALIGNER = None  # one per worker process (dlib's models take ~100 MB and a second to load)


def _aligner(upsample: int):
    global _ALIGNER
    if _ALIGNER is None or _ALIGNER.upsample != upsample:
        from voice2face.data.align import FaceAligner

        _ALIGNER = FaceAligner(upsample)
    return _ALIGNER


def _face_name(source: Path, folder_root: Path) -> str:
    """An output file name for a source image, unique within the person: its path under the person's
    folder with slashes and dots made underscores, and a short hash of that path."""
    rel = source.relative_to(folder_root).as_posix()
    readable = "".join(ch if ch.isalnum() or ch in "-" else "_" for ch in rel)
    return f"{readable}-{hashlib.sha1(rel.encode()).hexdigest()[:8]}.png"  # the hash keeps x.y.jpg and x_y.jpg apart


def _unit(
    side: str,
    person: Person,
    out: Path,
    process: Callable[[Path, dict[str, int]], dict[str, Any]],
    finish: Callable[[dict[str, dict[str, Any]]], list[Path]],
) -> dict[str, Any]:
    """Run ``process`` (source, outputs to fill → status fields) on each of the person's files of
    ``side`` not already in the ledger, record each as it is done, then ``finish`` (→ lasting files
    beyond the per-file outputs) and mark the unit finished. Returns what was done, for the report."""
    sources = _sources(person, side)
    if _unit_finished(out, side, person):
        return {"side": side, "id": person.id, "processed": 0, "reused": len(sources), "seconds": 0.0}
    ledger = _Ledger(out, side, person.id)
    reused, elapsed = 0, 0.0
    try:
        for source in sources:
            previous = ledger.done.get(str(source))
            if previous is not None and _still_valid(out, previous, source):
                reused += 1
                continue
            start = time.perf_counter()
            size, mtime = _stamp(source)
            entry: dict[str, Any] = {
                "source": str(source),
                "source_bytes": size,
                "source_mtime_ns": mtime,
                "outputs": {},
            }
            entry.update(process(source, entry["outputs"]))
            entry["seconds_spent"] = time.perf_counter() - start
            elapsed += entry["seconds_spent"]
            ledger.record(entry)
        _mark_finished(out, side, person, ledger.done, finish(ledger.done))
    finally:
        ledger.close()
    return {"side": side, "id": person.id, "processed": len(sources) - reused, "reused": reused, "seconds": elapsed}


def _face_unit(person: Person, out: Path, options: PrepareConfig) -> dict[str, Any]:
    _aligner(options.upsample)  # loaded before the clock starts: a worker loads dlib's models once
    return _unit("faces", person, out, lambda source, outputs: _align_one(person, source, out, options, outputs),
                 lambda done: [])  # fmt: skip


def _align_one(
    person: Person, source: Path, out: Path, options: PrepareConfig, outputs: dict[str, int]
) -> dict[str, Any]:
    from voice2face.data.align import choose_subject

    try:
        with Image.open(source) as picture:
            picture.load()
            image = np.asarray(picture.convert("RGB"))
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
        return {"status": "skipped", "reason": f"unreadable image ({type(exc).__name__}: {str(exc)[:80]})"}
    aligner = _aligner(options.upsample)
    detections = aligner.detect(image)
    subject = choose_subject(detections)
    if subject is None:
        reason = "no face found" if not detections else f"no clear subject among {len(detections)} faces"
        return {"status": "skipped", "reason": reason}
    (number, folder) = next((k, f) for k, f in enumerate(person.face_folders) if f in source.parents)
    name = _face_name(source, folder)
    if len(person.face_folders) > 1:  # VGGFace2 may hold a person under train/ and test/
        name = f"{number}_{name}"
    crops = [("faces", aligner.crop(image, subject.box, options.face_size))]
    if options.hq_size is not None:
        crops.append(("faces-hq", aligner.crop_hq(image, subject.box, options.hq_size)))
    for top, crop in crops:
        target = out / top / person.id / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(target, "wb") as handle:
            Image.fromarray(crop).save(handle, format="PNG", compress_level=1)  # fast; lossless either way
        outputs[f"{top}/{person.id}/{name}"] = target.stat().st_size
    return {"status": "kept", "path": f"faces/{person.id}/{name}", "score": subject.score}


def _voice_unit(person: Person, out: Path, options: PrepareConfig, root: Path) -> dict[str, Any]:
    staging = out / STATE_FOLDER / "staging" / person.id

    def finish(done: dict[str, dict[str, Any]]) -> list[Path]:
        # The staged features stay (.prepare/staging): a person reopened later (a recording added or
        # changed) repacks from them instead of decoding every recording again.
        return _pack_features(person, out, options, done)

    def one(source: Path, outputs: dict[str, int]) -> dict[str, Any]:
        return _voice_one(person, source, out, options, root, staging, outputs)

    return _unit("voices", person, out, one, finish)


def _voice_one(
    person: Person, source: Path, out: Path, options: PrepareConfig, root: Path, staging: Path, outputs: dict[str, int]
) -> dict[str, Any]:
    """One recording: its speech's features staged, the recording linked (or copied) into ``out``."""
    from voice2face.audio.pipeline import load_speech, speech_features

    rel = Path("voices") / person.id / source.relative_to(root)
    try:
        speech = load_speech(source, AudioConfig(sample_rate=SAMPLE_RATE), VADConfig())
        for config in feature_configs(options.features):
            features = speech_features(speech, config)  # [F, T]
            staged = staging / f"{rel.as_posix()}.{config.kind}.npy".replace("/", "__")
            staged.parent.mkdir(parents=True, exist_ok=True)
            with atomic_open(staged, "wb") as handle:
                np.save(handle, features.astype(np.float32), allow_pickle=False)
            outputs[staged.relative_to(out).as_posix()] = staged.stat().st_size
        _place_audio(source, out / rel, options.audio_files)
    except Voice2FaceError as exc:
        outputs.clear()
        return {"status": "skipped", "reason": str(exc)}
    outputs[rel.as_posix()] = (out / rel).stat().st_size
    return {"status": "kept", "path": rel.as_posix(), "seconds": round(len(speech.speech) / speech.sample_rate, 3)}


def _place_audio(source: Path, target: Path, mode: str) -> None:
    """The recording at ``target``: a link to ``source`` (absolute) or a copy, replaced atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.unlink(missing_ok=True)
    if mode == "symlink":
        temporary.symlink_to(source.resolve())
    else:
        shutil.copyfile(source, temporary)
    os.replace(temporary, target)


def _pack_features(person: Person, out: Path, options: PrepareConfig, done: dict[str, dict[str, Any]]) -> list[Path]:
    """Pack each kind's staged features of the person's kept recordings into one memory-mappable
    array; returns the files written."""
    written = []
    kept = _kept(done, person.utterances)
    for config in feature_configs(options.features):
        folder = out / "features" / feature_digest(config, AudioConfig(sample_rate=SAMPLE_RATE), VADConfig())
        items = []
        for entry in kept:
            staged = next(out / rel for rel in entry["outputs"] if rel.endswith(f".{config.kind}.npy"))
            items.append((entry["path"], np.load(staged, allow_pickle=False), entry["source_bytes"]))
        PackedFeatures.write(folder, person.id, items)
        written += [folder / f"{person.id}.npy", folder / f"{person.id}.json"]
    return written


def _run_unit(side: str, person: Person, out: Path, options: PrepareConfig, voice_root: Path) -> dict[str, Any]:
    if side == "faces":
        return _face_unit(person, out, options)
    return _voice_unit(person, out, options, voice_root)


# ---------------------------------------------------------------------------------------- the job


def _check_output(out: Path, settings: dict[str, Any]) -> None:
    """``out`` is new, empty, or an earlier preparation with the same settings (which is resumed)."""
    state = out / STATE_FOLDER / "settings.json"
    if state.is_file():
        try:
            earlier = json.loads(state.read_text())
        except (OSError, json.JSONDecodeError):
            earlier = None
        if earlier != settings:
            raise DatasetError(
                f"{out} holds a preparation made with other settings ({state}); prepare into a new -o folder, "
                "or rerun with the settings it was made with to resume it."
            )
        return
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DatasetError(f"Output {out} exists and is not an earlier preparation; choose a new or empty -o folder.")
    state.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(state, json.dumps(settings, indent=2, sort_keys=True))


def prepare_voxceleb(
    voxceleb1: str | Path,
    faces: str | Path,
    meta: str | Path,
    out: str | Path,
    options: PrepareConfig | None = None,
    *,
    faces_meta: str | Path | None = None,
    split_json: str | Path | None = None,
    progress: bool = True,
) -> PrepareResult:
    """Prepare VoxCeleb1 ∩ faces into ``out`` (see the module); resumes an earlier run into ``out``.
    ``faces_meta``: VGGFace2's identity table; ``split_json``: SF2F's split in place of the first letters."""
    out = Path(out)
    options = options or PrepareConfig()
    work = plan(voxceleb1, faces, meta, faces_meta, split_json)
    voice_root = wav_folder(voxceleb1)
    settings = {"options": options.settings(), "voxceleb1": str(Path(voxceleb1).resolve()),
                "faces": str(Path(faces).resolve()), "meta": str(Path(meta).resolve()),
                "split": str(Path(split_json).resolve()) if split_json is not None else "first letter"}  # fmt: skip
    _check_output(out, settings)
    units = [(side, person) for person in work.people for side in ("voices", "faces")]
    sizes = {(side, p.id): len(_sources(p, side)) for side, p in units}
    total = sum(sizes.values())
    results = []
    started = time.perf_counter()
    with tqdm(total=total, desc="preparing", unit="file", disable=not progress) as bar:
        if options.workers == 1:
            for side, person in units:
                results.append(_run_unit(side, person, out, options, voice_root))
                bar.update(sizes[(side, person.id)])
        else:
            with ProcessPoolExecutor(options.workers, mp_context=get_context("spawn")) as pool:
                futures = {pool.submit(_run_unit, side, p, out, options, voice_root): (side, p.id) for side, p in units}
                try:
                    for future in as_completed(futures):
                        results.append(future.result())
                        bar.update(sizes[futures[future]])
                except BaseException:
                    pool.shutdown(wait=True, cancel_futures=True)  # units not started never start
                    raise
    wall = time.perf_counter() - started
    return _finish(out, work, options, results, wall)


def _finish(out: Path, work: Plan, options: PrepareConfig, results: list[dict[str, Any]], wall: float) -> PrepareResult:
    identities, utterances, faces, skipped, dropped = [], [], [], [], []
    for person in work.people:
        voices = read_ledger(_ledger_path(out, "voices", person.id))
        images = read_ledger(_ledger_path(out, "faces", person.id))
        for entry in (*voices.values(), *images.values()):
            if entry.get("status") == "skipped":
                skipped.append({"file": entry["source"], "reason": entry.get("reason", "")})
        kept_voices, kept_faces = _kept(voices, person.utterances), _kept(images, person.faces)
        if not kept_voices or not kept_faces:
            dropped.append({"id": person.id, "name": person.name,
                            "reason": "no usable recording" if not kept_voices else "no usable face"})  # fmt: skip
            continue
        attributes = {"name": person.name}
        if person.sex is not None:
            attributes["sex"] = person.sex
        if person.nationality is not None:
            attributes["nationality"] = person.nationality
        identities.append(IdentityRecord(person.id, person.split, attributes))
        utterances += [
            UtteranceRecord(person.id, e["path"], e["seconds"], {"source": e["source"]}) for e in kept_voices
        ]
        faces += [
            FaceRecord(person.id, e["path"], {"source": e["source"], "score": round(e["score"], 3)}) for e in kept_faces
        ]
    splits = {s: sum(i.split == s for i in identities) for s in SPLITS}
    counts = {
        "identities": len(identities), "splits": splits, "utterances": len(utterances), "faces": len(faces),
        "skipped_files": len(skipped), "voices_only": len(work.voices_only), "faces_only": len(work.faces_only),
        "dropped": len(dropped),
    }  # fmt: skip
    report = {
        "created_by": f"voice2face {__version__}", "counts": counts, "options": options.settings(),
        "skipped": sorted(skipped, key=lambda s: s["file"]), "dropped": dropped,
        "voices_only": work.voices_only, "faces_only": work.faces_only, "no_files": work.empty,
        "not_in_split_file": work.unsplit,
        "this_run": _throughput(results, options.workers, wall),
    }  # fmt: skip
    report_path = out / REPORT_NAME
    atomic_write_text(report_path, json.dumps(report, indent=2) + "\n")
    if min(splits.values()) == 0:
        raise DatasetError(
            f"The prepared people fill the splits {splits}; every split needs at least one person, so add people "
            f"whose names start with A–E (validation/test) and F–Z (train). See {report_path}."
        )
    manifest = Manifest(
        root=out, name=out.name, source="voxceleb-vggface", created_by=f"voice2face {__version__}",
        sample_rate=SAMPLE_RATE, face_resolution=options.face_size, identities=tuple(identities),
        utterances=tuple(utterances), faces=tuple(faces),
    )  # fmt: skip
    return PrepareResult(save_manifest(manifest), report_path, counts)


def _throughput(results: list[dict[str, Any]], workers: int, wall: float) -> dict[str, Any]:
    """Files done in this run and their rate: per worker, by kind (files per second of a worker's
    busy time on them), and overall (files of both kinds per wall-clock second)."""
    processed = sum(r["processed"] for r in results)
    out: dict[str, Any] = {"workers": workers, "wall_seconds": round(wall, 3),
                           "files_per_second": round(processed / wall, 3) if wall > 0 else None}  # fmt: skip
    for side, unit in (("voices", "utterances"), ("faces", "faces")):
        done = [r for r in results if r["side"] == side]
        count, busy = sum(r["processed"] for r in done), sum(r["seconds"] for r in done)
        out[f"{unit}_processed"] = count
        out[f"{unit}_reused"] = sum(r["reused"] for r in done)
        out[f"{unit}_per_second_per_worker"] = round(count / busy, 3) if busy > 0 else None
    return out
