"""Paper MFCC and log-mel: shapes, formulas, parity with peers, torch == numpy, crops."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from voice2face.audio import features as F
from voice2face.audio.torch_features import FeatureExtractor
from voice2face.config import CropConfig, FeatureConfig, LogMelConfig, MFCCConfig
from voice2face.errors import ConfigError

from conftest import SR, speech_like

SIGNALS = {
    "low voice": speech_like(3.0, f0=110.0, seed=1),
    "high voice": speech_like(2.5, f0=220.0, seed=2, noise_db=-45.0),
    "noisy": speech_like(2.0, f0=160.0, seed=3, noise_db=-25.0),
}


def test_shapes_and_frame_counts():
    signal = speech_like(2.0)
    n = signal.size
    assert F.mfcc(signal).shape == (1 + (n - 400) // 200, 39)
    assert F.log_mel(signal).shape == (64, 1 + (n - 400) // 160)
    assert F.compute_features(signal, FeatureConfig(kind="mfcc")).shape == (39, 1 + (n - 400) // 200)
    assert F.mfcc(signal[:100]).shape == (1, 39)  # shorter than one frame: padded to one
    assert F.mfcc(signal, MFCCConfig(n_ceps=20, n_mels=40)).shape[1] == 60


@pytest.mark.parametrize("frame_ms", [20.0, 25.0, 32.0, 40.0])
def test_frame_length_is_configurable_with_half_overlap(frame_ms):
    config = MFCCConfig(frame_ms=frame_ms)
    assert config.hop_length == config.frame_length // 2
    assert F.mfcc(speech_like(1.0), config).shape[1] == 39


@pytest.mark.parametrize("kwargs", [{"frame_ms": 19.0}, {"frame_ms": 41.0}, {"n_ceps": 30}, {"fmax": 9000.0}])
def test_out_of_range_mfcc_options_are_config_errors(kwargs):
    with pytest.raises(ConfigError):
        MFCCConfig(**kwargs)


def test_preemphasis_is_the_papers_formula():
    s = np.array([1.0, 2.0, 4.0, 3.0])
    np.testing.assert_allclose(F.preemphasis(s, 0.95), [1.0, 2.0 - 0.95, 4.0 - 1.9, 3.0 - 3.8])


def test_mel_scale_is_htk_log10():
    assert F.hz_to_mel(700.0) == pytest.approx(2595.0 * np.log10(2.0))
    np.testing.assert_allclose(F.mel_to_hz(F.hz_to_mel(np.array([0.0, 1000.0, 8000.0]))), [0, 1000, 8000])


def test_filterbank_triangles_peak_at_one_and_cover_the_band():
    bank = F.mel_filterbank(SR, 512, 26)
    assert bank.shape == (26, 257)
    assert bank.max() <= 1.0 and (bank.max(axis=1) > 0.5).all()
    assert (bank.sum(axis=0)[3:-1] > 0).all()


def test_dct_matrix_is_orthonormal():
    d = F.dct_matrix(26, 26)
    np.testing.assert_allclose(d @ d.T, np.eye(26), atol=1e-12)


def test_deltas_match_python_speech_features():
    psf = pytest.importorskip("python_speech_features.base", reason="python_speech_features is a dev extra")
    ceps = F.mfcc(speech_like(2.0))[:, :13].astype(np.float64)
    np.testing.assert_allclose(F.deltas(ceps, 2), psf.delta(ceps, 2), atol=1e-6, rtol=0)
    delta = F.deltas(ceps, 2)
    np.testing.assert_allclose(F.deltas(delta, 2), psf.delta(psf.delta(ceps, 2), 2), atol=1e-6, rtol=0)


def _librosa_mfcc_reference(signal: np.ndarray) -> np.ndarray:
    """The paper's MFCC built from librosa parts with matched settings: HTK mel, no centring,
    power spectrum, natural log, orthonormal DCT-II, no lifter."""
    librosa = pytest.importorskip("librosa", reason="librosa is a dev extra")
    from scipy.signal import lfilter

    y = lfilter([1.0, -0.95], [1.0], signal.astype(np.float64))  # s'(0) = s(0)
    # librosa centres a short window inside n_fft (56 zeros each side for 400 in 512); shifting
    # the signal by those 56 samples makes each frame hold the same 400 samples as ours.
    shift = (512 - 400) // 2
    padded = np.pad(y, (shift, shift))
    spec = librosa.stft(padded, n_fft=512, hop_length=200, win_length=400, window=np.hamming(400), center=False)
    power = np.abs(spec) ** 2  # [K, T]
    mel = librosa.filters.mel(sr=SR, n_fft=512, n_mels=26, fmin=0.0, fmax=SR / 2, htk=True, norm=None) @ power
    ceps = librosa.feature.mfcc(S=np.log(np.maximum(mel, 1e-10)), n_mfcc=13, dct_type=2, norm="ortho", lifter=0)
    delta = F.deltas(ceps.T, 2)
    return np.concatenate([ceps.T, delta, F.deltas(delta, 2)], axis=1)


@pytest.mark.parametrize("name", list(SIGNALS))
def test_mfcc_matches_a_librosa_built_reference(name):
    signal = SIGNALS[name]
    reference = _librosa_mfcc_reference(signal)
    ours = F.mfcc(signal)
    assert ours.shape == reference.shape
    scale = reference.std(axis=0)
    assert (np.abs(ours - reference) <= 1e-4 * scale).all()


@pytest.mark.parametrize("name", list(SIGNALS))
def test_log_mel_correlates_with_librosa_htk_log_mel(name):
    librosa = pytest.importorskip("librosa", reason="librosa is a dev extra")
    signal = SIGNALS[name]
    # Same 56-sample shift as in the MFCC reference aligns librosa's frames with ours; what is
    # left is librosa's periodic Hamming window against the paper's symmetric one.
    shifted = np.pad(signal.astype(np.float64), (56, 56))
    mel = librosa.feature.melspectrogram(
        y=shifted,
        sr=SR,
        n_fft=512,
        hop_length=160,
        win_length=400,
        window="hamming",
        center=False,
        power=2.0,
        n_mels=64,
        htk=True,
        norm=None,
    )
    theirs = np.log(np.maximum(mel, 1e-10))
    ours = F.log_mel(signal, LogMelConfig(normalize=False))
    assert ours.shape == theirs.shape
    assert np.corrcoef(ours.ravel(), theirs.ravel())[0, 1] >= 0.999
    theirs_norm = (theirs - theirs.mean(1, keepdims=True)) / theirs.std(1, keepdims=True)
    assert np.corrcoef(F.log_mel(signal).ravel(), theirs_norm.ravel())[0, 1] >= 0.999


def test_log_mel_is_normalised_per_band():
    out = F.log_mel(speech_like(2.0))
    np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=1), 1.0, atol=1e-3)


@pytest.mark.parametrize("kind", ["mfcc", "logmel"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_path_equals_numpy_path(kind, dtype):
    config = FeatureConfig(kind=kind)
    extractor = FeatureExtractor(config, dtype=dtype)
    for signal in SIGNALS.values():
        reference = F.compute_features(signal, config).astype(np.float64)
        ours = extractor(torch.from_numpy(signal))[0].double().numpy()
        np.testing.assert_allclose(ours, reference, atol=1e-4, rtol=0)


@pytest.mark.parametrize("kind", ["mfcc", "logmel"])
def test_torch_path_is_exact_across_its_cpu_blocks(kind):
    """A 40 s recording spans several 1024-frame blocks; a batch of 3 uses 341-frame blocks."""
    config = FeatureConfig(kind=kind)
    long = speech_like(40.0, seed=5)
    extractor = FeatureExtractor(config, dtype=torch.float64)
    np.testing.assert_allclose(
        extractor(torch.from_numpy(long))[0].numpy(), F.compute_features(long, config), atol=1e-4, rtol=0
    )
    batch = torch.from_numpy(np.stack([long[:160000], long[80000:240000], long[-160000:]]))
    out = extractor(batch)
    for i, row in enumerate(batch):
        np.testing.assert_allclose(out[i].numpy(), F.compute_features(row.numpy(), config), atol=1e-4, rtol=0)


@pytest.mark.parametrize("kind", ["mfcc", "logmel"])
def test_torch_batch_with_lengths_equals_item_by_item(kind):
    config = FeatureConfig(kind=kind, mfcc=MFCCConfig(normalize=True))
    extractor = FeatureExtractor(config, dtype=torch.float64)
    signals = list(SIGNALS.values())
    longest = max(s.size for s in signals)
    batch = torch.zeros(len(signals), longest, dtype=torch.float64)
    for i, s in enumerate(signals):
        batch[i, : s.size] = torch.from_numpy(s)
    out = extractor(batch, lengths=torch.tensor([s.size for s in signals]))  # [B, F, T]
    for i, s in enumerate(signals):
        reference = F.compute_features(s, config)
        t = reference.shape[1]
        np.testing.assert_allclose(out[i, :, :t].numpy(), reference, atol=1e-4, rtol=0)
        assert not out[i, :, t:].any()


def test_cepstral_mean_normalisation_alone_keeps_each_coefficients_swing():
    """normalize_variance=False: each coefficient loses its mean (a gain or channel change is gone)
    but keeps its spread; CMVN (the default) scales every spread to 1. numpy and torch agree."""
    signal = SIGNALS["low voice"]
    raw = F.compute_features(signal, FeatureConfig(kind="mfcc", mfcc=MFCCConfig(normalize=False)))
    cmn_config = FeatureConfig(kind="mfcc", mfcc=MFCCConfig(normalize=True, normalize_variance=False))
    cmn = F.compute_features(signal, cmn_config)
    cmvn = F.compute_features(signal, FeatureConfig(kind="mfcc", mfcc=MFCCConfig(normalize=True)))
    np.testing.assert_allclose(cmn, raw - raw.mean(axis=1, keepdims=True), atol=1e-4)
    np.testing.assert_allclose(cmn.std(axis=1), raw.std(axis=1), rtol=1e-4)
    np.testing.assert_allclose(cmvn.std(axis=1), 1.0, atol=1e-3)
    louder = F.compute_features(signal * 3.0, cmn_config)  # a gain: c0 shifts by a constant, removed
    np.testing.assert_allclose(louder, cmn, atol=1e-3)
    extractor = FeatureExtractor(cmn_config, dtype=torch.float64)
    np.testing.assert_allclose(extractor(torch.from_numpy(signal)[None])[0].numpy(), cmn, atol=1e-4, rtol=0)


def test_crop_bounds_follow_each_kinds_frame_rate():
    crops = CropConfig()
    assert F.crop_bounds(crops, FeatureConfig(kind="logmel").frames_per_second) == (300, 800)
    assert F.crop_bounds(crops, FeatureConfig(kind="mfcc").frames_per_second) == (240, 640)


def test_random_crops_are_windows_and_short_inputs_are_tiled():
    rng = np.random.default_rng(0)
    features = np.arange(2 * 1000, dtype=np.float32).reshape(2, 1000)
    for _ in range(20):
        length = F.random_crop_length(CropConfig(), 100.0, rng)
        assert 300 <= length <= 800
        crop = F.random_crop(features, length, rng)
        start = int(crop[0, 0])
        np.testing.assert_array_equal(crop, features[:, start : start + length])
    short = features[:, :120]
    tiled = F.random_crop(short, 300, rng)
    np.testing.assert_array_equal(tiled, np.concatenate([short, short, short[:, :60]], axis=1))
    again = F.random_crop(features, 500, np.random.default_rng(7))
    np.testing.assert_array_equal(again, F.random_crop(features, 500, np.random.default_rng(7)))
