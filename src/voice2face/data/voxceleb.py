"""VoxCeleb1 voices ∩ VGGFace faces: reading the layouts, matching people by name, the split.

What a user has on disk (none of it can be downloaded here; see the README for where to get it):

- **VoxCeleb1** (Nagrani et al. 2017): ``<root>/wav/idXXXXX/<video id>/<nnnnn>.wav`` (``<root>``
  may also be the ``wav`` folder itself), and the metadata table ``vox1_meta.csv``: tab-separated
  (commas are accepted too) with a header, one row per person: VoxCeleb1 id, name (underscores
  for spaces, as VGGFace writes it), gender (``m``/``f``), nationality, set.
- **Faces**, one folder per person:
  - VGGFace (and Wen et al.'s filtered frontal subset): ``<faces>/<Name>/<image>``, the folder
    named by the person's name;
  - VGGFace2: ``<faces>/{train,test}/nXXXXXX/<image>`` (or without the train/test level), with
    ``identity_meta.csv`` (``--faces-meta``) mapping each class id to a name.

People are matched by :func:`normalise_name` (case, spaces and underscores, accents), and split
as Wen et al. (NeurIPS 2019) did: names whose first letter is F–Z train; A–E are held out and
shared between validation and test. Wen et al.'s code does not say how the held-out people are
divided (their paper reports 112 validation and 189 test of 301); here it is by a hash of the
normalised name: the held-out names sorted by SHA-256 of their UTF-8 bytes, the first
round(n · 112/301) (at least one, and at most n − 1, when n ≥ 2) are validation, the rest test.
It depends on nothing but the name, so it is the same on every machine and for every subset,
and the paper's 301 held-out people give exactly 112/189. A name whose first character (accents
removed) is not a letter A–Z trains.

**The SF2F protocol** (Bai et al. 2022, HQ-VoxCeleb): its ``split.json`` (``{"vox1": {"train":
[names], "val": [...], "test": [...]}, ...}``) replaces the first-letter rule when given
(:func:`read_split_json`; people it does not list are left out and reported), and its face
folders (``vox1/masked_faces/<Name>/`` or ``origin_faces``) are one folder per name, read as VGGFace's.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from voice2face.errors import DatasetError

HELD_OUT_LETTERS = "ABCDE"  # Wen et al.: names starting with these are validation/test; F–Z train
VAL_SHARE = 112 / 301  # of the held-out people, as in the paper's 924/112/189 split of 1,225
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".m4a")
_VGGFACE2_CLASS = re.compile(r"^n\d{6}$")
_VOXCELEB_ID = re.compile(r"^id\d{5}$")


def normalise_name(name: str) -> str:
    """A person's name as matched across datasets: accents removed (NFKD, combining marks dropped),
    case folded, runs of spaces and underscores made one space, ends stripped."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\s_]+", " ", plain.casefold()).strip()


def split_by_name(names: dict[str, str]) -> dict[str, str]:
    """Identity id → "train" / "val" / "test" from normalised names (see the module)."""
    held_out = sorted(
        (hashlib.sha256(name.encode()).hexdigest(), key)
        for key, name in names.items()
        if name[:1] and name[:1].upper() in HELD_OUT_LETTERS
    )
    n = len(held_out)
    n_val = min(max(round(n * VAL_SHARE), 1), n - 1) if n >= 2 else n
    split = {key: "train" for key in names}
    for rank, (_, key) in enumerate(held_out):
        split[key] = "val" if rank < n_val else "test"
    return split


@dataclass(frozen=True)
class Person:
    """One matched person: VoxCeleb1 id, name as the metadata writes it, sex (or None), split,
    their source files (sorted) and the face folders the images are in."""

    id: str
    name: str
    sex: str | None
    nationality: str | None
    split: str
    utterances: tuple[Path, ...]
    faces: tuple[Path, ...]
    face_folders: tuple[Path, ...]


@dataclass
class Plan:
    """What a preparation will do: the matched people, and who was left out and why."""

    people: list[Person]
    voices_only: list[str] = field(default_factory=list)  # names with voices but no face folder
    faces_only: list[str] = field(default_factory=list)  # face folders of names VoxCeleb1 lacks
    empty: list[str] = field(default_factory=list)  # matched names without any file on one side
    unsplit: list[str] = field(default_factory=list)  # matched names a given split file does not list


def read_voxceleb_meta(path: str | Path) -> list[tuple[str, str, str | None, str | None]]:
    """``vox1_meta.csv`` → (id, name, sex "male"/"female"/None, nationality) per row."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(
            f"Cannot read the VoxCeleb1 metadata {path} ({exc}); pass --meta the vox1_meta.csv file."
        ) from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise DatasetError(f"VoxCeleb1 metadata {path} is empty; pass --meta the vox1_meta.csv file.")
    delimiter = "\t" if "\t" in lines[0] else ","
    rows = list(csv.reader(lines, delimiter=delimiter))
    out = []
    for number, row in enumerate(rows[1:], start=2):
        cells = [c.strip() for c in row]
        if len(cells) < 2 or not _VOXCELEB_ID.match(cells[0]):
            raise DatasetError(
                f"Line {number} of {path} is not a VoxCeleb1 metadata row (id10001<TAB>Name<TAB>m ...); "
                "pass --meta the vox1_meta.csv file that comes with VoxCeleb1."
            )
        gender = cells[2].lower() if len(cells) > 2 else ""
        sex = {"m": "male", "male": "male", "f": "female", "female": "female"}.get(gender)
        out.append((cells[0], cells[1], sex, cells[3] if len(cells) > 3 and cells[3] else None))
    return out


def read_vggface2_meta(path: str | Path) -> dict[str, str]:
    """VGGFace2's ``identity_meta.csv`` → class id (``n000001``) → name."""
    path = Path(path)
    try:
        rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines(), skipinitialspace=True))
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(
            f"Cannot read the VGGFace2 metadata {path} ({exc}); pass --faces-meta identity_meta.csv."
        ) from None
    names = {
        row[0].strip(): row[1].strip() for row in rows[1:] if len(row) >= 2 and _VGGFACE2_CLASS.match(row[0].strip())
    }
    if not names:
        raise DatasetError(
            f"{path} maps no VGGFace2 class ids (n000001, ...) to names; pass --faces-meta identity_meta.csv."
        )
    return names


