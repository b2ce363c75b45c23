"""Realism against kimg for a pretraining run (issue 31): every generator a `train --preset synthface-*`
run kept in ``RUN/history/`` (one per snapshot), scored by the evaluation's own realism instruments on
a synthvox corpus beside the ``real`` and ``blurred_real_1.2`` rows (voice2face.evaluation.run.evaluate_samples):

- ``c2st``: the two-sample accuracy, at equal sizes (as many samples as the real row has faces);
- ``fd_traits``: the Fréchet distance in the trait read-out's features;
- ``sharpness_ratio``: Laplacian sharpness against real training faces;

and its fakes grid (``RUN/fakesNNNNNN.png``). One JSON line per snapshot, then a summary line with
the reference rows and s/kimg from the run's stats; with ``--plot PNG``, the three curves in one figure.
No peer library measures this; the reference rows are the comparison.

    python benchmarks/bench_realism_curve.py RUN [RUN ...] --data /work/data/synthvox-200 [--count 1000]
        [--every 1] [--since KIMG] [--cache DIR] [--plot benchmarks/figures/realism-curve.png] [--threads 2]
    python benchmarks/bench_realism_curve.py RUN --data DIR --replot SAVED.jsonl --plot PNG   # redraw only
    python benchmarks/bench_realism_curve.py RUN --data DIR --sharpness-only --count 500   # watching a run

``--sharpness-only`` scores sharpness alone (the same ratio against the same pool of real training
faces, ``count`` samples from the evaluation's seed): seconds a snapshot instead of minutes, for
watching a run; its lines say ``"sharpness_only": true``, and the record is the full row. With
``--bands N`` they also say where the Laplacian energy sits: the ratio in each of N horizontal bands
(``band_ratios``, top to bottom) and each band's share of the real faces' energy
(``real_band_shares``), so that the sharpness ratio is the sum of shares times ratios. On synthvox
faces the band of the eyes holds about half of it.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch

from voice2face.models import build_generator
from voice2face.storage import ModelFolder, RunFolder
from voice2face.storage.checkpoint import load_state_into, load_tensors
from voice2face.storage.layout import history_generator_kimg

from timing import machine

FIGURES = ("c2st", "fd_traits", "sharpness_ratio")


def history(run: Path) -> list[tuple[float, Path]]:
    """(kimg, weights) of every kept snapshot, oldest first."""
    return [(history_generator_kimg(path.name), path) for path in RunFolder(run).history_generators()]


def seconds_per_kimg(run: Path) -> float | None:
    """Seconds per kimg over the run's stats (snapshots and grids included), leaving out the pauses
    between sessions as the card does (:func:`voice2face.recipes.runs.training_seconds`)."""
    from voice2face.recipes.runs import training_seconds

    stats = [json.loads(line) for line in RunFolder(run).stats_path.read_text().splitlines() if line.strip()]
    kimg = [s["kimg"] for s in stats if "kimg" in s]
    if len(kimg) < 2 or kimg[-1] <= kimg[0]:
        return None
    return round(training_seconds(run) / (kimg[-1] - kimg[0]), 1)


def sharpness_only(generator: torch.nn.Module, manifest, pool: torch.Tensor, count: int, config=None) -> float:
    """The evaluation's sharpness ratio of ``count`` samples (the same samples, against ``pool``, the
    evaluation's real training faces: :func:`realism_pool`), without the other figures (``config``: an
    EvaluationConfig, the evaluation's default when None)."""
    return sharpness_and_bands(generator, manifest, pool, count, config)[0]


def sharpness_and_bands(
    generator: torch.nn.Module, manifest, pool: torch.Tensor, count: int, config=None, real_bands=None
) -> tuple[float, torch.Tensor | None]:
    """:func:`sharpness_only`'s ratio and, given ``real_bands`` (:func:`laplacian_energy_bands` of
    ``pool``), the same samples' ratio in each of those bands (``None`` without them)."""
    from voice2face.config import EvaluationConfig
    from voice2face.evaluation.run import generator_samples
    from voice2face.metrics.realism import sharpness_ratio

    config = config if config is not None else EvaluationConfig()
    samples = generator_samples(generator, manifest, count=count, config=config, device="cpu")
    bands = laplacian_energy_bands(samples, len(real_bands)) / real_bands if real_bands is not None else None
    return sharpness_ratio(samples, pool), bands


