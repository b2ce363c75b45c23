"""StyleGAN2 synthesis network (modulated convolutions, noise, toRGB skips) and the generator
that joins it to the mapping network."""

from __future__ import annotations

import math

import torch
from torch import nn

from voice2face.config import GeneratorConfig, check
from voice2face.models.ops import (
    FullyConnectedLayer,
    assert_shape,
    bias_act,
    channels_per_resolution,
    check_resolution,
    demodulation_coefficients,
    layer_noise,
    modulated_conv2d,
    scaled_bias_act_,
    setup_filter,
    upsample2d,
)
from voice2face.models.stylegan2.mapping import MappingNetwork

RESAMPLE_FILTER = (1, 3, 3, 1)


# --------------------------------------------------------------------------- synthesis


class SynthesisLayer(nn.Module):
    """Modulated 3×3 convolution (optionally upsampling ×2) + noise + bias + leaky ReLU.

    x ``[B, in, R/up, R/up]``, w ``[B, w_dim]`` → ``[B, out, R, R]``. Parameters: ``affine``
    (w → per-input-channel style, bias init 1), ``weight [out, in, 3, 3]``, ``bias [out]``,
    ``noise_strength []``; buffers ``noise_const [R, R]``, ``resample_filter [4, 4]``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,
        resolution: int,
        kernel_size: int = 3,
        up: int = 1,
        use_noise: bool = True,
        activation: str = "lrelu",
        conv_clamp: float | None = None,
    ):
        super().__init__()
        self.resolution, self.up, self.use_noise = resolution, up, use_noise
        self.activation, self.conv_clamp = activation, conv_clamp
        self.register_buffer("resample_filter", setup_filter(RESAMPLE_FILTER))
        self.padding = kernel_size // 2
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        if use_noise:
            self.register_buffer("noise_const", torch.randn([resolution, resolution]))
            self.noise_strength = nn.Parameter(torch.zeros([]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))
        self.impl = "plain"  # the reference; trainers switch to their config's ops_impl

    def forward(
        self,
        x: torch.Tensor,
        w: torch.Tensor,
        noise_mode: str = "random",
        fused_modconv: bool = True,
        gain: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """x ``[B, in, R/up, R/up]``, w ``[B, w_dim]`` → ``[B, out, R, R]``."""
        batch = x.shape[0]
        assert_shape(x, [batch, self.weight.shape[1], self.resolution // self.up, self.resolution // self.up], "x")
        styles = self.affine(w)  # [B, in]
        noise = layer_noise(self, batch, noise_mode, generator, x)
        clamp = None if self.conv_clamp is None else self.conv_clamp * gain
        act_gain = math.sqrt(2.0) * gain
        if self.impl == "fast" and not fused_modconv and act_gain > 0:
            # Demodulation, noise, bias and the activation's gain in one epilogue (ops.scaled_bias_act_).
            x = modulated_conv2d(
                x, self.weight, styles, up=self.up, padding=self.padding, resample_filter=self.resample_filter,
                demodulate=False, flip_weight=self.up == 1, fused_modconv=False, impl=self.impl,
            )  # fmt: skip
            dcoefs = demodulation_coefficients(self.weight, styles, self.impl)  # [B, out]
            if noise is not None:
                x = torch.addcmul(noise.to(x.dtype), x, dcoefs.to(x.dtype).reshape(batch, -1, 1, 1))
                return scaled_bias_act_(x, act_gain, self.bias * act_gain, self.activation, clamp)
            return scaled_bias_act_(x, dcoefs * act_gain, self.bias * act_gain, self.activation, clamp)
        x = modulated_conv2d(
            x,
            self.weight,
            styles,
            noise=noise,
            up=self.up,
            padding=self.padding,
            resample_filter=self.resample_filter,
            flip_weight=self.up == 1,  # the upsampling path is a transposed convolution
            fused_modconv=fused_modconv,
            impl=self.impl,
        )
        return bias_act(x, self.bias.to(x.dtype), self.activation, gain=act_gain, clamp=clamp)


class ToRGBLayer(nn.Module):
    """Modulated 1×1 convolution to image channels, without demodulation or noise.

    x ``[B, in, R, R]``, w ``[B, w_dim]`` → ``[B, img_channels, R, R]``.
    """

    def __init__(
        self, in_channels: int, out_channels: int, w_dim: int, kernel_size: int = 1, conv_clamp: float | None = None
    ):
        super().__init__()
        self.conv_clamp = conv_clamp
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.impl = "plain"  # the reference; trainers switch to their config's ops_impl

    def forward(self, x: torch.Tensor, w: torch.Tensor, fused_modconv: bool = True) -> torch.Tensor:
        """x ``[B, in, R, R]``, w ``[B, w_dim]`` → ``[B, img_channels, R, R]``."""
        styles = self.affine(w) * self.weight_gain  # [B, in]
        x = modulated_conv2d(x, self.weight, styles, demodulate=False, fused_modconv=fused_modconv, impl=self.impl)
        return bias_act(x, self.bias.to(x.dtype), clamp=self.conv_clamp)


class SynthesisBlock(nn.Module):
    """One resolution of the skip generator: (const | conv0 ↑2) → conv1 → toRGB added to the
    upsampled image so far.

    x ``[B, in, R/2, R/2]`` (None at 4×4), img ``[B, C_img, R/2, R/2]`` (None at 4×4),
    ws ``[B, num_conv + num_torgb, w_dim]`` → x ``[B, out, R, R]``, img ``[B, C_img, R, R]``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,
        resolution: int,
        img_channels: int,
        is_last: bool,
        conv_clamp: float | None = None,
        use_noise: bool = True,
    ):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.resolution, self.img_channels, self.is_last = resolution, img_channels, is_last
        self.register_buffer("resample_filter", setup_filter(RESAMPLE_FILTER))
        self.num_conv = 0
        self.num_torgb = 0
        if in_channels == 0:
            self.const = nn.Parameter(torch.randn([out_channels, resolution, resolution]))
        else:
            self.conv0 = SynthesisLayer(
                in_channels, out_channels, w_dim, resolution, up=2, use_noise=use_noise, conv_clamp=conv_clamp
            )
            self.num_conv += 1
        self.conv1 = SynthesisLayer(
            out_channels, out_channels, w_dim, resolution, use_noise=use_noise, conv_clamp=conv_clamp
        )
        self.num_conv += 1
        self.torgb = ToRGBLayer(out_channels, img_channels, w_dim, conv_clamp=conv_clamp)
        self.num_torgb += 1
        self.impl = "plain"  # the reference; trainers switch to their config's ops_impl

    def forward(
        self,
        x: torch.Tensor | None,
        img: torch.Tensor | None,
        ws: torch.Tensor,
        noise_mode: str = "random",
        fused_modconv: bool | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """See the class docstring for shapes."""
        batch = ws.shape[0]
        assert_shape(ws, [batch, self.num_conv + self.num_torgb, None], "ws")
        if fused_modconv is None:
            fused_modconv = not self.training
        w_iter = iter(ws.unbind(dim=1))
        layer_kwargs = {"noise_mode": noise_mode, "fused_modconv": fused_modconv, "generator": generator}
        if self.in_channels == 0:
            x = self.const.to(ws.dtype).unsqueeze(0).repeat([batch, 1, 1, 1])  # [B, out, 4, 4]
            if self.impl == "fast":  # every later layer keeps this memory format
                x = x.contiguous(memory_format=torch.channels_last)
            x = self.conv1(x, next(w_iter), **layer_kwargs)
        else:
            x = self.conv0(x, next(w_iter), **layer_kwargs)  # [B, out, R, R]
            x = self.conv1(x, next(w_iter), **layer_kwargs)
        if img is not None:
            img = upsample2d(img, self.resample_filter, impl=self.impl)  # [B, C_img, R, R]
        y = self.torgb(x, next(w_iter), fused_modconv=fused_modconv)
        img = y if img is None else img + y
        return x, img


class SynthesisNetwork(nn.Module):
    """ws ``[B, num_ws, w_dim]`` → image ``[B, img_channels, R, R]`` (skip architecture).

    Blocks ``b4 … b{R}``; channels ``min(channel_base // res, channel_max)`` (``top_channels`` at the
    ``top_blocks`` highest resolutions when > 0). A block's toRGB shares its w with the next block's first conv, so
    ``num_ws = 2·log2(R) − 2``.
    """

    def __init__(
        self,
        w_dim: int,
        img_resolution: int,
        img_channels: int,
        channel_base: int = 32768,
        channel_max: int = 512,
        conv_clamp: float | None = None,
        use_noise: bool = True,
        top_channels: int = 0,
        top_blocks: int = 1,
    ):
        super().__init__()
        self.img_resolution_log2 = check_resolution(img_resolution)
        self.w_dim, self.img_resolution, self.img_channels = w_dim, img_resolution, img_channels
        self.block_resolutions = [2**i for i in range(2, self.img_resolution_log2 + 1)]
        channels = channels_per_resolution(self.block_resolutions, channel_base, channel_max, top_channels, top_blocks)
        self.num_ws = 0
        for res in self.block_resolutions:
            in_channels = channels[res // 2] if res > 4 else 0
            is_last = res == img_resolution
            block = SynthesisBlock(
                in_channels, channels[res], w_dim, res, img_channels, is_last=is_last, conv_clamp=conv_clamp,
                use_noise=use_noise,
            )  # fmt: skip
            self.num_ws += block.num_conv + (block.num_torgb if is_last else 0)
            setattr(self, f"b{res}", block)

    def forward(
        self,
        ws: torch.Tensor,
        noise_mode: str = "random",
        fused_modconv: bool | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """ws ``[B, num_ws, w_dim]`` → image ``[B, img_channels, R, R]`` (roughly [-1, 1], not clamped)."""
        assert_shape(ws, [None, self.num_ws, self.w_dim], "ws")
        ws = ws.to(torch.float32)
        x = img = None
        w_idx = 0
        for res in self.block_resolutions:
            block = getattr(self, f"b{res}")
            block_ws = ws.narrow(1, w_idx, block.num_conv + block.num_torgb)
            w_idx += block.num_conv
            x, img = block(x, img, block_ws, noise_mode=noise_mode, fused_modconv=fused_modconv, generator=generator)
        return img.contiguous()  # the usual NCHW layout, whichever memory format the blocks ran in

    def extra_repr(self) -> str:
        return f"w_dim={self.w_dim}, num_ws={self.num_ws}, img_resolution={self.img_resolution}"


class Generator(nn.Module):
    """Conditional StyleGAN2 generator: ``G(z, c)`` → image ``[B, img_channels, R, R]``.

    Built from its :class:`~voice2face.config.GeneratorConfig` (family "stylegan2") alone, kept
    as ``self.config``. z ``[B, z_dim]``, c ``[B, c_dim]`` (the voice embedding; None when
    ``c_dim=0``). ``G.mapping(z, c)`` → ws ``[B, G.num_ws, w_dim]``; ``G.synthesis(ws)`` → image.
    The config's field names are the official keyword names (``mapping_layers`` = mapping
    ``num_layers``). Images are left unclamped as in the official code (≈ [-1, 1]); clamp when
    converting to pixels.
    """

    def __init__(self, config: GeneratorConfig):
        super().__init__()
        check(config.family == "stylegan2", f"Generator builds the stylegan2 family, not {config.family!r}; "
              "build it with voice2face.models.build_generator.")  # fmt: skip
        self.config = config
        self.z_dim, self.c_dim, self.w_dim = config.z_dim, config.c_dim, config.w_dim
        self.img_resolution, self.img_channels = config.img_resolution, config.img_channels
        self.synthesis = SynthesisNetwork(
            config.w_dim, config.img_resolution, config.img_channels, config.channel_base, config.channel_max,
            config.conv_clamp, use_noise=config.use_noise, top_channels=config.top_channels,
            top_blocks=config.top_blocks,
        )  # fmt: skip
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(
            config.z_dim,
            config.c_dim,
            config.w_dim,
            num_ws=self.num_ws,
            num_layers=config.mapping_layers,
            lr_multiplier=config.mapping_lr_multiplier,
            w_avg_beta=config.w_avg_beta,
        )

    def forward(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        noise_mode: str = "random",
        fused_modconv: bool | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """z ``[B, z_dim]``, c ``[B, c_dim]`` → image ``[B, img_channels, R, R]``.

        ``noise_mode``: "random" (drawn from ``generator`` or the global RNG), "const" (the
        stored ``noise_const`` buffers: deterministic) or "none".
        """
        ws = self.mapping(z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
        return self.synthesis(ws, noise_mode=noise_mode, fused_modconv=fused_modconv, generator=generator)
