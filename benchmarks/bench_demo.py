"""Wall time of a whole `voice2face demo` against its `--minutes` budget.

This is where the demo's timing is measured: a test that asserts wall-clock time fails on a
machine shared with other work, so tests/test_demo.py checks only what the demo writes.

Prints one JSON line: the budget, the wall time of the whole command (corpus, both training
stages, evaluation, report and portraits), their ratio, the corpus size, the machine and its
load average at the start and the end (a loaded machine explains a slow run; compare figures
only from the same conditions). The issue's target: `--minutes 10` done within 11 minutes.
``parts_s`` gives each part's wall time (the speed probe, corpus, both training stages, evaluation
and each of its metrics, report and portraits) and the plan's estimates: the figures behind
``voice2face.recipes.demo.REFERENCE`` come from this line on the reference machine.

    python benchmarks/bench_demo.py [--minutes 10] [--identities 200] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from voice2face.recipes.demo import run_demo

from timing import machine


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="the demo's budget (default: %(default)s)")
    parser.add_argument("--identities", type=int, default=200, help="corpus size (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--route", choices=("wplus", "conditional"), default="wplus", help="(default: %(default)s)")
    parser.add_argument("--keep", type=Path, help="write the demo here and keep it (default: a temporary folder)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-demo-")) / "demo"
    load_before = _load()
    start = time.perf_counter()
    try:
        result = run_demo(work, minutes=args.minutes, identities=args.identities, seed=args.seed, route=args.route,
                          progress=False)  # fmt: skip
        seconds = time.perf_counter() - start
    finally:
        if args.keep is None:
            shutil.rmtree(work.parent, ignore_errors=True)
    record = {
        "benchmark": "demo",
        "budget_s": round(args.minutes * 60, 1),
        "wall_s": round(seconds, 1),
        "wall_over_budget": round(seconds / (args.minutes * 60), 3),
        "target": "wall_s <= budget_s + 60",
        "identities": args.identities,
        "route": args.route,
        "parts_s": result.seconds,
        "notes": list(result.notes),
        "seed": args.seed,
        "load_average_before": load_before,
        "load_average_after": _load(),
        "machine": machine(),
    }
    print(json.dumps(record))


if __name__ == "__main__":
    main()
