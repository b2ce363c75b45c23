"""Path length on the real StyleGAN2 generator (the metric's own tests use a toy generator)."""

from __future__ import annotations

import math

import pytest
import torch

from voice2face.config import GeneratorConfig, PPLConfig
from voice2face.metrics.ppl import ppl
from voice2face.models import build_generator


def pixel_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean squared pixel difference per image: [B, 3, H, W] × 2 → [B]."""
    return (a - b).square().mean(dim=[1, 2, 3])


pixel_distance.name = "pixels"


@pytest.mark.parametrize("space", ["z", "w"])
def test_ppl_runs_on_a_conditional_stylegan2_and_is_reproducible(space):
    torch.manual_seed(0)
    G = build_generator(
        GeneratorConfig(
            z_dim=16, c_dim=8, w_dim=16, img_resolution=16, channel_base=256, channel_max=32, mapping_layers=2
        )
    ).eval()
    conditions = torch.randn(5, 8)
    config = PPLConfig(space=space, sampling="full", num_samples=12, batch_size=4, max_resolution=16)
    first = ppl(generator=G, distance=pixel_distance, conditions=conditions, config=config)
    again = ppl(generator=G, distance=pixel_distance, conditions=conditions, config=config)
    key = f"ppl_{space}_full"
    assert first == again
    assert math.isfinite(first[key]) and first[key] > 0 and first["ppl_distance"] == "pixels"
    # a generator that ignores its latent (all mapping weights zero → constant w) has zero path length
    with torch.no_grad():
        for name, param in G.mapping.named_parameters():
            if name.startswith("fc"):
                param.zero_()
    assert ppl(generator=G, distance=pixel_distance, conditions=conditions, config=config)[key] == pytest.approx(0.0)
