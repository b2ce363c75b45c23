"""Which earlier training runs a recipe continues, and what a run records of how it was trained.

A build is resumable: rerun after an interruption, it continues the runs in its ``runs`` folder
that were made the same way, matched by their saved settings (a run of an older version of a
preset is left alone). A run's settings are compared in their JSON form, as
``training_options.json`` holds them, without the key that sets the run's length (a shorter run
of the same settings is continued, not replaced).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voice2face.config import TrainingPreset

#: A pause between two ``stats.jsonl`` records longer than this (seconds) is a run stopped and
#: resumed later, not training time.
RESUME_GAP_S = 600.0


def as_saved(config) -> dict:
    """A config dataclass as it reads back from a JSON file (tuples become lists)."""
    from voice2face.config import to_dict

    return json.loads(json.dumps(to_dict(config)))


def _settings(saved: dict, length: str) -> dict:
    """A training config in its JSON form without its ``length`` key."""
    return {key: value for key, value in saved.items() if key != length}


def _today(saved: dict, like: object, length: str) -> dict | None:
    """A run's saved training config read as today's ``type(like)`` (settings added since it was made
    take their defaults, as they do when the run resumes) in JSON form without ``length``; None if it
    no longer reads."""
    from voice2face.config import from_dict
    from voice2face.errors import ConfigError

    try:
        return _settings(as_saved(from_dict(type(like), dict(saved))), length)
    except ConfigError:
        return None


def finished_encoder_run(runs: Path, preset: TrainingPreset, seed: int, steps: int | None) -> Path | None:
    """A finished stage-1 run in ``runs`` made with this preset's settings, ``seed`` and ``steps``
    (the preset's when None); a run of an older version of the preset is left alone."""
    from voice2face.storage import find_runs

    wanted = _settings(as_saved(preset.encoder), "steps")
    steps = preset.encoder.steps if steps is None else steps
    for run in find_runs(runs, f"*-{preset.name}-encoder", matching={"seed": seed, "preset": preset.name}):
        saved = run.read_options()
        if run.done and saved.config.get("steps") == steps and _today(saved.config, preset.encoder, "steps") == wanted:
            return run.path
    return None


def earlier_gan_run(runs: Path, preset: TrainingPreset, seed: int, encoder_run: Path) -> Path | None:
    """The latest stage-2 run in ``runs`` made with this preset's settings (any length), seed and
    encoder, to be continued; a run of an older version of the preset is left alone."""
    from voice2face.storage import RunFolder, find_runs

    wanted = _settings(as_saved(preset.gan), "kimg")
    encoder = RunFolder(encoder_run).model.path
    found = None
    for run in find_runs(runs, f"*-{preset.name}", matching={"seed": seed}):
        saved = run.read_options()
        same = _today(saved.config, preset.gan, "kimg") == wanted
        if run.model.exists and Path(saved.encoder or "") == encoder and same:
            found = run.path
    return found


def earlier_pretraining_run(runs: Path, preset: TrainingPreset, seed: int, faces: Path) -> Path | None:
    """The latest unconditional pretraining in ``runs`` made with this preset's settings (any
    length) and seed on the face corpus ``faces``, to be continued."""
    from voice2face.storage import find_runs

    wanted = _settings(as_saved(preset.gan), "kimg")
    found = None
    same = lambda saved: _today(saved.config, preset.gan, "kimg") == wanted and saved.data == str(faces)  # noqa: E731
    for candidate in find_runs(runs, f"*-{preset.name}", matching={"seed": seed}):
        if same(candidate.read_options()) and candidate.model.exists:
            found = candidate.path
    return found


def training_seconds(run: Path) -> float:
    """How long a run trained: the time between consecutive ``stats.jsonl`` records, summed, leaving
    out gaps of more than ten minutes (a run stopped and resumed later, e.g. in another session)."""
    from voice2face.storage import RunFolder

    lines = RunFolder(run).stats_path.read_text().splitlines()
    times = [json.loads(line)["time"] for line in lines if line.strip()]
    return sum(b - a for a, b in itertools.pairwise(times) if 0 <= b - a <= RESUME_GAP_S)


def drew_with(run: Path, generator: Path) -> bool:
    """Whether a voice-side run's snapshot holds the generator weights now in the model folder
    ``generator``: a folder committed in place (a pretraining snapshot continued) keeps its path and
    changes its weights, so matching a run by the path alone would reuse a voice side fitted to the
    old generator. A run with no snapshot yet is taken as it is."""
    from voice2face.storage import ModelFolder, RunFolder

    model = RunFolder(run).model
    if not model.exists:
        return True
    return model.config().weights_sha256("generator") == ModelFolder(generator).config().weights_sha256("generator")


def options_of(run_or_model: Path, part: str = "encoder") -> dict:
    """How a network was trained: the training_options.json of a run (given the run or its model/
    folder), or what an earlier bundled model's provenance.json says of its ``part`` ("encoder" or
    "pretraining"); {} if neither."""
    from voice2face.storage import ModelFolder, RunFolder

    for folder in (run_or_model, run_or_model.parent):
        if RunFolder(folder).has_options:
            return RunFolder(folder).read_options().to_dict()
    if ModelFolder(run_or_model).provenance_path.is_file():
        training = json.loads(ModelFolder(run_or_model).provenance_path.read_text()).get("training", {})
        return {"from": str(run_or_model), **training.get(part, {})}
    return {}


def face_count(generator: Path) -> int | None:
    """How many faces the generator was pretrained on, from its run's dataset manifest (None if unknown)."""
    from voice2face.data.manifest import MANIFEST_NAME

    data = options_of(generator, "pretraining").get("data")
    try:
        return len(json.loads((Path(data) / MANIFEST_NAME).read_text())["faces"]) if data else None
    except (OSError, KeyError, TypeError, json.JSONDecodeError):
        return None
