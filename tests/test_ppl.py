"""Perceptual path length against a tiny generator with StyleGAN2's call signatures.

With a linear synthesis network and a squared-L2 distance the path length of a W-space step is
known exactly: d(A·w(t), A·w(t+ε)) / ε² = |A·(w1 − w0)|², whatever t is.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from voice2face.config import PPLConfig
from voice2face.errors import MetricError
from voice2face.metrics.embedders import embedding_distance
from voice2face.metrics.ppl import face_crop, filtered_mean, path_lengths, ppl, slerp

from tiny_generator import TinyGenerator


def squared_l2(img_a: torch.Tensor, img_b: torch.Tensor) -> torch.Tensor:
    return (img_a - img_b).double().square().flatten(1).sum(dim=1)


def test_w_space_path_length_equals_the_linear_answer():
    generator = TinyGenerator()
    conditions = torch.randn(10, 3, generator=torch.Generator().manual_seed(1))
    config = PPLConfig(space="w", sampling="full", num_samples=24, batch_size=8)
    lengths = path_lengths(generator, squared_l2, conditions=conditions, config=config)
    assert lengths.shape == (24,)
    expected = []
    for ws in generator.mapped:  # one mapping call per batch: both path ends, stacked
        start, end = ws[: len(ws) // 2], ws[len(ws) // 2 :]
        step = (end - start).flatten(1).double() @ generator.synth.detach().double()  # A·(w1 − w0)
        expected.append(step.square().sum(dim=1))
    np.testing.assert_allclose(lengths, torch.cat(expected).numpy(), rtol=2e-2)
    assert set(generator.noise_modes) == {"const"}, "noise must stay fixed so that only the latent moves"


def test_seeded_and_labelled_by_space_sampling_and_distance():
    config = PPLConfig(space="z", sampling="end", num_samples=20, batch_size=6, seed=4)
    conditions = torch.randn(5, 3)
    first = ppl(generator=TinyGenerator(), distance=squared_l2, conditions=conditions, config=config)
    second = ppl(generator=TinyGenerator(), distance=squared_l2, conditions=conditions, config=config)
    assert first == second
    assert first["ppl_z_end"] > 0 and first["ppl_samples"] == 20 and first["ppl_distance"] == "squared_l2"
    # With 20 samples the 1st percentile rounded down is the minimum (index 0.19 → 0) and the
    # 99th rounded up the maximum: nothing is dropped (StyleGAN's rule needs > 100 to drop any).
    assert first["ppl_kept"] == 20


def test_slerp_moves_along_the_great_circle():
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(4, 7, generator=generator), torch.randn(4, 7, generator=generator) * 3
    angle = torch.acos(torch.nn.functional.cosine_similarity(a, b))
    torch.testing.assert_close(slerp(a, b, torch.zeros(4)), torch.nn.functional.normalize(a, dim=1))
    torch.testing.assert_close(slerp(a, b, torch.ones(4)), torch.nn.functional.normalize(b, dim=1))
    middle = slerp(a, b, torch.full((4,), 0.25))
    torch.testing.assert_close(middle.norm(dim=1), torch.ones(4))
    torch.testing.assert_close(torch.acos(torch.nn.functional.cosine_similarity(a, middle)), 0.25 * angle)


def test_z_space_steps_are_the_angle_squared_for_an_isometric_generator():
    # mapping = identity on the (unit) slerped z, synthesis = copying it into pixels: the image
    # moves by ε·θ along the great circle, so d/ε² → θ² (θ = angle between the two ends).
    class Isometric(TinyGenerator):
        def mapping(self, z, c):
            return z[:, None, :]

        def synthesis(self, ws, noise_mode="const"):
            return torch.nn.functional.pad(ws.flatten(1), (0, 3 * 4 - ws.shape[2])).view(-1, 3, 2, 2)

    generator = Isometric(z_dim=5, c_dim=0, num_ws=1)
    lengths = path_lengths(generator, squared_l2, config=PPLConfig(space="z", num_samples=6, batch_size=6))
    z = torch.randn(12, 5, generator=torch.Generator().manual_seed(0))  # the draw path_lengths makes first
    theta = torch.acos(torch.nn.functional.cosine_similarity(z[:6], z[6:]))
    np.testing.assert_allclose(lengths, theta.square().numpy(), rtol=2e-2)


def test_crop_and_downsampling_reach_the_distance():
    shapes = []

    def recording(img_a, img_b):
        shapes.append(tuple(img_a.shape))
        return squared_l2(img_a, img_b)

    generator = TinyGenerator(resolution=16)
    path_lengths(generator, recording, conditions=torch.zeros(1, 3), config=PPLConfig(num_samples=2, crop=True))
    path_lengths(generator, recording, conditions=torch.zeros(1, 3), config=PPLConfig(num_samples=2, max_resolution=8))
    assert shapes == [(2, 3, 8, 8), (2, 3, 8, 8)]
    assert face_crop(torch.zeros(1, 3, 64, 64)).shape == (1, 3, 32, 32)


def test_filtered_mean_drops_the_outer_percentiles():
    values = np.concatenate([[-1e6], np.arange(1.0, 199.0), [1e6]])
    mean, kept = filtered_mean(values, 1.0, 99.0)
    assert kept == 198 and mean == pytest.approx(99.5)


def test_conditional_generators_need_conditions_and_bad_distances_are_named():
    with pytest.raises(MetricError, match="conditional \\(c_dim=3\\); pass conditions"):
        path_lengths(TinyGenerator(), squared_l2, config=PPLConfig(num_samples=2))
    with pytest.raises(MetricError, match="must be \\[B\\]"):
        path_lengths(TinyGenerator(), lambda a, b: a - b, conditions=torch.zeros(2, 3), config=PPLConfig(num_samples=2))


def test_an_embedder_distance_plugs_in_and_names_the_result():
    class PixelEmbedder:
        name = "pixels"
        dim = 3 * 64
        weights_id = "none"

        def embed(self, images):
            return torch.nn.functional.normalize(images.flatten(1), dim=1)

    result = ppl(
        generator=TinyGenerator(),
        distance=embedding_distance(PixelEmbedder()),
        conditions=torch.randn(4, 3),
        config=PPLConfig(num_samples=8, batch_size=4),
    )
    assert result["ppl_distance"] == "pixels" and math.isfinite(result["ppl_w_end"]) and result["ppl_w_end"] > 0
