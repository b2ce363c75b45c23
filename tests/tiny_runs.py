"""A training recipe small enough for tests: both stages on the tiny synthvox corpus in seconds.

Shared by the training tests and the evaluation/report tests (`from tiny_runs import tiny_preset`).
"""

from __future__ import annotations

import dataclasses

from voice2face.config import CropConfig, TrainingPreset, VoiceEncoderConfig
from voice2face.training.presets import get_preset


def tiny_preset() -> TrainingPreset:
    """synthvox-quick shrunk to seconds: narrow encoder, 6 steps, a 32-channel generator, 24 images."""
    quick = get_preset("synthvox-quick")
    narrow = VoiceEncoderConfig(input_dim=39, embedding_dim=128, width_multiplier=0.125, blocks_per_stage=(1, 1, 1, 1))
    encoder = dataclasses.replace(
        quick.encoder,
        encoder=narrow,
        crops=CropConfig(min_seconds=1.0, max_seconds=1.5), batch_size=8, steps=6, validate_every=3, snapshot_every=4,
    )  # fmt: skip
    generator = dataclasses.replace(quick.gan.generator, channel_base=256, channel_max=32)
    discriminator = dataclasses.replace(quick.gan.discriminator, channel_base=256, channel_max=32)
    gan = dataclasses.replace(
        quick.gan, generator=generator, discriminator=discriminator, batch_size=4, kimg=0.024, report_every=2,
        snapshot_kimg=0.008,
    )  # fmt: skip
    return TrainingPreset("tiny", "test preset", encoder, gan)
