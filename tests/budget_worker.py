"""Run under torchrun with 2 processes: rank 0's budget is spent, rank 1's is not; both must stop."""

from __future__ import annotations

import sys
import time

from voice2face.training.distributed import budget_spent, exit_process, init_distributed

context = init_distributed("cpu")
start = time.monotonic() - (100.0 if context.rank == 0 else 0.0)  # rank 0 started "100 s ago"
agreed = budget_spent(start, 50.0, context)
never = budget_spent(time.monotonic(), None, context)
print(f"rank {context.rank} stop {agreed} never {never}", flush=True)
sys.stdout.flush()
exit_process(0 if agreed and not never else 3)
