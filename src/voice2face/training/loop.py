"""The one training loop. Every stage runs through :func:`run_training`; a trainer brings its step.

The loop owns what every stage shares: the step count and progress bar, stopping at the time
budget or on Ctrl-C (agreed by all ranks, :func:`~voice2face.training.distributed.stop_reason`),
validation every ``validate_every``, a snapshot every ``snapshot_every`` and at the end, one
``stats.jsonl`` line every ``report_every`` steps, the interrupt message with the command that
resumes, and the rule that only rank 0 writes files under torchrun.

A trainer (:class:`Trainer`) owns ``train_step``, ``validate`` and its state
(``save_snapshot``/``load_snapshot``), and says in :meth:`Trainer.schedule` how long it runs and
how often the loop does what, counted in its progress unit: steps (the encoder, the mapper) or
images (the GAN, whose lengths are in kimg). A new stage is a new trainer, never a new loop.

Validation is passed a ``check`` to call between pieces of work (e.g. once per utterance): it
raises when the budget is spent or Ctrl-C was pressed, so a long validation never holds a run
past its ``--minutes``. A validation cut short records no figure; the loop then stops as it would
have at the next step, with its snapshot.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from tqdm import tqdm

from voice2face.errors import TrainingInterrupted
from voice2face.storage import RunFolder
from voice2face.training.distributed import DistributedContext, StopRequest, stop_reason

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schedule:
    """How long a trainer runs and when the loop validates, reports and snapshots.

    Lengths and intervals are in the trainer's ``unit``: ``"step"``, or ``"image"`` for a trainer
    measured in images seen (shown as kimg); one step adds ``units_per_step`` of them. An interval
    fires at the step that reaches or passes one of its multiples (for steps: every N-th step).
    ``validate_every`` None: the trainer has no validation. ``images_per_step`` gives the kimg of
    each ``stats.jsonl`` line; ``timing`` adds ``timing/sec_per_kimg`` to it.
    """

    total: int
    snapshot_every: int
    validate_every: int | None = None
    report_every: int = 1
    unit: Literal["step", "image"] = "step"
    units_per_step: int = 1
    images_per_step: int = 1
    timing: bool = False
    description: str | None = None  # the progress bar's label

    def units(self, step: int) -> int:
        """Progress after ``step`` steps, in the schedule's unit."""
        return step * self.units_per_step

    def steps(self, max_steps: int | None = None) -> int:
        """The step the run ends at: its length in steps, or ``max_steps`` if that comes first."""
        steps = math.ceil(self.total / self.units_per_step)
        return steps if max_steps is None else min(steps, max_steps)

    def fires(self, every: int | None, step: int) -> bool:
        """Whether step ``step`` (just taken) reaches or passes a multiple of ``every`` units."""
        return every is not None and self.units(step) // every > self.units(step - 1) // every

    def position(self, step: int) -> str:
        """Where a run stands after ``step`` steps, as logs and messages say it: "step 3", "0.50 kimg"."""
        return f"step {step}" if self.unit == "step" else f"{self.units(step) / 1000:.2f} kimg"


class Trainer(Protocol):
    """What the loop needs of a stage's trainer (encoder, GAN, mapper)."""

    #: The command that resumes this stage's runs, e.g. ``"voice2face train"``.
    resume_command: str
    #: Steps taken so far (restored by :meth:`load_snapshot`).
    step: int
    context: DistributedContext

    def schedule(self) -> Schedule:
        """The run's length and intervals (from the trainer's config)."""
        ...

    def train_step(self) -> dict[str, float]:
        """One optimisation step; returns its scalars for ``stats.jsonl``. Advances :attr:`step`."""
        ...

    def validate(self, check: Callable[[], None] = ...) -> dict[str, float]:
        """Validation figures; calls ``check()`` between pieces of work (it may raise to cut it short)."""
        ...

    def save_snapshot(self, model_dir: Path) -> None:
        """Replace ``model_dir`` atomically with the networks and everything an exact resume needs."""
        ...

    def load_snapshot(self, model_dir: Path) -> None:
        """Continue from a snapshot written by :meth:`save_snapshot`."""
        ...


def checked(items: Iterable, check: Callable[[], None]) -> Iterator:
    """Yield each of ``items`` after calling ``check()`` (the loop's, inside a validation: it raises
    to cut the validation short for the budget or Ctrl-C), so a validation over many utterances
    stops between two of them."""
    for item in items:
        check()
        yield item


class _ValidationCut(Exception):
    """Raised by the ``check`` a validation calls, once the run must stop."""


