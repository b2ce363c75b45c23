"""Tiny stage-2 setups shared by the GAN tests and the torchrun worker (tests/ddp_worker.py)."""

from __future__ import annotations

import dataclasses

import torch

from voice2face.config import (
    DiscriminatorConfig,
    FeatureConfig,
    GANTrainingConfig,
    GeneratorConfig,
    ModelConfig,
    VoiceEncoderConfig,
)
from voice2face.data.containers import PairedTensors
from voice2face.models import build_voice_encoder
from voice2face.training.distributed import DistributedContext
from voice2face.training.trainers.gan import GANTrainer

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


def make_trainer(seed: int = 0, context: DistributedContext | None = None, **overrides) -> GANTrainer:
    gan, model = tiny_configs(**overrides)
    torch.manual_seed(123)
    encoder = build_voice_encoder(model.voice_encoder)
    return GANTrainer(gan, model, encoder, tiny_data(), seed=seed, context=context)
