"""Numbered run folders (``runs/00003-synthvox-quick/``), as StyleGAN2 lays them out."""

from __future__ import annotations

import re
from pathlib import Path

from voice2face.errors import ConfigError

_RUN_NAME = re.compile(r"^(\d{5})-")
_DESCRIPTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def create_run_dir(out_root: str | Path, description: str) -> Path:
    """Create and return ``out_root/NNNNN-description`` with the next free number."""
    if not _DESCRIPTION.match(description):
        raise ConfigError(f"Run description {description!r} must be letters, digits, '.', '_' or '-'.")
    root = Path(out_root)
    if root.exists() and not root.is_dir():
        raise ConfigError(f"Runs folder {root} is a file; choose a folder for --out.")
    root.mkdir(parents=True, exist_ok=True)
    while True:
        numbers = [int(m.group(1)) for p in root.iterdir() if (m := _RUN_NAME.match(p.name))]
        run_dir = root / f"{max(numbers, default=-1) + 1:05d}-{description}"
        try:
            run_dir.mkdir()  # fails if another process took this number first: try the next
            return run_dir
        except FileExistsError:
            continue
