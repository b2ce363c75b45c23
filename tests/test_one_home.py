"""The shared homes of ideas that several parts use: latents and faces from a seed, utterance
embeddings, pixel conversion and the real-then-generated grid (issue 15, "one home for each idea")."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from voice2face.audio.features import feature_windows
from voice2face.models.embedding import embed_utterances, encode_windows
from voice2face.models.generation import fixed_latents, generate_faces
from voice2face.utils.images import float_to_uint8, real_then_generated_grid, to_uint8, uint8_to_float


class LinearGenerator(nn.Module):
    """z ``[B, 4]``, c ``[B, 2]`` or None → images ``[B, 3, 2, 2]``; records the calls' batch sizes."""

    z_dim = 4

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(6, 12, generator=torch.Generator().manual_seed(0)))
        self.calls: list[tuple[int, float, str]] = []

    def forward(self, z, c, truncation_psi=1.0, noise_mode="random"):
        self.calls.append((z.shape[0], truncation_psi, noise_mode))
        c = torch.zeros(z.shape[0], 2) if c is None else c
        return (torch.cat([z, c], dim=1) @ self.weight).view(-1, 3, 2, 2) * 2  # beyond [-1, 1]: clamped


def test_per_row_latents_do_not_depend_on_how_many_are_drawn():
    assert torch.equal(fixed_latents(3, 8, seed=5)[:2], fixed_latents(2, 8, seed=5))
    block = fixed_latents(20, 8, seed=5, rule="per_sample")
    assert torch.equal(block, torch.randn([20, 8], generator=torch.Generator().manual_seed(5)))
    with pytest.raises(ValueError, match="latent rule"):
        fixed_latents(2, 8, seed=5, rule="random")


def test_generate_faces_follows_each_latent_rule():
    generator = LinearGenerator()
    conditions = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    shared = generate_faces(generator, conditions, seed=3, samples_per_condition=3, latent_rule="per_sample")
    z = fixed_latents(3, 4, seed=3, rule="per_sample")
    assert shared.shape == (6, 3, 2, 2) and shared.min() >= -1 and shared.max() <= 1
    # sample j of every condition uses z_j: condition-major, same latents for both voices. A matrix
    # product of 3 rows and one of 6 may round differently on some CPUs (seen on an AMD EPYC), so the
    # images are compared to float32 rounding: a wrong latent would differ by whole units.
    same = lambda a, b: torch.allclose(a, b, rtol=0, atol=1e-5)  # noqa: E731
    assert same(shared[:3], generator(z, conditions[:1].repeat(3, 1)).clamp(-1, 1))
    assert same(shared[3:], generator(z, conditions[1:].repeat(3, 1)).clamp(-1, 1))
    assert not same(shared[:3], generator(z.roll(1, 0), conditions[:1].repeat(3, 1)).clamp(-1, 1))
    own = generate_faces(generator, conditions, seed=3, samples_per_condition=3, batch_size=4)
    assert same(own, generator(fixed_latents(6, 4, seed=3), conditions.repeat_interleave(3, 0)).clamp(-1, 1))
    generator.calls.clear()
    pixels = generate_faces(generator, None, seed=3, samples_per_condition=5, latent_rule="per_sample", batch_size=2,
                            truncation_psi=0.5, as_uint8=True)  # fmt: skip
    assert pixels.dtype == torch.uint8 and pixels.shape == (5, 3, 2, 2)
    assert generator.calls == [(2, 0.5, "const"), (2, 0.5, "const"), (1, 0.5, "const")]


def test_utterance_embeddings_average_windows_and_restore_the_mode():
    encoder = nn.Sequential(nn.Conv1d(3, 5, 1), nn.Dropout(0.5), nn.AdaptiveAvgPool1d(1), nn.Flatten())
    encoder.train()
    features = [np.random.default_rng(k).standard_normal((3, 10 + k)).astype(np.float32) for k in range(3)]
    whole = embed_utterances(encoder, features)  # [3, 5]
    assert whole.shape == (3, 5) and encoder.training and not whole.requires_grad
    with torch.no_grad():
        encoder.eval()
        assert torch.equal(whole[1], encoder(torch.from_numpy(features[1])[None])[0])
        encoder.train()
    windows = feature_windows(features[2], min_frames=4, max_frames=5)  # 12 frames → 3 windows of 4
    assert windows.shape == (3, 3, 4)
    averaged = embed_utterances(encoder, [windows], batch_size=2)[0]
    assert torch.allclose(averaged, encode_windows(encoder, windows).mean(dim=0))
    assert feature_windows(features[0], min_frames=25, max_frames=40).shape == (1, 3, 25)  # short: tiled


def test_pixel_rules_round_to_the_nearest_pixel_and_differ_only_at_halves():
    pixels = torch.arange(256, dtype=torch.uint8).view(1, 1, 16, 16).repeat(1, 3, 1, 1)
    images = uint8_to_float(pixels)
    assert torch.equal(float_to_uint8(images), pixels)
    assert torch.equal(float_to_uint8(images, rounding="half_up"), pixels)
    assert np.array_equal(to_uint8(images)[0].transpose(2, 0, 1), pixels[0].numpy())
    noisy = torch.rand(4, 3, 8, 8, generator=torch.Generator().manual_seed(0)) * 2.4 - 1.2
    a, b = float_to_uint8(noisy).int(), float_to_uint8(noisy, rounding="half_up").int()
    assert (a - b).abs().max() <= 1
    with pytest.raises(ValueError, match="rounding"):
        float_to_uint8(images, rounding="floor")


def test_real_then_generated_grid_pads_short_rows_with_white():
    real = -torch.ones(1, 3, 2, 2)
    generated = [torch.zeros(2, 3, 2, 2), torch.zeros(5, 3, 2, 2)]
    picture = np.asarray(real_then_generated_grid([real, real], generated, columns=4))
    assert picture.shape == (2 * 4 + 2, 4 * 4 + 2, 3)
    assert (picture[2:4, 2:4] == 0).all() and (picture[2:4, 6:8] == 128).all()
    assert (picture[2:4, 14:16] == 255).all()  # row 0 had 2 generated faces: the 4th tile is blank
    assert (picture[6:8, 14:16] == 128).all()  # row 1 shows its first 3 of 5
    alone = np.asarray(real_then_generated_grid([real, real], None, columns=1))
    assert alone.shape == (2 * 4 + 2, 4 + 2, 3)
