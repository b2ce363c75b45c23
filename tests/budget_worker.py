"""Run under torchrun with 2 processes: rank 0's budget is spent and rank 1 was interrupted; both must agree."""

from __future__ import annotations

import sys
import time

from voice2face.training.distributed import StopRequest, exit_process, init_distributed, stop_reason

context = init_distributed("cpu")
start = time.monotonic() - (100.0 if context.rank == 0 else 0.0)  # rank 0 started "100 s ago"
budget = stop_reason(start, 50.0, context)
never = stop_reason(time.monotonic(), None, context)
stop = StopRequest()
stop.requested = context.rank == 1  # as if only rank 1 had seen Ctrl-C
interrupt = stop_reason(time.monotonic(), 50.0, context, stop)
print(f"rank {context.rank} budget {budget} never {never} interrupt {interrupt}", flush=True)
sys.stdout.flush()
exit_process(0 if (budget, never, interrupt) == ("budget", None, "interrupt") else 3)
