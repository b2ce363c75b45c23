"""The dataset contract: ``manifest.json`` of a prepared dataset folder, typed and validated.

Every prepared dataset (synthvox, VoxCeleb/VGGFace) is a folder holding ``manifest.json`` and
the files it names, so loaders, trainers and metrics never branch on where data came from.
The manifest is a JSON object::

    {
      "format": "voice2face-dataset", "version": 1,
      "name": "...", "source": "synthvox" | "voxceleb-vggface" | ...,
      "created_by": "voice2face 0.1.0",
      "generator_config": {...} | null,        # how it was made (synthvox: its config)
      "sample_rate": 16000, "face_resolution": 64,
      "splits": {"train": n, "val": n, "test": n},   # identities per split
      "identities": [{"id", "split", "attributes": {"sex": "female"|"male", "age": years, ...},
                      "traits": {...} | null}],      # traits: synthvox's full latent traits
      "utterances": [{"identity", "path", "seconds", "info": {...} | null}],
      "faces": [{"identity", "path", "info": {...} | null}],
      "ceiling": {...} | null, "chance": {...} | null  # best achievable / guessing metrics
    }

A **face-only corpus** (unpaired faces for pretraining a generator, e.g. ``voice2face
synth-faces``) has no utterances at all; it needs only a ``train`` split.

Paths are relative to the folder, with forward slashes. Splits are identity-disjoint by
construction (each identity has one split). :func:`load_manifest` checks all of this and
raises :class:`~voice2face.errors.DatasetError` with one sentence naming the file and the fix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from voice2face.data.splits import SPLITS
from voice2face.errors import DatasetError
from voice2face.utils.files import atomic_write_text

FORMAT = "voice2face-dataset"
VERSION = 1
MANIFEST_NAME = "manifest.json"
_REGENERATE = "regenerate the dataset (e.g. `voice2face synth-corpus`) or fix the file"


@dataclass(frozen=True)
class IdentityRecord:
    """One person: id, split, known attributes (sex, age, ...) and, for synthvox, full traits."""

    id: str
    split: str
    attributes: dict[str, Any] = field(default_factory=dict)
    traits: dict[str, Any] | None = None


@dataclass(frozen=True)
class UtteranceRecord:
    """One recording: whose, where (relative path), how long (s), and source-specific info."""

    identity: str
    path: str
    seconds: float
    info: dict[str, Any] | None = None


@dataclass(frozen=True)
class FaceRecord:
    """One face image: whose, where (relative path), and source-specific info."""

    identity: str
    path: str
    info: dict[str, Any] | None = None


@dataclass(frozen=True)
class Manifest:
    """A prepared dataset: its folder (``root``) and the contents of its manifest."""

    root: Path
    name: str
    source: str
    created_by: str
    sample_rate: int
    face_resolution: int
    identities: tuple[IdentityRecord, ...]
    utterances: tuple[UtteranceRecord, ...]
    faces: tuple[FaceRecord, ...]
    generator_config: dict[str, Any] | None = None
    ceiling: dict[str, Any] | None = None
    chance: dict[str, Any] | None = None

    @property
    def path(self) -> Path:
        """The manifest file."""
        return self.root / MANIFEST_NAME

    @property
    def splits(self) -> dict[str, int]:
        """Identities per split."""
        return {split: sum(1 for i in self.identities if i.split == split) for split in SPLITS}

    def identity_ids(self, split: str | None = None) -> list[str]:
        """Sorted ids of the identities in ``split`` (all when None)."""
        _check_split(split)
        return sorted(i.id for i in self.identities if split is None or i.split == split)

    def identity_index(self, split: str | None = None) -> dict[str, int]:
        """A stable id → 0..n−1 mapping over ``split`` (sorted ids): the classifier's labels."""
        return {identity: index for index, identity in enumerate(self.identity_ids(split))}

    def identity(self, identity_id: str) -> IdentityRecord:
        """The record of one identity (KeyError if unknown)."""
        for record in self.identities:
            if record.id == identity_id:
                return record
        raise KeyError(identity_id)

    def utterances_in(self, split: str | None = None) -> list[UtteranceRecord]:
        """Utterances of the identities in ``split``, in manifest order."""
        members = set(self.identity_ids(split))
        return [u for u in self.utterances if u.identity in members]

    def faces_in(self, split: str | None = None) -> list[FaceRecord]:
        """Face images of the identities in ``split``, in manifest order."""
        members = set(self.identity_ids(split))
        return [f for f in self.faces if f.identity in members]

    def faces_by_identity(self, split: str | None = None) -> dict[str, list[FaceRecord]]:
        """Face images grouped by identity, for the identities in ``split``."""
        grouped: dict[str, list[FaceRecord]] = {identity: [] for identity in self.identity_ids(split)}
        for face in self.faces:
            if face.identity in grouped:
                grouped[face.identity].append(face)
        return grouped

    def file(self, record: UtteranceRecord | FaceRecord) -> Path:
        """Absolute path of a record's file."""
        return self.root / record.path

    def to_dict(self) -> dict[str, Any]:
        """The JSON object written to ``manifest.json``."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "name": self.name,
            "source": self.source,
            "created_by": self.created_by,
            "generator_config": self.generator_config,
            "sample_rate": self.sample_rate,
            "face_resolution": self.face_resolution,
            "splits": self.splits,
            "ceiling": self.ceiling,
            "chance": self.chance,
            "identities": [
                {"id": i.id, "split": i.split, "attributes": i.attributes, "traits": i.traits} for i in self.identities
            ],
            "utterances": [
                {"identity": u.identity, "path": u.path, "seconds": u.seconds, "info": u.info} for u in self.utterances
            ],
            "faces": [{"identity": f.identity, "path": f.path, "info": f.info} for f in self.faces],
        }


def _check_split(split: str | None) -> None:
    if split is not None and split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS} or None, got {split!r}")


_RECORD_LISTS = ("identities", "utterances", "faces")


def manifest_json(manifest: Manifest) -> str:
    """The exact text written for ``manifest``: one record per line, stable (same manifest,
    same bytes)."""
    fields = []
    for key, value in manifest.to_dict().items():
        if key in _RECORD_LISTS:
            records = ",\n".join("  " + _dumps(record, None) for record in value)
            fields.append(f" {json.dumps(key)}: [\n{records}\n ]")
        else:
            fields.append(f" {json.dumps(key)}: " + _dumps(value, 1).replace("\n", "\n "))
    return "{\n" + ",\n".join(fields) + "\n}\n"


def _dumps(value: Any, indent: int | None) -> str:
    return json.dumps(value, indent=indent, ensure_ascii=False, allow_nan=False)


def save_manifest(manifest: Manifest, folder: str | Path | None = None) -> Path:
    """Validate ``manifest`` (files not checked) and write it atomically into ``folder``
    (default: its root). Returns the manifest path."""
    folder = Path(folder) if folder is not None else manifest.root
    path = folder / MANIFEST_NAME
    _validate(manifest, path)
    atomic_write_text(path, manifest_json(manifest))
    return path


def load_manifest(location: str | Path, *, check_files: bool = True) -> Manifest:
    """Read and validate the dataset at ``location`` (its folder or its manifest.json).

    With ``check_files``, every listed file must exist. Raises :class:`DatasetError`.
    """
    location = Path(location)
    path = location / MANIFEST_NAME if location.is_dir() or location.suffix != ".json" else location
    root = path.parent
    if not path.is_file():
        raise DatasetError(
            f"No dataset at {location}: {path} does not exist; prepare one first, "
            f"e.g. `voice2face synth-corpus {location}`."
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"Dataset manifest {path} is not valid JSON ({exc}); {_REGENERATE}.") from None
    manifest = manifest_from_dict(data, root, where=str(path))
    _validate(manifest, path)
    if check_files:
        _check_files(manifest, path)
    return manifest


def manifest_from_dict(data: Any, root: Path, *, where: str) -> Manifest:
    """Build a :class:`Manifest` from parsed JSON, checking format, version, fields and types."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise DatasetError(f"{where} is not a voice2face dataset manifest (format {found!r}, expected {FORMAT!r}).")
    if data.get("version") != VERSION:
        raise DatasetError(
            f"{where} has dataset format version {data.get('version')!r} but this voice2face reads version "
            f"{VERSION}; regenerate the dataset with this version of voice2face."
        )
    get = _Fields(data, where)
    try:
        identities = tuple(
            IdentityRecord(
                id=_typed(item["id"], str, where, "an identity id"),
                split=_typed(item["split"], str, where, "an identity split"),
                attributes=_typed(item.get("attributes") or {}, dict, where, "identity attributes"),
                traits=item.get("traits"),
            )
            for item in get.list("identities")
        )
        utterances = tuple(
            UtteranceRecord(
                identity=_typed(item["identity"], str, where, "an utterance identity"),
                path=_typed(item["path"], str, where, "an utterance path"),
                seconds=float(_typed(item["seconds"], (int, float), where, "utterance seconds")),
                info=item.get("info"),
            )
            for item in get.list("utterances")
        )
        faces = tuple(
            FaceRecord(
                identity=_typed(item["identity"], str, where, "a face identity"),
                path=_typed(item["path"], str, where, "a face path"),
                info=item.get("info"),
            )
            for item in get.list("faces")
        )
    except (KeyError, TypeError) as exc:
        raise DatasetError(f"{where} has a malformed record (missing or wrong field {exc}); {_REGENERATE}.") from None
    return Manifest(
        root=root,
        name=get.value("name", str),
        source=get.value("source", str),
        created_by=get.value("created_by", str),
        sample_rate=get.value("sample_rate", int),
        face_resolution=get.value("face_resolution", int),
        identities=identities,
        utterances=utterances,
        faces=faces,
        generator_config=get.optional("generator_config", dict),
        ceiling=get.optional("ceiling", dict),
        chance=get.optional("chance", dict),
    )


