"""Voicing rows (pitch and periodicity per frame): what they read, where they sit, what refuses them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from voice2face.audio import features as F
from voice2face.audio.torch_features import FeatureExtractor
from voice2face.audio.voicing import REFERENCE_F0_HZ, VOICING_CHANNELS, voicing_track
from voice2face.config import VOICING_ROWS, FeatureConfig
from voice2face.data.synthvox.traits import VoiceTraits
from voice2face.data.synthvox.voice import synthesize_utterance
from voice2face.errors import ConfigError

from conftest import SR, speech_like

LOG_F0, DELTA, LOW, MID, HIGH = range(5)


def _track(signal: np.ndarray, frame: int = 400, hop: int = 200) -> np.ndarray:
    return voicing_track(signal, SR, frame, hop, F.num_frames(signal.size, frame, hop))


def _f0(rows: np.ndarray) -> np.ndarray:
    return REFERENCE_F0_HZ * np.exp(rows[LOG_F0] / 2.0)


def test_the_rows_are_the_configs_count():
    assert len(VOICING_CHANNELS) == VOICING_ROWS


@pytest.mark.parametrize("f0", [85.0, 120.0, 210.0, 330.0, 398.0])
def test_a_steady_harmonic_voice_reads_its_pitch_and_is_periodic(f0):
    t = np.arange(2 * SR) / SR
    signal = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, int(6000 / f0)))
    rows = _track(signal)
    inner = rows[:, 4:-4]
    assert np.allclose(_f0(inner), f0, rtol=0.01)  # no octave errors, sub-sample lag
    assert np.abs(inner[DELTA]).max() < 0.05
    assert (inner[[LOW, MID, HIGH]] > 1.0).all()  # r > 0.73 in every band


def test_noise_is_aperiodic_in_the_upper_bands():
    rows = _track(np.random.default_rng(0).standard_normal(2 * SR))
    assert rows[MID].mean() < -2.0 and rows[HIGH].mean() < -2.0


def test_silence_and_tiny_signals_give_finite_rows():
    assert np.isfinite(_track(np.zeros(SR))).all()
    assert voicing_track(np.zeros(100), SR, 400, 200, 1).shape == (5, 1)
    assert voicing_track(np.zeros(0), SR, 400, 200, 0).shape == (5, 0)


def test_vibrato_shows_in_the_pitch_change_row():
    t = np.arange(2 * SR) / SR
    phases = [2 * np.pi * np.cumsum(200.0 * (1 + depth * np.sin(2 * np.pi * 5 * t))) / SR for depth in (0.0, 0.04)]
    steady, wobbly = (sum(np.sin(k * phase) / k for k in range(1, 20)) for phase in phases)
    assert np.abs(_track(wobbly)[DELTA]).mean() > 5 * np.abs(_track(steady)[DELTA]).mean() + 0.05


def _synthvox(jitter: float, shimmer: float, breathiness: float, seed: int) -> np.ndarray:
    voice = VoiceTraits(
        f0_hz=150.0, vtl_cm=16.0, breathiness=breathiness, jitter=jitter, shimmer=shimmer, tremor=0.002,
        speaking_rate=4.5, pitch_range_st=2.0,
    )  # fmt: skip
    signal, _ = synthesize_utterance(voice, np.random.default_rng(seed), seconds=3.0, snr_db=(40.0, 40.0))
    return signal


def test_an_old_voice_is_less_periodic_than_a_young_one_of_the_same_pitch():
    """Synthvox's age cues (jitter, shimmer, breath noise: traits.py's means at age 18 and 80) lower
    the periodicity rows of voiced frames, most in the upper bands; averaged over four recordings."""

    def voiced_periodicity(jitter, shimmer, breathiness):
        rows = [_track(_synthvox(jitter, shimmer, breathiness, seed)) for seed in range(4)]
        return np.array([[r[band][r[LOW] > 0].mean() for band in (LOW, MID, HIGH)] for r in rows]).mean(0)

    young = voiced_periodicity(0.004, 0.03, 0.12)
    old = voiced_periodicity(0.016, 0.10, 0.47)
    assert (young - old)[1:].min() > 0.5, (young, old)


@pytest.mark.parametrize("kind", ["mfcc", "logmel"])
def test_voicing_rows_follow_the_features_frame_for_frame(kind):
    signal = speech_like(2.0, f0=140.0, seed=4)
    plain = F.compute_features(signal, FeatureConfig(kind=kind))
    config = FeatureConfig(kind=kind, voicing=True)
    both = F.compute_features(signal, config)
    assert both.shape == (config.dim, plain.shape[1]) and config.dim == plain.shape[0] + VOICING_ROWS
    np.testing.assert_array_equal(both[: plain.shape[0]], plain)
    active = config.active
    np.testing.assert_array_equal(
        both[plain.shape[0] :], voicing_track(signal, SR, active.frame_length, active.hop_length, plain.shape[1])
    )
    voiced = both[plain.shape[0] + LOW] > 0
    assert voiced.mean() > 0.3 and np.median(_f0(both[plain.shape[0] :, voiced])) == pytest.approx(140.0, rel=0.1)


def test_the_batched_torch_features_refuse_voicing_in_one_sentence():
    with pytest.raises(ConfigError, match="no voicing rows"):
        FeatureExtractor(dataclasses.replace(FeatureConfig(), voicing=True))
