"""StyleGAN2 residual discriminator with projection conditioning and an identity head."""

from __future__ import annotations

import math

import torch
from torch import nn

from voice2face.config import DiscriminatorConfig, check
from voice2face.models.ops import (
    Conv2dLayer,
    DiscriminatorOutput,
    FullyConnectedLayer,
    MinibatchStdLayer,
    assert_shape,
    channels_per_resolution,
    check_condition,
    check_resolution,
    downsample2d,
    setup_filter,
)
from voice2face.models.stylegan2.generator import RESAMPLE_FILTER
from voice2face.models.stylegan2.mapping import MappingNetwork

D_ARCHITECTURES = ("resnet", "orig")
# The discriminator of each GAN family this class builds: StyleGAN2's is residual, StyleGAN v1's is not.
FAMILY_ARCHITECTURES = {"stylegan2": "resnet", "stylegan": "orig"}


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

    Built from its :class:`~voice2face.config.DiscriminatorConfig` alone, kept as ``self.config``.
    Family "stylegan2" is the residual architecture; family "stylegan" drops the residual skips
    (StyleGAN v1 / ProGAN discriminator, ``architecture="orig"``: :data:`FAMILY_ARCHITECTURES`).

    ``D(img, c)`` → real/fake logits ``[B, 1]``; ``D.forward_heads(img, c)`` →
    :class:`DiscriminatorOutput` with, when ``num_identities > 0``, identity logits
    ``[B, num_identities]`` from a linear classifier on the same trunk features (Wen et al.
    2019: the discriminator and the identity classifier share their convolutional layers).
    img ``[B, img_channels, R, R]`` in [-1, 1]; c ``[B, c_dim]`` or None when ``c_dim=0``.
    """

    def __init__(self, config: DiscriminatorConfig):
        super().__init__()
        check(config.family in FAMILY_ARCHITECTURES, f"Discriminator builds the families {tuple(FAMILY_ARCHITECTURES)},"
              f" not {config.family!r}; build it with voice2face.models.build_discriminator.")  # fmt: skip
        self.config = config
        c_dim, img_resolution, img_channels = config.c_dim, config.img_resolution, config.img_channels
        self.img_resolution_log2 = check_resolution(img_resolution)
        self.c_dim, self.img_resolution, self.img_channels = c_dim, img_resolution, img_channels
        self.num_identities = config.num_identities
        self.block_resolutions = [2**i for i in range(self.img_resolution_log2, 2, -1)]
        channels = channels_per_resolution(
            [*self.block_resolutions, 4], config.channel_base, config.channel_max, config.top_channels
        )
        cmap_dim = channels[4] if config.cmap_dim is None else config.cmap_dim
        if c_dim == 0:
            cmap_dim = 0
        self.cmap_dim = cmap_dim
        architecture = FAMILY_ARCHITECTURES[config.family]
        for res in self.block_resolutions:
            in_channels = channels[res] if res < img_resolution else 0
            block = DiscriminatorBlock(
                in_channels, channels[res], channels[res // 2], res, img_channels, architecture, config.conv_clamp
            )
            setattr(self, f"b{res}", block)
        if c_dim > 0:
            self.mapping = MappingNetwork(
                z_dim=0, c_dim=c_dim, w_dim=cmap_dim, num_ws=None, num_layers=config.mapping_layers, w_avg_beta=None
            )
        self.b4 = DiscriminatorEpilogue(
            channels[4], cmap_dim, resolution=4, mbstd_group_size=config.mbstd_group_size,
            mbstd_num_channels=config.mbstd_num_channels, conv_clamp=config.conv_clamp,
        )  # fmt: skip
        if config.num_identities > 0:
            self.identity = FullyConnectedLayer(channels[4], config.num_identities)
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
