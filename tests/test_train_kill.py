"""A kill -9 at any moment never leaves a corrupt latest snapshot, and training resumes from it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from voice2face.storage.checkpoint import load_pretrained, recover_interrupted_swap

from tiny_gan import make_trainer

WORKER = Path(__file__).parent / "kill_worker.py"


@pytest.mark.slow
def test_kill_9_at_arbitrary_moments_leaves_a_loadable_snapshot(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    steps_seen = []
    # Kill at staggered moments after the worker has started snapshotting, so some kills land
    # while a snapshot is being written or swapped into place.
    for delay in (0.0, 0.05, 0.13, 0.21, 0.34):
        proc = subprocess.Popen([sys.executable, str(WORKER), str(run)], env=env, stderr=subprocess.PIPE)
        config = run / "model" / "config.json"
        deadline = time.monotonic() + 120
        start_step = steps_seen[-1] if steps_seen else -1
        while time.monotonic() < deadline and proc.poll() is None:
            if config.is_file() and _snapshot_step(run) > start_step:
                break
            time.sleep(0.01)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        recover_interrupted_swap(run / "model")
        load_pretrained(run / "model")  # checksums of every weight file hold
        trainer = make_trainer(snapshot_kimg=0.004, kimg=1000.0)
        trainer.load_snapshot(run / "model")  # the trainer state matches the weights beside it
        steps_seen.append(trainer.step)
    assert steps_seen == sorted(steps_seen) and steps_seen[-1] > steps_seen[0]


def _snapshot_step(run: Path) -> int:
    try:
        trainer = make_trainer(snapshot_kimg=0.004, kimg=1000.0)
        trainer.load_snapshot(run / "model")
        return trainer.step
    except Exception:
        return -1
