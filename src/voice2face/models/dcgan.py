"""DCGAN baseline (Radford et al. 2016) under the voice-conditioning interface.

The DCGAN row of the paper's Table 2 (and close to Wen et al.'s own generator). Generator:
``[normalised z ; normalised c]`` → 4×4 transposed convolution → (transposed conv 4×4/2 +
BatchNorm + ReLU) per doubling → last transposed conv to image channels + tanh. Discriminator:
(conv 4×4/2 + BatchNorm + LeakyReLU 0.2; no BatchNorm on the first) down to 4×4 → 4×4 conv to
trunk features ``[B, C]`` → real/fake linear head plus projection on the embedded condition
(Miyato & Koyama 2018), and an identity classifier on the same features. Channels per
resolution follow the StyleGAN rule ``min(channel_base // res, channel_max)``.
"""

from __future__ import annotations

import torch
from torch import nn

from voice2face.config import DiscriminatorConfig, GeneratorConfig, check
from voice2face.models.ops import (
    DiscriminatorOutput,
    assert_shape,
    channels_per_resolution,
    check_condition,
    check_resolution,
    normalize_2nd_moment,
)


class DCGANGenerator(nn.Module):
    """DCGAN generator: ``G(z, c)`` → image ``[B, img_channels, R, R]`` in [-1, 1] (tanh).

    Built from its :class:`~voice2face.config.GeneratorConfig` (family "dcgan") alone, kept as
    ``self.config``; the mapping fields (w_dim, mapping_*) do not apply.
    z ``[B, z_dim]``, c ``[B, c_dim]`` (None when ``c_dim=0``). Accepts the StyleGAN call's
    ``truncation_psi`` (only 1: there is no w space) and ``noise_mode``/``generator`` (ignored:
    no noise inputs), so a training or evaluation loop can call every family alike.
    """

    def __init__(self, config: GeneratorConfig):
        super().__init__()
        check(config.family == "dcgan", f"DCGANGenerator builds the dcgan family, not {config.family!r}; "
              "build it with voice2face.models.build_generator.")  # fmt: skip
        self.config = config
        z_dim, c_dim = config.z_dim, config.c_dim
        img_resolution, img_channels = config.img_resolution, config.img_channels
        log2 = check_resolution(img_resolution)
        self.z_dim, self.c_dim = z_dim, c_dim
        self.img_resolution, self.img_channels = img_resolution, img_channels
        resolutions = [2**i for i in range(2, log2 + 1)]
        channels = channels_per_resolution(resolutions, config.channel_base, config.channel_max)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(z_dim + c_dim, channels[4], 4, 1, 0, bias=False),
            nn.BatchNorm2d(channels[4]),
            nn.ReLU(),
        ]
        for res in resolutions[1:-1]:
            layers += [
                nn.ConvTranspose2d(channels[res // 2], channels[res], 4, 2, 1, bias=False),
                nn.BatchNorm2d(channels[res]),
                nn.ReLU(),
            ]
        if img_resolution > 4:
            layers.append(nn.ConvTranspose2d(channels[img_resolution // 2], img_channels, 4, 2, 1))
        else:
            layers.append(nn.Conv2d(channels[4], img_channels, 1))
        layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)
        for module in self.modules():  # DCGAN's initialisation: N(0, 0.02), BatchNorm scale N(1, 0.02)
            if isinstance(module, nn.ConvTranspose2d | nn.Conv2d):
                nn.init.normal_(module.weight, 0.0, 0.02)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.normal_(module.weight, 1.0, 0.02)
                nn.init.zeros_(module.bias)

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
        if truncation_psi != 1:
            raise ValueError(f"DCGAN has no w space to truncate: truncation_psi must be 1, got {truncation_psi}.")
        batch = z.shape[0]
        assert_shape(z, [batch, self.z_dim], "z")
        c = check_condition(c, batch, self.c_dim)
        x = normalize_2nd_moment(z) if c is None else torch.cat([normalize_2nd_moment(z), normalize_2nd_moment(c)], 1)
        return self.net(x[:, :, None, None])  # [B, z+c, 1, 1] → [B, C_img, R, R]


class DCGANDiscriminator(nn.Module):
    """DCGAN discriminator with projection conditioning and an identity head.

    ``D(img, c)`` → real/fake logits ``[B, 1]``; ``D.forward_heads(img, c)`` →
    :class:`~voice2face.models.ops.DiscriminatorOutput` (identity logits ``[B, N]`` when
    ``num_identities > 0``). img ``[B, img_channels, R, R]``; c ``[B, c_dim]`` or None. Built from
    its :class:`~voice2face.config.DiscriminatorConfig` (family "dcgan") alone, kept as ``self.config``;
    the StyleGAN fields (cmap_dim, mapping_layers, mbstd_*, conv_clamp) do not apply.
    """

    def __init__(self, config: DiscriminatorConfig):
        super().__init__()
        check(config.family == "dcgan", f"DCGANDiscriminator builds the dcgan family, not {config.family!r}; "
              "build it with voice2face.models.build_discriminator.")  # fmt: skip
        self.config = config
        c_dim, img_resolution, img_channels = config.c_dim, config.img_resolution, config.img_channels
        log2 = check_resolution(img_resolution)
        self.c_dim, self.img_resolution, self.img_channels = c_dim, img_resolution, img_channels
        self.num_identities = config.num_identities
        resolutions = [2**i for i in range(log2, 1, -1)]
        channels = channels_per_resolution(resolutions, config.channel_base, config.channel_max)
        layers: list[nn.Module] = []
        in_channels = img_channels
        for idx, res in enumerate(resolutions[:-1]):
            out = channels[res // 2]
            layers.append(nn.Conv2d(in_channels, out, 4, 2, 1, bias=idx == 0))
            if idx > 0:  # no BatchNorm on the input layer (Radford et al.)
                layers.append(nn.BatchNorm2d(out))
            layers.append(nn.LeakyReLU(0.2))
            in_channels = out
        features = channels[4]
        layers += [nn.Conv2d(in_channels, features, 4, 1, 0), nn.LeakyReLU(0.2), nn.Flatten()]
        self.trunk = nn.Sequential(*layers)
        self.out = nn.Linear(features, 1)
        if c_dim > 0:
            self.embed = nn.Linear(c_dim, features, bias=False)
        if config.num_identities > 0:
            self.identity = nn.Linear(features, config.num_identities)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.normal_(module.weight, 0.0, 0.02)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.normal_(module.weight, 1.0, 0.02)
                nn.init.zeros_(module.bias)

    def forward_heads(self, img: torch.Tensor, c: torch.Tensor | None) -> DiscriminatorOutput:
        """img ``[B, C_img, R, R]``, c ``[B, c_dim]`` → :class:`DiscriminatorOutput` (one trunk pass)."""
        batch = img.shape[0]
        assert_shape(img, [batch, self.img_channels, self.img_resolution, self.img_resolution], "img")
        c = check_condition(c, batch, self.c_dim)
        features = self.trunk(img)  # [B, C]
        logits = self.out(features)  # [B, 1]
        if c is not None:
            logits = logits + (features * self.embed(normalize_2nd_moment(c))).sum(dim=1, keepdim=True)
        identity_logits = self.identity(features) if self.num_identities > 0 else None
        return DiscriminatorOutput(logits, identity_logits, features)

    def forward(self, img: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        """img ``[B, C_img, R, R]``, c ``[B, c_dim]`` → real/fake logits ``[B, 1]``."""
        return self.forward_heads(img, c).logits
