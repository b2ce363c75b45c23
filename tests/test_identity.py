"""Identity metrics on hand-built embeddings whose right answers are worked out in the comments.

No peer library computes these (Wen et al. and SF2F ship research scripts, not packages), so
every expected number below is derived by hand from the construction.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from voice2face.config import IdentityMetricsConfig
from voice2face.errors import MetricError
from voice2face.metrics.identity import (
    attribute_agreement,
    attributes,
    cosine_to_speaker,
    identity,
    match_1v2,
    recall_at_k,
)

E = np.eye(4)
ROOT_HALF = np.sqrt(0.5)


def test_1v2_exact_on_one_hot_faces():
    # Real faces: A = e0, B = e1, C = e2 (one each).
    # voice of A → e0: beats B and C            → 1
    # voice of B → e0: loses to A (1 > 0), ties C (0 = 0, half) → (0 + 0.5) / 2 = 0.25
    # voice of C → e2: beats A and B            → 1
    # mean over voices = (1 + 0.25 + 1) / 3 = 0.75
    real, real_ids = E[:3], ["A", "B", "C"]
    generated, generated_ids = np.stack([E[0], E[0], E[2]]), ["A", "B", "C"]
    result = match_1v2(generated, generated_ids, real, real_ids, num_pairs=0)
    assert result == {"match_1v2": pytest.approx(0.75), "match_1v2_voices": 3}


def test_1v2_exact_with_several_faces_per_identity():
    # A's faces: e0, e1; B's face: (e0 + e1)/√2.
    # voice of A → e0: own sims [1, 0] vs B's [0.707]: one win in two → 0.5
    # voice of B → e1: own sims [0.707] vs A's [0, 1]: one win in two → 0.5
    # voice of B → e0 + e1 (unnormalised on purpose): own [1] vs A's [0.707, 0.707] → 1
    # mean = (0.5 + 0.5 + 1) / 3 = 2/3
    real = np.stack([E[0], E[1], (E[0] + E[1]) * ROOT_HALF])
    real_ids = [0, 0, 1]
    generated = np.stack([E[0], E[1], E[0] + E[1]])
    result = match_1v2(generated, [0, 1, 1], real, real_ids, num_pairs=0)
    assert result["match_1v2"] == pytest.approx(2 / 3)


def test_1v2_random_pairs_estimate_the_exact_value_and_are_seeded():
    rng = np.random.default_rng(0)
    real = rng.standard_normal((60, 8))
    real_ids = np.repeat(np.arange(12), 5)
    generated = real[::5] + 1.5 * rng.standard_normal((12, 8))
    exact = match_1v2(generated, np.arange(12), real, real_ids, num_pairs=0)["match_1v2"]
    sampled = match_1v2(generated, np.arange(12), real, real_ids, num_pairs=40000, seed=3)["match_1v2"]
    again = match_1v2(generated, np.arange(12), real, real_ids, num_pairs=40000, seed=3)["match_1v2"]
    assert 0.55 < exact < 0.95 and sampled == again
    assert sampled == pytest.approx(exact, abs=0.015)  # 40000 Bernoulli draws: sd < 0.0025


def test_1v2_same_sex_stratum():
    # A, B female; C, D male; E of unknown sex. One-hot faces e_A..e_D; E's face is e_A + e_B.
    # voice of A → (e_A + 2 e_C)/√5: cos A 0.447, B 0, C 0.894, D 0, E 0.316
    #   all others: beats B, D, E, loses to C            → 3/4
    #   same sex (B only): wins                           → 1
    # voice of C → e_C: beats everyone                    → 1 (same sex: D only → 1)
    # voice of E → e_A: cos E 0.707; loses to A (1), beats B, C, D (0)  → 3/4;
    #   left out of the same-sex stratum since E's sex is unknown.
    # all: (3/4 + 1 + 3/4) / 3 = 5/6 ; same sex: (1 + 1) / 2 = 1 over 2 voices.
    five = np.zeros((5, 5))
    five[:4, :4] = np.eye(4)
    five[4, :2] = ROOT_HALF
    real_ids = ["A", "B", "C", "D", "E"]
    voice_a = np.array([1, 0, 2, 0, 0]) / np.sqrt(5)
    generated = np.stack([voice_a, five[2], five[0]])
    sex = {"A": "f", "B": "f", "C": "m", "D": "m", "E": None}
    result = match_1v2(generated, ["A", "C", "E"], five, real_ids, num_pairs=0, identity_sex=sex)
    assert result["match_1v2"] == pytest.approx(5 / 6)
    assert result["match_1v2_same_sex"] == pytest.approx(1.0)
    assert result["match_1v2_same_sex_voices"] == 2 and result["match_1v2_voices"] == 3


def test_recall_at_k_ranks_against_identity_means():
    # Two real faces per identity, both e_i (mean e_i). Gallery = all 4 identities.
    # voice 0 → e0:                  true score 1, others 0           → rank 1
    # voice 1 → 0.9 e0 + 0.1 e1:     e0 beats the true identity       → rank 2
    # voice 2 → 0.6 e3 + 0.3 e1 + 0.1 e2: e3, e1 above                → rank 3
    # voice 3 → −e3: every other identity scores 0 > −1               → rank 4
    # recall@1 = 1/4, @2 = 2/4, @3 = 3/4, @5 = 1 (K beyond the gallery).
    real = np.repeat(E, 2, axis=0)
    real_ids = np.repeat(np.arange(4), 2)
    generated = np.stack([E[0], 0.9 * E[0] + 0.1 * E[1], 0.6 * E[3] + 0.3 * E[1] + 0.1 * E[2], -E[3]])
    result = recall_at_k(generated, np.arange(4), real, real_ids, ks=(1, 2, 3, 5), gallery_size=100, folds=3)
    assert result == {
        "recall@1": 0.25,
        "recall@2": 0.5,
        "recall@3": 0.75,
        "recall@5": 1.0,
        "recall_gallery": 4,
        "recall_folds": 3,
    }


def test_recall_ties_count_against_the_true_identity_and_galleries_are_seeded():
    # Every generated face equals every identity's mean: a tie with all → rank = gallery size.
    real = np.ones((6, 3))
    ids = np.arange(6)
    tied = recall_at_k(np.ones((6, 3)), ids, real, ids, ks=(1, 6), gallery_size=100, folds=1)
    assert tied["recall@1"] == 0.0 and tied["recall@6"] == 1.0
    # Random galleries of 3 out of 10 identities: recall@3 = 1 always; same seed, same numbers.
    rng = np.random.default_rng(1)
    real = rng.standard_normal((10, 5))
    generated = real + rng.standard_normal((10, 5))
    first = recall_at_k(generated, range(10), real, range(10), ks=(1, 3), gallery_size=3, folds=3, seed=7)
    second = recall_at_k(generated, range(10), real, range(10), ks=(1, 3), gallery_size=3, folds=3, seed=7)
    assert first == second and first["recall@3"] == 1.0 and first["recall_gallery"] == 3


def test_cosine_to_speaker_and_to_others():
    # voice of 0 → e0; 0's faces e0 and (e0 + e1)/√2 → mean cos (1 + 0.707)/2; 1's face e2 → 0.
    # voice of 1 → e2; own face e2 → 1; others e0, (e0+e1)/√2 → 0.
    real = np.stack([E[0], (E[0] + E[1]) * ROOT_HALF, E[2]])
    result = cosine_to_speaker(np.stack([E[0], E[2]]), [0, 1], real, [0, 0, 1])
    assert result["cosine_speaker"] == pytest.approx(((1 + ROOT_HALF) / 2 + 1) / 2)
    # voice 0 vs identity 1's face: 0; voice 1 vs identity 0's faces: 0, 0 → 0.
    assert result["cosine_others"] == pytest.approx(0.0)


def test_attribute_agreement_skips_unknown_targets():
    result = attribute_agreement(["f", "m", "m", "f", "m"], ["f", "f", "m", None, -1])
    assert result == {"sex_agreement": pytest.approx(2 / 3), "sex_count": 3}
    ages = attribute_agreement(torch.tensor([0, 1, 2]), torch.tensor([0, 2, 2]), name="age_bin")
    assert ages == {"age_bin_agreement": pytest.approx(2 / 3), "age_bin_count": 3}
    with pytest.raises(MetricError, match="two \\[N\\] arrays"):
        attribute_agreement([1, 2], [1])


def test_inconsistent_inputs_are_refused_with_one_sentence():
    with pytest.raises(MetricError, match="Speaker\\(s\\) Z of generated faces have no real faces"):
        match_1v2(E[:2], ["A", "Z"], E[:2], ["A", "B"])
    with pytest.raises(MetricError, match="differ in size"):
        match_1v2(np.ones((2, 3)), [0, 1], np.ones((2, 4)), [0, 1])
    with pytest.raises(MetricError, match="one label per embedding"):
        recall_at_k(E, [0, 1], E, [0, 1, 2, 3])
    with pytest.raises(MetricError, match="NaN or infinite"):
        cosine_to_speaker(np.full((1, 2), np.nan), [0], np.ones((1, 2)), [0])


def test_registered_identity_metric_reports_everything_under_the_embedder_name():
    rng = np.random.default_rng(2)
    centres = rng.standard_normal((20, 16))
    real = np.repeat(centres, 2, axis=0) + 0.2 * rng.standard_normal((40, 16))
    ids = np.repeat(np.arange(20), 2)
    generated = centres + 0.3 * rng.standard_normal((20, 16))
    sex = {i: i % 2 for i in range(20)}
    config = IdentityMetricsConfig(num_pairs=2000, recall_ks=(1, 5), gallery_size=10, folds=3)
    result = identity(
        generated=torch.from_numpy(generated),
        generated_ids=np.arange(20),
        real=real,
        real_ids=ids,
        embedder="toy",
        identity_sex=sex,
        config=config,
    )
    assert result["embedder"] == "toy"
    assert result["match_1v2"] > 0.9 and result["match_1v2_same_sex"] > 0.9
    assert result["recall@1"] > 0.8 and result["recall_gallery"] == 10
    assert result["cosine_speaker"] > 0.8 > abs(result["cosine_others"])
    agreement = attributes(predicted={"sex": [0, 1, 1]}, target={"sex": [0, 1, 0]}, classifier="toy")
    assert agreement == {"classifier": "toy", "sex_agreement": pytest.approx(2 / 3), "sex_count": 3}
