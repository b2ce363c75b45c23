"""The one training loop (voice2face.training.loop) with a stand-in trainer: when it validates, reports
and snapshots, in steps and in images; that a budget or Ctrl-C stops it inside a validation; that only
rank 0 writes. And the encoder's validation sample."""

from __future__ import annotations

import signal
from pathlib import Path

import numpy as np
import pytest

from voice2face.data.containers import UtteranceFeatures
from voice2face.errors import TrainingInterrupted
from voice2face.storage import RunFolder
from voice2face.training.distributed import DistributedContext
from voice2face.training.loop import Schedule, run_training
from voice2face.training.stats import StatsWriter, read_stats
from voice2face.training.trainers.encoder import VALIDATION_SEED, validation_sample


class CountingTrainer:
    """A trainer without networks: records what the loop asked of it."""

    resume_command = "voice2face count"

    def __init__(self, schedule: Schedule, context: DistributedContext | None = None, validate=None):
        self._schedule, self.context = schedule, context or DistributedContext()
        self.step = 0
        self.validated: list[int] = []
        self.snapshots: list[int] = []
        self._validate = validate

    def schedule(self) -> Schedule:
        return self._schedule

    def train_step(self) -> dict[str, float]:
        self.step += 1
        return {"loss/x": float(self.step)}

    def validate(self, check=lambda: None) -> dict[str, float]:
        if self._validate is not None:
            self._validate(self, check)
        self.validated.append(self.step)
        return {"val/x": -float(self.step)}

    def save_snapshot(self, model_dir: Path) -> None:
        self.snapshots.append(self.step)

    def load_snapshot(self, model_dir: Path) -> None:
        raise NotImplementedError


def test_steps_validate_report_and_snapshot_on_schedule_and_at_the_end(tmp_path):
    schedule = Schedule(total=7, snapshot_every=3, validate_every=2, images_per_step=8)
    trainer = CountingTrainer(schedule)
    with StatsWriter(tmp_path, tensorboard=False) as stats:
        assert run_training(trainer, RunFolder(tmp_path), stats=stats, progress=False) is None
    assert trainer.validated == [2, 4, 6, 7] and trainer.snapshots == [3, 6, 7]
    records = read_stats(tmp_path / "stats.jsonl")
    assert [r["step"] for r in records] == list(range(1, 8)) and records[-1]["kimg"] == 7 * 8 / 1000
    assert [r["step"] for r in records if "val/x" in r] == [2, 4, 6, 7]
    # max_steps cuts the run short: it validates and snapshots where it stops
    cut = CountingTrainer(schedule)
    run_training(cut, RunFolder(tmp_path / "cut"), max_steps=5, progress=False)
    assert cut.validated == [2, 4, 5] and cut.snapshots == [3, 5]


def test_a_schedule_in_images_fires_where_the_count_passes_each_multiple(tmp_path):
    # 3 images a step, a snapshot every 4 images: passed at 6, 9, 12, then 18 (15 passes none); ends at 20
    schedule = Schedule(total=20, snapshot_every=4, report_every=2, unit="image", units_per_step=3,
                        images_per_step=3, timing=True)  # fmt: skip
    trainer = CountingTrainer(schedule)
    with StatsWriter(tmp_path, tensorboard=False) as stats:
        run_training(trainer, RunFolder(tmp_path), stats=stats, progress=False)
    assert trainer.step == 7 and trainer.snapshots == [2, 3, 4, 6, 7] and trainer.validated == []
    records = read_stats(tmp_path / "stats.jsonl")
    assert [r["step"] for r in records] == [2, 4, 6] and all("timing/sec_per_kimg" in r for r in records)
    assert schedule.position(7) == "0.02 kimg"


def test_ctrl_c_inside_a_validation_stops_it_with_a_snapshot_and_no_figure(tmp_path, python_sigint):
    def interrupt_then_check(trainer, check):
        if trainer.step == 4:
            signal.raise_signal(signal.SIGINT)
            check()  # raises: the loop cuts the validation short

    trainer = CountingTrainer(Schedule(total=10, snapshot_every=100, validate_every=2), validate=interrupt_then_check)
    with StatsWriter(tmp_path, tensorboard=False) as stats:
        with pytest.raises(TrainingInterrupted, match=r"interrupted at step 4; .* voice2face count --resume"):
            run_training(trainer, RunFolder(tmp_path), stats=stats, progress=False)
    assert trainer.validated == [2] and trainer.snapshots == [4]
    records = read_stats(tmp_path / "stats.jsonl")
    assert [r["step"] for r in records] == [1, 2, 3, 4] and "val/x" not in records[-1]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_spent_budget_stops_a_long_validation(tmp_path):
    checks = []

    def endless(trainer, check):  # a validation that would never end without the budget
        while len(checks) < 10**7:
            checks.append(1)
            check()

    trainer = CountingTrainer(Schedule(total=10, snapshot_every=100, validate_every=1), validate=endless)
    assert run_training(trainer, RunFolder(tmp_path), time_budget_s=1.0, progress=False) == "budget"
    assert trainer.step == 1 and trainer.validated == [] and trainer.snapshots == [1]
    assert len(checks) < 10**7


def test_only_rank_0_writes(tmp_path):
    trainer = CountingTrainer(Schedule(total=4, snapshot_every=2, validate_every=2), DistributedContext(rank=1))
    with StatsWriter(tmp_path, tensorboard=False) as stats:
        run_training(trainer, RunFolder(tmp_path), stats=stats, progress=False)
    assert trainer.step == 4 and trainer.validated == [2, 4]  # every rank trains and validates
    assert trainer.snapshots == [] and read_stats(tmp_path / "stats.jsonl") == []


def test_the_encoder_validates_on_a_fixed_sample_of_a_large_set():
    def utterances(count: int) -> UtteranceFeatures:
        rng = np.random.default_rng(count)
        features = [np.full((4, int(rng.integers(5, 9))), i, dtype=np.float32) for i in range(count)]
        return UtteranceFeatures(features, np.arange(count) % 7, [f"s{k}" for k in range(7)])

    small = utterances(20)
    assert validation_sample(small, 20) is small and validation_sample(small, None) is small
    large = utterances(300)
    sample = validation_sample(large, 50)
    again = validation_sample(large, 50)
    picked = [int(f[0, 0]) for f in sample.features]
    assert len(picked) == 50 and picked == sorted(set(picked)) == [int(f[0, 0]) for f in again.features]
    expected = np.sort(np.random.default_rng(VALIDATION_SEED).choice(300, 50, replace=False))
    assert picked == expected.tolist() and (sample.speaker == large.speaker[expected]).all()
    assert sample.speaker_names == large.speaker_names
