"""Can the voice steer a pretrained generator's sex and age? A check for issue 14's next step.

A trait network (sex, age, jaw width, face length, head size) is trained on the training faces of
the *voice* corpus (never the evaluation corpus or its instrument) and reads random renderings
of a pretrained unconditional generator. Two ways to give a face a target sex and age are drawn:

- ``linear-edit.png``: InterFaceGAN-style moves in W along the ridge read-out directions, with
  three corrective steps (rows: the random faces, then young woman, young man, older woman,
  older man);
- ``selection.png``: for each face, K random codes are rendered and read, and the one nearest the
  target is kept (rows: the same four targets).

    python scripts/trait_guidance_check.py --generator snapshots/synthface-64/model \\
        --data data/synthvox-1225-s1 --out runs/trait-guidance

The trait network is cached in ``OUT`` (safetensors); the figures are written there and a JSON
line of read-outs is printed. Every image is marked synthetic.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

TRAITS = ("sex", "age", "jaw_width", "face_length", "head_size")
TARGETS = ((-4.0, -1.0), (4.0, -1.0), (-4.0, 1.5), (4.0, 1.5))  # (sex logit, age in std units)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generator", type=Path, required=True, help="model folder of an unconditional generator")
    parser.add_argument("--data", type=Path, required=True, help="the voice corpus (its training faces)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--renders", type=int, default=4000, help="random renders the read-out is fitted on")
    parser.add_argument("--candidates", type=int, default=64, help="random codes per selected face (K)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the trait network")
    return parser.parse_args(argv)


def trait_network(data: Path, out: Path, seed: int):
    """The trait network of the voice corpus's training faces, trained once and cached in ``out``."""
    from safetensors.torch import load_file, save_file

    from voice2face.config import FaceCNNConfig
    from voice2face.data.manifest import load_manifest
    from voice2face.metrics.traits import TraitNet, TraitSpec, identity_traits, train_trait_net
    from voice2face.training.data import speaker_faces
    from voice2face.utils.images import uint8_to_float

    specs = (TraitSpec("sex", "binary", True), *(TraitSpec(name, "regression", True) for name in TRAITS[1:]))
    config = FaceCNNConfig(epochs=8, batch_size=64, seed=seed)
    weights = out / "trait-net.safetensors"
    if weights.is_file():  # its target mean and std are buffers of the state
        network = TraitNet(config, specs, [0.0] * len(specs), [1.0] * len(specs))
        network.load_state_dict(load_file(weights))
        return network.eval()
    manifest = load_manifest(data)
    names = sorted({u.identity for u in manifest.utterances_in("train")})
    faces, index = speaker_faces(manifest, "train", names, progress=True)
    identities = {identity.id: identity for identity in manifest.identities}
    targets = np.array([[identity_traits(identities[names[i]])[t] for t in TRAITS] for i in index.tolist()])
    network = train_trait_net(uint8_to_float(faces), targets, specs, config)
    save_file({k: v.contiguous() for k, v in network.state_dict().items()}, weights)
    return network.eval()


def main(argv: list[str] | None = None) -> int:
    from voice2face.storage.checkpoint import load_pretrained
    from voice2face.storage.png import save_synthetic_png, synthetic_metadata
    from voice2face.utils.images import grid

    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    net = trait_network(args.data, args.out, args.seed)
    generator = load_pretrained(args.generator, ("generator",)).modules["generator"].eval()

    def render(w: torch.Tensor) -> torch.Tensor:  # w [B, C] → images [B, 3, R, R]
        return generator.synthesis(w[:, None].repeat(1, generator.num_ws, 1), noise_mode="const").clamp(-1, 1)

    figures: dict[str, object] = {}
    with torch.no_grad():
        z = torch.randn(args.renders, generator.z_dim, generator=torch.Generator().manual_seed(1))
        w = generator.mapping(z, None)[:, 0]
        read = torch.cat([net(render(w[s : s + 250])) for s in range(0, args.renders, 250)])  # [N, T]
        x, y = w - w.mean(0), read - read.mean(0)
        gram = x.T @ x + 1e-3 * torch.trace(x.T @ x) / x.shape[1] * torch.eye(x.shape[1])
        readout = torch.linalg.solve(gram, x.T @ y)  # [C, T]
        figures["r2_from_w"] = dict(zip(TRAITS, (1 - (x @ readout - y).var(0) / y.var(0)).tolist(), strict=True))
        edit = torch.linalg.solve(readout.T @ readout, readout.T).T  # [C, T]: the smallest move per unit
        base = w[:8]
        rows, achieved = [render(base)], []
        for sex, age in TARGETS:
            moved = base.clone()
            for _ in range(3):
                now = net(render(moved))
                goal = now.clone()
                goal[:, 0], goal[:, 1] = sex, age
                moved = moved + (goal - now) @ edit.T
            rows.append(render(moved))
            achieved.append({"target": [sex, age], "read": net(rows[-1])[:, :2].mean(0).tolist(),
                             "move": (moved - base).norm(dim=1).mean().item()})  # fmt: skip
        figures["linear_edit"], figures["random_spread"] = achieved, x.norm(dim=1).mean().item()
        meta = synthetic_metadata(kind="trait guidance check")
        save_synthetic_png(grid(torch.cat(rows), columns=8), args.out / "linear-edit.png", meta)
        draw = torch.Generator().manual_seed(2)
        rows, kept = [], []
        for sex, age in TARGETS:
            row = []
            for _ in range(8):
                codes = generator.mapping(torch.randn(args.candidates, generator.z_dim, generator=draw), None)[:, 0]
                now = net(render(codes))[:, :2]
                distance = (torch.sign(now[:, 0]) != np.sign(sex)).float() * 10 + (now[:, 1] - age).abs()
                best = int(distance.argmin())
                row.append(render(codes[best : best + 1]))
                kept.append(now[best].tolist())
            rows.append(torch.cat(row))
        figures["selection_read"] = kept
        save_synthetic_png(grid(torch.cat(rows), columns=8), args.out / "selection.png", meta)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
