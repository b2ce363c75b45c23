"""Trainer state that survives a kill: optimisers, counters, EMA, RNG streams, data position.

Saved with ``torch.save`` of plain containers of tensors and numbers only, and always loaded
with ``torch.load(weights_only=True)``: no class is ever unpickled. Writes are atomic.
"""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from voice2face.errors import CheckpointError
from voice2face.utils.files import atomic_open


def capture_rng(generators: dict[str, torch.Generator | np.random.Generator] | None = None) -> dict[str, Any]:
    """Every random stream the trainer draws from, as weights-only-loadable values."""
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": _python_state_to_plain(random.getstate()),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    for name, generator in (generators or {}).items():
        if isinstance(generator, torch.Generator):
            state[f"torch:{name}"] = generator.get_state()
        else:
            state[f"numpy:{name}"] = generator.bit_generator.state
    return state


def restore_rng(state: dict[str, Any], generators: dict[str, torch.Generator | np.random.Generator] | None = None):
    """Put back what :func:`capture_rng` recorded (into the same named generators)."""
    torch.set_rng_state(state["torch"])
    random.setstate(_python_state_from_plain(state["python"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    for name, generator in (generators or {}).items():
        if isinstance(generator, torch.Generator):
            generator.set_state(state[f"torch:{name}"])
        else:
            generator.bit_generator.state = state[f"numpy:{name}"]


def _python_state_to_plain(state: tuple) -> list:
    version, internal, gauss = state
    return [version, list(internal), gauss]


def _python_state_from_plain(plain: list) -> tuple:
    version, internal, gauss = plain
    return (version, tuple(internal), gauss)


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
