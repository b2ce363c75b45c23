"""The linear probe that measures how much age and sex a voice embedding carries."""

from __future__ import annotations

import numpy as np
import pytest

from voice2face.metrics.probe import linear_probe


def test_probe_reads_a_linear_attribute_and_not_noise():
    rng = np.random.default_rng(0)
    x, x_test = rng.normal(size=(120, 16)), rng.normal(size=(40, 16))
    direction = rng.normal(size=16)
    age = 40 + 5 * x @ direction + rng.normal(scale=1.0, size=120)
    age_test = 40 + 5 * x_test @ direction
    assert linear_probe(x, age, x_test, age_test)["score"] > 0.9
    noise = linear_probe(x, rng.normal(size=120), x_test, rng.normal(size=40))["score"]
    assert noise < 0.2  # nothing to read: about zero or below
    sex, sex_test = (x[:, 0] > 0).astype(float), (x_test[:, 0] > 0).astype(float)
    assert linear_probe(x, sex, x_test, sex_test, binary=True)["score"] > 0.85


def test_probe_drops_unknown_values_and_needs_enough_speakers():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(10, 4))
    y = x[:, 0].copy()
    y[:3] = np.nan
    result = linear_probe(x, y, x, x[:, 0])
    assert result["train"] == 7 and result["test"] == 10
    with pytest.raises(ValueError, match="at least 3"):
        linear_probe(x[:2], y[:2], x, y)
