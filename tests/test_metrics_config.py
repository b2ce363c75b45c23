"""Metric configs: JSON round trip (tuples included) and range checks naming the field."""

from __future__ import annotations

import pytest

from voice2face.config import (
    EvaluationConfig,
    FaceCNNConfig,
    FIDConfig,
    IdentityMetricsConfig,
    PPLConfig,
    load_json,
    save_json,
)
from voice2face.errors import ConfigError


@pytest.mark.parametrize(
    "config",
    [
        FIDConfig(kid_subsets=10, frechet_method="eigh"),
        PPLConfig(space="z", sampling="full", crop=True),
        IdentityMetricsConfig(recall_ks=(1, 3), gallery_size=50),
        FaceCNNConfig(image_size=32, depth=3),
    ],
)
def test_round_trip_through_json(tmp_path, config):
    save_json(config, tmp_path / "config.json")
    assert load_json(type(config), tmp_path / "config.json") == config


@pytest.mark.parametrize(
    "build, phrase",
    [
        (lambda: FIDConfig(frechet_method="svd"), "frechet_method"),
        (lambda: PPLConfig(space="s"), "PPL space"),
        (lambda: PPLConfig(sampling="middle"), "PPL sampling"),
        (lambda: PPLConfig(epsilon=0.5), "epsilon"),
        (lambda: PPLConfig(low_percentile=50, high_percentile=40), "low_percentile"),
        (lambda: IdentityMetricsConfig(recall_ks=(0, 1)), "recall_ks"),
        (lambda: IdentityMetricsConfig(gallery_size=1), "gallery_size"),
        (lambda: FaceCNNConfig(image_size=16, depth=6), "too small for depth"),
        (lambda: EvaluationConfig(attribute_blur=9.0), "attribute_blur: blur must be 0–8 px for image_size 64"),
    ],
)
def test_out_of_range_values_are_refused(build, phrase):
    with pytest.raises(ConfigError, match=phrase):
        build()
