"""Stage 2 on a tiny in-memory paired set: losses fall, lazy phases fire, resume is bit-exact."""

from __future__ import annotations

import dataclasses
import itertools
import signal

import pytest
import torch

from voice2face.errors import ConfigError, TrainingInterrupted
from voice2face.models import build_voice_encoder
from voice2face.storage import RunFolder
from voice2face.training.loop import run_training
from voice2face.training.trainers.gan import GANTrainer, phase_step

from tiny_gan import make_trainer, tiny_configs, tiny_data


def test_identity_losses_fall_and_lazy_phases_fire_on_schedule():
    trainer = make_trainer()
    history = [trainer.train_step() for _ in range(24)]
    pl_steps = [i for i, s in enumerate(history) if "loss/G/pl_penalty" in s]
    r1_steps = [i for i, s in enumerate(history) if "loss/D/r1_penalty" in s]
    assert pl_steps == list(range(0, 24, 2)) and r1_steps == list(range(0, 24, 4))
    first = sum(s["loss/D/identity"] for s in history[:4]) / 4
    last = sum(s["loss/D/identity"] for s in history[-4:]) / 4
    assert last < first, (first, last)
    assert trainer.images_seen == 24 * 4 and trainer.step == 24
    # the EMA generator moved away from the initial weights but is not the raw generator
    raw, ema = trainer.G.state_dict(), trainer.G_ema.state_dict()
    assert any(not torch.equal(raw[k], ema[k]) for k in raw if raw[k].is_floating_point())


def test_matching_aware_discriminator_learns_to_reject_other_speakers_voices():
    assert make_trainer().next_batch()[3] is None  # off unless mismatch_weight > 0
    trainer = make_trainer(mismatch_weight=1.0)
    _, _, identity, c_other = trainer.next_batch()
    for row, k in zip(c_other, identity, strict=True):  # every paired voice is another speaker's
        own = trainer.data.embeddings[trainer.data.utterance_identity == k]
        assert not any(torch.equal(row, e) for e in own)
    # D alone, on a fixed batch: it learns to score a face with its own speaker's voice above the
    # same face with another speaker's voice (the term is what teaches it; without it, no reason to).
    real, c, identity, c_other = trainer.next_batch()
    trainer.D.requires_grad_(True)
    margins = []
    for _ in range(30):
        result = trainer.loss.d_main(real, c, identity, c_other)
        phase_step(result.loss, trainer.D, trainer.opt_D, trainer.context)
        margins.append(result.stats["scores/real"] - result.stats["scores/mismatch"])
    assert margins[-1] > margins[0] + 0.15 and all(b > a for a, b in itertools.pairwise(margins)), margins
    with pytest.raises(ValueError, match="c_other"):
        trainer.loss.d_main(real, c, identity)


def test_resume_is_bit_identical(tmp_path):
    straight = make_trainer()
    run_training(straight, RunFolder(tmp_path / "a"), max_steps=8, progress=False)

    first = make_trainer()
    run_training(first, RunFolder(tmp_path / "b"), max_steps=4, progress=False)
    _assert_resume_reaches(straight, tmp_path / "b", from_step=4, to_step=8)


def _assert_resume_reaches(straight: GANTrainer, run_dir, from_step: int, to_step: int) -> None:
    """Resuming ``run_dir``'s snapshot (at ``from_step``) up to ``to_step`` gives ``straight``'s weights bit for bit."""
    resumed = make_trainer()
    resumed.load_snapshot(run_dir / "model")
    assert resumed.step == from_step
    run_training(resumed, RunFolder(run_dir), max_steps=to_step, progress=False)
    for name in ("G", "G_ema", "D"):
        a, b = getattr(straight, name).state_dict(), getattr(resumed, name).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), name
    assert torch.equal(straight.loss.pl_mean, resumed.loss.pl_mean)


ADAPTIVE = dict(augment="color,translation,cutout", augment_p=0.5, augment_target=0.6, augment_kimg=0.1,
                augment_interval=3)  # fmt: skip


