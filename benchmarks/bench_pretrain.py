"""Pretraining throughput of `train --preset synthface-64`: the plain ops (today's code path, the
reference) against the fast ops (``GANTrainingConfig.ops_impl``), measured in the same run.

Prints one JSON line with images/s and s/kimg of two kinds of step, each for both paths:

- ``models_step``: what ``bench_models.py`` calls a step, for this config: G(z) → D(image) →
  non-saturating loss → backward through D and G, no optimiser (unconditional: no condition and
  no identity head);
- ``train_step``: a whole ``GANTrainer.train_step`` of the preset at its batch (16): Gmain and
  Dmain, lazy R1 every 16 steps (so in 1 of 16 timed steps), DiffAugment, Adam, the EMA update.

The two paths are timed step by step in alternation (plain, fast, plain, …), so a neighbour's
load hits both alike; both trainers start from the same seed and fire R1 on the same steps.
Figures are medians over steps (models) or totals over all timed steps (train: R1 included).
With ``--compile``, the models step is also timed with ``torch.compile`` (inductor) of G and D on
each path, and the compile time (the first call) is reported.

    python benchmarks/bench_pretrain.py [--threads 1] [--steps 32] [--model-steps 12] [--compile]
        [--preset synthface-128 --set d_warmup_kimg=0 --set generator.top_channels=64] [--fast-only]

``--preset`` and ``--set`` (as ``train``'s) time another pretraining recipe, e.g. the 128 px growth
(its D warm-up set to 0 so that the timed steps train G too, with the preset's hold: the mapping and
the blocks up to 32 px); ``--fast-only`` times the default path alone (half the time; no speed-up figure).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from voice2face.cli.options import setting, settings_of
from voice2face.config import GANTrainingConfig, ModelConfig, to_dict
from voice2face.data.containers import FaceTensors
from voice2face.models import build_discriminator, build_generator
from voice2face.models.ops import set_ops_impl
from voice2face.training.options import apply_settings
from voice2face.training.presets import get_preset
from voice2face.training.trainers.gan import GANTrainer

from timing import machine

PRESET = "synthface-64"
PATHS = ("plain", "fast")


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _rates(seconds_per_step: float, batch: int) -> dict:
    return {
        "images_per_s": round(batch / seconds_per_step, 2),
        "seconds_per_kimg": round(seconds_per_step * 1000 / batch, 2),
        "seconds_per_step": round(seconds_per_step, 4),
    }


def alternate(steps: dict[str, Callable[[], None]], count: int) -> dict[str, list[float]]:
    """Seconds of each of ``count`` calls per step function, calling them in turn."""
    seconds: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(count):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            seconds[name].append(time.perf_counter() - start)
    return seconds


def models_step(config: GANTrainingConfig, impl: str, compiled: bool) -> tuple[Callable[[], None], float]:
    """bench_models.py's step for ``config`` on ``impl``, and the seconds its first call took."""
    torch.manual_seed(0)
    G = set_ops_impl(build_generator(config.generator).train(), impl)
    D = set_ops_impl(build_discriminator(config.discriminator).train(), impl)
    generator, discriminator = (torch.compile(G), torch.compile(D)) if compiled else (G, D)
    z = torch.randn(config.batch_size, config.generator.z_dim)

    def step() -> None:
        logits = discriminator(generator(z, None), None)  # [B, 1]
        F.softplus(-logits).mean().backward()
        G.zero_grad(set_to_none=True)
        D.zero_grad(set_to_none=True)

    start = time.perf_counter()
    step()  # warm-up: allocations, oneDNN kernel choice; with compiled=True, the compilation
    return step, time.perf_counter() - start


def trainer(config: GANTrainingConfig, impl: str, faces: FaceTensors) -> GANTrainer:
    """The preset's trainer on ``impl``, warmed up by its first step (which fires R1)."""
    config = dataclasses.replace(config, ops_impl=impl)
    model = ModelConfig(generator=config.generator, discriminator=config.discriminator)
    result = GANTrainer(config, model, None, faces, seed=0)
    result.train_step()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=32, help="timed training steps per path (default: %(default)s)")
    parser.add_argument(
        "--model-steps", type=int, default=12, help="timed models steps per path (default: %(default)s)"
    )
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (inductor) of G and D")
    parser.add_argument("--preset", default=PRESET, help="the pretraining preset (default: %(default)s)")
    parser.add_argument("--set", action="append", type=setting, default=[], metavar="KEY=VALUE", dest="settings",
                        help="change one setting of the preset's stage, as `train --set`")  # fmt: skip
    parser.add_argument("--fast-only", action="store_true", help="time the fast ops alone")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    settings = settings_of(args)
    config = apply_settings(get_preset(args.preset).gan, settings)
    paths = ("fast",) if args.fast_only else PATHS
    batch = config.batch_size
    load_before = _load()

    variants = [(impl, False) for impl in paths] + ([(impl, True) for impl in paths] if args.compile else [])
    steps, first_call_s = {}, {}
    for impl, compiled in variants:
        name = f"{impl}_compiled" if compiled else impl
        steps[name], first_call_s[name] = models_step(config, impl, compiled)
    seconds = alternate(steps, args.model_steps)
    models = {name: {**_rates(statistics.median(s), batch), "first_call_s": round(first_call_s[name], 2)}
              for name, s in seconds.items()}  # fmt: skip
    if "plain" in models:
        models["speedup_fast_over_plain"] = round(
            models["plain"]["seconds_per_step"] / models["fast"]["seconds_per_step"], 2
        )

    faces = FaceTensors(torch.randint(0, 256, (512, 3, *[config.generator.img_resolution] * 2), dtype=torch.uint8))
    trainers = {impl: trainer(config, impl, faces) for impl in paths}
    seconds = alternate({impl: t.train_step for impl, t in trainers.items()}, args.steps)
    train = {impl: _rates(sum(s) / len(s), batch) for impl, s in seconds.items()}
    if "plain" in seconds:
        train["speedup_fast_over_plain"] = round(sum(seconds["plain"]) / sum(seconds["fast"]), 2)
    train["r1_steps_timed"] = sum(1 for step in range(1, args.steps + 1) if step % config.r1_interval == 0)

    print(
        json.dumps(
            {
                "benchmark": "pretrain",
                "preset": args.preset,
                "settings": settings,
                "threads": args.threads,
                "batch": batch,
                "models_step": models,
                "train_step": {**train, "steps_timed": args.steps},
                "reference": "plain = today's code path (the official arithmetic); fast = ops_impl 'fast'",
                "generator": to_dict(config.generator),
                "discriminator": to_dict(config.discriminator),
                "load_average_before": load_before,
                "load_average_after": _load(),
                "machine": machine(),
            }
        )
    )


if __name__ == "__main__":
    main()
