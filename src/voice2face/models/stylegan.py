"""StyleGAN v1 baseline generator (Karras et al. 2019): styles through AdaIN, no demodulation.

The paper's Table 2 compares DCGAN, StyleGAN and StyleGAN2 as face generators. This is the
StyleGAN row under the same conditioning interface as :class:`~voice2face.models.stylegan2.
Generator`: the same mapping network (z and the voice embedding, w_avg, truncation), a learned
4×4 constant, per layer [FIR ×2 upsampling conv] → per-channel-scaled noise → bias + leaky
ReLU → instance normalisation → AdaIN modulation ``x·(1 + s) + b`` from an affine map of w,
and a single toRGB at the output (the network as it stands after progressive growing).
Its discriminator is :class:`~voice2face.models.stylegan2.Discriminator` with
``architecture="orig"`` (no residual skips, as in StyleGAN v1).
"""

from __future__ import annotations

import torch
from torch import nn

from voice2face.config import GeneratorConfig, check
from voice2face.models.ops import (
    Conv2dLayer,
    FullyConnectedLayer,
    assert_shape,
    bias_act,
    channels_per_resolution,
    check_resolution,
    layer_noise,
)
from voice2face.models.stylegan2 import MappingNetwork


class AdaINLayer(nn.Module):
    """One StyleGAN v1 layer: [conv (↑2)] → noise → bias + lrelu → instance norm → AdaIN.

    x ``[B, in, R/up, R/up]``, w ``[B, w_dim]`` → ``[B, out, R, R]``. Without a conv
    (``use_conv=False``, the layer on the 4×4 constant) in and out channels are equal.
    """

    def __init__(
        self, in_channels: int, out_channels: int, w_dim: int, resolution: int, up: int = 1, use_conv: bool = True
    ):
        super().__init__()
        self.resolution, self.up, self.use_noise = resolution, up, True
        if use_conv:
            self.conv = Conv2dLayer(in_channels, out_channels, 3, bias=False, up=up)
        self.register_buffer("noise_const", torch.randn([resolution, resolution]))
        self.noise_strength = nn.Parameter(torch.zeros([out_channels, 1, 1]))  # per channel in v1
        self.bias = nn.Parameter(torch.zeros([out_channels]))
        self.affine = FullyConnectedLayer(w_dim, 2 * out_channels)  # scale and bias of AdaIN

    def forward(
        self,
        x: torch.Tensor,
        w: torch.Tensor,
        noise_mode: str = "random",
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """x ``[B, in, R/up, R/up]``, w ``[B, w_dim]`` → ``[B, out, R, R]``."""
        if hasattr(self, "conv"):
            x = self.conv(x)  # [B, out, R, R]
        noise = layer_noise(self, x.shape[0], noise_mode, generator, x)
        if noise is not None:
            x = x + noise
        x = bias_act(x, self.bias.to(x.dtype), "lrelu")
        x = x - x.mean(dim=(2, 3), keepdim=True)
        x = x * (x.square().mean(dim=(2, 3), keepdim=True) + 1e-8).rsqrt()
        scale, shift = self.affine(w).unsqueeze(-1).unsqueeze(-1).chunk(2, dim=1)  # [B, out, 1, 1] each
        return x * (scale + 1) + shift


class StyleSynthesisBlock(nn.Module):
    """One resolution: (const + AdaIN | AdaIN conv ↑2) → AdaIN conv; toRGB on the last block.

    x ``[B, in, R/2, R/2]`` (None at 4×4), ws ``[B, 2, w_dim]`` → ``[B, out, R, R]``.
    """

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int):
        super().__init__()
        self.in_channels = in_channels
        if in_channels == 0:
            self.const = nn.Parameter(torch.ones([out_channels, resolution, resolution]))
            self.conv0 = AdaINLayer(out_channels, out_channels, w_dim, resolution, use_conv=False)
        else:
            self.conv0 = AdaINLayer(in_channels, out_channels, w_dim, resolution, up=2)
        self.conv1 = AdaINLayer(out_channels, out_channels, w_dim, resolution)

    def forward(
        self,
        x: torch.Tensor | None,
        ws: torch.Tensor,
        noise_mode: str = "random",
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """See the class docstring for shapes."""
        if self.in_channels == 0:
            x = self.const.to(ws.dtype).unsqueeze(0).repeat([ws.shape[0], 1, 1, 1])
        x = self.conv0(x, ws[:, 0], noise_mode, generator)
        return self.conv1(x, ws[:, 1], noise_mode, generator)


class StyleGenerator(nn.Module):
    """Conditional StyleGAN v1 generator: ``G(z, c)`` → image ``[B, img_channels, R, R]``.

    Built from its :class:`~voice2face.config.GeneratorConfig` (family "stylegan") alone, kept as
    ``self.config``. Same call and mapping as the StyleGAN2 :class:`Generator`; ``num_ws =
    2·log2(R) − 2`` (two AdaIN layers per resolution). No ``fused_modconv`` (nothing to fuse);
    ``conv_clamp`` and ``use_noise`` are StyleGAN2's only.
    """

    def __init__(self, config: GeneratorConfig):
        super().__init__()
        check(config.family == "stylegan", f"StyleGenerator builds the stylegan family, not {config.family!r}; "
              "build it with voice2face.models.build_generator.")  # fmt: skip
        self.config = config
        log2 = check_resolution(config.img_resolution)
        self.z_dim, self.c_dim, self.w_dim = config.z_dim, config.c_dim, config.w_dim
        self.img_resolution, self.img_channels = config.img_resolution, config.img_channels
        self.block_resolutions = [2**i for i in range(2, log2 + 1)]
        channels = channels_per_resolution(self.block_resolutions, config.channel_base, config.channel_max)
        for res in self.block_resolutions:
            in_channels = channels[res // 2] if res > 4 else 0
            setattr(self, f"b{res}", StyleSynthesisBlock(in_channels, channels[res], config.w_dim, res))
        self.torgb = Conv2dLayer(channels[config.img_resolution], config.img_channels, 1)
        self.num_ws = 2 * len(self.block_resolutions)
        self.mapping = MappingNetwork(
            config.z_dim, config.c_dim, config.w_dim, self.num_ws, config.mapping_layers,
            lr_multiplier=config.mapping_lr_multiplier, w_avg_beta=config.w_avg_beta,
        )  # fmt: skip

    def synthesis(
        self, ws: torch.Tensor, noise_mode: str = "random", generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """ws ``[B, num_ws, w_dim]`` → image ``[B, img_channels, R, R]`` (≈ [-1, 1], not clamped)."""
        assert_shape(ws, [None, self.num_ws, self.w_dim], "ws")
        x = None
        for idx, res in enumerate(self.block_resolutions):
            x = getattr(self, f"b{res}")(x, ws[:, 2 * idx : 2 * idx + 2], noise_mode, generator)
        return self.torgb(x)

    def forward(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        noise_mode: str = "random",
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """z ``[B, z_dim]``, c ``[B, c_dim]`` → image ``[B, img_channels, R, R]``."""
        ws = self.mapping(z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
        return self.synthesis(ws, noise_mode=noise_mode, generator=generator)
