"""Baselines and the registry: DCGAN and StyleGAN v1 under the same G(z, c) / D(img, c)
interface as StyleGAN2, identity heads on every discriminator, families by name."""

from __future__ import annotations

import pytest
import torch

from voice2face.config import DiscriminatorConfig, GeneratorConfig
from voice2face.errors import ConfigError
from voice2face.models import build_discriminator, build_generator
from voice2face.models.dcgan import DCGANDiscriminator, DCGANGenerator
from voice2face.models.registry import GENERATORS, register
from voice2face.models.stylegan import StyleGenerator
from voice2face.models.stylegan2 import Discriminator, Generator

SMALL = {"channel_base": 256, "channel_max": 16}


def configs(family: str, resolution: int = 32) -> tuple[GeneratorConfig, DiscriminatorConfig]:
    g = GeneratorConfig(
        family=family, z_dim=16, c_dim=8, w_dim=16, img_resolution=resolution, mapping_layers=2, **SMALL
    )
    d = DiscriminatorConfig(
        family=family, c_dim=8, img_resolution=resolution, mapping_layers=2, num_identities=6, **SMALL
    )
    return g, d


@pytest.mark.parametrize(
    ("family", "g_class", "d_class"),
    [("stylegan2", Generator, Discriminator), ("stylegan", StyleGenerator, Discriminator),
     ("dcgan", DCGANGenerator, DCGANDiscriminator)],
)  # fmt: skip
@pytest.mark.parametrize("resolution", [32, 64])
def test_every_family_has_the_same_interface(family, g_class, d_class, resolution):
    torch.manual_seed(0)
    g_cfg, d_cfg = configs(family, resolution)
    G, D = build_generator(g_cfg), build_discriminator(d_cfg)
    assert type(G) is g_class and type(D) is d_class
    assert (G.z_dim, G.c_dim, G.img_resolution, G.img_channels) == (16, 8, resolution, 3)
    z, c = torch.randn(4, 16), torch.randn(4, 8)
    img = G(z, c, truncation_psi=1.0, noise_mode="const")
    assert img.shape == (4, 3, resolution, resolution) and torch.isfinite(img).all()
    out = D.forward_heads(img, c)
    assert out.logits.shape == (4, 1) and out.identity_logits.shape == (4, 6)
    (out.logits.sum() + out.identity_logits.sum()).backward()
    for module in (G, D):
        for name, param in module.named_parameters():
            assert param.grad is not None and param.grad.abs().sum() > 0, f"{family} {name}"


def test_stylegan_v1_uses_adain_without_demodulation_and_truncates():
    torch.manual_seed(0)
    G = build_generator(configs("stylegan")[0]).eval()
    assert G.num_ws == 8 and not any("torgb" in name for name, _ in G.b32.named_parameters())
    c = torch.randn(1, 8).repeat(3, 1)
    a = G(torch.randn(3, 16), c, truncation_psi=0.0, noise_mode="const")
    torch.testing.assert_close(a, a[:1].expand(3, -1, -1, -1))


def test_stylegan_discriminator_has_no_residual_skips():
    D1 = build_discriminator(configs("stylegan")[1])
    D2 = build_discriminator(configs("stylegan2")[1])
    assert not any(".skip." in k for k in D1.state_dict()) and any(".skip." in k for k in D2.state_dict())


def test_dcgan_refuses_truncation_and_accepts_unconditional_use():
    G = DCGANGenerator(GeneratorConfig(family="dcgan", z_dim=16, c_dim=0, img_resolution=32, img_channels=3, **SMALL))
    assert G(torch.randn(2, 16), None).abs().max() <= 1  # tanh
    with pytest.raises(ValueError, match="no w space"):
        G(torch.randn(2, 16), None, truncation_psi=0.5)


def test_registry_names_families_and_refuses_duplicates():
    assert sorted(GENERATORS) == ["dcgan", "stylegan", "stylegan2"]
    with pytest.raises(ValueError, match="already registered"):
        register(GENERATORS, "dcgan")(lambda cfg: None)
    with pytest.raises(ConfigError, match="generator family"):
        GeneratorConfig(family="biggan")