def run_training(
    trainer: Trainer,
    run: RunFolder,
    *,
    max_steps: int | None = None,
    time_budget_s: float | None = None,
    stats=None,
    progress: bool = True,
    on_snapshot: Callable[[Trainer, bool], None] | None = None,
) -> str | None:
    """Train ``trainer`` to the end of its schedule (or ``max_steps``, or ``time_budget_s`` seconds),
    snapshotting into ``run``'s ``model/``. Returns why it stopped early ("budget"), or None.

    ``stats``: a :class:`~voice2face.training.stats.StatsWriter` (or None).
    ``on_snapshot(trainer, scheduled)`` runs after each snapshot (e.g. to write image grids);
    ``scheduled`` is False for the final one of a run that stopped off its snapshot schedule (a budget's
    end, Ctrl-C, a length that is no multiple). A final snapshot is always written, so a
    time-limited run still holds ``model/``; on Ctrl-C the step in progress finishes, the snapshot
    is written and :class:`TrainingInterrupted` is raised, naming the command that resumes exactly.
    Under torchrun only rank 0 writes (stats, snapshots, grids); every rank trains and validates.
    """
    schedule = trainer.schedule()
    main = trainer.context.is_main
    model_dir = run.model.path
    last_step = schedule.steps(max_steps)
    start = time.monotonic()
    saved_step = -1
    reason = None
    bar = _progress_bar(schedule, trainer.step, last_step, disable=not (progress and main))
    tick = time.monotonic()

    def snapshot(scheduled: bool) -> None:
        trainer.save_snapshot(model_dir)
        if on_snapshot is not None:
            on_snapshot(trainer, scheduled)

    try:
        with StopRequest() as stop:

            def check() -> None:
                nonlocal reason
                reason = stop_reason(start, time_budget_s, trainer.context, stop)
                if reason is not None:
                    raise _ValidationCut

            while trainer.step < last_step:
                reason = stop_reason(start, time_budget_s, trainer.context, stop)
                if reason is not None:
                    break
                step_stats = trainer.train_step()
                bar.update(schedule.units_per_step / (1000 if schedule.unit == "image" else 1))
                if schedule.validate_every is not None and (
                    schedule.fires(schedule.validate_every, trainer.step) or trainer.step == last_step
                ):
                    try:
                        step_stats.update(trainer.validate(check))
                    except _ValidationCut:
                        log.info("validation at %s cut short (%s); no figure recorded for it",
                                 schedule.position(trainer.step), reason)  # fmt: skip
                if main and trainer.step % schedule.report_every == 0:
                    if schedule.timing:
                        now = time.monotonic()
                        kimg = schedule.report_every * schedule.images_per_step / 1000
                        step_stats["timing/sec_per_kimg"] = (now - tick) / kimg
                        tick = now
                    bar.set_postfix_str(_postfix(step_stats))
                    if stats is not None:
                        stats.write(trainer.step, trainer.step * schedule.images_per_step / 1000, step_stats)
                if schedule.fires(schedule.snapshot_every, trainer.step) and main:
                    snapshot(True)
                    saved_step = trainer.step
                if reason is not None:  # found by a validation's check
                    break
    finally:
        bar.close()
    if reason is not None:
        log.info("stopping (%s) at %s of %s", reason, schedule.position(trainer.step), schedule.position(last_step))
    if main and saved_step != trainer.step:
        snapshot(False)
    if reason == "interrupt":
        raise TrainingInterrupted(
            f"interrupted at {schedule.position(trainer.step)}; {model_dir} holds a snapshot that continues "
            f"exactly with: {trainer.resume_command} --resume {run.path}"
        )
    return reason


def _progress_bar(schedule: Schedule, step: int, last_step: int, *, disable: bool) -> tqdm:
    if schedule.unit == "image":
        total = min(schedule.total, schedule.units(last_step))
        return tqdm(
            total=total / 1000, initial=schedule.units(step) / 1000, unit="kimg", disable=disable,
            desc=schedule.description,
            bar_format="{l_bar}{bar}| {n:.2f}/{total:.2f} kimg [{elapsed}<{remaining}] {postfix}",
        )  # fmt: skip
    return tqdm(total=last_step, initial=step, unit="step", desc=schedule.description, disable=disable)


def _postfix(scalars: dict[str, float], count: int = 4) -> str:
    """The progress bar's tail: the first few scalars by their last name part, and the speed."""
    shown = [(name, value) for name, value in scalars.items() if not name.startswith("timing/")][:count]
    text = " ".join(f"{name.split('/')[-1]} {value:.3f}" for name, value in shown)
    if "timing/sec_per_kimg" in scalars:
        text += f" {scalars['timing/sec_per_kimg']:.1f} s/kimg"
    return text
