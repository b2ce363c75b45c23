"""Train the tiny stage-2 setup forever, snapshotting every step, resuming from RUN/model if present.

    python tests/kill_worker.py RUN_DIR

The kill -9 test starts this, kills it at arbitrary moments, and checks the snapshot each time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))

from voice2face.storage import RunFolder
from voice2face.storage.checkpoint import recover_interrupted_swap
from voice2face.training.loop import run_training

from tiny_gan import make_trainer


def main() -> None:
    run = Path(sys.argv[1])
    torch.set_num_threads(1)
    trainer = make_trainer(snapshot_kimg=0.004, kimg=1000.0)  # batch 4: a snapshot after every step
    recover_interrupted_swap(run / "model")
    if (run / "model" / "config.json").is_file():
        trainer.load_snapshot(run / "model")
    run_training(trainer, RunFolder(run), progress=False)


if __name__ == "__main__":
    main()
