"""The evaluation instruments shipped with the package (``voice2face/assets/instruments``) and the
record of the corpus they were trained on.

The folder holds the evaluation-cache files of instruments trained on the real training faces of one
synthvox corpus (today the face-trait read-out, ``trait-net-<key>.npz``), and
:data:`~voice2face.storage.layout.SHIPPED_INSTRUMENTS_RECORD`, which says which corpus: people, seed,
face resolution and the first 16 hex digits of its ``manifest.json`` SHA-256. The demo takes the
files only for that corpus; the evaluation finds them by their cache keys, which name the data.
``scripts/build_bundled_model.py --install`` writes both, for the corpus the bundle was built on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from voice2face.errors import CheckpointError
from voice2face.storage.layout import SHIPPED_INSTRUMENTS_RECORD, shipped_instruments_dir
from voice2face.utils.files import atomic_write_bytes, atomic_write_text


@dataclass(frozen=True)
class ShippedCorpus:
    """The synthvox corpus the shipped instruments were trained on."""

    identities: int
    seed: int
    resolution: int
    manifest_sha256_16: str

    @property
    def settings(self) -> tuple[int, int, int]:
        """(people, seed, face resolution): what a corpus is made with (``synth-corpus``'s options)."""
        return self.identities, self.seed, self.resolution


def shipped_corpus(folder: Path | None = None) -> ShippedCorpus:
    """The corpus recorded beside the shipped instruments in ``folder`` (the package's by default)."""
    path = (folder if folder is not None else shipped_instruments_dir()) / SHIPPED_INSTRUMENTS_RECORD
    try:
        record = json.loads(path.read_text())
        return ShippedCorpus(**{name: record[name] for name in ShippedCorpus.__dataclass_fields__})
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CheckpointError(
            f"The shipped instruments' record {path} cannot be read ({error}); reinstall the package or "
            "rebuild the bundle with scripts/build_bundled_model.py --install."
        ) from error


def shipped_instrument_files(folder: Path | None = None) -> list[Path]:
    """The shipped instruments' cache files in ``folder`` (the package's by default), sorted."""
    return sorted((folder if folder is not None else shipped_instruments_dir()).glob("*.npz"))


def install_instruments(folder: Path, files: Sequence[Path], corpus: ShippedCorpus) -> None:
    """Make ``folder`` ship exactly ``files`` (evaluation-cache files trained on ``corpus``): the new
    files are written first, then the record, then the files no longer shipped are removed."""
    if not files:
        raise CheckpointError(f"No instruments to ship into {folder}; the build's evaluation cache holds none.")
    folder.mkdir(parents=True, exist_ok=True)
    for file in files:
        atomic_write_bytes(folder / file.name, file.read_bytes())
    atomic_write_text(folder / SHIPPED_INSTRUMENTS_RECORD, json.dumps(asdict(corpus), indent=2, sort_keys=True) + "\n")
    keep = {file.name for file in files}
    for old in shipped_instrument_files(folder):
        if old.name not in keep:
            old.unlink()