def laplacian_energy_bands(images: torch.Tensor, bands: int) -> torch.Tensor:
    """The mean over ``images`` (``[N, 3, H, W]``, uint8 or float in [-1, 1]) of their Laplacian variance
    (voice2face.metrics.realism.laplacian_variance) split into ``bands`` horizontal bands of rows:
    float64 ``[bands]`` whose sum is that mean. Each image's squared deviations from its own mean
    Laplacian are summed over the band's rows of the valid region ``[H-2, W-2]`` (the band of row
    ``y`` is ``y * bands // (H-2)``) and divided by the region's size."""
    from voice2face.metrics.realism import laplacian_maps

    if images.ndim != 4 or images.shape[1] != 3 or images.shape[0] == 0 or min(images.shape[2:]) < 3:
        raise ValueError(f"laplacian_energy_bands needs a non-empty [N, 3, H, W] batch, got {tuple(images.shape)}")
    height = images.shape[2] - 2
    if not 1 <= bands <= height:
        raise ValueError(f"bands must be 1 to {height} (the rows of the Laplacian's valid region), got {bands}")
    rows = torch.zeros(height, dtype=torch.float64)
    for laplacian in laplacian_maps(images, "laplacian_energy_bands"):  # [n, H-2, W-2]
        rows += (laplacian - laplacian.mean(dim=(1, 2), keepdim=True)).square().sum(dim=(0, 2))
    rows /= images.shape[0] * height * (images.shape[3] - 2)
    band_of_row = torch.arange(height) * bands // height
    return torch.zeros(bands, dtype=torch.float64).index_add_(0, band_of_row, rows)


def realism_pool(manifest, config=None) -> torch.Tensor:
    """The real training faces the evaluation's sharpness ratio compares with, uint8 ``[P, 3, R, R]``."""
    from voice2face.config import EvaluationConfig
    from voice2face.data.datasets import read_faces
    from voice2face.evaluation.rows import pool_records

    config = config if config is not None else EvaluationConfig()
    return read_faces(manifest, pool_records(manifest, config.realism_pool, config.seed))


def plot_curves(curves: dict, references: dict | None, path: Path) -> None:
    """The three figures against kimg, one line per run, the reference rows as horizontal lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, name in zip(axes, FIGURES, strict=True):
        for run, curve in curves.items():
            ax.plot([p["kimg"] for p in curve["points"]], [p[name] for p in curve["points"]], marker="o",
                    label=f"{Path(run).parent.name}/{Path(run).name} ({curve['resolution']} px)")  # fmt: skip
        for row, style in (("real", ":"), ("blurred_real_1.2", "--")):
            if references and row in references:
                ax.axhline(references[row][name], color="grey", linestyle=style, label=row)
        ax.set_title(name)
        ax.set_xlabel("kimg")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def replot(lines: Path, path: Path) -> int:
    """Draw the figure from this script's saved output (its JSON lines) instead of scoring again."""
    records = [json.loads(line) for line in lines.read_text(encoding="utf-8").splitlines() if line.strip()]
    summary = next((r for r in records if r.get("benchmark") == "realism_curve"), None)
    if summary is None:
        raise SystemExit(f"{lines} holds no summary line of bench_realism_curve.py; give its whole output")
    curves = {run: {**info, "points": [r for r in records if r.get("run") == run]}
              for run, info in summary["runs"].items()}  # fmt: skip
    plot_curves(curves, summary["references"], path)
    return 0


