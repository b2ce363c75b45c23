"""Training statistics: one JSON object per line in ``stats.jsonl``, mirrored to TensorBoard."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from voice2face.storage.run_folder import RunFolder


class StatsWriter:
    """Appends ``{"kimg": ..., "step": ..., "time": ..., **scalars}`` lines to ``run_dir/stats.jsonl``.

    Each line is flushed as written, so an interrupted run keeps every completed report.
    With ``tensorboard=True`` the same scalars go to TensorBoard event files in ``run_dir``.
    """

    def __init__(self, run_dir: str | Path, *, tensorboard: bool = True):
        self.run_dir = Path(run_dir)
        run = RunFolder(self.run_dir)
        self.path = run.stats_path
        self._file = open(self.path, "a", encoding="utf-8")
        self._tensorboard = None
        if tensorboard:
            from tensorboardX import SummaryWriter

            self._tensorboard = SummaryWriter(str(run.tensorboard_dir), flush_secs=30)

    def write(self, step: int, kimg: float, scalars: dict[str, float], **extra: Any) -> None:
        """Record one report; non-finite values are written as null (JSON has no NaN)."""
        record: dict[str, Any] = {"step": step, "kimg": round(kimg, 4), "time": round(time.time(), 3)}
        for name, value in scalars.items():
            value = float(value)
            record[name] = value if math.isfinite(value) else None
            if self._tensorboard is not None and math.isfinite(value):
                self._tensorboard.add_scalar(name, value, global_step=step)
        record.update(extra)
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()

    def close(self) -> None:
        """Flush and close the files."""
        self._file.close()
        if self._tensorboard is not None:
            self._tensorboard.close()

    def __enter__(self) -> StatsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_stats(path: str | Path) -> list[dict[str, Any]]:
    """All complete records of a ``stats.jsonl`` (a torn last line from a crash is ignored)."""
    records = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records
