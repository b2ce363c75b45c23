"""Build networks from typed configs: ``build_generator``, ``build_discriminator``,
``build_voice_encoder``, and the families they know ("stylegan2", "stylegan", "dcgan").

A family registers one builder per role with :func:`register`; registering a name twice is
an error. Each builder passes the config's fields to the constructor by keyword, so a module
is rebuilt from its config alone (checkpoint.load_pretrained relies on that).
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from voice2face.config import DiscriminatorConfig, GeneratorConfig, MapperConfig, VoiceEncoderConfig
from voice2face.errors import ConfigError
from voice2face.models.dcgan import DCGANDiscriminator, DCGANGenerator
from voice2face.models.stylegan import StyleGenerator
from voice2face.models.stylegan2 import Discriminator, Generator
from voice2face.models.voice_encoder import VoiceEncoder
from voice2face.models.wplus import VoiceToWPlus

GENERATORS: dict[str, Callable[[GeneratorConfig], nn.Module]] = {}
DISCRIMINATORS: dict[str, Callable[[DiscriminatorConfig], nn.Module]] = {}


def register(table: dict[str, Callable], family: str) -> Callable[[Callable], Callable]:
    """Decorator: add a builder to ``table`` (GENERATORS or DISCRIMINATORS) under ``family``."""

    def add(builder: Callable) -> Callable:
        if family in table:
            raise ValueError(f"model family {family!r} is already registered in this table.")
        table[family] = builder
        return builder

    return add


def _stylegan_kwargs(cfg: GeneratorConfig) -> dict:
    return dict(
        z_dim=cfg.z_dim, c_dim=cfg.c_dim, w_dim=cfg.w_dim, img_resolution=cfg.img_resolution,
        img_channels=cfg.img_channels, channel_base=cfg.channel_base, channel_max=cfg.channel_max,
        mapping_layers=cfg.mapping_layers, mapping_lr_multiplier=cfg.mapping_lr_multiplier, w_avg_beta=cfg.w_avg_beta,
    )  # fmt: skip


@register(GENERATORS, "stylegan2")
def _stylegan2_generator(cfg: GeneratorConfig) -> Generator:
    return Generator(**_stylegan_kwargs(cfg), conv_clamp=cfg.conv_clamp, use_noise=cfg.use_noise)


@register(GENERATORS, "stylegan")
def _stylegan_generator(cfg: GeneratorConfig) -> StyleGenerator:
    return StyleGenerator(**_stylegan_kwargs(cfg))


@register(GENERATORS, "dcgan")
def _dcgan_generator(cfg: GeneratorConfig) -> DCGANGenerator:
    return DCGANGenerator(cfg.z_dim, cfg.c_dim, cfg.img_resolution, cfg.img_channels, cfg.channel_base, cfg.channel_max)


def _stylegan_discriminator(cfg: DiscriminatorConfig, architecture: str) -> Discriminator:
    return Discriminator(
        c_dim=cfg.c_dim, img_resolution=cfg.img_resolution, img_channels=cfg.img_channels,
        architecture=architecture, channel_base=cfg.channel_base, channel_max=cfg.channel_max,
        cmap_dim=cfg.cmap_dim, mapping_layers=cfg.mapping_layers, mbstd_group_size=cfg.mbstd_group_size,
        mbstd_num_channels=cfg.mbstd_num_channels, conv_clamp=cfg.conv_clamp, num_identities=cfg.num_identities,
    )  # fmt: skip


@register(DISCRIMINATORS, "stylegan2")
def _stylegan2_discriminator(cfg: DiscriminatorConfig) -> Discriminator:
    return _stylegan_discriminator(cfg, "resnet")


@register(DISCRIMINATORS, "stylegan")
def _stylegan1_discriminator(cfg: DiscriminatorConfig) -> Discriminator:
    return _stylegan_discriminator(cfg, "orig")


@register(DISCRIMINATORS, "dcgan")
def _dcgan_discriminator(cfg: DiscriminatorConfig) -> DCGANDiscriminator:
    return DCGANDiscriminator(
        cfg.c_dim, cfg.img_resolution, cfg.img_channels, cfg.channel_base, cfg.channel_max, cfg.num_identities
    )


def _lookup(table: dict[str, Callable], family: str, role: str) -> Callable:
    if family not in table:
        raise ConfigError(f"unknown {role} family {family!r}; known families are {', '.join(sorted(table))}.")
    return table[family]


def build_generator(cfg: GeneratorConfig) -> nn.Module:
    """A generator ``G(z [B, z_dim], c [B, c_dim]) → [B, img_channels, R, R]`` of ``cfg.family``.

    Every family has ``z_dim``, ``c_dim``, ``img_resolution``, ``img_channels``; the StyleGAN
    families also ``mapping``, ``synthesis`` and ``num_ws``.
    """
    return _lookup(GENERATORS, cfg.family, "generator")(cfg)


def build_discriminator(cfg: DiscriminatorConfig) -> nn.Module:
    """A discriminator ``D(img [B, C, R, R], c [B, c_dim]) → logits [B, 1]`` of ``cfg.family``,
    with ``D.forward_heads(img, c)`` → DiscriminatorOutput(logits, identity_logits, features)."""
    return _lookup(DISCRIMINATORS, cfg.family, "discriminator")(cfg)


def build_voice_encoder(cfg: VoiceEncoderConfig) -> VoiceEncoder:
    """The SE-ResNet18 voice encoder: features ``[B, input_dim, T]`` → embedding ``[B, embedding_dim]``."""
    return VoiceEncoder(
        input_dim=cfg.input_dim, embedding_dim=cfg.embedding_dim, width_multiplier=cfg.width_multiplier,
        blocks_per_stage=cfg.blocks_per_stage, attention=cfg.attention, activation=cfg.activation,
        se_reduction=cfg.se_reduction, pooling=cfg.pooling, num_speakers=cfg.num_speakers,
    )  # fmt: skip


def build_mapper(cfg: MapperConfig) -> VoiceToWPlus:
    """The voice→W+ mapper of the paper's route: embedding ``[B, D]`` (+ random W+) → W+ ``[B, num_ws, w_dim]``."""
    return VoiceToWPlus(cfg)


BUILDERS = {
    "voice_encoder": build_voice_encoder,
    "generator": build_generator,
    "mapper": build_mapper,
    "discriminator": build_discriminator,
}
