"""Shared by the benchmark scripts: median wall-clock timing and a description of the machine."""

from __future__ import annotations

import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable

import torch


def timed(fn: Callable[[], object], repeats: int, *, warm_up: bool = True) -> float:
    """Median seconds of ``repeats`` calls of ``fn``, after one untimed call (allocations, caches,
    lazy imports) unless ``warm_up`` is False (seconds-long LAPACK calls gain nothing from one)."""
    if warm_up:
        fn()
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def machine() -> dict[str, object]:
    """Where the figures were taken."""
    return {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "platform": platform.platform(),
    }


def peak_rss_mib() -> float:
    """This process's peak resident memory so far, in MiB (Linux reports ru_maxrss in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
