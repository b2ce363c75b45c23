"""Trainer state on disk: plain containers of tensors and numbers, never a pickled class.

Saved with ``torch.save`` and always loaded with ``torch.load(weights_only=True)``: no class is
ever unpickled. Writes are atomic. What goes in it (optimisers, counters, EMA, RNG streams, data
position) is the trainer's business (:mod:`voice2face.training.state` captures the RNG streams).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch

from voice2face.errors import CheckpointError
from voice2face.utils.files import atomic_open


def trainer_state_bytes(state: dict[str, Any]) -> bytes:
    """``state`` (tensors, numbers, strings, lists, dicts) serialised as :func:`load_trainer_state` reads it."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def save_trainer_state(path: str | Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(trainer_state_bytes(state))


def load_trainer_state(path: str | Path) -> dict[str, Any]:
    """Read a trainer state written by :func:`save_trainer_state`; never unpickles code."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"Trainer state {path} does not exist; resume from a run folder that has a snapshot.")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"Trainer state {path} cannot be read ({reason}); it is corrupt or not a voice2face snapshot — "
            "resume from an earlier snapshot."
        ) from None
