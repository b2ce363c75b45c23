"""Conditional StyleGAN2 (Karras et al. 2020, config F): mapping, synthesis, generator and
residual discriminator with projection conditioning and an identity head.

Module names, parameter names, shapes and initialisation follow the official
stylegan2-ada-pytorch networks, so parameter counts equal theirs for the same config
(1024 px config F: G 30,370,060, D 29,012,513) and their state-dict keys map one to one.
Differences, all opt-in or outside the official behaviour: no mixed precision
(``num_fp16_res``); the discriminator may carry an identity classifier on its trunk
(``num_identities``, after Wen et al. 2019); noise may be drawn from a given
``torch.Generator``; a minibatch that the group size does not divide still works.

In voice2face the condition ``c`` is the 512-d voice embedding (``c_dim=512``).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from voice2face.models.ops import (
    Conv2dLayer,
    DiscriminatorOutput,
    FullyConnectedLayer,
    MinibatchStdLayer,
    assert_shape,
    bias_act,
    channels_per_resolution,
    check_condition,
    check_resolution,
    demodulation_coefficients,
    downsample2d,
    layer_noise,
    modulated_conv2d,
    normalize_2nd_moment,
    scaled_bias_act_,
    setup_filter,
    upsample2d,
)

RESAMPLE_FILTER = (1, 3, 3, 1)
D_ARCHITECTURES = ("resnet", "orig")


# --------------------------------------------------------------------------- mapping


class MappingNetwork(nn.Module):
    """z (and condition c) → intermediate latent w, broadcast to ``[B, num_ws, w_dim]``.

    z ``[B, z_dim]`` and the embedded condition ``embed(c)`` ``[B, embed_features]`` are each
    normalised to unit second moment and concatenated, then pass ``num_layers`` leaky-ReLU FC
    layers whose learning rate is scaled by ``lr_multiplier`` (0.01). During training the
    running mean ``w_avg`` (buffer ``[w_dim]``) is tracked; truncation pulls w towards it:
    ``w_avg + ψ·(w − w_avg)`` for the first ``truncation_cutoff`` ws (all when None).
    With ``num_ws=None`` the output is ``[B, w_dim]`` (the discriminator's condition mapping).
    """

    def __init__(
        self,
        z_dim: int,
        c_dim: int,
        w_dim: int,
        num_ws: int | None,
        num_layers: int = 8,
        embed_features: int | None = None,
        layer_features: int | None = None,
        activation: str = "lrelu",
        lr_multiplier: float = 0.01,
        w_avg_beta: float | None = 0.995,
    ):
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim, self.num_ws = z_dim, c_dim, w_dim, num_ws
        self.num_layers, self.w_avg_beta = num_layers, w_avg_beta
        embed_features = (w_dim if embed_features is None else embed_features) if c_dim > 0 else 0
        layer_features = w_dim if layer_features is None else layer_features
        features = [z_dim + embed_features] + [layer_features] * (num_layers - 1) + [w_dim]
        if c_dim > 0:
            self.embed = FullyConnectedLayer(c_dim, embed_features)
        for idx in range(num_layers):
            layer = FullyConnectedLayer(
                features[idx], features[idx + 1], activation=activation, lr_multiplier=lr_multiplier
            )
            setattr(self, f"fc{idx}", layer)
        if num_ws is not None and w_avg_beta is not None:
            self.register_buffer("w_avg", torch.zeros([w_dim]))

    def forward(
        self,
        z: torch.Tensor | None,
        c: torch.Tensor | None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        skip_w_avg_update: bool = False,
    ) -> torch.Tensor:
        """z ``[B, z_dim]``, c ``[B, c_dim]`` → ws ``[B, num_ws, w_dim]`` (``[B, w_dim]`` if num_ws is None)."""
        batch = (z if z is not None else c).shape[0]
        x = None
        if self.z_dim > 0:
            assert_shape(z, [batch, self.z_dim], "z")
            x = normalize_2nd_moment(z.to(torch.float32))
        c = check_condition(c, batch, self.c_dim)
        if c is not None:
            y = normalize_2nd_moment(self.embed(c.to(torch.float32)))
            x = y if x is None else torch.cat([x, y], dim=1)
        for idx in range(self.num_layers):
            x = getattr(self, f"fc{idx}")(x)  # [B, features]
        if self.w_avg_beta is not None and self.training and not skip_w_avg_update and hasattr(self, "w_avg"):
            self.w_avg.copy_(x.detach().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))
        if self.num_ws is None:
            return x  # [B, w_dim]
        x = x.unsqueeze(1).repeat([1, self.num_ws, 1])  # [B, num_ws, w_dim]
        if truncation_psi != 1:
            cutoff = self.num_ws if truncation_cutoff is None else truncation_cutoff
            x[:, :cutoff] = self.w_avg.lerp(x[:, :cutoff], truncation_psi)
        return x

    def extra_repr(self) -> str:
        return f"z_dim={self.z_dim}, c_dim={self.c_dim}, w_dim={self.w_dim}, num_ws={self.num_ws}"


def mix_styles(
    mapping: MappingNetwork,
    ws: torch.Tensor,
    c: torch.Tensor | None,
    probability: float = 0.9,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Style-mixing regularisation: from a random layer on, use the ws of a second random z.

    ws: ``[B, num_ws, w_dim]`` → same shape. With ``probability`` a cutoff in
    ``[1, num_ws)`` is drawn for the whole batch (as the official loss does); otherwise ws
    is returned unchanged. The second mapping does not update ``w_avg``.
    """
    num_ws = ws.shape[1]
    if probability <= 0 or num_ws < 2:
        return ws
    device = ws.device
    draw = torch.rand([], generator=generator, device=device if generator is None else generator.device)
    if float(draw) >= probability:
        return ws
    cutoff = int(torch.randint(1, num_ws, [], generator=generator, device=draw.device))
    z2 = torch.randn([ws.shape[0], mapping.z_dim], generator=generator, device=draw.device).to(device)
    ws2 = mapping(z2, c, skip_w_avg_update=True)
    return torch.cat([ws[:, :cutoff], ws2[:, cutoff:]], dim=1)


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

    Blocks ``b4 … b{R}``; channels ``min(channel_base // res, channel_max)``. A block's toRGB
    shares its w with the next block's first conv, so ``num_ws = 2·log2(R) − 2``.
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
    ):
        super().__init__()
        self.img_resolution_log2 = check_resolution(img_resolution)
        self.w_dim, self.img_resolution, self.img_channels = w_dim, img_resolution, img_channels
        self.block_resolutions = [2**i for i in range(2, self.img_resolution_log2 + 1)]
        channels = channels_per_resolution(self.block_resolutions, channel_base, channel_max)
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

    z ``[B, z_dim]``, c ``[B, c_dim]`` (the voice embedding; None when ``c_dim=0``).
    ``G.mapping(z, c)`` → ws ``[B, G.num_ws, w_dim]``; ``G.synthesis(ws)`` → image.
    Keyword names are the official ones (``mapping_layers`` = mapping ``num_layers``), so a
    config maps one to one. Images are left unclamped as in the official code (≈ [-1, 1]);
    clamp when converting to pixels.
    """

    def __init__(
        self,
        z_dim: int,
        c_dim: int,
        w_dim: int,
        img_resolution: int,
        img_channels: int,
        channel_base: int = 32768,
        channel_max: int = 512,
        mapping_layers: int = 8,
        mapping_lr_multiplier: float = 0.01,
        w_avg_beta: float = 0.995,
        conv_clamp: float | None = None,
        use_noise: bool = True,
    ):
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim = z_dim, c_dim, w_dim
        self.img_resolution, self.img_channels = img_resolution, img_channels
        self.synthesis = SynthesisNetwork(
            w_dim, img_resolution, img_channels, channel_base, channel_max, conv_clamp, use_noise=use_noise
        )
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(
            z_dim,
            c_dim,
            w_dim,
            num_ws=self.num_ws,
            num_layers=mapping_layers,
            lr_multiplier=mapping_lr_multiplier,
            w_avg_beta=w_avg_beta,
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


# --------------------------------------------------------------------------- discriminator


class DiscriminatorBlock(nn.Module):
    """One resolution of the discriminator: (fromRGB at the top) → conv0 → conv1 ↓2; with
    ``architecture="resnet"`` (StyleGAN2) plus a 1×1 ↓2 skip, summed with gain √½; with
    ``"orig"`` (StyleGAN/ProGAN) without it.

    x ``[B, tmp, R, R]`` (None at the top block, which reads img ``[B, C_img, R, R]``) →
    ``[B, out, R/2, R/2]``.
    """

    def __init__(
        self,
        in_channels: int,
        tmp_channels: int,
        out_channels: int,
        resolution: int,
        img_channels: int,
        architecture: str = "resnet",
        conv_clamp: float | None = None,
    ):
        super().__init__()
        if architecture not in D_ARCHITECTURES:
            raise ValueError(f"architecture must be one of {D_ARCHITECTURES}, got {architecture!r}.")
        self.in_channels, self.resolution, self.img_channels = in_channels, resolution, img_channels
        self.architecture = architecture
        self.register_buffer("resample_filter", setup_filter(RESAMPLE_FILTER))
        if in_channels == 0:
            self.fromrgb = Conv2dLayer(img_channels, tmp_channels, 1, activation="lrelu", conv_clamp=conv_clamp)
        self.conv0 = Conv2dLayer(tmp_channels, tmp_channels, 3, activation="lrelu", conv_clamp=conv_clamp)
        self.conv1 = Conv2dLayer(tmp_channels, out_channels, 3, activation="lrelu", down=2, conv_clamp=conv_clamp)
        if architecture == "resnet":
            self.skip = Conv2dLayer(tmp_channels, out_channels, 1, bias=False, down=2)

    def forward(self, x: torch.Tensor | None, img: torch.Tensor | None) -> torch.Tensor:
        """See the class docstring for shapes."""
        if self.in_channels == 0:
            assert_shape(img, [None, self.img_channels, self.resolution, self.resolution], "img")
            x = self.fromrgb(img.to(torch.float32))  # [B, tmp, R, R]
        if self.architecture == "orig":
            return self.conv1(self.conv0(x))  # [B, out, R/2, R/2]
        y = self.skip(x, gain=math.sqrt(0.5))
        x = self.conv0(x)
        x = self.conv1(x, gain=math.sqrt(0.5))
        return y + x  # [B, out, R/2, R/2]


class DiscriminatorEpilogue(nn.Module):
    """The 4×4 head: minibatch std → conv → fc (trunk features) → out (projected on cmap).

    x ``[B, C, 4, 4]``, cmap ``[B, cmap_dim]`` or None → (logits ``[B, 1]``, features ``[B, C]``).
    """

    def __init__(
        self,
        in_channels: int,
        cmap_dim: int,
        resolution: int,
        mbstd_group_size: int = 4,
        mbstd_num_channels: int = 1,
        conv_clamp: float | None = None,
    ):
        super().__init__()
        self.in_channels, self.cmap_dim, self.resolution = in_channels, cmap_dim, resolution
        self.mbstd = MinibatchStdLayer(mbstd_group_size, mbstd_num_channels) if mbstd_num_channels > 0 else None
        self.conv = Conv2dLayer(
            in_channels + mbstd_num_channels, in_channels, 3, activation="lrelu", conv_clamp=conv_clamp
        )
        self.fc = FullyConnectedLayer(in_channels * resolution**2, in_channels, activation="lrelu")
        self.out = FullyConnectedLayer(in_channels, 1 if cmap_dim == 0 else cmap_dim)

    def forward(self, x: torch.Tensor, cmap: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """See the class docstring for shapes."""
        assert_shape(x, [None, self.in_channels, self.resolution, self.resolution], "x")
        if self.mbstd is not None:
            x = self.mbstd(x)
        x = self.conv(x)  # [B, C, 4, 4]
        features = self.fc(x.flatten(1))  # [B, C]
        x = self.out(features)  # [B, cmap_dim or 1]
        if self.cmap_dim > 0:
            # Projection discriminator (Miyato & Koyama 2018): inner product with the mapped condition.
            x = (x * cmap).sum(dim=1, keepdim=True) * (1 / math.sqrt(self.cmap_dim))
        return x, features


class Discriminator(nn.Module):
    """Residual StyleGAN2 discriminator, conditioned by projection, with an identity head.

    ``architecture="orig"`` drops the residual skips (StyleGAN v1 / ProGAN discriminator,
    used by the ``stylegan`` baseline family).

    ``D(img, c)`` → real/fake logits ``[B, 1]``; ``D.forward_heads(img, c)`` →
    :class:`DiscriminatorOutput` with, when ``num_identities > 0``, identity logits
    ``[B, num_identities]`` from a linear classifier on the same trunk features (Wen et al.
    2019: the discriminator and the identity classifier share their convolutional layers).
    img ``[B, img_channels, R, R]`` in [-1, 1]; c ``[B, c_dim]`` or None when ``c_dim=0``.
    """

    def __init__(
        self,
        c_dim: int,
        img_resolution: int,
        img_channels: int,
        architecture: str = "resnet",
        channel_base: int = 32768,
        channel_max: int = 512,
        cmap_dim: int | None = None,
        mapping_layers: int = 8,
        mbstd_group_size: int = 4,
        mbstd_num_channels: int = 1,
        conv_clamp: float | None = None,
        num_identities: int = 0,
    ):
        super().__init__()
        self.img_resolution_log2 = check_resolution(img_resolution)
        self.c_dim, self.img_resolution, self.img_channels = c_dim, img_resolution, img_channels
        self.num_identities = num_identities
        self.block_resolutions = [2**i for i in range(self.img_resolution_log2, 2, -1)]
        channels = channels_per_resolution([*self.block_resolutions, 4], channel_base, channel_max)
        if cmap_dim is None:
            cmap_dim = channels[4]
        if c_dim == 0:
            cmap_dim = 0
        self.cmap_dim = cmap_dim
        for res in self.block_resolutions:
            in_channels = channels[res] if res < img_resolution else 0
            block = DiscriminatorBlock(
                in_channels, channels[res], channels[res // 2], res, img_channels, architecture, conv_clamp
            )
            setattr(self, f"b{res}", block)
        if c_dim > 0:
            self.mapping = MappingNetwork(
                z_dim=0, c_dim=c_dim, w_dim=cmap_dim, num_ws=None, num_layers=mapping_layers, w_avg_beta=None
            )
        self.b4 = DiscriminatorEpilogue(
            channels[4], cmap_dim, resolution=4, mbstd_group_size=mbstd_group_size,
            mbstd_num_channels=mbstd_num_channels, conv_clamp=conv_clamp,
        )  # fmt: skip
        if num_identities > 0:
            self.identity = FullyConnectedLayer(channels[4], num_identities)
        self.impl = "plain"  # the reference; trainers switch to their config's ops_impl

    def forward_heads(self, img: torch.Tensor, c: torch.Tensor | None) -> DiscriminatorOutput:
        """img ``[B, C_img, R, R]``, c ``[B, c_dim]`` → :class:`DiscriminatorOutput` (one trunk pass)."""
        batch = img.shape[0]
        assert_shape(img, [batch, self.img_channels, self.img_resolution, self.img_resolution], "img")
        c = check_condition(c, batch, self.c_dim)
        if self.impl == "fast":  # oneDNN's convolutions run faster on channels_last activations
            img = img.contiguous(memory_format=torch.channels_last)
        x = None
        for res in self.block_resolutions:
            x = getattr(self, f"b{res}")(x, img if x is None else None)
        cmap = self.mapping(None, c) if c is not None else None  # [B, cmap_dim]
        logits, features = self.b4(x, cmap)
        identity_logits = self.identity(features) if self.num_identities > 0 else None
        return DiscriminatorOutput(logits, identity_logits, features)

    def forward(self, img: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        """img ``[B, C_img, R, R]``, c ``[B, c_dim]`` → real/fake logits ``[B, 1]``."""
        return self.forward_heads(img, c).logits

    def extra_repr(self) -> str:
        return f"c_dim={self.c_dim}, img_resolution={self.img_resolution}, num_identities={self.num_identities}"


def downsample_image(img: torch.Tensor, factor: int) -> torch.Tensor:
    """Antialiased ×``factor`` (power of two) downsampling of images ``[B, C, H, W]`` with the
    [1,3,3,1] filter: for losses on a smaller copy of a high-resolution output."""
    f = setup_filter(RESAMPLE_FILTER).to(img.device, img.dtype)
    while factor > 1:
        img = downsample2d(img, f)
        factor //= 2
    return img
