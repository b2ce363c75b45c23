"""The run and model folders on disk: every name in them, and the only code that reads or writes
weights, trainer state and run files.

- :mod:`.layout`: every file and folder name of a model folder and a run folder, markers included;
- :mod:`.checkpoint`: weights in and out of a model folder (safetensors, checksums, atomic swap);
- :mod:`.trainer_state`: trainer state (``torch.load(weights_only=True)``, atomic writes);
- :class:`ModelFolder`: path → config, components, atomic save, trainer state, ``bundled()``;
- :class:`RunFolder` and :class:`RunOptions`: numbered runs, their typed options, statistics,
  metrics, snapshot, grids and done marker; :func:`find_runs` finds runs made with given settings;
- :mod:`.metric_records`: the records of ``metrics.jsonl`` (:func:`metric_record`) and
  :func:`json_ready`, the one conversion of measured values into plain JSON;
- :func:`resolve`: a model folder, a run folder, a run's ``model/`` or the bundled model → its ModelFolder;
- :mod:`.png`: PNGs marked as synthetic images (the only writer of generated faces to files).
- :mod:`.instruments`: the evaluation instruments shipped with the package and the record of
  the corpus they were trained on (what the bundle's ``--install`` writes, what the demo reads).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from voice2face.storage.layout import bundled_model_dir

if TYPE_CHECKING:
    from voice2face.storage.checkpoint import LoadedModel
    from voice2face.storage.metric_records import json_ready, metric_record
    from voice2face.storage.model_folder import ModelFolder
    from voice2face.storage.resolver import resolve
    from voice2face.storage.run_folder import RunFolder, RunOptions, find_runs

# Imported on first use, so that reading a file name (layout) does not import torch.
_LAZY = {
    "LoadedModel": "checkpoint", "ModelFolder": "model_folder", "resolve": "resolver", "RunFolder": "run_folder",
    "RunOptions": "run_folder", "find_runs": "run_folder", "json_ready": "metric_records",
    "metric_record": "metric_records",
}  # fmt: skip

__all__ = [
    "LoadedModel", "ModelFolder", "RunFolder", "RunOptions", "bundled_model_dir", "find_runs", "json_ready",
    "metric_record", "resolve",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"voice2face.storage.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'voice2face.storage' has no attribute {name!r}")
