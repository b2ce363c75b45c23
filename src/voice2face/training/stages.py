"""The one stage runner: what every training command does around its trainer.

:func:`run_stage` joins the process group, has the stage read its data (before any run folder
exists, so a bad dataset leaves nothing behind), opens the run folder (a new numbered one, or the
resumed one with an interrupted snapshot swap put back), records the options of a new run, has
the stage build its trainer, continues from the run's snapshot when resuming (refusing a run that
already stands at its length; a longer ``--kimg``/``--steps`` is recorded in its options), and trains with
:func:`voice2face.training.loop.run_training`, the stats going to ``stats.jsonl``. The stages
differ only in what a :class:`Stage` does: the encoder, the generator and the voice→W+ mapper
(:mod:`voice2face.training.runner` has the public functions that make them).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path

from voice2face.errors import ConfigError
from voice2face.storage import RunFolder, RunOptions
from voice2face.training.distributed import DistributedContext, init_distributed, shutdown
from voice2face.training.loop import Trainer, run_training
from voice2face.training.stats import StatsWriter

log = logging.getLogger(__name__)


class Stage:
    """What one training stage brings to :func:`run_stage`; the defaults do nothing."""

    #: The run folder's name after its number, e.g. ``"synthvox-quick-encoder"``.
    description: str = "run"

    def load(self, context: DistributedContext) -> None:
        """Read the stage's data (before the run folder exists)."""

    def build(self, run: RunFolder, context: DistributedContext) -> Trainer:
        """The trainer, at step 0 (its snapshot, when resuming, is loaded after)."""
        raise NotImplementedError

    def start(self, run: RunFolder, trainer: Trainer) -> None:
        """A new run's first files besides its options (rank 0), e.g. a grid of real faces."""

    def on_snapshot(self, run: RunFolder) -> Callable[[Trainer, bool], None] | None:
        """What to write after each snapshot (rank 0), e.g. an image grid; None: nothing. It is called
        with the trainer and whether the snapshot was on the schedule (False: a stop between two)."""
        return None

    def finish(self, trainer: Trainer, reason: str | None) -> None:
        """After the loop: ``reason`` is why it stopped early ("budget"), or None."""


def run_stage(
    stage: Stage,
    options: RunOptions,
    *,
    out_dir: str | Path | None,
    resume: str | Path | None,
    device: str = "auto",
    time_budget_s: float | None = None,
    called: float | None = None,
    max_steps: int | None = None,
    progress: bool = True,
) -> Path:
    """Train ``stage`` into a new run folder under ``out_dir`` (recording ``options``), or continue
    the run folder ``resume``. Returns the run folder.

    time_budget_s: seconds for the whole call since ``called`` (a ``time.monotonic()`` reading taken
    when the command began; default now), the set-up (features, reading faces) included: training
    stops at the first step boundary after it and writes its snapshot. max_steps: stop there at the
    latest (a test's or a benchmark's cut)."""
    called = time.monotonic() if called is None else called
    resume_dir = Path(resume) if resume is not None else None
    context = init_distributed(device)
    try:
        stage.load(context)
        run = open_run(Path(out_dir) if out_dir else None, resume_dir, stage.description, context)
        if resume_dir is None and context.is_main:
            # before the trainer: a mapper's set-up (projecting faces) can take long, and a run stopped
            # during it must be resumable
            run.write_options(dataclasses.replace(options, world_size=context.world_size))
        trainer = stage.build(run, context)
        if resume_dir is None:
            if context.is_main:
                stage.start(run, trainer)
        else:
            if run.model.exists:
                trainer.load_snapshot(run.model.path)
                check_unfinished(run, trainer)
            if context.is_main:
                record_length(run, options)  # once the length is known to lie ahead
        stats = StatsWriter(run.path) if context.is_main else None
        try:
            reason = run_training(
                trainer, run, max_steps=max_steps, time_budget_s=time_left(time_budget_s, called), stats=stats,
                progress=progress, on_snapshot=stage.on_snapshot(run),
            )  # fmt: skip
        finally:
            if stats is not None:
                stats.close()
        stage.finish(trainer, reason)
        return run.path
    finally:
        shutdown(context)


def record_length(run: RunFolder, options: RunOptions) -> None:
    """A resumed run lengthened by ``--kimg`` / ``--steps`` records its new length in its options (that
    key alone; the rest stays as written), so that its folder says how long it runs and a plain
    ``--resume`` continues to that length."""
    saved = run.read_options()
    for key in ("kimg", "steps"):
        if key in options.config and key in saved.config and options.config[key] != saved.config[key]:
            run.write_options(dataclasses.replace(saved, config={**saved.config, key: options.config[key]}))
            log.info("%s: its length is now %s %s (recorded in its options)", run.path, options.config[key], key)


def check_unfinished(run: RunFolder, trainer: Trainer) -> None:
    """Refuse to resume a run whose snapshot already stands at (or past) its recorded length: there is
    nothing to train, and the message names the option that lengthens it."""
    schedule = trainer.schedule()
    if trainer.step < schedule.steps():
        return
    if schedule.unit == "image":
        length, option = f"{schedule.total / 1000:g} kimg", "--kimg"
    else:
        length, option = f"{schedule.total} steps", "--steps"
    raise ConfigError(
        f"Run folder {run.path} already stands at {schedule.position(trainer.step)}, at or past the length "
        f"asked for ({length}); pass {option} with a larger length to continue it."
    )


def open_run(out_dir: Path | None, resume: Path | None, description: str, context: DistributedContext) -> RunFolder:
    """The resumed run folder (an interrupted snapshot swap put back), or a new numbered one under
    ``out_dir`` (made by rank 0; every rank gets its name)."""
    if resume is not None:
        if not resume.is_dir():
            raise ConfigError(f"Run folder {resume} does not exist; pass the folder printed when the run started.")
        RunFolder(resume).model.recover()
        return RunFolder(resume)
    if out_dir is None:
        raise ConfigError("give --out RUNS_DIR for a new run (or --resume RUN_DIR to continue one).")
    if context.is_main:
        run_dir = RunFolder.create(out_dir, description).path
    if context.distributed:
        import torch.distributed as dist

        names = [str(run_dir) if context.is_main else None]
        dist.broadcast_object_list(names, src=0)
        run_dir = Path(names[0])
    return RunFolder(run_dir)


def time_left(budget_s: float | None, called: float, now: float | None = None) -> float | None:
    """What a call's time budget leaves for its training loop once its set-up (since ``called``,
    until ``now``; both ``time.monotonic()`` readings) is spent."""
    now = time.monotonic() if now is None else now
    return None if budget_s is None else max(0.0, budget_s - (now - called))
