"""Which class builds each model family: one ``{family: class}`` table per kind of component, and
:func:`build` (``build(kind, config)`` → ``Class(config)``), the one way a network is made from its config.

Every class takes its config dataclass as its only constructor argument and keeps it as
``module.config``, so a module is rebuilt from its config alone (``type(m)(m.config)``;
storage.checkpoint relies on it). The kinds are the model folder's components; the families are
the config's ``family`` field ("stylegan2", "stylegan", "dcgan"; "wplus" or "pool" for the mapper). The
voice encoder has one family, and its config no ``family`` field. :func:`register` adds a family
to a table; registering a name twice is an error.
"""

from __future__ import annotations

from torch import nn

from voice2face.config import DiscriminatorConfig, GeneratorConfig, MapperConfig, VoiceEncoderConfig
from voice2face.errors import ConfigError
from voice2face.models.dcgan import DCGANDiscriminator, DCGANGenerator
from voice2face.models.face_pool import VoiceToPool
from voice2face.models.stylegan import StyleGenerator
from voice2face.models.stylegan2 import Discriminator, Generator
from voice2face.models.voice_encoder import VoiceEncoder
from voice2face.models.wplus import VoiceToWPlus

VOICE_ENCODER_FAMILY = "se_resnet18"  # the family a VoiceEncoderConfig (which names none) builds

VOICE_ENCODERS: dict[str, type[nn.Module]] = {VOICE_ENCODER_FAMILY: VoiceEncoder}
GENERATORS: dict[str, type[nn.Module]] = {"stylegan2": Generator, "stylegan": StyleGenerator, "dcgan": DCGANGenerator}
# One class, two families: the stylegan family's discriminator is StyleGAN2's without residual skips.
DISCRIMINATORS: dict[str, type[nn.Module]] = {
    "stylegan2": Discriminator, "stylegan": Discriminator, "dcgan": DCGANDiscriminator,
}  # fmt: skip
MAPPERS: dict[str, type[nn.Module]] = {"wplus": VoiceToWPlus, "pool": VoiceToPool}

# kind (a model folder's component name) → (the config type it takes, its family table)
KINDS: dict[str, tuple[type, dict[str, type[nn.Module]]]] = {
    "voice_encoder": (VoiceEncoderConfig, VOICE_ENCODERS),
    "generator": (GeneratorConfig, GENERATORS),
    "mapper": (MapperConfig, MAPPERS),
    "discriminator": (DiscriminatorConfig, DISCRIMINATORS),
}

ComponentConfig = VoiceEncoderConfig | GeneratorConfig | MapperConfig | DiscriminatorConfig


def register(table: dict[str, type[nn.Module]], family: str):
    """Decorator: add a module class to ``table`` (GENERATORS, DISCRIMINATORS, ...) under ``family``.

    The class must take the kind's config as its one constructor argument and keep it as ``.config``.
    """

    def add(cls: type[nn.Module]) -> type[nn.Module]:
        if family in table:
            raise ValueError(f"model family {family!r} is already registered in this table.")
        table[family] = cls
        return cls

    return add


def family_of(config: ComponentConfig) -> str:
    """The family ``config`` builds: its ``family`` field, or the voice encoder's one family."""
    return getattr(config, "family", VOICE_ENCODER_FAMILY)


def build(kind: str, config: ComponentConfig) -> nn.Module:
    """The network of component ``kind`` ("voice_encoder", "generator", "mapper", "discriminator")
    that ``config`` describes: the class registered for its family, called with ``config``."""
    if kind not in KINDS:
        raise ConfigError(f"unknown model component {kind!r}; known components are {', '.join(KINDS)}.")
    config_type, table = KINDS[kind]
    if not isinstance(config, config_type):
        raise ConfigError(f"a {kind} is built from a {config_type.__name__}, got {type(config).__name__}.")
    family = family_of(config)
    if family not in table:
        raise ConfigError(f"unknown {kind} family {family!r}; known families are {', '.join(sorted(table))}.")
    return table[family](config)


def build_generator(cfg: GeneratorConfig) -> nn.Module:
    """A generator ``G(z [B, z_dim], c [B, c_dim]) → [B, img_channels, R, R]`` of ``cfg.family``.

    Every family has ``z_dim``, ``c_dim``, ``img_resolution``, ``img_channels``; the StyleGAN
    families also ``mapping``, ``synthesis`` and ``num_ws``.
    """
    return build("generator", cfg)


def build_discriminator(cfg: DiscriminatorConfig) -> nn.Module:
    """A discriminator ``D(img [B, C, R, R], c [B, c_dim]) → logits [B, 1]`` of ``cfg.family``,
    with ``D.forward_heads(img, c)`` → DiscriminatorOutput(logits, identity_logits, features)."""
    return build("discriminator", cfg)


def build_voice_encoder(cfg: VoiceEncoderConfig) -> VoiceEncoder:
    """The SE-ResNet18 voice encoder: features ``[B, input_dim, T]`` → embedding ``[B, embedding_dim]``."""
    return build("voice_encoder", cfg)


def build_mapper(cfg: MapperConfig) -> VoiceToWPlus:
    """The voice→W+ mapper of the paper's route: embedding ``[B, D]`` (+ random W+) → W+ ``[B, num_ws, w_dim]``."""
    return build("mapper", cfg)
