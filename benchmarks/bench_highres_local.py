"""The high-resolution route checked locally at real size, without FFHQ (issue 16, item 4).

A StyleGAN2 pretrained here on synthvox faces at 128 or 256 px (a ``synthface-128`` run, say) goes
the way a user's official checkpoint goes:

1. written as an official NVIDIA training pickle (persistence records with ``module_src``, by the
   tests' hand-made writer ``tests/test_pretrained.official_pickle``; the official code is not
   installed here);
2. ``import-stylegan2`` reads it back without running anything; the imported generator's images
   are compared with the source network's for the same z (ψ = 1 and 0.7, constant noise);
3. the ``highres-256`` preset's label-free voice side is trained on it (``--steps``; the preset's
   own 4,000 steps are meant for a GPU) with a stage-1 voice encoder and a corpus of voices and
   photos at least the pool's face size (64 px);
4. ``portrait`` draws faces from the packaged example voice at the generator's resolution.

Prints one JSON line: the generator's size and parameters, the pickle's size, the import's seconds,
max |Δ| of the images (target 0: the same operations on the same weights), the voice side's seconds
per step, one portrait's seconds and the peak RSS of this process. The portraits are kept under
``--out`` to look at.

    python benchmarks/bench_highres_local.py /work/runs128b/00000-synthface-128 \\
        --data /work/data/synthvox-200-128 --encoder /work/build/runs/00000-synthvox-pool-64-encoder \\
        --out /tmp/highres-local --steps 200
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

import torch

from voice2face import example_voices
from voice2face.inference.pipeline import VoiceToFace
from voice2face.models.pretrained import import_stylegan2
from voice2face.storage import ModelFolder, resolve
from voice2face.training.runner import train_mapper

from timing import machine, peak_rss_mib

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_pretrained import official_pickle  # the tests' writer of the official format


def max_difference(source: torch.nn.Module, imported: torch.nn.Module, psi: float, count: int = 4) -> float:
    z = torch.randn([count, source.z_dim], generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a = source(z, None, truncation_psi=psi, noise_mode="const")
        b = imported(z, None, truncation_psi=psi, noise_mode="const")
    return float((a - b).abs().max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("generator", type=Path, help="a run or model folder of a pretrained 128/256 px StyleGAN2")
    parser.add_argument("--data", type=Path, required=True, help="a corpus of voices and photos (≥ 64 px)")
    parser.add_argument("--encoder", type=Path, required=True, help="a train-encoder run (stage 1)")
    parser.add_argument("--out", type=Path, required=True, help="a new folder for the pickle, the import and the run")
    parser.add_argument("--steps", type=int, default=200, help="voice-side steps (the preset's 4,000 are for a GPU)")
    parser.add_argument("--cache", type=Path, help="the feature cache folder")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.out.exists():
        parser.error(f"{args.out} exists; give a new folder")
    args.out.mkdir(parents=True)

    source = resolve(args.generator, flag="GENERATOR").load(("generator",)).modules["generator"].eval()
    if source.config.top_channels:
        parser.error(f"{args.generator} widens its top block (top_channels={source.config.top_channels}), which the "
                     "official format cannot express; use a run with the official channel rule")  # fmt: skip
    pickle_path = official_pickle(args.out / "network-snapshot.pkl", source)
    start = time.perf_counter()
    import_stylegan2(pickle_path, args.out / "imported")
    import_s = time.perf_counter() - start
    imported = ModelFolder(args.out / "imported").load(("generator",)).modules["generator"].eval()

    start = time.perf_counter()
    run = train_mapper("highres-256", args.data, args.out / "runs", generator=args.out / "imported",
                       encoder=args.encoder, steps=args.steps, cache_dir=args.cache, device="cpu")  # fmt: skip
    train_s = time.perf_counter() - start

    pipe = VoiceToFace.from_pretrained(run / "model", device="cpu")
    voice = example_voices()[0]
    pipe(voice, num_samples=1, seed=0)  # warm-up
    times, faces = [], []
    for seed in range(3):
        start = time.perf_counter()
        faces += pipe(voice, num_samples=1, seed=seed)
        times.append(time.perf_counter() - start)
    portraits = args.out / "portraits"
    portraits.mkdir()
    for k, face in enumerate(faces):
        face.save(portraits / f"{voice.stem}_{k}.png")
    shutil.copy(run / "model" / "config.json", args.out / "model-config.json")
    figures = {
        "generator": str(args.generator),
        "image_px": source.img_resolution,
        "num_ws": source.num_ws,
        "generator_params": sum(p.numel() for p in source.parameters()),
        "pickle_mib": round(pickle_path.stat().st_size / 2**20, 1),
        "import_s": round(import_s, 2),
        "max_abs_diff_psi1": max_difference(source, imported, 1.0),
        "max_abs_diff_psi0.7": max_difference(source, imported, 0.7),
        "voice_side_steps": args.steps,
        "voice_side_s": round(train_s, 1),
        "portrait_px": faces[0].size[0],
        "portrait_s": round(statistics.median(times), 2),
        "peak_rss_mib": peak_rss_mib(),
        "portraits": str(portraits),
        "machine": machine(),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
