"""The face-trait read-out: learns traits from sharp faces, scores readings against the truth."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from voice2face.config import FaceCNNConfig
from voice2face.errors import MetricError
from voice2face.metrics.traits import (
    SYNTHVOX_TRAITS,
    TraitSpec,
    load_or_train_trait_net,
    specs_for,
    train_trait_net,
    trait_scores,
)

SPECS = (TraitSpec("dark", "binary", True), TraitSpec("size", "regression", True), TraitSpec("tint", "binary", False))
CONFIG = FaceCNNConfig(image_size=16, width=8, depth=2, epochs=25, batch_size=32, learning_rate=5e-3, augment=False)


def _toy(n: int, seed: int) -> tuple[torch.Tensor, np.ndarray]:
    """Squares on a grey field: ``dark`` → black or white square, ``size`` → its side, ``tint`` → red cast."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 3, 16, 16), np.float32)
    targets = np.zeros((n, 3))
    for i in range(n):
        dark, side, tint = rng.integers(2), rng.integers(3, 13), rng.integers(2)
        images[i] = 0.1
        images[i, 0] += 0.5 * tint
        top = rng.integers(0, 16 - side + 1)
        images[i, :, top : top + side, top : top + side] = -0.9 if dark else 0.9
        targets[i] = (dark, side, tint)
    return torch.from_numpy(images), targets


def test_trait_net_learns_binary_and_regression_traits_of_toy_faces():
    images, targets = _toy(256, 0)
    targets[::7, 1] = np.nan  # unknown values are left out of the loss, not treated as zeros
    network = train_trait_net(images, targets, SPECS, CONFIG)
    probe, truth = _toy(128, 1)
    predicted = network.predict(probe)
    scores = trait_scores(predicted, {s.name: truth[:, k] for k, s in enumerate(SPECS)}, SPECS)
    assert scores["dark"] > 0.9 and scores["size"] > 0.8 and scores["tint"] > 0.9
    assert scores["voice_traits_mean"] == pytest.approx((scores["dark"] + scores["size"]) / 2)
    assert network.features(probe).shape == (128, 64)
    # Shuffled truth scores near chance: the scores measure agreement, not the readings alone.
    shuffled = trait_scores(predicted, {s.name: truth[::-1, k] for k, s in enumerate(SPECS)}, SPECS)
    assert abs(shuffled["size"]) < 0.3 and shuffled["dark"] < 0.7


def test_trait_net_is_deterministic_cached_and_refuses_blur(tmp_path):
    images, targets = _toy(64, 2)
    config = FaceCNNConfig(image_size=16, width=4, depth=2, epochs=2, augment=True)
    calls = []

    def data():
        calls.append(1)
        return images, targets

    first = load_or_train_trait_net(data, SPECS, dataset="toy", cache_dir=tmp_path, config=config)
    again = load_or_train_trait_net(data, SPECS, dataset="toy", cache_dir=tmp_path, config=config)
    assert len(calls) == 1
    assert torch.equal(first(images), again(images))
    assert torch.equal(train_trait_net(images, targets, SPECS, config)(images), first(images))
    with pytest.raises(MetricError, match="sharp real faces only"):
        train_trait_net(images, targets, SPECS, FaceCNNConfig(image_size=16, width=4, depth=2, blur=1.0))


def test_specs_follow_what_the_dataset_records(tiny_manifest):
    assert specs_for(tiny_manifest.identities) == SYNTHVOX_TRAITS
    revealed = {s.name for s in SYNTHVOX_TRAITS if s.voice_revealed}
    expected = {"sex", "age", "wrinkles", "greyness", "bald", "glasses", "jaw_width", "face_length", "head_size"}
    assert revealed == expected


def test_consistency_is_the_share_of_a_speakers_faces_that_agree_with_their_usual_reading():
    from voice2face.metrics.traits import consistency

    predicted = {"sex": np.array([1, 1, 0, 0, 0, 0, 1]), "age": np.array([20.0, 30, 40, 50, 60, 70, 80])}
    speakers = ["a", "a", "a", "b", "b", "b", "c"]  # c has one face: left out
    out = consistency(predicted, speakers)
    assert out["sex_consistency"] == pytest.approx((2 / 3 + 1) / 2)
    # a: 20, 30 under 35 and 40 in 35–54 → 2/3; b: 50 in 35–54, 60, 70 over 55 → 2/3
    assert out["age_group_consistency"] == pytest.approx(2 / 3)
    assert consistency(predicted, ["a", "b", "c", "d", "e", "f", "g"]) == {
        "sex_consistency": None, "age_group_consistency": None,
    }  # fmt: skip


def test_the_instrument_is_the_same_network_whatever_threads_the_caller_runs_on():
    """A thread count changes a convolution backward's summation order; the instrument pins its
    own (INSTRUMENT_THREADS), so a machine's default cannot change what it reads, and the caller's
    count is given back."""
    images, targets = _toy(96, 3)
    config = FaceCNNConfig(image_size=32, width=8, depth=2, epochs=2, batch_size=16)
    before = torch.get_num_threads()
    outputs = []
    try:
        for threads in (1, 3):
            torch.set_num_threads(threads)
            outputs.append(train_trait_net(images, targets, SPECS, config)(images))
            assert torch.get_num_threads() == threads
    finally:
        torch.set_num_threads(before)
    assert torch.equal(outputs[0], outputs[1])
