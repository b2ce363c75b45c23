"""Fidelity of ``import-stylegan2`` against the official code: the same networks, the same images.

The official implementations cannot be installed and may not be copied here (their licences forbid
redistribution), so this script imports them from a checkout you give it and calls their public
classes: it builds a network with random weights (every parameter and ``w_avg`` perturbed, so no
path is trivially zero), saves it the way their training code does (NVIDIA: ``pickle.dump`` of the
snapshot dict, persistence records and all; rosinality: ``torch.save`` of the checkpoint dict with
its argparse options), reads it back with :func:`voice2face.models.pretrained.read_stylegan2`, and
compares, in float32 on the CPU:

- W+: ``G.mapping(z, c)`` against theirs (rosinality: ``style(z)`` broadcast to ``n_latent``);
- images: ``G(z, c, truncation_psi=ψ, noise_mode="const")`` for ψ = 1 and 0.7 (rosinality:
  ``g([z], truncation=ψ, truncation_latent=<our w_avg>, randomize_noise=False)``);
- discriminator logits for the same images in [-1, 1].

Prints one JSON line per resolution: max |Δ| of each, the image range (for scale), parameter
counts and the seconds the import took. Target: max |Δ| ≤ 1e-4 on images.

    python benchmarks/bench_import.py --family stylegan2-ada --checkout ~/src/stylegan2-ada-pytorch
    python benchmarks/bench_import.py --family stylegan3 --checkout ~/src/stylegan3 --resolutions 64
    python benchmarks/bench_import.py --family rosinality --checkout ~/src/stylegan2-pytorch

Their custom CUDA ops are never built: NVIDIA's code falls back to its reference implementations on
the CPU, and rosinality's ``op`` package is loaded with ``torch.utils.cpp_extension.load`` stubbed out,
so that its CPU paths run.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import json
import pickle
import sys
import tempfile
import time
from pathlib import Path

import torch

from voice2face.models.pretrained import read_stylegan2

from timing import machine

FAMILIES = ("stylegan2-ada", "stylegan3", "rosinality")
PSIS = (1.0, 0.7)


def perturbed(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Every parameter moved by N(0, 0.2²): biases, noise strengths and the like are no longer 0."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.add_(torch.randn(parameter.shape, generator=generator) * 0.2)
    return module.eval().requires_grad_(False)


def nvidia_case(family: str, resolution: int, channel_base: int, batch: int, folder: Path) -> tuple[Path, dict]:
    """An official generator and discriminator, pickled as the training loop does; their outputs."""
    dnnlib = importlib.import_module("dnnlib")
    module = "training.networks" if family == "stylegan2-ada" else "training.networks_stylegan2"
    networks = importlib.import_module(module)
    synthesis = dnnlib.EasyDict(channel_base=channel_base, channel_max=512, num_fp16_res=4, conv_clamp=256)
    mapping = dnnlib.EasyDict(num_layers=8)
    common = dict(z_dim=512, c_dim=0, w_dim=512, img_resolution=resolution, img_channels=3, mapping_kwargs=mapping)
    if family == "stylegan2-ada":
        G = networks.Generator(**common, synthesis_kwargs=synthesis)
    else:
        G = networks.Generator(**common, **synthesis)
    D = networks.Discriminator(c_dim=0, img_resolution=resolution, img_channels=3, channel_base=channel_base,
                               channel_max=512, num_fp16_res=4, conv_clamp=256)  # fmt: skip
    G, D = perturbed(G, 1), perturbed(D, 2)
    G.mapping.w_avg.copy_(torch.randn([512], generator=torch.Generator().manual_seed(3)))
    path = folder / f"{family}-{resolution}.pkl"
    with open(path, "wb") as handle:
        pickle.dump({"G": G, "D": D, "G_ema": copy.deepcopy(G), "augment_pipe": None,
                     "training_set_kwargs": {"resolution": resolution}}, handle)  # fmt: skip
    z, img = inputs(batch, resolution)
    with torch.no_grad():
        reference = {
            "ws": G.mapping(z, None),
            **{f"image_psi{psi}": G(z, None, truncation_psi=psi, noise_mode="const", force_fp32=True) for psi in PSIS},
            "logits": D(img, None, force_fp32=True),
        }
    return path, reference


def rosinality_case(resolution: int, channel_base: int, batch: int, folder: Path) -> tuple[Path, dict]:
    """rosinality's generator and discriminator, saved as their train.py does; outputs after the import."""
    model = importlib.import_module("model")
    multiplier = channel_base // 16384
    g = perturbed(model.Generator(resolution, 512, 8, channel_multiplier=multiplier), 1)
    d = perturbed(model.Discriminator(resolution, channel_multiplier=multiplier), 2)
    path = folder / f"rosinality-{resolution}.pt"
    options = argparse.Namespace(size=resolution, n_mlp=8, latent=512, channel_multiplier=multiplier)
    torch.save({"g": g.state_dict(), "d": d.state_dict(), "g_ema": g.state_dict(), "g_optim": {}, "d_optim": {},
                "args": options, "ada_aug_p": 0.0}, path)  # fmt: skip
    return path, {"g": g, "d": d}


