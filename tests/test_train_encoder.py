"""Stage 1 on tiny synthetic features: the loss falls, validation reports, resume is exact; EER known answers."""

from __future__ import annotations

import dataclasses
import signal

import numpy as np
import pytest
import torch

from voice2face.config import CropConfig, EncoderTrainingConfig, FeatureConfig, VoiceEncoderConfig
from voice2face.data.containers import UtteranceFeatures
from voice2face.errors import TrainingInterrupted
from voice2face.storage import RunFolder
from voice2face.training.loop import run_training
from voice2face.training.trainers.encoder import EncoderTrainer, equal_error_rate


def speakers(count: int, per_speaker: int, seed: int, frames=(60, 140)) -> UtteranceFeatures:
    """Each speaker has its own spectral tilt; utterances are noisy [64, T] frames around it."""
    rng = np.random.default_rng(seed)
    profiles = np.random.default_rng(99).normal(0, 1, (count, 64, 1))
    feats, labels = [], []
    for k in range(count):
        for _ in range(per_speaker):
            t = int(rng.integers(*frames))
            feats.append((profiles[k] + rng.normal(0, 1.0, (64, t))).astype(np.float32))
            labels.append(k)
    return UtteranceFeatures(feats, np.array(labels), [f"spk{k}" for k in range(count)])


def config(**overrides) -> EncoderTrainingConfig:
    encoder = VoiceEncoderConfig(input_dim=64, embedding_dim=32, width_multiplier=0.125, blocks_per_stage=(1, 1, 1, 1))
    base = EncoderTrainingConfig(
        features=FeatureConfig(kind="logmel"),
        encoder=encoder,
        crops=CropConfig(min_seconds=0.5, max_seconds=1.0),
        batch_size=8, steps=30, lr=0.05, validate_every=10, snapshot_every=1000,
    )  # fmt: skip
    return dataclasses.replace(base, **overrides)


def test_loss_falls_and_validation_reports():
    trainer = EncoderTrainer(
        config(), speakers(4, 6, 0), holdout=speakers(4, 1, 1), verification=speakers(3, 3, 2), seed=0
    )
    history = [trainer.train_step() for _ in range(30)]
    first = np.mean([h["loss/speaker_ce"] for h in history[:5]])
    last = np.mean([h["loss/speaker_ce"] for h in history[-5:]])
    assert last < first * 0.7, (first, last)
    results = trainer.validate()
    assert results["val/speaker_id_accuracy"] >= 0.75
    assert 0.0 <= results["val/verification_eer"] <= 0.5


def test_cosine_cycles():
    trainer = EncoderTrainer(config(steps=100, lr_cycles=2, lr=0.1), speakers(2, 2, 0))
    assert trainer.learning_rate(0) == pytest.approx(0.1) and trainer.learning_rate(50) == pytest.approx(0.1)
    assert trainer.learning_rate(25) == pytest.approx(0.05) and trainer.learning_rate(49) < 0.001


def test_resume_is_bit_identical(tmp_path):
    data = speakers(3, 4, 0)
    straight = EncoderTrainer(config(steps=6), data)
    run_training(straight, RunFolder(tmp_path / "a"), progress=False)
    first = EncoderTrainer(config(steps=6), data)
    run_training(first, RunFolder(tmp_path / "b"), max_steps=3, progress=False)
    assert first.step == 3
    resumed = EncoderTrainer(config(steps=6), data)
    resumed.load_snapshot(tmp_path / "b" / "model")
    run_training(resumed, RunFolder(tmp_path / "b"), progress=False)
    a, b = straight.encoder.state_dict(), resumed.encoder.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_ctrl_c_stops_after_the_step_with_a_snapshot_that_resumes_exactly(tmp_path):
    data = speakers(3, 4, 0)
    straight = EncoderTrainer(config(steps=5), data)
    run_training(straight, RunFolder(tmp_path / "a"), progress=False)
    interrupted = EncoderTrainer(config(steps=5), data)
    step = interrupted.train_step

    def step_then_ctrl_c():
        if interrupted.step == 2:
            signal.raise_signal(signal.SIGINT)
        return step()

    interrupted.train_step = step_then_ctrl_c
    with pytest.raises(TrainingInterrupted, match="train-encoder --resume"):
        run_training(interrupted, RunFolder(tmp_path / "b"), progress=False)
    resumed = EncoderTrainer(config(steps=5), data)
    resumed.load_snapshot(tmp_path / "b" / "model")
    assert resumed.step == 3
    run_training(resumed, RunFolder(tmp_path / "b"), progress=False)
    a, b = straight.encoder.state_dict(), resumed.encoder.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_validation_scores_its_capped_sample_and_a_cut_leaves_the_encoder_training():
    trainer = EncoderTrainer(config(), speakers(4, 6, 0), holdout=speakers(4, 3, 1), verification=speakers(3, 3, 2),
                             validation_utterances=5)  # fmt: skip
    assert len(trainer.holdout_sample.features) == len(trainer.verification_sample.features) == 5
    checks = []

    def stop_at_the_third():
        checks.append(1)
        if len(checks) == 3:
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        trainer.validate(stop_at_the_third)
    assert trainer.encoder.training
    assert set(trainer.validate()) == {"val/speaker_id_accuracy", "val/verification_eer"}


def test_equal_error_rate_known_answers():
    assert equal_error_rate([0.9, 0.8, 0.2, 0.1], [True, True, False, False]) == 0.0
    assert equal_error_rate([0.1, 0.2, 0.8, 0.9], [True, True, False, False]) == 1.0
    # one impostor above one genuine among 2+2: FA=FR=0.5 at the crossing
    assert equal_error_rate([0.9, 0.7, 0.8, 0.1], [True, True, False, False]) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        equal_error_rate([0.1, 0.2], [True, True])
