"""StyleGAN2: official parameter counts and layout, shapes, determinism, truncation, noise,
gradients, and the pure-PyTorch resampling ops against plain compositions."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from voice2face.config import DiscriminatorConfig, GeneratorConfig
from voice2face.errors import ConfigError
from voice2face.models import ops
from voice2face.models.stylegan2 import Discriminator, Generator, mix_styles


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def small_g(resolution: int = 32, c_dim: int = 8, **kwargs) -> Generator:
    kwargs = {"channel_base": 128, "channel_max": 16, "mapping_layers": 2, **kwargs}
    return Generator(
        GeneratorConfig(z_dim=16, c_dim=c_dim, w_dim=16, img_resolution=resolution, img_channels=3, **kwargs)
    )


def small_d(resolution: int = 32, c_dim: int = 8, **kwargs) -> Discriminator:
    kwargs = {"channel_base": 128, "channel_max": 16, "mapping_layers": 2, **kwargs}
    return Discriminator(DiscriminatorConfig(c_dim=c_dim, img_resolution=resolution, img_channels=3, **kwargs))


@pytest.mark.parametrize(
    ("resolution", "channel_base", "g_params", "d_params", "num_ws"),
    [(1024, 32768, 30_370_060, 29_012_513, 18), (256, 16384, 24_767_458, 24_001_089, 14)],
)
def test_parameter_counts_equal_the_official_networks(resolution, channel_base, g_params, d_params, num_ws):
    # Built on the meta device: the full structure with every parameter, no memory or init time.
    with torch.device("meta"):
        G = Generator(
            GeneratorConfig(
                z_dim=512,
                c_dim=0,
                w_dim=512,
                img_resolution=resolution,
                img_channels=3,
                channel_base=channel_base,
                channel_max=512,
            )
        )
        D = Discriminator(
            DiscriminatorConfig(
                c_dim=0, img_resolution=resolution, img_channels=3, channel_base=channel_base, channel_max=512
            )
        )
    assert count(G) == g_params
    assert count(D) == d_params
    assert G.num_ws == num_ws


def test_state_dict_uses_the_official_names():
    keys = set(small_g(64).state_dict()) | {f"D.{k}" for k in small_d(64).state_dict()}
    for key in [
        "mapping.w_avg", "mapping.embed.weight", "mapping.fc0.weight", "mapping.fc1.bias",
        "synthesis.b4.const", "synthesis.b4.conv1.affine.bias", "synthesis.b4.conv1.noise_strength",
        "synthesis.b4.conv1.noise_const", "synthesis.b8.conv0.weight", "synthesis.b8.conv0.resample_filter",
        "synthesis.b64.torgb.affine.weight", "synthesis.b64.resample_filter",
        "D.b64.fromrgb.weight", "D.b64.skip.weight", "D.b8.conv1.bias", "D.mapping.embed.weight",
        "D.b4.conv.weight", "D.b4.fc.weight", "D.b4.out.weight",
    ]:  # fmt: skip
        assert key in keys, key
    assert "D.b32.fromrgb.weight" not in keys  # fromRGB only at the top block (resnet architecture)
    assert "D.b64.skip.bias" not in keys  # the 1x1 skip has no bias


def test_conditional_discriminator_adds_mapping_and_projection():
    plain, conditional = small_d(c_dim=0), small_d(c_dim=8)
    assert not hasattr(plain, "mapping") and plain.b4.out.out_features == 1
    assert conditional.cmap_dim == 16 and conditional.b4.out.out_features == 16
    assert count(conditional) > count(plain)


@pytest.mark.parametrize("resolution", [32, 64, 128, 256])
def test_output_shapes(resolution):
    torch.manual_seed(0)
    G, D = small_g(resolution, channel_base=512), small_d(resolution, channel_base=512, num_identities=5)
    z, c = torch.randn(2, 16), torch.randn(2, 8)
    ws = G.mapping(z, c)
    assert ws.shape == (2, G.num_ws, 16) and G.num_ws == 2 * resolution.bit_length() - 4
    img = G(z, c)
    assert img.shape == (2, 3, resolution, resolution) and torch.isfinite(img).all()
    out = D.forward_heads(img, c)
    assert out.logits.shape == (2, 1) and out.identity_logits.shape == (2, 5) and out.features.shape == (2, 16)
    assert torch.equal(D(img, c), out.logits)


def test_same_seed_same_network_and_images():
    def run(seed):
        torch.manual_seed(seed)
        G = small_g()
        z, c = torch.randn(3, 16), torch.randn(3, 8)
        return G(z, c, generator=torch.Generator().manual_seed(7))

    assert torch.equal(run(1), run(1))
    assert not torch.equal(run(1), run(2))


def test_noise_modes():
    torch.manual_seed(0)
    G = small_g()
    for layer in G.modules():  # learned strengths start at 0; make the noise visible
        if hasattr(layer, "noise_strength"):
            layer.noise_strength.data.fill_(0.5)
    z, c = torch.randn(2, 16), torch.randn(2, 8)
    const = G(z, c, noise_mode="const")
    assert torch.equal(const, G(z, c, noise_mode="const"))
    seeded = [G(z, c, generator=torch.Generator().manual_seed(3)) for _ in range(2)]
    assert torch.equal(seeded[0], seeded[1])
    assert not torch.equal(G(z, c), G(z, c))  # random mode, global RNG: fresh noise each call
    assert not torch.equal(const, G(z, c, noise_mode="none"))
    with pytest.raises(ValueError, match="noise_mode"):
        G(z, c, noise_mode="fixed")


def test_without_noise_inputs_every_noise_mode_gives_the_same_image():
    from voice2face.config import GeneratorConfig
    from voice2face.models import build_generator

    torch.manual_seed(0)
    config = GeneratorConfig(z_dim=16, c_dim=8, w_dim=32, img_resolution=16, channel_base=256, channel_max=32,
                             mapping_layers=2, use_noise=False)  # fmt: skip
    G = build_generator(config)
    names = [name for name, _ in G.named_parameters()] + [name for name, _ in G.named_buffers()]
    assert not any("noise" in name for name in names)
    z, c = torch.randn(2, 16), torch.randn(2, 8)
    reference = G(z, c, noise_mode="none")
    assert torch.equal(reference, G(z, c)) and torch.equal(reference, G(z, c, noise_mode="const"))
    with pytest.raises(ConfigError, match="use_noise"):
        GeneratorConfig(family="dcgan", use_noise=False)


def test_truncation_to_zero_gives_the_average_image_for_any_z():
    torch.manual_seed(0)
    G = small_g().train()
    for _ in range(3):  # track w_avg as training does
        G.mapping(torch.randn(8, 16), torch.randn(8, 8))
    assert G.mapping.w_avg.abs().sum() > 0
    G.eval()
    c = torch.randn(1, 8).repeat(4, 1)
    images = G(torch.randn(4, 16), c, truncation_psi=0.0, noise_mode="const")
    ws_avg = G.mapping.w_avg.expand(1, G.num_ws, -1)
    expected = G.synthesis(ws_avg, noise_mode="const")
    torch.testing.assert_close(images, expected.expand(4, -1, -1, -1), atol=1e-5, rtol=1e-5)
    # a cutoff truncates only the first layers
    ws = G.mapping(torch.randn(2, 16), c[:2], truncation_psi=0.0, truncation_cutoff=3)
    assert torch.allclose(ws[:, :3], G.mapping.w_avg.expand(2, 3, -1))
    assert not torch.allclose(ws[:, 3:], G.mapping.w_avg.expand(2, G.num_ws - 3, -1))


def test_w_avg_tracks_only_in_training_mode():
    G = small_g().eval()
    G(torch.randn(2, 16), torch.randn(2, 8))
    assert G.mapping.w_avg.abs().sum() == 0


def test_fused_and_unfused_modulated_convolution_agree():
    torch.manual_seed(0)
    G = small_g(64)
    z, c = torch.randn(3, 16), torch.randn(3, 8)
    fused = G(z, c, noise_mode="const", fused_modconv=True)
    unfused = G(z, c, noise_mode="const", fused_modconv=False)
    torch.testing.assert_close(fused, unfused, atol=1e-4, rtol=1e-4)


def test_gradients_reach_every_parameter():
    torch.manual_seed(0)
    G, D = small_g(), small_d(num_identities=4)
    z, c = torch.randn(4, 16), torch.randn(4, 8)
    out = D.forward_heads(G(z, c), c)
    (out.logits.sum() + out.identity_logits.logsumexp(1).sum()).backward()
    for module in (G, D):
        for name, param in module.named_parameters():
            assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_bad_inputs_name_the_shape():
    G, D = small_g(), small_d()
    with pytest.raises(ValueError, match=r"c of shape \[2, 8\] is required"):
        G(torch.randn(2, 16), None)
    with pytest.raises(ValueError, match=r"z must have shape \[2, 16\], got \[2, 15\]"):
        G(torch.randn(2, 15), torch.randn(2, 8))
    with pytest.raises(ValueError, match=r"img must have shape \[2, 3, 32, 32\], got \[2, 3, 64, 64\]"):
        D(torch.randn(2, 3, 64, 64), torch.randn(2, 8))
    with pytest.raises(ValueError, match="power of two"):
        small_g(48)


def test_minibatch_std_with_batch_not_a_multiple_of_the_group():
    D = small_d()
    assert D(torch.randn(6, 3, 32, 32), torch.randn(6, 8)).shape == (6, 1)
    x = torch.randn(6, 4, 2, 2)
    assert ops.MinibatchStdLayer(4)(x).shape == (6, 5, 2, 2)


def test_style_mixing_swaps_the_tail():
    torch.manual_seed(0)
    G = small_g()
    z, c = torch.randn(2, 16), torch.randn(2, 8)
    ws = G.mapping(z, c)
    mixed = mix_styles(G.mapping, ws, c, probability=1.0, generator=torch.Generator().manual_seed(0))
    same = (mixed == ws).all(dim=2).all(dim=0)  # [num_ws]
    cutoff = int(same.logical_not().nonzero()[0])
    assert cutoff >= 1 and same[:cutoff].all() and not same[cutoff:].any()
    assert mix_styles(G.mapping, ws, c, probability=0.0) is ws


def test_resampling_convolutions_equal_fir_resampling_then_plain_convolution():
    torch.manual_seed(0)
    x, w, f = torch.randn(1, 3, 12, 12), torch.randn(4, 3, 3, 3), ops.setup_filter()
    up = ops.conv2d_resample(x, w, f, up=2, padding=1, flip_weight=False)
    reference = F.conv2d(ops.upsample2d(x, f), w.flip([2, 3]), padding=1)
    assert up.shape == (1, 4, 24, 24)
    torch.testing.assert_close(up[..., 4:-4, 4:-4], reference[..., 4:-4, 4:-4])  # borders differ by design
    down = ops.conv2d_resample(x, w, f, down=2, padding=1)
    reference = ops.downsample2d(F.conv2d(x, w, padding=1), f)
    assert down.shape == (1, 4, 6, 6)
    torch.testing.assert_close(down[..., 2:-2, 2:-2], reference[..., 2:-2, 2:-2])
    # the FIR filter keeps a constant image constant (normalised, gain up² after zero insertion)
    flat = torch.ones(1, 1, 8, 8)
    assert torch.allclose(ops.upsample2d(flat, f)[..., 2:-2, 2:-2], torch.ones(1, 1, 12, 12))
    assert torch.allclose(ops.downsample2d(flat, f)[..., 1:-1, 1:-1], torch.ones(1, 1, 2, 2))
