"""The acceptance checks that synthvox voices and faces carry what they should: sex and F0 in the
voice, sex in the face, each learnt by a simple model on training identities and tested on others.

One corpus of 160 people (121 train / 15 val / 24 test) with two 2–4 s recordings and four
faces each is generated for this module.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from voice2face.audio.features import mfcc
from voice2face.audio.pipeline import load_speech
from voice2face.config import SynthVoxConfig
from voice2face.data.manifest import Manifest
from voice2face.data.synthvox import generate_corpus

pytestmark = pytest.mark.slow

SIGNAL = SynthVoxConfig(
    identities=160,
    utterances_per_identity=2,
    faces_per_identity=4,
    max_utterance_seconds=4.0,
    seed=7,
    preview_identities=0,
    example_voices=0,
)


@pytest.fixture(scope="module")
def signal_corpus(tmp_path_factory) -> Manifest:
    return generate_corpus(tmp_path_factory.mktemp("signal") / "corpus", SIGNAL, workers=2)


def _ridge_classifier(train_x: np.ndarray, train_y: np.ndarray, penalty: float):
    """Least squares on standardised features with an L2 penalty; returns a scoring function."""
    mean, std = train_x.mean(axis=0), train_x.std(axis=0) + 1e-6
    z = (train_x - mean) / std
    weights = np.linalg.solve(z.T @ z + penalty * np.eye(z.shape[1]), z.T @ (2.0 * train_y - 1.0))
    return lambda x: ((x - mean) / std) @ weights


def _is_male(manifest: Manifest) -> dict[str, bool]:
    return {i.id: i.attributes["sex"] == "male" for i in manifest.identities}


def estimate_f0(signal: np.ndarray, sample_rate: int = 16000) -> float:
    """Median F0 (Hz) of the loudest 40% of 40 ms frames, by normalised autocorrelation (60–400 Hz)."""
    size, hop = int(0.04 * sample_rate), int(0.01 * sample_rate)
    frames = np.lib.stride_tricks.sliding_window_view(signal.astype(np.float64), size)[::hop]  # [T, size]
    energy = (frames**2).mean(axis=1)
    frames = frames[energy > np.percentile(energy, 60)]
    frames = frames - frames.mean(axis=1, keepdims=True)
    power = np.abs(np.fft.rfft(frames * np.hanning(size), 2 * size, axis=1)) ** 2
    autocorrelation = np.fft.irfft(power, axis=1)[:, :size]
    autocorrelation /= autocorrelation[:, :1] + 1e-12
    low, high = sample_rate // 400, sample_rate // 60
    lag = low + np.argmax(autocorrelation[:, low:high], axis=1)
    voiced = autocorrelation[np.arange(lag.size), lag] > 0.5
    return float(np.median(sample_rate / lag[voiced]))


@pytest.fixture(scope="module")
def voice_measures(signal_corpus):
    rows = []
    for utterance in signal_corpus.utterances:
        speech = load_speech(signal_corpus.file(utterance))
        features = mfcc(speech.speech)  # [T, 39]
        rows.append((utterance.identity, features.mean(axis=0), estimate_f0(speech.speech), features.std(axis=0)))
    return rows


def test_mean_mfcc_of_train_voices_predicts_the_sex_of_test_speakers(signal_corpus, voice_measures):
    male = _is_male(signal_corpus)
    train = set(signal_corpus.identity_ids("train"))
    x = np.stack([row[1] for row in voice_measures])  # [U, 39]
    y = np.array([male[row[0]] for row in voice_measures])
    is_train = np.array([row[0] in train for row in voice_measures])
    assert is_train.sum() == 242 and (~is_train).sum() == 78  # speakers never seen in training
    scores = _ridge_classifier(x[is_train], y[is_train], penalty=1.0)(x)
    # A speaker's sex is decided from all their recordings (the mean score); single recordings
    # are noisier (background noise, level and room differ), so they get a lower bar.
    speakers = sorted({row[0] for row in voice_measures} - train)
    per_speaker = [np.mean([s for s, row in zip(scores, voice_measures, strict=True) if row[0] == i]) for i in speakers]
    speaker_accuracy = float(np.mean([(score > 0) == male[i] for score, i in zip(per_speaker, speakers, strict=True)]))
    recording_accuracy = float(np.mean((scores[~is_train] > 0) == y[~is_train]))
    assert speaker_accuracy >= 0.9, speaker_accuracy
    assert recording_accuracy >= 0.85, recording_accuracy


def test_f0_measured_in_the_audio_follows_the_drawn_f0(signal_corpus, voice_measures):
    drawn = {i.id: i.traits["voice"]["f0_hz"] for i in signal_corpus.identities}
    measured = np.array([row[2] for row in voice_measures])
    expected = np.array([drawn[row[0]] for row in voice_measures])
    assert np.corrcoef(measured, expected)[0, 1] >= 0.9
    male = _is_male(signal_corpus)
    men = np.array([male[row[0]] for row in voice_measures])
    for group in (men, ~men):  # not only the sex difference: F0 is tracked within each sex too
        assert np.corrcoef(measured[group], expected[group])[0, 1] >= 0.75
    assert np.median(np.abs(np.log(measured / expected))) < 0.1


def test_face_pixels_predict_sex_of_unseen_people(signal_corpus):
    male = _is_male(signal_corpus)
    train = set(signal_corpus.identity_ids("train"))
    pixels, labels, in_train = [], [], []
    for face in signal_corpus.faces:
        with Image.open(signal_corpus.file(face)) as image:  # 16×16 RGB: coarse colour layout
            pixels.append(np.asarray(image.convert("RGB").resize((16, 16), Image.Resampling.BOX), dtype=np.float64))
        labels.append(male[face.identity])
        in_train.append(face.identity in train)
    images, y, is_train = np.stack(pixels), np.array(labels), np.array(in_train)  # [N, 16, 16, 3]
    mirrored = images[:, :, ::-1]  # faces are left–right symmetric: mirror images are free training data
    flat, flat_mirrored = images.reshape(len(y), -1), mirrored.reshape(len(y), -1)
    score = _ridge_classifier(
        np.concatenate([flat[is_train], flat_mirrored[is_train]]), np.concatenate([y[is_train]] * 2), penalty=3.0
    )
    predicted = score(flat[~is_train]) + score(flat_mirrored[~is_train]) > 0
    accuracy = float(np.mean(predicted == y[~is_train]))
    assert (~is_train).sum() == 156 and accuracy >= 0.9, accuracy


def test_voice_statistics_of_train_speakers_predict_the_age_of_test_speakers(signal_corpus, voice_measures):
    """Age is in the voice (F0, rate, breathiness, jitter, tremor) but only weakly visible to a
    linear model on MFCC statistics; this guards against it vanishing altogether."""
    age = {i.id: i.attributes["age"] for i in signal_corpus.identities}
    train = set(signal_corpus.identity_ids("train"))
    speakers = sorted(age)
    per_speaker = np.stack(  # [S, 78]: mean and std of the MFCCs, averaged over a speaker's recordings
        [np.mean([np.concatenate([row[1], row[3]]) for row in voice_measures if row[0] == s], axis=0) for s in speakers]
    )
    ages = np.array([age[s] for s in speakers])
    is_train = np.array([s in train for s in speakers])
    mean, std = per_speaker[is_train].mean(axis=0), per_speaker[is_train].std(axis=0) + 1e-6
    z = (per_speaker - mean) / std
    target = ages[is_train] - ages[is_train].mean()
    weights = np.linalg.solve(z[is_train].T @ z[is_train] + 30.0 * np.eye(z.shape[1]), z[is_train].T @ target)
    predicted = z[~is_train] @ weights
    assert np.corrcoef(predicted, ages[~is_train])[0, 1] >= 0.2
