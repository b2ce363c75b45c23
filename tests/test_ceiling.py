"""The identity ceiling: the metric arithmetic, chance levels, and the oracle's ordering."""

from __future__ import annotations

import numpy as np
import pytest

from voice2face.data.synthvox import draw_identity
from voice2face.data.synthvox.ceiling import (
    chance_levels,
    identity_ceiling,
    latent_grid,
    latent_oracle_scores,
    matching_metrics,
    oracle_scores,
    sex_only_scores,
)


def test_matching_metrics_on_known_score_matrices():
    n = 20
    perfect = matching_metrics(np.eye(n))
    assert perfect == {"matching_1v2": 1.0, "recall_at_1": 1.0, "recall_at_5": 1.0, "recall_at_10": 1.0}
    flat = matching_metrics(np.zeros((n, n)))  # all ties: exactly chance
    assert flat == pytest.approx(chance_levels(n))
    worst = matching_metrics(-np.eye(n))
    assert worst["matching_1v2"] == 0.0 and worst["recall_at_10"] == 0.0
    # voice 0's own face ranks third of four: beats one of three others
    scores = np.array([[1.0, 3.0, 2.0, 0.0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    metrics = matching_metrics(scores, ks=(1, 3))
    assert metrics["matching_1v2"] == pytest.approx((1 / 3 + 3) / 4)
    assert metrics["recall_at_1"] == pytest.approx(3 / 4) and metrics["recall_at_3"] == 1.0


def test_chance_levels():
    assert chance_levels(189) == {
        "matching_1v2": 0.5,
        "recall_at_1": 1 / 189,
        "recall_at_5": 5 / 189,
        "recall_at_10": 10 / 189,
    }
    assert chance_levels(4)["recall_at_5"] == 1.0


def test_grid_prior_integrates_to_one():
    *_, log_prior = latent_grid()
    assert np.exp(log_prior).sum() == pytest.approx(1.0, abs=1e-3)


def test_the_oracle_sits_between_knowing_sex_and_knowing_the_latents():
    people = [draw_identity(11, index) for index in range(150)]
    trait = matching_metrics(oracle_scores(people))
    latent = matching_metrics(latent_oracle_scores(people))
    sex = matching_metrics(sex_only_scores(people))
    assert 0.7 < sex["matching_1v2"] < 0.8  # half the pairs differ in sex
    assert sex["matching_1v2"] + 0.1 < trait["matching_1v2"] <= latent["matching_1v2"] + 0.01
    assert trait["recall_at_10"] > 3 * chance_levels(150)["recall_at_10"]


def test_the_oracle_beats_a_hand_made_matcher_on_the_same_traits():
    people = [draw_identity(5, index) for index in range(150)]
    # a sensible heuristic: same sex, and agreement of voice cues with face cues of age and size
    male = np.array([p.latent.male for p in people])
    voice_age = np.array([p.voice.jitter for p in people]) / 0.012
    face_age = np.array([p.face.wrinkles for p in people]) / 1.1
    voice_size = np.array([p.voice.vtl_cm - 2.3 * p.latent.male for p in people]) / 0.6
    face_size = np.array([p.face.head_size for p in people]) / 0.045
    heuristic = (
        10.0 * (male[:, None] == male[None, :])
        - np.abs(voice_age[:, None] - face_age[None, :])
        - 0.3 * np.abs(voice_size[:, None] - face_size[None, :])
    )
    assert matching_metrics(oracle_scores(people))["matching_1v2"] >= matching_metrics(heuristic)["matching_1v2"]


def test_identity_ceiling_record():
    record = identity_ceiling([draw_identity(0, index) for index in range(30)])
    assert record["identities"] == 30 and set(record["references"]) == {"latent_oracle", "sex_only"}
    assert (
        0.5 < record["matching_1v2"] <= 1.0 and record["recall_at_1"] <= record["recall_at_5"] <= record["recall_at_10"]
    )
    with pytest.raises(ValueError):
        identity_ceiling([draw_identity(0, 0)])
