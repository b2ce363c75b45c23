"""The fast StyleGAN2 ops against the plain reference: the same outputs and gradients to float32
rounding, on small networks, in every path training and inference take."""

from __future__ import annotations

import copy
import dataclasses

import pytest
import torch

from voice2face.config import DiscriminatorConfig, GANTrainingConfig, GeneratorConfig, from_dict, to_dict
from voice2face.errors import ConfigError
from voice2face.models import ops
from voice2face.models.stylegan2 import Discriminator, Generator

BATCH = 4


def perturbed(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """``module`` with every parameter moved off its initial value (biases are zero at init)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in module.parameters():
            param.add_(0.1 * torch.randn(param.shape, generator=generator))
    return module


def networks(use_noise: bool, c_dim: int) -> tuple[Generator, Discriminator]:
    torch.manual_seed(0)
    size = {"channel_base": 256, "channel_max": 32, "mapping_layers": 2}
    G = Generator(GeneratorConfig(z_dim=16, c_dim=c_dim, w_dim=16, img_resolution=32, use_noise=use_noise, **size))
    D = Discriminator(DiscriminatorConfig(c_dim=c_dim, img_resolution=32, num_identities=5 if c_dim else 0, **size))
    return perturbed(G, 1).train(), perturbed(D, 2).train()


def training_pass(G: Generator, D: Discriminator, z, c, real) -> dict[str, torch.Tensor]:
    """One G→D pass and an R1 penalty (double backward), as the GAN phases run them; returns the
    outputs and every parameter's gradient."""
    images = G(z, c, noise_mode="const")  # [B, 3, 32, 32]
    fake = D.forward_heads(images, c)
    real = real.clone().requires_grad_(True)
    real_logits = D(real, c)
    (r1_grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    loss = fake.logits.sum() + fake.features.square().mean() + r1_grad.square().sum()
    if fake.identity_logits is not None:
        loss = loss + fake.identity_logits.logsumexp(1).sum()
    loss.backward()
    result = {"images": images, "logits": fake.logits, "real_logits": real_logits, "r1_grad": r1_grad}
    for prefix, module in (("G", G), ("D", D)):
        for name, param in module.named_parameters():
            if param.grad is not None:
                result[f"{prefix}.{name}"] = param.grad
    with torch.no_grad():
        result["eval_fused"] = G.eval()(z, c, noise_mode="const")  # inference: grouped convolution
        result["eval_unfused"] = G(z, c, noise_mode="const", fused_modconv=False)
    G.train()
    return {key: value.detach() for key, value in result.items()}


@pytest.mark.parametrize(("use_noise", "c_dim"), [(False, 0), (True, 8)])
def test_fast_and_plain_networks_agree_in_outputs_and_gradients(use_noise, c_dim):
    G, D = networks(use_noise, c_dim)
    assert G.synthesis.b8.conv0.impl == "plain"  # a freshly built network computes the reference way
    G, D = (ops.set_ops_impl(m, "fast") for m in (G, D))  # as a trainer with ops_impl "fast" switches it
    G_plain, D_plain = (ops.set_ops_impl(copy.deepcopy(m), "plain") for m in (G, D))
    assert G.synthesis.b8.conv0.impl == "fast" and G_plain.synthesis.b8.conv0.impl == "plain"
    generator = torch.Generator().manual_seed(3)
    z = torch.randn(BATCH, 16, generator=generator)
    c = torch.randn(BATCH, c_dim, generator=generator) if c_dim else None
    real = torch.rand(BATCH, 3, 32, 32, generator=generator) * 2 - 1
    fast = training_pass(G, D, z, c, real)
    plain = training_pass(G_plain, D_plain, z, c, real)
    assert fast.keys() == plain.keys()
    assert len([key for key in plain if key.startswith(("G.", "D."))]) == len(list(G.parameters())) + len(
        list(D.parameters())
    )
    for key, reference in plain.items():
        # Relative to the tensor's scale: float32 sums taken in another order.
        tolerance = 1e-4 * float(reference.abs().max()) + 1e-7
        torch.testing.assert_close(fast[key], reference, rtol=0, atol=tolerance, msg=key)
    assert fast["images"].is_contiguous()  # callers get the usual layout back


def test_fast_resampling_ops_equal_the_plain_ones():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2, 5, 9, 9, generator=generator)
    f = ops.setup_filter()
    for impl_kwargs in ({"up": 2}, {"down": 2, "padding": 1}, {"padding": [2, 1, 2, 1]}, {"padding": 2}):
        fast = ops.upfirdn2d(x, f, impl="fast", **impl_kwargs)
        plain = ops.upfirdn2d(x, f, impl="plain", **impl_kwargs)
        torch.testing.assert_close(fast, plain, msg=str(impl_kwargs))
    torch.testing.assert_close(ops.upsample2d(x, f, impl="fast"), ops.upsample2d(x, f, impl="plain"))
    torch.testing.assert_close(ops.downsample2d(x, f, impl="fast"), ops.downsample2d(x, f, impl="plain"))
    weight, styles = torch.randn(6, 5, 3, 3, generator=generator), torch.randn(2, 5, generator=generator)
    torch.testing.assert_close(
        ops.demodulation_coefficients(weight, styles, "fast"), ops.demodulation_coefficients(weight, styles, "plain")
    )
    with pytest.raises(ValueError, match="ops implementation must be one of"):
        ops.upfirdn2d(x, f, impl="cuda")
    with pytest.raises(ValueError, match="ops implementation must be one of"):
        ops.set_ops_impl(torch.nn.Linear(2, 2), "cuda")


def test_training_config_picks_the_ops_and_older_run_configs_still_load():
    config = GANTrainingConfig()
    assert config.ops_impl == "fast"
    saved = to_dict(dataclasses.replace(config, ops_impl="plain"))
    assert from_dict(GANTrainingConfig, saved).ops_impl == "plain"
    del saved["ops_impl"]  # a run folder written before the field existed
    assert from_dict(GANTrainingConfig, saved).ops_impl == "fast"
    with pytest.raises(ConfigError, match="ops_impl"):
        GANTrainingConfig(ops_impl="cuda")
