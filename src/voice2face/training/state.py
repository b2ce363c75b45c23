"""Random streams of a trainer as plain values, so that its state survives a kill and resumes exactly.

The trainer state itself (optimisers, counters, EMA, these streams, data position) is written and
read by :mod:`voice2face.storage.trainer_state` (weights-only loading, atomic writes).
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch


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
