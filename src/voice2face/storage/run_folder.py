"""RunFolder: a numbered training run (``runs/00003-synthvox-quick/``), as StyleGAN2 lays them out.

    run = RunFolder.create("runs", "synthvox-quick")            # runs/00003-synthvox-quick
    run.write_options(RunOptions(stage="gan", preset="synthvox-quick", ...))
    run.append_metrics(metric_record("fid", {"fid": 12.5}, snapshot="kimg 100"))  # one line of metrics.jsonl
    run.model.save(modules, config, trainer_state=state)        # the latest snapshot, model/
    run.mark_done()                                             # it has trained the length asked for
    [r.path.name for r in find_runs("runs", "*-synthvox-quick", matching={"seed": 0})]

Every file name comes from :mod:`voice2face.storage.layout`.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from voice2face.errors import CheckpointError, ConfigError
from voice2face.storage import layout
from voice2face.storage.metric_records import append_metric_record, read_metric_records
from voice2face.storage.model_folder import ModelFolder
from voice2face.utils.files import atomic_write_text

_RUN_NAME = re.compile(r"^(\d{5})-")
_DESCRIPTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
#: Options that a stage always records, even when None (so a file reads back as it was written).
_STAGE_PATHS = {"encoder": (), "gan": ("encoder",), "mapper": ("generator", "encoder")}


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """A run's ``training_options.json``: the resolved settings a run was made with.

    stage: ``"encoder"`` (train-encoder), ``"gan"`` (train) or ``"mapper"`` (the voice→W+ stage).
    config: the stage's training config in its JSON form, as written (see :meth:`training_config`
    for the typed one): runs are matched on it, and a run of an older version, whose config no
    longer parses, must still be recognised and left alone. encoder / generator: the model folders
    a stage started from. extra: keys this version does not know, kept so that nothing is lost.
    Every field may be missing from an older file.
    """

    stage: str | None = None
    preset: str | None = None
    data: str | None = None
    seed: int | None = None
    config: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    encoder: str | None = None
    generator: str | None = None
    world_size: int | None = None
    voice2face_version: str | None = None
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "training options") -> RunOptions:
        """Parse a ``training_options.json`` object (any version's); ConfigError names ``where``."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where} must hold a JSON object; the run folder is damaged.")
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        known = {key: value for key, value in data.items() if key in names}
        for key in ("stage", "preset", "data", "encoder", "generator", "voice2face_version"):
            if known.get(key) is not None and not isinstance(known[key], str):
                raise ConfigError(f"{where}: {key} must be a string, got {known[key]!r}; the run folder is damaged.")
        for key in ("seed", "world_size"):
            value = known.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ConfigError(f"{where}: {key} must be an integer, got {value!r}; the run folder is damaged.")
        if not isinstance(known.get("config", {}), Mapping):
            raise ConfigError(f"{where}: config must be an object; the run folder is damaged.")
        extra = {key: value for key, value in data.items() if key not in names}
        return cls(**known, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object :meth:`from_dict` reads back (the keys the old untyped options had)."""
        out: dict[str, Any] = {
            "stage": self.stage, "preset": self.preset, "data": self.data, "seed": self.seed,
            "config": dict(self.config), "voice2face_version": self.voice2face_version,
        }  # fmt: skip
        for key in ("encoder", "generator"):
            if key in _STAGE_PATHS.get(self.stage or "", ()) or getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.world_size is not None:
            out["world_size"] = self.world_size
        return {**self.extra, **out}

    def training_config(self, where: str = "training options") -> Any:
        """The stage's typed training config (EncoderTrainingConfig, GANTrainingConfig or MapperTrainingConfig)."""
        from voice2face.config import EncoderTrainingConfig, GANTrainingConfig, MapperTrainingConfig, from_dict

        kinds = {"encoder": EncoderTrainingConfig, "gan": GANTrainingConfig, "mapper": MapperTrainingConfig}
        if self.stage not in kinds:
            raise ConfigError(f"{where} names no known stage ({self.stage!r}); it was not written by voice2face.")
        return from_dict(kinds[self.stage], dict(self.config), where=where)


@dataclasses.dataclass(frozen=True)
class RunFolder:
    """A run folder: options, training statistics, evaluation records, the latest snapshot
    (``model/``), grids, and the done marker. Creating one numbers it; nothing else writes here
    by a name of its own."""

    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    @classmethod
    def create(cls, root: str | Path, description: str) -> RunFolder:
        """Create ``root/NNNNN-description`` with the next free number (safe against a concurrent creator)."""
        if not _DESCRIPTION.match(description):
            raise ConfigError(f"Run description {description!r} must be letters, digits, '.', '_' or '-'.")
        root = Path(root)
        if root.exists() and not root.is_dir():
            raise ConfigError(f"Runs folder {root} is a file; choose a folder for --out.")
        root.mkdir(parents=True, exist_ok=True)
        while True:
            numbers = [int(m.group(1)) for p in root.iterdir() if (m := _RUN_NAME.match(p.name))]
            path = root / f"{max(numbers, default=-1) + 1:05d}-{description}"
            try:
                path.mkdir()  # fails if another process took this number first: try the next
                return cls(path)
            except FileExistsError:
                continue

    @property
    def number(self) -> int | None:
        """The run's number (``3`` for ``00003-...``), None for a folder not named like a run."""
        match = _RUN_NAME.match(self.path.name)
        return int(match.group(1)) if match else None

    # ------------------------------------------------------------------ names

    @property
    def model(self) -> ModelFolder:
        """The latest snapshot, ``model/``: a model folder."""
        return ModelFolder(self.path / layout.MODEL_DIR, run=self)

    @property
    def options_path(self) -> Path:
        """``training_options.json``."""
        return self.path / layout.OPTIONS_FILE

    @property
    def stats_path(self) -> Path:
        """``stats.jsonl``: training reports (TensorBoard events sit beside it, in :attr:`tensorboard_dir`)."""
        return self.path / layout.STATS_FILE

    @property
    def tensorboard_dir(self) -> Path:
        """The folder TensorBoard event files go to: the run folder itself."""
        return self.path

    @property
    def metrics_path(self) -> Path:
        """``metrics.jsonl``: evaluation records (:meth:`append_metrics`, :meth:`read_metrics`)."""
        return self.path / layout.METRICS_FILE

    @property
    def trainer_state_path(self) -> Path:
        """The latest snapshot's trainer state, ``model/trainer_state.pt``."""
        return self.model.trainer_state_path

    @property
    def projector_path(self) -> Path:
        """``projector.safetensors``: the projector the run used (the mapper's regression mode)."""
        return self.path / layout.PROJECTOR_FILE

    @property
    def codes_path(self) -> Path:
        """``speaker_codes.safetensors``: the speakers' projected W+ codes, kept for resume."""
        return self.path / layout.CODES_FILE

    @property
    def reader_path(self) -> Path:
        """``selection_reader.safetensors``: a selecting mapper's trait reader, kept for resume."""
        return self.path / layout.READER_FILE

    @property
    def reals_grid(self) -> Path:
        """``reals.png``: a stage-2 run's grid of real faces."""
        return self.path / layout.REALS_GRID

    @property
    def projection_grid(self) -> Path:
        """``projection.png``: training faces beside their projected codes."""
        return self.path / layout.PROJECTION_GRID

    def fakes_grid(self, images_seen: int) -> Path:
        """A stage-2 snapshot's grid, ``fakesNNNNNN.png`` (thousands of images seen)."""
        return self.path / layout.fakes_grid_name(images_seen)

    def portraits_grid(self, step: int) -> Path:
        """A voice→W+ snapshot's grid, ``portraitsNNNNNN.png``."""
        return self.path / layout.portraits_grid_name(step)

    def history_generator(self, images_seen: int) -> Path:
        """A pretraining snapshot's EMA generator, ``history/generatorNNNNNN.safetensors`` (kimg)."""
        return self.path / layout.HISTORY_DIR / layout.history_generator_name(images_seen)

    def history_generators(self) -> list[Path]:
        """Every kept pretraining snapshot's generator, oldest first."""
        return sorted((self.path / layout.HISTORY_DIR).glob(layout.HISTORY_GENERATORS))

    def evaluation_grid(self, split: str) -> Path:
        """The grid of the latest evaluation on ``split``, ``eval-<split>-fakes.png``."""
        return self.path / layout.evaluation_grid_name(split)

    def fakes_grids(self) -> list[Path]:
        """Every stage-2 snapshot grid, oldest first."""
        return sorted(self.path.glob(layout.FAKES_GRIDS))

    def evaluation_grids(self) -> list[Path]:
        """Every evaluation grid, by split name."""
        return sorted(self.path.glob(layout.EVALUATION_GRIDS))

    # ------------------------------------------------------------------ options

    @property
    def has_options(self) -> bool:
        """Whether the folder holds ``training_options.json`` (a run made by voice2face training)."""
        return self.options_path.is_file()

    def read_options(self) -> RunOptions:
        """The run's options; ConfigError when missing, unreadable or not options."""
        path = self.options_path
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(
                f"{self.path} has no {layout.OPTIONS_FILE}; --resume takes a run folder made by voice2face."
            ) from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{path} is unreadable ({exc}); the run folder is damaged.") from None
        return RunOptions.from_dict(data, where=str(path))

    def write_options(self, options: RunOptions) -> None:
        """Write ``training_options.json`` atomically (sorted keys, two-space indent)."""
        atomic_write_text(self.options_path, json.dumps(options.to_dict(), indent=2, sort_keys=True) + "\n")

    # ------------------------------------------------------------------ evaluation records

    def append_metrics(self, record: Mapping[str, Any]) -> Path:
        """Append one evaluation record (:func:`~voice2face.storage.metric_records.metric_record`) as a
        line of ``metrics.jsonl``, atomically; returns the file's path. The folder must exist."""
        return append_metric_record(self.metrics_path, record)

    def read_metrics(self) -> list[dict[str, Any]]:
        """Every record of ``metrics.jsonl``, oldest first (empty when the run has none)."""
        return read_metric_records(self.metrics_path)

    # ------------------------------------------------------------------ snapshot and done

    def read_trainer_state(self) -> dict[str, Any]:
        """The latest snapshot's trainer state (``torch.load(weights_only=True)``)."""
        return self.model.read_trainer_state()

    @property
    def done(self) -> bool:
        """Whether the run has finished the length it was asked for (:meth:`mark_done` was called)."""
        return (self.path / layout.DONE_MARKER).is_file()

    def mark_done(self) -> None:
        """Record that the run has finished: a later build reuses it instead of training it again."""
        if not self.model.exists:
            raise CheckpointError(f"{self.path} has no snapshot in {layout.MODEL_DIR}/; it cannot be finished.")
        atomic_write_text(self.path / layout.DONE_MARKER, "finished\n")


def find_runs(
    root: str | Path,
    pattern: str = "*",
    matching: Mapping[str, Any] | Callable[[RunOptions], bool] | None = None,
) -> list[RunFolder]:
    """The run folders in ``root`` whose names match the glob ``pattern`` and whose options match,
    by name (oldest first). A folder without readable options is not a run and is skipped.

    matching: ``{option: value}`` (RunOptions fields, or keys an older file has in ``extra``), all
    equal to the run's; or a function of the run's :class:`RunOptions`.
    """
    found = []
    for path in sorted(Path(root).glob(pattern)):
        run = RunFolder(path)
        if not run.has_options:
            continue
        try:
            options = run.read_options()
        except ConfigError:
            continue
        if matching is None or (matching(options) if callable(matching) else _matches(options, matching)):
            found.append(run)
    return found


def _matches(options: RunOptions, wanted: Mapping[str, Any]) -> bool:
    fields = {f.name for f in dataclasses.fields(RunOptions)} - {"extra"}
    for key, value in wanted.items():
        have = getattr(options, key) if key in fields else options.extra.get(key)
        if have != value:
            return False
    return True
