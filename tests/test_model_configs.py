"""Every model family is its config: each top-level module takes its config dataclass as its one
constructor argument, keeps it as ``.config``, and is rebuilt from that config alone
(``type(m)(m.config)`` + the state dict gives identical outputs); the config round-trips through
to_dict/from_dict and JSON; the registry builds every family through one ``build(kind, config)``."""

from __future__ import annotations

import dataclasses
import inspect
import json

import pytest
import torch

from voice2face.config import (
    DiscriminatorConfig,
    FaceCNNConfig,
    GeneratorConfig,
    MapperConfig,
    PoolConfig,
    SelectionConfig,
    VoiceEncoderConfig,
    from_dict,
    to_dict,
)
from voice2face.errors import ConfigError
from voice2face.models import build_discriminator, build_generator, build_mapper, build_voice_encoder, registry
from voice2face.models.dcgan import DCGANDiscriminator, DCGANGenerator
from voice2face.models.stylegan import StyleGenerator
from voice2face.models.stylegan2 import Discriminator, Generator

SMALL = {"channel_base": 256, "channel_max": 16, "mapping_layers": 2}
SMALL_D = {"channel_base": 256, "channel_max": 16}
READER = FaceCNNConfig(image_size=16, width=4, depth=2, embedding_dim=8)

# (kind, config): every family, conditional and not, with and without its optional heads.
CASES = {
    "voice_encoder": ("voice_encoder", VoiceEncoderConfig(input_dim=20, embedding_dim=8, width_multiplier=0.0625)),
    "voice_encoder-ablations": ("voice_encoder", VoiceEncoderConfig(
        input_dim=20, embedding_dim=8, width_multiplier=0.0625, blocks_per_stage=(1, 1, 1, 1), attention="none",
        activation="relu", pooling="mean", num_speakers=5)),
    "stylegan2-G": ("generator", GeneratorConfig(z_dim=8, c_dim=6, w_dim=16, img_resolution=16, **SMALL)),
    "stylegan2-G-unconditional": ("generator", GeneratorConfig(
        z_dim=8, c_dim=0, w_dim=16, img_resolution=16, use_noise=False, conv_clamp=256.0, **SMALL)),
    "stylegan-G": ("generator", GeneratorConfig(family="stylegan", z_dim=8, c_dim=6, w_dim=16, img_resolution=16,
                                                **SMALL)),
    "dcgan-G": ("generator", GeneratorConfig(family="dcgan", z_dim=8, c_dim=6, img_resolution=16, img_channels=1,
                                             **SMALL)),
    "stylegan2-D": ("discriminator", DiscriminatorConfig(c_dim=6, img_resolution=16, num_identities=4, mapping_layers=2,
                                                         cmap_dim=8, **SMALL_D)),
    "stylegan2-D-unconditional": ("discriminator", DiscriminatorConfig(c_dim=0, img_resolution=16, mbstd_num_channels=0,
                                                                       **SMALL_D)),
    "stylegan-D": ("discriminator", DiscriminatorConfig(family="stylegan", c_dim=6, img_resolution=16, mapping_layers=2,
                                                        **SMALL_D)),
    "dcgan-D": ("discriminator", DiscriminatorConfig(family="dcgan", c_dim=6, img_resolution=16, img_channels=1,
                                                     num_identities=4, **SMALL_D)),
    "wplus-mapper": ("mapper", MapperConfig(embedding_dim=6, num_ws=6, w_dim=16, hidden_dim=12, hidden_layers=2,
                                            rank=3, z_strength=(1.0, 1.0, 0.5, 0.5, 0.0, 0.0))),
    "wplus-mapper-selection": ("mapper", MapperConfig(
        embedding_dim=6, num_ws=6, w_dim=16, hidden_layers=0, rank=3,
        selection=SelectionConfig(candidates=3, z_dim=8, reader=READER, shortlist=0))),
    "pool-mapper": ("mapper", MapperConfig(
        family="pool", embedding_dim=6, num_ws=6, w_dim=16,
        pool=PoolConfig(face_size=8, face_dims=4, rank=2, pool_size=12, candidates=5, blend=2, z_dim=8))),
}  # fmt: skip