def main() -> int:
    from voice2face.evaluation.run import evaluate_samples

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--every", type=int, default=1, help="score every N-th kept snapshot (the last always)")
    parser.add_argument("--since", type=float, default=0.0, help="score only snapshots from this kimg on")
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--plot", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sharpness-only", action="store_true", help="sharpness alone, to watch a run (fast)")
    parser.add_argument("--bands", type=int, default=0, help="with --sharpness-only: the ratio in N horizontal bands")
    parser.add_argument(
        "--replot",
        type=Path,
        metavar="LINES",
        help="only draw --plot from this script's saved output (the runs and --data are not read)",
    )
    args = parser.parse_args()
    if args.replot is not None:
        if args.plot is None:
            parser.error("--replot draws a figure: give --plot PNG")
        return replot(args.replot, args.plot)
    if args.bands < 0:
        parser.error(f"--bands must be a positive number of bands, got {args.bands}")
    if args.bands and not args.sharpness_only:
        parser.error("--bands splits the --sharpness-only figure: give --sharpness-only too")
    if args.sharpness_only and args.plot:
        parser.error("--sharpness-only scores one figure; the plot draws the full rows: drop one of them")
    torch.set_num_threads(args.threads)
    if args.sharpness_only:  # read the corpus and its real faces once, for every snapshot
        from voice2face.data.manifest import load_manifest

        manifest = load_manifest(args.data)
        pool = realism_pool(manifest)
        real_bands = laplacian_energy_bands(pool, args.bands) if args.bands else None
    curves, references = {}, None
    for run in args.runs:
        config = ModelFolder(RunFolder(run).model.path).config()
        kept = [(kimg, path) for kimg, path in history(run) if kimg >= args.since]
        if not kept:
            raise SystemExit(
                f"{run} keeps no snapshot generators from {args.since:g} kimg on in history/; "
                "it predates them, is not pretraining, or --since is past its last snapshot"
            )
        chosen = [item for k, item in enumerate(kept) if k % args.every == 0 or k == len(kept) - 1]
        points = []
        for kimg, path in chosen:
            generator = build_generator(config.generator)
            load_state_into(generator, load_tensors(path), path)
            began = time.perf_counter()
            if args.sharpness_only:
                ratio, bands = sharpness_and_bands(generator, manifest, pool, args.count, real_bands=real_bands)
                seconds = round(time.perf_counter() - began, 1)
                line = {"run": str(run), "kimg": kimg, "sharpness_ratio": round(ratio, 4), "count": args.count,
                        "sharpness_only": True, "seconds": seconds}  # fmt: skip
                if bands is not None:
                    line["band_ratios"] = [round(v, 3) for v in bands.tolist()]
                    line["real_band_shares"] = [round(v, 3) for v in (real_bands / real_bands.sum()).tolist()]
                print(json.dumps(line), flush=True)
                continue
            rows = evaluate_samples(generator, args.data, count=args.count, cache_dir=args.cache)
            realism = rows["samples"]["realism"]
            point = {"run": str(run), "kimg": kimg, **{name: round(float(realism[name]), 4) for name in FIGURES},
                     "grid": str(RunFolder(run).fakes_grid(kimg * 1000)),
                     "seconds": round(time.perf_counter() - began, 1)}  # fmt: skip
            print(json.dumps(point), flush=True)
            points.append(point)
            references = {row: {name: round(float(values["realism"][name]), 4) for name in FIGURES}
                          for row, values in rows.items() if row != "samples"}  # fmt: skip
        if args.sharpness_only:
            continue
        curves[str(run)] = {
            "points": points,
            "s_per_kimg": seconds_per_kimg(run),
            "resolution": config.generator.img_resolution,
        }
    if args.sharpness_only:
        return 0
    summary = {"benchmark": "realism_curve", "data": str(args.data), "count": args.count, "references": references,
               "runs": {run: {k: v for k, v in c.items() if k != "points"} for run, c in curves.items()},
               "machine": machine(), "load": list(os.getloadavg())}  # fmt: skip
    print(json.dumps(summary), flush=True)
    if args.plot:
        plot_curves(curves, references, args.plot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
