"""Realism measures without pretrained weights: Gaussian blur, Laplacian sharpness and the C2ST,
on synthetic face-like images with sharp edges."""

from __future__ import annotations

import pytest
import torch

from voice2face.errors import ConfigError, MetricError
from voice2face.metrics.realism import (
    C2STConfig,
    classifier_two_sample_test,
    gaussian_blur,
    laplacian_variance,
    sharpness_ratio,
)

# Small enough for a loaded 2-core machine: 32 px images, 3 folds, 3 epochs, width 8.
SMALL = C2STConfig(folds=3, epochs=3, batch_size=32, width=8, seed=0)


def face_like(count: int, size: int = 32, seed: int = 0) -> torch.Tensor:
    """Random 'faces' with hard edges: a coloured ellipse on a plain background, two dark eyes
    and a mouth bar, all placed and coloured from ``seed``. Returns uint8 ``[count, 3, size, size]``."""
    generator = torch.Generator().manual_seed(seed)

    def uniform(low: float, high: float, *shape: int) -> torch.Tensor:
        return low + (high - low) * torch.rand(count, *shape, generator=generator)

    grid = (torch.arange(size, dtype=torch.float32) + 0.5) / size  # [S] pixel centres in (0, 1)
    y, x = grid.view(1, size, 1), grid.view(1, 1, size)  # [1, S, 1], [1, 1, S]

    def column(values: torch.Tensor) -> torch.Tensor:
        return values.view(count, 1, 1)

    background = uniform(0, 255, 3)  # [count, 3]
    skin = uniform(60, 255, 3)  # [count, 3]
    features = uniform(0, 60, 3)  # [count, 3]
    centre_x, centre_y = uniform(0.4, 0.6), uniform(0.4, 0.6)  # [count]
    half_width, half_height = uniform(0.25, 0.35), uniform(0.3, 0.42)  # [count]
    face = ((x - column(centre_x)) / column(half_width)).square() + (
        (y - column(centre_y)) / column(half_height)
    ).square() <= 1  # [count, S, S]
    eye_y = column(centre_y - 0.35 * half_height)
    eye_dx = column(0.4 * half_width)
    eye_size = column(uniform(0.04, 0.08))
    eyes = ((y - eye_y).abs() < eye_size / 2) & (((x - column(centre_x)).abs() - eye_dx).abs() < eye_size)
    mouth = ((y - column(centre_y + 0.45 * half_height)).abs() < column(uniform(0.02, 0.05))) & (
        (x - column(centre_x)).abs() < column(uniform(0.15, 0.4) * half_width)
    )
    image = background[:, :, None, None].expand(count, 3, size, size).clone()  # [count, 3, S, S]
    image = torch.where(face[:, None], skin[:, :, None, None], image)
    image = torch.where((eyes | mouth)[:, None] & face[:, None], features[:, :, None, None], image)
    return image.round().clamp(0, 255).to(torch.uint8)


@pytest.fixture(scope="module")
def faces() -> torch.Tensor:
    return face_like(240, seed=1)  # [240, 3, 32, 32]


# --------------------------------------------------------------------------- blur and sharpness


def test_blur_with_sigma_zero_is_the_identity(faces):
    assert torch.equal(gaussian_blur(faces, 0.0), faces)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32, torch.float64])
def test_blur_keeps_dtype_and_shape(faces, dtype):
    images = faces[:4] if dtype == torch.uint8 else faces[:4].to(dtype) / 127.5 - 1
    blurred = gaussian_blur(images, 1.5)
    assert blurred.dtype == dtype
    assert blurred.shape == images.shape
    assert not torch.equal(blurred, images)


def test_blur_keeps_a_constant_image_constant():
    constant = torch.full((2, 3, 16, 20), 173, dtype=torch.uint8)
    assert torch.equal(gaussian_blur(constant, 2.0), constant)
    flat = torch.full((1, 3, 16, 16), 0.25)
    torch.testing.assert_close(gaussian_blur(flat, 2.0), flat)


def test_blur_lowers_laplacian_variance_and_sharpness_ratio(faces):
    sharp = laplacian_variance(faces)  # [N]
    soft = laplacian_variance(gaussian_blur(faces, 1.0))
    softer = laplacian_variance(gaussian_blur(faces, 3.0))
    assert (soft < sharp).all() and (softer < soft).all()
    assert sharpness_ratio(faces, faces) == pytest.approx(1.0)
    assert sharpness_ratio(gaussian_blur(faces, 1.0), faces) < 1.0


def test_laplacian_variance_agrees_for_uint8_and_unit_float(faces):
    as_float = faces.float() / 127.5 - 1  # [-1, 1]
    from_uint8 = laplacian_variance(faces)
    assert from_uint8.dtype == torch.float64 and from_uint8.shape == (faces.shape[0],)
    torch.testing.assert_close(laplacian_variance(as_float), from_uint8, rtol=1e-5, atol=1e-3)


def test_laplacian_variance_of_a_known_image():
    # A single bright pixel of 255 luminance in a 5x5 black image: over the 3x3 valid region the
    # Laplacian is -4*255 at the centre and 255 at its four neighbours, 0 at the corners.
    image = torch.zeros(1, 3, 5, 5, dtype=torch.uint8)
    image[0, :, 2, 2] = 255
    values = torch.tensor([-4 * 255.0, 255, 255, 255, 255, 0, 0, 0, 0], dtype=torch.float64)
    torch.testing.assert_close(laplacian_variance(image), values.var(correction=0).view(1))


# --------------------------------------------------------------------------- C2ST


def test_c2st_cannot_tell_two_halves_of_one_set_apart(faces):
    result = classifier_two_sample_test(faces[:96], faces[96:], SMALL)  # 144 generated: subsampled to 96
    assert set(result) == {"c2st", "c2st_std", "c2st_folds", "c2st_per_class"}
    assert result["c2st_per_class"] == 96
    assert len(result["c2st_folds"]) == SMALL.folds
    assert 0.3 <= result["c2st"] <= 0.7


def test_c2st_tells_blurred_images_apart(faces):
    result = classifier_two_sample_test(faces[:120], gaussian_blur(faces[:120], 3.0), SMALL)
    assert result["c2st"] >= 0.9


def test_c2st_is_deterministic_and_leaves_the_global_rng_alone(faces):
    config = C2STConfig(folds=2, epochs=1, batch_size=16, width=4, max_per_class=24, seed=3)
    state = torch.get_rng_state()
    first = classifier_two_sample_test(faces[:60], faces[60:120], config)
    assert torch.equal(torch.get_rng_state(), state)
    second = classifier_two_sample_test(faces[:60], faces[60:120], config)
    assert first == second
    assert first["c2st_per_class"] == 24


def test_c2st_rejects_unusable_inputs(faces):
    with pytest.raises(MetricError, match="at least 10"):
        classifier_two_sample_test(faces[:9], faces[9:30])
    with pytest.raises(MetricError, match="same height and width"):
        classifier_two_sample_test(faces[:20], faces[20:40, :, :16, :16], SMALL)
    with pytest.raises(MetricError, match="uint8"):
        classifier_two_sample_test(faces[:20].float(), faces[20:40], SMALL)
    with pytest.raises(ConfigError, match="folds"):
        C2STConfig(folds=1)
    with pytest.raises(MetricError, match="sigma"):
        gaussian_blur(faces[:2], -1.0)