def perturbed(module: torch.nn.Module, seed: int = 1) -> torch.nn.Module:
    """``module`` with every float parameter and buffer moved off its initial value (many start at
    zero), so that an output can only be reproduced by loading every one of them."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for tensor in module.parameters():
            tensor.add_(0.1 * torch.randn(tensor.shape, generator=generator))
        for tensor in module.buffers():  # upwards only: BatchNorm's running variance stays positive
            if tensor.is_floating_point():
                tensor.add_(0.1 * torch.randn(tensor.shape, generator=generator).abs())
    return module


def outputs(module: torch.nn.Module, kind: str, config) -> list[torch.Tensor]:
    """What ``module`` computes from fixed inputs (constant noise), as a list of tensors."""
    inputs = torch.Generator().manual_seed(2)

    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=inputs)

    with torch.no_grad():
        if kind == "voice_encoder":
            heads = module.forward_with_logits(randn(3, config.input_dim, 40))
            return [tensor for tensor in heads if tensor is not None]
        if kind == "generator":
            c = randn(3, config.c_dim) if config.c_dim else None
            kwargs = {} if config.family == "dcgan" else {"noise_mode": "const"}
            return [module(randn(3, config.z_dim), c, **kwargs)]
        if kind == "discriminator":
            c = randn(3, config.c_dim) if config.c_dim else None
            heads = module.forward_heads(randn(3, config.img_channels, config.img_resolution, config.img_resolution), c)
            return [tensor for tensor in heads if tensor is not None]
        embedding = randn(3, config.embedding_dim)
        if config.pool is not None:
            size = config.pool.face_size
            faces, z = randn(3, 3, size, size), randn(3, config.pool.z_dim)
            return [module.wanted(embedding), module.face_embedding(faces), module.codes(z, embedding)]
        if config.selection is None:
            return [module(embedding, randn(3, config.num_ws, config.w_dim)), module.predict(embedding)]
        size = config.selection.reader.image_size
        faces, z = randn(3, 3, size, size), randn(3, config.selection.z_dim)
        return [module.wanted_traits(embedding), module.read_traits(faces), module.candidate_latents(z)]


@pytest.mark.parametrize("name", list(CASES))
def test_a_module_is_rebuilt_from_its_config_alone(name):
    kind, config = CASES[name]
    torch.manual_seed(0)
    module = perturbed(registry.build(kind, config)).eval()
    assert module.config is config  # kept as given, not copied field by field

    rebuilt = type(module)(module.config)
    rebuilt.load_state_dict(module.state_dict(), strict=True)
    rebuilt.eval()
    assert list(rebuilt.state_dict()) == list(module.state_dict())
    for got, want in zip(outputs(rebuilt, kind, config), outputs(module, kind, config), strict=True):
        assert torch.equal(got, want), name

    # The same from the config as config.json holds it: JSON text → from_dict → the registry.
    from_json = from_dict(type(config), json.loads(json.dumps(to_dict(module.config))))
    again = registry.build(kind, from_json)
    again.load_state_dict(module.state_dict(), strict=True)
    again.eval()
    assert type(again) is type(module)
    for got, want in zip(outputs(again, kind, config), outputs(module, kind, config), strict=True):
        assert torch.equal(got, want), name


@pytest.mark.parametrize("name", list(CASES))
def test_module_config_round_trips_through_to_dict_and_from_dict(name):
    kind, config = CASES[name]
    with torch.device("meta"):  # structure only: no memory, no initialisation
        module = registry.build(kind, config)
    data = to_dict(module.config)
    assert from_dict(type(config), data) == config
    assert from_dict(type(config), json.loads(json.dumps(data))) == config
    assert to_dict(from_dict(type(config), data)) == data


def test_every_registered_class_takes_its_config_as_its_one_argument():
    for kind, (config_type, table) in registry.KINDS.items():
        assert table, kind
        for family, cls in table.items():
            parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
            assert [p.name for p in parameters] == ["config"], (kind, family)
            assert parameters[0].annotation in (config_type, config_type.__name__), (kind, family)


@pytest.mark.parametrize(
    ("build", "config", "cls"),
    [(build_generator, GeneratorConfig(family="stylegan2", **SMALL), Generator),
     (build_generator, GeneratorConfig(family="stylegan", **SMALL), StyleGenerator),
     (build_generator, GeneratorConfig(family="dcgan", **SMALL), DCGANGenerator),
     (build_discriminator, DiscriminatorConfig(family="stylegan2", **SMALL_D), Discriminator),
     (build_discriminator, DiscriminatorConfig(family="stylegan", **SMALL_D), Discriminator),
     (build_discriminator, DiscriminatorConfig(family="dcgan", **SMALL_D), DCGANDiscriminator)],
)  # fmt: skip
def test_the_thin_builders_are_the_registry(build, config, cls):
    with torch.device("meta"):
        module = build(config)
        assert type(module) is cls and module.config is config
        kind = "generator" if build is build_generator else "discriminator"
        assert type(registry.build(kind, config)) is cls


def test_the_voice_encoder_and_mapper_builders_are_the_registry():
    with torch.device("meta"):
        encoder = build_voice_encoder(VoiceEncoderConfig())
        mapper = build_mapper(MapperConfig())
    assert registry.family_of(encoder.config) == registry.VOICE_ENCODER_FAMILY
    assert type(encoder) is registry.VOICE_ENCODERS[registry.VOICE_ENCODER_FAMILY]
    assert type(mapper) is registry.MAPPERS["wplus"]


def test_a_module_refuses_a_config_of_another_family_and_build_a_config_of_another_kind():
    with pytest.raises(ConfigError, match="stylegan2 family, not 'dcgan'"):
        Generator(GeneratorConfig(family="dcgan"))
    with pytest.raises(ConfigError, match="stylegan family, not 'stylegan2'"):
        StyleGenerator(GeneratorConfig(**SMALL))
    with pytest.raises(ConfigError, match="dcgan family"):
        DCGANGenerator(GeneratorConfig(**SMALL))
    with pytest.raises(ConfigError, match="dcgan family"):
        DCGANDiscriminator(DiscriminatorConfig(**SMALL_D))
    with pytest.raises(ConfigError, match="not 'dcgan'"):
        Discriminator(DiscriminatorConfig(family="dcgan", **SMALL_D))
    with pytest.raises(ConfigError, match="a generator is built from a GeneratorConfig, got VoiceEncoderConfig"):
        registry.build("generator", VoiceEncoderConfig())
    with pytest.raises(ConfigError, match="unknown model component 'projector'"):
        registry.build("projector", GeneratorConfig())


def test_stylegan_families_share_the_discriminator_class_but_not_its_skips():
    base = DiscriminatorConfig(img_resolution=16, c_dim=0, **SMALL_D)
    residual = registry.build("discriminator", base)
    plain = registry.build("discriminator", dataclasses.replace(base, family="stylegan"))
    assert type(residual) is type(plain) is Discriminator
    assert any(".skip." in key for key in residual.state_dict())
    assert not any(".skip." in key for key in plain.state_dict())


def test_top_channels_widen_only_the_top_block_and_only_where_the_family_can():
    from voice2face.config import DiscriminatorConfig, GeneratorConfig
    from voice2face.errors import ConfigError
    from voice2face.models.ops import channels_per_resolution

    assert channels_per_resolution([4, 8, 16], 64, 16) == {4: 16, 8: 8, 16: 4}
    assert channels_per_resolution([4, 8, 16], 64, 16, top_channels=12) == {4: 16, 8: 8, 16: 12}
    assert channels_per_resolution([4, 8, 16], 64, 16, top_channels=12, top_blocks=2) == {4: 16, 8: 12, 16: 12}
    for bad in (lambda: GeneratorConfig(top_blocks=2), lambda: GeneratorConfig(img_resolution=16, top_channels=8,
                                                                               top_blocks=4)):  # fmt: skip
        with pytest.raises(ConfigError, match="top_blocks"):
            bad()
    for bad in (lambda: GeneratorConfig(family="dcgan", top_channels=8),
                lambda: GeneratorConfig(top_channels=-1),
                lambda: DiscriminatorConfig(family="dcgan", top_channels=8)):  # fmt: skip
        with pytest.raises(ConfigError, match="top_channels"):
            bad()
