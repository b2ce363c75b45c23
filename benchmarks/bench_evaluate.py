"""Time of a whole `voice2face evaluate` of the bundled model on synthvox-200: every default metric,
every reference row, with a cold cache (the trait network, identity embedder and statistics are
trained and cached) and again with the warm cache.

Prints one JSON line: seconds cold and warm, the metric list and reference rows, the machine,
and the model's and the reference rows' headline figures (two-sample accuracy, sharpness, sex,
age r, voice-revealed trait score, 1:2 matching). There is no peer library that evaluates
voice→face models this way; the target is the issue's: all of it within 10 minutes on 2 cores.

    python benchmarks/bench_evaluate.py [--data DATA_DIR] [--samples-per-voice 1] [--threads N]

Without --data a synthvox-200 seed-0 corpus is generated into a temporary folder first (not timed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import torch

from voice2face.config import EvaluationConfig, SynthVoxConfig
from voice2face.data.synthvox import generate_corpus
from voice2face.evaluation import evaluate_model

from timing import machine

HEADLINES = (
    ("realism", "c2st"), ("realism", "sharpness_ratio"), ("traits", "sex"), ("traits", "age"),
    ("traits", "voice_trait_score"), ("identity", "match_1v2"),
)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="a synthvox-200 seed-0 corpus (default: generate one)")
    parser.add_argument("--samples-per-voice", type=int, default=1)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="bench-evaluate-"))
    try:
        data = args.data
        if data is None:
            data = work / "synthvox-200"
            generate_corpus(data, SynthVoxConfig(identities=200, seed=0))
        config = EvaluationConfig(samples_per_voice=args.samples_per_voice)
        seconds, parts = {}, {}
        for label in ("cold", "warm"):
            start = time.perf_counter()
            summary = evaluate_model(None, data, config=config, cache_dir=work / "cache", write=False, progress=False)
            seconds[label] = round(time.perf_counter() - start, 1)
            parts[label] = {name: round(value, 1) for name, value in summary.get("seconds", {}).items()}
        rows = {"model": summary["results"], **summary["references"]}
        figures = {
            row: {f"{metric}.{key}": values.get(metric, {}).get(key) for metric, key in HEADLINES}
            for row, values in rows.items()
        }
        print(json.dumps({
            "benchmark": "evaluate", "seconds": seconds, "metric_seconds": parts, "target_seconds": 600,
            "metrics": list(config.metrics),
            "references": list(config.references), "samples_per_voice": args.samples_per_voice,
            "threads": args.threads, "figures": figures, "machine": machine(),
        }, sort_keys=True))  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