class _Fields:
    """Typed access to the top-level fields of a manifest, with errors naming the file."""

    def __init__(self, data: dict, where: str) -> None:
        self.data, self.where = data, where

    def value(self, name: str, kind: type) -> Any:
        if name not in self.data:
            raise DatasetError(f"{self.where} is missing the {name!r} field; {_REGENERATE}.")
        return _typed(self.data[name], kind, self.where, repr(name))

    def optional(self, name: str, kind: type) -> Any:
        value = self.data.get(name)
        return None if value is None else _typed(value, kind, self.where, repr(name))

    def list(self, name: str) -> list[dict]:
        items = self.value(name, list)
        for item in items:
            _typed(item, dict, self.where, f"each entry of {name!r}")
        return items


def _typed(value: Any, kind: type | tuple[type, ...], where: str, what: str) -> Any:
    if not isinstance(value, kind) or (kind in (int, (int, float)) and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise DatasetError(f"{where}: {what} must be {names}, got {value!r:.60}; {_REGENERATE}.")
    return value


def _validate(manifest: Manifest, path: Path) -> None:
    """Consistency of a manifest's records (not of the files)."""
    if manifest.sample_rate <= 0 or manifest.face_resolution <= 0:
        raise DatasetError(f"{path} must have a positive sample_rate and face_resolution; {_REGENERATE}.")
    seen: set[str] = set()
    for identity in manifest.identities:
        if identity.id in seen:
            raise DatasetError(f"{path} lists identity {identity.id!r} twice; identity ids must be unique.")
        seen.add(identity.id)
        if identity.split not in SPLITS:
            raise DatasetError(
                f"{path}: identity {identity.id!r} has split {identity.split!r}, not one of {', '.join(SPLITS)}; "
                f"{_REGENERATE}."
            )
    face_only = not manifest.utterances
    for split, count in manifest.splits.items():
        if count == 0 and not (face_only and split != "train"):
            raise DatasetError(
                f"{path} has no identities in the {split!r} split; every split needs at least one, "
                "so regenerate the dataset with more identities."
            )
    for kind, records in (("utterance", manifest.utterances), ("face", manifest.faces)):
        if kind == "utterance" and face_only:
            continue
        used: set[str] = set()
        for record in records:
            if record.identity not in seen:
                raise DatasetError(
                    f"{path} has a {kind} ({record.path}) of unknown identity {record.identity!r}; {_REGENERATE}."
                )
            pure = PurePosixPath(record.path)
            if pure.is_absolute() or ".." in pure.parts or "\\" in record.path or not record.path:
                raise DatasetError(
                    f"{path} has {kind} path {record.path!r}, which is not relative to the dataset folder; "
                    f"{_REGENERATE}."
                )
            used.add(record.identity)
        missing = sorted(seen - used)
        if missing:
            raise DatasetError(
                f"{path} has {len(missing)} identities without any {kind}, e.g. {missing[0]!r}; every identity "
                f"needs voices and faces, so {_REGENERATE}."
            )
    for utterance in manifest.utterances:
        if not utterance.seconds > 0:
            raise DatasetError(f"{path}: utterance {utterance.path} has length {utterance.seconds} s; {_REGENERATE}.")


def _check_files(manifest: Manifest, path: Path) -> None:
    absent = [r.path for r in (*manifest.utterances, *manifest.faces) if not (manifest.root / r.path).is_file()]
    if absent:
        raise DatasetError(
            f"{path} lists {len(absent)} file(s) that do not exist, e.g. {absent[0]}; the dataset is incomplete, "
            "so regenerate it or copy the missing files."
        )
