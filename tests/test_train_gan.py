"""Stage 2 on a tiny in-memory paired set: losses fall, lazy phases fire, resume is bit-exact."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from voice2face.config import (
    DiscriminatorConfig,
    FeatureConfig,
    GANTrainingConfig,
    GeneratorConfig,
    ModelConfig,
    VoiceEncoderConfig,
)
from voice2face.models import build_voice_encoder
from voice2face.training.gan import GANTrainer, PairedTensors, run_gan_training

K, EMB = 4, 8


def tiny_data(seed: int = 0) -> PairedTensors:
    """Four identities, each a distinct flat colour with noise; embeddings are one-hot-ish."""
    g = torch.Generator().manual_seed(seed)
    colours = torch.tensor([[230, 40, 40], [40, 230, 40], [40, 40, 230], [230, 230, 40]], dtype=torch.float32)
    face_identity = torch.arange(K).repeat_interleave(3)
    faces = colours[face_identity][:, :, None, None] + 10 * torch.randn(len(face_identity), 3, 16, 16, generator=g)
    utterance_identity = torch.arange(K).repeat_interleave(2)
    embeddings = torch.eye(K, EMB)[utterance_identity] * 3 + 0.1 * torch.randn(
        len(utterance_identity), EMB, generator=g
    )
    return PairedTensors(
        faces.clamp(0, 255).to(torch.uint8), face_identity, embeddings, utterance_identity, [f"id{k}" for k in range(K)]
    )


def tiny_configs(**overrides) -> tuple[GANTrainingConfig, ModelConfig]:
    generator = GeneratorConfig(
        z_dim=16, c_dim=EMB, w_dim=16, img_resolution=16, channel_base=256, channel_max=32, mapping_layers=2
    )
    discriminator = DiscriminatorConfig(
        c_dim=EMB, img_resolution=16, channel_base=256, channel_max=32, mapping_layers=2, num_identities=K
    )
    gan = GANTrainingConfig(
        generator=generator, discriminator=discriminator, batch_size=4, kimg=1.0, r1_interval=4, pl_interval=2,
        r1_gamma=1.0, report_every=1, snapshot_kimg=100.0, ema_kimg=0.01,
    )  # fmt: skip
    gan = dataclasses.replace(gan, **overrides)
    features = FeatureConfig(kind="logmel")
    encoder = VoiceEncoderConfig(input_dim=64, embedding_dim=EMB, width_multiplier=0.125, blocks_per_stage=(1, 1, 1, 1))
    return gan, ModelConfig(features=features, voice_encoder=encoder, generator=generator, discriminator=discriminator)


def make_trainer(seed: int = 0, **overrides) -> GANTrainer:
    gan, model = tiny_configs(**overrides)
    torch.manual_seed(123)
    encoder = build_voice_encoder(model.voice_encoder)
    return GANTrainer(gan, model, encoder, tiny_data(), seed=seed)


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


def test_resume_is_bit_identical(tmp_path):
    straight = make_trainer()
    run_gan_training(straight, tmp_path / "a", max_steps=8, progress=False)

    first = make_trainer()
    run_gan_training(first, tmp_path / "b", max_steps=4, progress=False)
    resumed = make_trainer()
    resumed.load_snapshot(tmp_path / "b" / "model")
    assert resumed.step == 4
    run_gan_training(resumed, tmp_path / "b", max_steps=8, progress=False)

    for name in ("G", "G_ema", "D"):
        a, b = getattr(straight, name).state_dict(), getattr(resumed, name).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), name
    assert torch.equal(straight.loss.pl_mean, resumed.loss.pl_mean)


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