def test_adaptive_augmentation_moves_p_by_its_rule_logs_it_and_resumes_exactly(tmp_path):
    straight = make_trainer(**ADAPTIVE)
    history = [straight.train_step() for _ in range(12)]
    assert "augment/rt" not in history[1] and history[2]["augment/rt"] == history[4]["augment/rt"]
    p = 0.5
    for step, record in enumerate(history, 1):  # every 3 steps of 4 images, ±12 / 100: up when r_t > 0.6
        if step % 3 == 0:
            signs = [r["scores/real_sign"] for r in history[step - 3 : step]]
            assert record["augment/rt"] == pytest.approx(sum(signs) / 3)
            p += 0.12 if record["augment/rt"] > 0.6 else -0.12
        assert record["augment/p"] == pytest.approx(p)
    assert straight.augmenter.p == pytest.approx(p)
    # a snapshot between two adjustments (step 4: one sign seen) continues bit for bit
    first = make_trainer(**ADAPTIVE)
    run_training(first, RunFolder(tmp_path / "b"), max_steps=4, progress=False)
    resumed = make_trainer(**ADAPTIVE)
    resumed.load_snapshot(tmp_path / "b" / "model")
    assert resumed.augmenter.p == first.augmenter.p and resumed.tuner.signs == first.tuner.signs
    run_training(resumed, RunFolder(tmp_path / "b"), max_steps=12, progress=False)
    for name in ("G", "D"):
        a, b = getattr(straight, name).state_dict(), getattr(resumed, name).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), name
    assert resumed.augmenter.p == straight.augmenter.p
    with pytest.raises(ConfigError, match=r"act on an augment policy.*augment=color"):
        make_trainer(augment_target=0.6)
    assert make_trainer(augment="color", augment_target=0.6).augmenter.p == 0.0  # ADA's start unless told
    assert make_trainer(augment="color").augmenter.p is None  # DiffAugment: always, no probability draws


def test_ctrl_c_finishes_the_step_saves_and_resumes_exactly(tmp_path, python_sigint):
    straight = make_trainer()
    run_training(straight, RunFolder(tmp_path / "a"), max_steps=6, progress=False)

    interrupted = make_trainer()
    step = interrupted.train_step

    def step_then_ctrl_c():  # SIGINT arrives once the fourth step has begun
        if interrupted.step == 3:
            signal.raise_signal(signal.SIGINT)
        return step()

    interrupted.train_step = step_then_ctrl_c
    with pytest.raises(TrainingInterrupted, match=r"--resume .*b"):
        run_training(interrupted, RunFolder(tmp_path / "b"), max_steps=6, progress=False)
    assert interrupted.step == 4  # the step in progress was finished, not torn
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    _assert_resume_reaches(straight, tmp_path / "b", from_step=4, to_step=6)


def test_mismatched_data_and_settings_are_refused():
    gan, model = tiny_configs()
    encoder = build_voice_encoder(model.voice_encoder)
    data = tiny_data()
    from voice2face.errors import ConfigError, DatasetError

    with pytest.raises(DatasetError, match="16 px"):
        bigger_g = dataclasses.replace(gan.generator, img_resolution=32)
        bigger_d = dataclasses.replace(gan.discriminator, img_resolution=32)
        GANTrainer(dataclasses.replace(gan, generator=bigger_g, discriminator=bigger_d), model, encoder, data)
    with pytest.raises(ConfigError, match="identity head has 3 outputs"):
        GANTrainer(
            gan,
            dataclasses.replace(model, discriminator=dataclasses.replace(model.discriminator, num_identities=3)),
            encoder,
            data,
        )
    with pytest.raises(ConfigError, match="divide among"):
        from voice2face.training.distributed import DistributedContext

        GANTrainer(
            dataclasses.replace(gan, batch_size=5), model, encoder, data, context=DistributedContext(world_size=2)
        )