def inputs(batch: int, resolution: int) -> tuple[torch.Tensor, torch.Tensor]:
    z = torch.randn([batch, 512], generator=torch.Generator().manual_seed(4))
    img = torch.rand([batch, 3, resolution, resolution], generator=torch.Generator().manual_seed(5)) * 2 - 1
    return z, img


def measure(family: str, resolution: int, channel_base: int, batch: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        if family == "rosinality":
            path, theirs = rosinality_case(resolution, channel_base, batch, Path(folder))
        else:
            path, reference = nvidia_case(family, resolution, channel_base, batch, Path(folder))
        start = time.perf_counter()
        imported = read_stylegan2(path, discriminator=True)
        seconds = time.perf_counter() - start
    G, D = imported.modules["generator"], imported.modules["discriminator"]
    z, img = inputs(batch, resolution)
    with torch.no_grad():
        if family == "rosinality":
            g, d = theirs["g"], theirs["d"]
            w_avg = G.mapping.w_avg[None]  # theirs is whatever the caller passes: give both the same point
            reference = {
                "ws": g.style(z)[:, None].repeat(1, g.n_latent, 1),
                **{f"image_psi{psi}": g([z], truncation=psi, truncation_latent=w_avg, randomize_noise=False)[0]
                   for psi in PSIS},
                "logits": d(img),
            }  # fmt: skip
        ours = {
            "ws": G.mapping(z, None),
            **{f"image_psi{psi}": G(z, None, truncation_psi=psi, noise_mode="const") for psi in PSIS},
            "logits": D(img, None),
        }
    return {
        "family": family, "resolution": resolution, "channel_base": channel_base, "batch": batch,
        "max_abs_diff": {name: float((ours[name] - reference[name]).abs().max()) for name in ours},
        "image_range": float(reference["image_psi1.0"].abs().max()),
        "params": {"G": sum(p.numel() for p in G.parameters()), "D": sum(p.numel() for p in D.parameters())},
        "num_ws": G.num_ws, "import_s": round(seconds, 2), "w_avg": imported.provenance["imported_from"]["w_avg"],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", choices=FAMILIES, required=True)
    parser.add_argument("--checkout", required=True, help="a checkout of the family's official repository")
    parser.add_argument("--resolutions", type=int, nargs="+", default=[64, 256])
    parser.add_argument(
        "--channel-base", type=int, default=None,
        help="default: 16384 (stylegan2-ada's paper256); rosinality: 32768 (their channel_multiplier 2)",
    )  # fmt: skip
    parser.add_argument("--batch", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(args.checkout).expanduser()))
    if args.family == "rosinality":
        extensions = importlib.import_module("torch.utils.cpp_extension")
        extensions.load = lambda *a, **k: None  # no CUDA kernels: their CPU paths run
    torch.set_grad_enabled(False)
    base = args.channel_base or (32768 if args.family == "rosinality" else 16384)
    for resolution in args.resolutions:
        torch.manual_seed(0)  # the official constructors draw their initial weights from the global RNG
        print(json.dumps({**measure(args.family, resolution, base, args.batch), "machine": machine()}), flush=True)


if __name__ == "__main__":
    main()