def read_split_json(path: str | Path, subset: str = "vox1") -> dict[str, str]:
    """SF2F's ``split.json`` → normalised name → split, for the VoxCeleb1 names (``subset``)."""
    path = Path(path)
    try:
        lists = json.loads(path.read_text(encoding="utf-8"))[subset]
        out = {normalise_name(name): split for split in ("train", "val", "test") for name in lists[split]}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DatasetError(
            f"{path} is not an SF2F split file with {subset}'s train/val/test name lists ({type(exc).__name__}); "
            "pass --split-json the split.json that SF2F's create_split_json.py writes."
        ) from None
    return out


def _files(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in suffixes and p.is_file())


def wav_folder(root: str | Path) -> Path:
    """VoxCeleb1's speaker folders' parent: ``root/wav``, or ``root`` itself when it is the wav folder."""
    root = Path(root)
    return root / "wav" if (root / "wav").is_dir() else root


def voxceleb_folders(root: str | Path) -> dict[str, Path]:
    """VoxCeleb1 id → its folder under :func:`wav_folder`."""
    root = Path(root)
    wav = wav_folder(root)
    if not wav.is_dir():
        raise DatasetError(f"VoxCeleb1 folder {root} does not exist; pass --voxceleb1 the folder that holds wav/.")
    folders = {p.name: p for p in sorted(wav.iterdir()) if p.is_dir() and _VOXCELEB_ID.match(p.name)}
    if not folders:
        raise DatasetError(
            f"{wav} holds no VoxCeleb1 speaker folders (id10001/...); pass --voxceleb1 the folder that holds wav/."
        )
    return folders


def face_folders(root: str | Path, meta: str | Path | None = None) -> dict[str, list[Path]]:
    """Normalised name → the face folders of that person (VGGFace or VGGFace2 layout; see the module)."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"Face folder {root} does not exist; pass --faces the folder with one folder per person.")
    class_names = read_vggface2_meta(meta) if meta is not None else None
    candidates = [p for p in sorted(root.iterdir()) if p.is_dir()]
    if class_names is not None:  # VGGFace2: classes directly under root, or under train/ and test/
        nested = [q for p in candidates if p.name in ("train", "test") for q in sorted(p.iterdir()) if q.is_dir()]
        candidates = nested or candidates
    out: dict[str, list[Path]] = {}
    for folder in candidates:
        if class_names is not None:
            if not _VGGFACE2_CLASS.match(folder.name) or folder.name not in class_names:
                continue
            name = class_names[folder.name]
        else:
            name = folder.name
        out.setdefault(normalise_name(name), []).append(folder)
    if not out:
        layout = "nXXXXXX class folders named in --faces-meta" if meta is not None else "one folder per person's name"
        raise DatasetError(
            f"{root} holds no face folders ({layout}); pass --faces the VGGFace or VGGFace2 image folder."
        )
    return out


def plan(
    voxceleb1: str | Path,
    faces: str | Path,
    meta: str | Path,
    faces_meta: str | Path | None = None,
    split_json: str | Path | None = None,
) -> Plan:
    """Match VoxCeleb1's people with the face folders by name, list their files, split them (by
    first letter, or by SF2F's ``split_json``)."""
    rows = read_voxceleb_meta(meta)
    speakers = voxceleb_folders(voxceleb1)
    folders = face_folders(faces, faces_meta)
    names = {vid: normalise_name(name) for vid, name, _, _ in rows}
    matched = {vid: names[vid] for vid, *_ in rows if vid in speakers and names[vid] in folders}
    if split_json is None:
        split = split_by_name(matched)
    else:
        listed = read_split_json(split_json)
        split = {vid: listed[name] for vid, name in matched.items() if name in listed}
    result = Plan(people=[])
    matched_names = set()
    for vid, name, sex, nationality in rows:
        key = names[vid]
        if vid not in speakers:
            continue
        if key not in folders:
            result.voices_only.append(name)
            continue
        matched_names.add(key)
        if vid not in split:
            result.unsplit.append(name)
            continue
        utterances = tuple(_files(speakers[vid], AUDIO_SUFFIXES))
        images = tuple(f for folder in folders[key] for f in _files(folder, IMAGE_SUFFIXES))
        if not utterances or not images:
            result.empty.append(name)
            continue
        result.people.append(Person(vid, name, sex, nationality, split[vid], utterances, images, tuple(folders[key])))
    result.faces_only = sorted(folders[key][0].name for key in folders if key not in matched_names)
    if not result.people:
        raise DatasetError(
            f"No person in {meta} has both recordings under {voxceleb1} and a face folder under {faces}; "
            "check that --faces holds one folder per name as the metadata writes it (VGGFace2: pass --faces-meta)."
        )
    return result
