"""SE-ResNet18 voice encoder (Qin et al. 2025, §2.2, fig. 4): time–frequency features → a
512-d voice embedding, with an optional speaker-classification head for pre-training.

Layout: features ``[B, F, T]`` are treated as a 1-channel image ``[B, 1, F, T]``. The stem is
a 3×3 convolution with stride 1 and no max-pooling, because F is small (39 MFCC+Δ+ΔΔ or 64
mel bands): ImageNet's 7×7/2 stem and pooling would leave 2–4 frequency rows after stage 4.
Four stages of two BasicBlocks (widths 64-128-256-512 × ``width_multiplier``; stages 2–4
halve F and T) each carry a squeeze-and-excitation block on the residual branch (Hu et al.
2018, reduction r=16, ReLU inside as in the paper's fig. 5) and Mish activations (the paper's
change to ResNet18). The frequency rows left are stacked into channels, then temporal
pooling over any T (statistics pooling: mean and standard deviation; or the mean alone) and a
linear layer give the embedding. The paper's ablations: ``attention="none"`` (NoSE) and
``activation="relu"`` (ReLU everywhere Mish was).

Parameter count of the default encoder (F=39, stats pooling, no speaker head): 13,878,712
(see the class docstring for other settings; tests/test_voice_encoder.py holds them).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from voice2face.config import ENCODER_ACTIVATIONS, ENCODER_ATTENTIONS, VoiceEncoderConfig
from voice2face.models.ops import assert_shape


def _activation(name: str) -> nn.Module:
    if name == "mish":
        return nn.Mish()
    if name == "relu":
        return nn.ReLU()
    raise ValueError(f"activation must be one of {ENCODER_ACTIVATIONS}, got {name!r}.")


class SqueezeExcitation(nn.Module):
    """Channel attention: global average → FC (C→C/r) → ReLU → FC (C/r→C) → sigmoid → rescale.

    ``[B, C, H, W]`` → ``[B, C, H, W]``.
    """

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.fc1 = nn.Linear(channels, hidden)
        self.fc2 = nn.Linear(hidden, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, H, W]`` → ``[B, C, H, W]``."""
        squeezed = x.mean(dim=(2, 3))  # [B, C]
        weights = torch.sigmoid(self.fc2(F.relu(self.fc1(squeezed))))  # [B, C]
        return x * weights[:, :, None, None]


class SEBasicBlock(nn.Module):
    """ResNet BasicBlock (two 3×3 conv-BN) with SE on the residual branch before the sum.

    ``[B, in, H, W]`` → ``[B, out, ⌈H/stride⌉, ⌈W/stride⌉]``; a 1×1 conv-BN projects the
    shortcut when shape changes.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        attention: str = "se",
        activation: str = "mish",
        se_reduction: int = 16,
    ):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.act1 = _activation(activation)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if attention == "se":
            self.se = SqueezeExcitation(out_channels, se_reduction)
        elif attention != "none":
            raise ValueError(f"attention must be one of {ENCODER_ATTENTIONS}, got {attention!r}.")
        self.act2 = _activation(activation)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, in, H, W]`` → ``[B, out, H', W']``."""
        y = self.act1(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        if hasattr(self, "se"):
            y = self.se(y)
        return self.act2(y + self.shortcut(x))


class VoiceEncoder(nn.Module):
    """SE-ResNet18 voice encoder: features ``[B, F, T]`` → embedding ``[B, embedding_dim]``.

    Built from its :class:`~voice2face.config.VoiceEncoderConfig` alone, kept as ``self.config``.
    input_dim: F (39 for MFCC+Δ+ΔΔ, 64 for log-mel); T may be any length ≥ 1 (training crops
    of 3–8 s, whole utterances at test time; ~50 frames still gives a usable embedding).
    ``forward_with_logits`` also returns speaker logits ``[B, num_speakers]`` when
    ``num_speakers > 0``. Parameter counts (stats pooling, no head): 13,878,712 for F=39 and
    15,451,576 for F=64 at width 1; 4,128,476 for F=39 at ``width_multiplier=0.5``.
    """

    def __init__(self, config: VoiceEncoderConfig):
        super().__init__()
        self.config = config
        self.input_dim, self.embedding_dim = config.input_dim, config.embedding_dim
        widths = [max(1, round(base * config.width_multiplier)) for base in (64, 128, 256, 512)]
        self.stem = nn.Sequential(
            nn.Conv2d(1, widths[0], 3, padding=1, bias=False), nn.BatchNorm2d(widths[0]), _activation(config.activation)
        )
        stages = []
        in_channels = widths[0]
        for stage, (width, count) in enumerate(zip(widths, config.blocks_per_stage, strict=True)):
            blocks = []
            for idx in range(count):
                stride = 2 if stage > 0 and idx == 0 else 1
                blocks.append(
                    SEBasicBlock(in_channels, width, stride, config.attention, config.activation, config.se_reduction)
                )
                in_channels = width
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        rows = config.input_dim
        for _ in range(len(config.blocks_per_stage) - 1):
            rows = (rows + 1) // 2  # stride-2 3×3 conv with padding 1
        pooled = in_channels * rows * (2 if config.pooling == "stats" else 1)
        self.embedding = nn.Linear(pooled, config.embedding_dim)
        if config.num_speakers > 0:
            self.classifier = nn.Linear(config.embedding_dim, config.num_speakers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Features ``[B, F, T]`` → voice embedding ``[B, embedding_dim]``."""
        assert_shape(features, [None, self.input_dim, None], "voice features")
        x = self.stem(features.unsqueeze(1))  # [B, C0, F, T]
        x = self.stages(x)  # [B, C, F', T']
        x = x.flatten(1, 2)  # [B, C·F', T']
        if self.config.pooling == "stats":
            mean = x.mean(dim=2)
            std = (x.var(dim=2, unbiased=False) + 1e-5).sqrt()  # floor keeps the gradient finite at T'=1
            pooled = torch.cat([mean, std], dim=1)  # [B, 2·C·F']
        else:
            pooled = x.mean(dim=2)  # [B, C·F']
        return self.embedding(pooled)

    def forward_with_logits(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Features ``[B, F, T]`` → (embedding ``[B, embedding_dim]``, speaker logits ``[B, N]`` or None)."""
        embedding = self.forward(features)
        logits = self.classifier(embedding) if self.config.num_speakers > 0 else None
        return embedding, logits

    def extra_repr(self) -> str:
        cfg = self.config
        return (
            f"input_dim={cfg.input_dim}, embedding_dim={cfg.embedding_dim}, attention={cfg.attention}, "
            f"activation={cfg.activation}, pooling={cfg.pooling}, num_speakers={cfg.num_speakers}"
        )
