"""A small fake VoxCeleb1 + VGGFace tree, made from a synthvox corpus and scikit-image's real photo.

Awkward on purpose: names differ between the two sides by accents, case, spaces and underscores;
one speaker has no face folder, one face folder no speaker; it holds a truncated recording, a
silent one, an empty one, a corrupt image, an image without a face, and the uncropped astronaut
photo (where dlib also finds a second, false face). Used by tests/test_prepare.py and
benchmarks/bench_prepare.py.
"""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile
from PIL import Image

from voice2face.data.manifest import Manifest

#: (VoxCeleb1 metadata name, face folder name, sex): matched despite accents, case and separators.
PEOPLE = [
    ("Amélie_Poulain", "Amelie Poulain", "f"),
    ("Björn_Borg", "bjorn_borg", "m"),
    ("Chloë_Sevigny", "Chloë_Sevigny", "f"),
    ("Dev_Patel", "Dev  Patel", "m"),
    ("Eartha_Kitt", "EARTHA_KITT", "f"),
    ("François_Arnaud", "Francois_Arnaud", "m"),
    ("Gérard_Depardieu", "Gerard Depardieu", "m"),
    ("Helena_Bonham_Carter", "Helena_Bonham_Carter", "f"),
    ("Mark_Ruffalo", "Mark_Ruffalo", "m"),
    ("Zoë_Kravitz", "Zoe_Kravitz", "f"),
]
VOICE_ONLY = ("Nina_Dobrev", "f")  # in the metadata and wav/, no face folder
FACE_ONLY = "Oprah_Winfrey"  # a face folder, not in VoxCeleb1
ASTRONAUT_PERSON = "Helena_Bonham_Carter"  # her folder holds the real photo, three ways


@dataclass
class FakeTree:
    """Where the fake datasets are, and what a correct preparation must find."""

    voxceleb1: Path
    faces: Path
    meta: Path
    ids: dict[str, str]  # metadata name → VoxCeleb1 id, for the matched people
    corrupt: list[Path] = field(default_factory=list)  # files that must be skipped, each with a reason
    astronaut_faces: list[Path] = field(default_factory=list)


def _upscaled_jpeg(source: Path, target: Path, size: int = 192) -> None:
    with Image.open(source) as face:
        face.convert("RGB").resize((size, size), Image.Resampling.BICUBIC).save(target, format="JPEG", quality=92)


def build_fake_tree(
    root: Path, synthvox: Manifest, faces_per_person: int = 2, utterances_per_person: int = 2
) -> FakeTree:
    """Write the fake tree under ``root`` from the first people of ``synthvox`` (needs 6 women and 5 men,
    with ``utterances_per_person`` recordings and ``faces_per_person`` faces each)."""
    from skimage import data

    by_sex: dict[str, list[str]] = {"male": [], "female": []}
    for identity in synthvox.identities:
        by_sex[identity.attributes["sex"]].append(identity.id)
    voxceleb1, faces, meta = root / "VoxCeleb1", root / "VGGFace", root / "vox1_meta.csv"
    rows = ["VoxCeleb1 ID\tVGGFace1 ID\tGender\tNationality\tSet"]
    tree = FakeTree(voxceleb1, faces, meta, ids={})
    people = [*PEOPLE, (VOICE_ONLY[0], None, VOICE_ONLY[1])]
    for number, (name, folder, sex) in enumerate(people):
        vid = f"id1{number:04d}"
        source = by_sex["male" if sex == "m" else "female"].pop(0)
        rows.append(f"{vid}\t{name}\t{sex}\tNowhere\tdev")
        utterances = [u for u in synthvox.utterances if u.identity == source][:utterances_per_person]
        for k, utterance in enumerate(utterances):
            target = voxceleb1 / "wav" / vid / f"video{k}" / "00001.wav"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(synthvox.file(utterance), target)
        if folder is None:
            continue
        tree.ids[name] = vid
        person = faces / folder
        person.mkdir(parents=True)
        for k, face in enumerate([f for f in synthvox.faces if f.identity == source][:faces_per_person]):
            _upscaled_jpeg(synthvox.file(face), person / f"{k:05d}.jpg")
    # The real photo: uncropped (a false second detection), cropped to the face, and turned 12°.
    photo = Image.fromarray(data.astronaut())
    helena = faces / "Helena_Bonham_Carter"
    for name, image in (
        ("astronaut.png", photo),
        ("astronaut_crop.jpg", photo.crop((100, 0, 356, 256))),
        ("astronaut_turned.jpg", photo.rotate(12, resample=Image.Resampling.BICUBIC)),
    ):
        image.save(helena / name)
        tree.astronaut_faces.append(helena / name)
    # Unusable files, each of which must be skipped and reported.
    first = voxceleb1 / "wav" / tree.ids["Mark_Ruffalo"]
    truncated = first / "video9" / "00001.wav"
    truncated.parent.mkdir(parents=True)
    truncated.write_bytes((first / "video0" / "00001.wav").read_bytes()[:30])
    silent = first / "video9" / "00002.wav"
    soundfile.write(silent, np.zeros(16000 * 3, dtype=np.float32), 16000)
    empty = first / "video9" / "00003.wav"
    empty.write_bytes(b"")
    corrupt_image = faces / "Mark_Ruffalo" / "broken.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 150, 120)).save(buffer, format="JPEG")
    corrupt_image.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 3])
    faceless = faces / "Mark_Ruffalo" / "wall.png"
    gradient = np.linspace(0, 255, 128 * 128 * 3).reshape(128, 128, 3).astype(np.uint8)
    Image.fromarray(gradient).save(faceless)
    tree.corrupt = [truncated, silent, empty, corrupt_image, faceless]
    # Someone with faces but no voice.
    only = faces / FACE_ONLY
    only.mkdir()
    _upscaled_jpeg(synthvox.file(synthvox.faces[-1]), only / "00000.jpg")
    meta.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return tree
