"""What every benchmark's JSON line records about the machine it ran on."""

from __future__ import annotations

import os
import platform
import sys

import torch


def machine() -> dict[str, object]:
    """CPU count, Python, torch and platform strings."""
    return {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "platform": platform.platform(),
    }
