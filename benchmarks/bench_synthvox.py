"""synthvox generation speed: a default corpus (200 identities × 8 voices × 6 faces at 64 px).

Prints one JSON line: wall seconds for the whole corpus (manifest, ceiling, preview and examples
included), seconds per identity, files written per second, seconds of audio per wall second,
and single-process costs of the parts (voice synthesis per audio second, one face). Target:
the whole corpus in at most 60 s on 2 cores. No peer library generates paired synthetic
voice–face corpora, so there is nothing to compare against in the same run.

    python benchmarks/bench_synthvox.py [--identities 200] [--workers N] [--resolution 64]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from voice2face.config import SynthVoxConfig
from voice2face.data.synthvox import draw_identity, generate_corpus, render_face, synthesize_utterance
from voice2face.data.synthvox.corpus import default_workers
from voice2face.data.synthvox.traits import STREAM_FACE, STREAM_VOICE, item_rng

TARGET_SECONDS = 60.0


def part_costs(resolution: int, samples: int = 20) -> dict[str, float]:
    """Median single-process milliseconds: synthesis per second of audio, and one face."""
    people = [draw_identity(123, index) for index in range(samples)]
    voice, face = [], []
    for person in people:
        start = time.perf_counter()
        synthesize_utterance(person.voice, item_rng(123, person.index, STREAM_VOICE), seconds=5.0)
        voice.append((time.perf_counter() - start) / 5.0)
        start = time.perf_counter()
        render_face(person.face, item_rng(123, person.index, STREAM_FACE), resolution)
        face.append(time.perf_counter() - start)
    return {
        "voice_ms_per_audio_second": round(1000 * float(np.median(voice)), 2),
        "face_ms_per_image": round(1000 * float(np.median(face)), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identities", type=int, default=200)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--resolution", type=int, default=64)
    args = parser.parse_args()
    config = SynthVoxConfig(identities=args.identities, resolution=args.resolution)
    with tempfile.TemporaryDirectory(prefix="bench-synthvox-") as folder:
        out = Path(folder) / "corpus"
        start = time.perf_counter()
        cpu_start = os.times()
        manifest = generate_corpus(out, config, workers=args.workers)
        seconds = time.perf_counter() - start
        cpu_end = os.times()
        files = sum(1 for path in out.rglob("*") if path.is_file())
        size_mb = sum(path.stat().st_size for path in out.rglob("*") if path.is_file()) / 2**20
    audio_seconds = sum(u.seconds for u in manifest.utterances)
    cpu_seconds = (cpu_end.user + cpu_end.system + cpu_end.children_user + cpu_end.children_system) - (
        cpu_start.user + cpu_start.system + cpu_start.children_user + cpu_start.children_system
    )
    print(
        json.dumps(
            {
                "benchmark": "synthvox",
                "identities": config.identities,
                "utterances": len(manifest.utterances),
                "faces": len(manifest.faces),
                "resolution": config.resolution,
                "workers": args.workers,
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu_seconds, 2),
                "seconds_per_identity": round(seconds / config.identities, 4),
                "files_per_second": round(files / seconds, 1),
                "audio_seconds": round(audio_seconds, 1),
                "audio_seconds_per_second": round(audio_seconds / seconds, 1),
                "megabytes": round(size_mb, 1),
                "parts_single_process": part_costs(config.resolution),
                "target_seconds": TARGET_SECONDS if config.identities == 200 else None,
                "target_met": seconds <= TARGET_SECONDS if config.identities == 200 else None,
                "peer": "none: no library generates paired synthetic voice–face corpora to compare against",
                "machine": {
                    "cpus": os.cpu_count(),
                    "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
                    "python": sys.version.split()[0],
                    "platform": platform.platform(),
                },
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
