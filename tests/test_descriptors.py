"""The descriptor read-out: a second instrument family (fixed descriptors, linear models)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from voice2face.config import DescriptorConfig
from voice2face.errors import MetricError
from voice2face.metrics.descriptors import (
    descriptor_two_sample_test,
    face_descriptors,
    load_or_train_descriptor_readout,
    train_descriptor_readout,
)
from voice2face.metrics.realism import gaussian_blur
from voice2face.metrics.traits import TraitSpec

CONFIG = DescriptorConfig()
HOG_SIZE = 7 * 7 * 4 * 9  # (64/8 − 1)² blocks of 2×2 cells × 9 bins


def _edge(vertical: bool) -> torch.Tensor:
    image = torch.full((1, 3, 64, 64), -1.0)
    if vertical:
        image[..., :, 32:] = 1.0
    else:
        image[..., 32:, :] = 1.0
    return image


def test_hog_puts_an_edges_gradient_in_the_bins_of_its_direction():
    vertical = face_descriptors(_edge(True))[0, :HOG_SIZE].reshape(4, 9, 7, 7).sum(axis=(0, 2, 3))
    horizontal = face_descriptors(_edge(False))[0, :HOG_SIZE].reshape(4, 9, 7, 7).sum(axis=(0, 2, 3))
    # A vertical edge has a horizontal gradient (0 rad): half in the first bin, half in the last.
    assert vertical[0] == pytest.approx(vertical[8]) and vertical[0] > 0
    assert vertical[1:8].sum() == pytest.approx(0.0, abs=1e-9)
    # A horizontal edge's gradient points at π/2: the middle bin alone.
    assert horizontal[4] > 0 and np.delete(horizontal, 4).sum() == pytest.approx(0.0, abs=1e-9)


def test_descriptors_see_colour_and_sharpness_and_take_uint8_or_float():
    generator = torch.Generator().manual_seed(0)
    faces = torch.rand(4, 3, 64, 64, generator=generator) * 2 - 1
    uint8 = ((faces + 1) * 127.5).round().to(torch.uint8)
    assert face_descriptors(uint8).shape == (4, HOG_SIZE + 16 * 6 + 64 + 17)
    assert np.abs(face_descriptors(uint8) - face_descriptors(uint8.float() / 127.5 - 1)).max() < 1e-6
    red = torch.zeros(1, 3, 64, 64)
    red[:, 0] = 1.0
    colour = face_descriptors(red)[0, HOG_SIZE : HOG_SIZE + 16 * 6 + 64]
    assert np.count_nonzero(colour[96:]) == 1  # the joint histogram: one bin
    sharp_part = slice(-17, None)
    assert (face_descriptors(gaussian_blur(faces, 1.5))[:, sharp_part] < face_descriptors(faces)[:, sharp_part]).all()
    with pytest.raises(MetricError, match=r"images \[N, 3, H, W\]"):
        face_descriptors(torch.zeros(3, 64, 64))


def _planted(count: int, seed: int):
    """Faces whose top band's brightness carries a value and whose left half's redness a class."""
    generator = torch.Generator().manual_seed(seed)
    value = torch.rand(count, generator=generator)
    label = (torch.rand(count, generator=generator) > 0.5).float()
    faces = torch.rand(count, 3, 64, 64, generator=generator) * 0.6 - 0.3
    faces[:, :, :16] += (value * 1.2 - 0.6).view(-1, 1, 1, 1)
    faces[:, 0, :, :32] += (label * 0.5).view(-1, 1, 1)
    return faces.clamp(-1, 1), np.stack([value.numpy(), label.numpy()], axis=1).astype(np.float64)


SPECS = (TraitSpec("brightness", "regression", True), TraitSpec("red", "binary", True))


def test_readout_learns_planted_traits_and_caches_them(tmp_path):
    faces, targets = _planted(120, 0)
    groups = [f"p{i // 3}" for i in range(120)]  # three faces per person
    calls = []

    def data():
        calls.append(1)
        return faces, targets, groups

    readout = load_or_train_descriptor_readout(data, SPECS, dataset="planted", cache_dir=tmp_path)
    again = load_or_train_descriptor_readout(data, SPECS, dataset="planted", cache_dir=tmp_path)
    assert calls == [1]  # the second call read the cache
    test_faces, test_targets = _planted(60, 1)
    predicted, cached = readout.predict(test_faces), again.predict(test_faces)
    assert np.array_equal(predicted["red"], cached["red"])
    assert np.allclose(predicted["brightness"], cached["brightness"])
    assert np.corrcoef(predicted["brightness"], test_targets[:, 0])[0, 1] > 0.9
    assert (predicted["red"] == test_targets[:, 1]).mean() > 0.9
    assert set(readout.penalties) <= set(CONFIG.penalties)


def test_readout_refuses_targets_that_do_not_fit_and_a_damaged_cache(tmp_path):
    faces, targets = _planted(20, 0)
    with pytest.raises(MetricError, match="do not fit"):
        train_descriptor_readout(faces, targets[:, :1], [str(i) for i in range(20)], SPECS)
    load_or_train_descriptor_readout(lambda: (faces, targets, [str(i) for i in range(20)]), SPECS,
                                     dataset="d", cache_dir=tmp_path)  # fmt: skip
    path = next(tmp_path.glob("descriptor-readout-*.npz"))
    with np.load(path) as saved:
        arrays = {name: saved[name] for name in saved.files}
    arrays["meta"] = np.array("{not json")
    np.savez(path, **arrays)
    with pytest.raises(MetricError, match="damaged"):
        load_or_train_descriptor_readout(lambda: None, SPECS, dataset="d", cache_dir=tmp_path)


def test_two_sample_test_is_near_chance_for_one_distribution_and_sure_for_a_blurred_one():
    faces, _ = _planted(160, 2)
    first, second = faces[:100], faces[100:]
    groups = [f"p{i // 4}" for i in range(160)]
    same = descriptor_two_sample_test(first, second, first_groups=groups[:100], second_groups=groups[100:])
    assert same["per_side"] == 60  # equal sizes: the larger set is subsampled
    assert 0.3 < same["c2st"] < 0.7
    blurred = descriptor_two_sample_test(first, gaussian_blur(second, 1.2))
    assert blurred["c2st"] > 0.95
    with pytest.raises(MetricError, match="at least"):
        descriptor_two_sample_test(first[:3], second[:3])
