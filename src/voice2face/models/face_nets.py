"""Face networks a model carries: the small conv trunk and the face-trait reader built on it.

The mapper's selection mode ships a :class:`TraitNet` inside its weights (its *reader*), so the
architecture lives here with the other networks. How such a network is trained, cached and
scored stays with its users (``metrics.traits``, ``metrics.face_cnn``, ``training.mapper_inputs``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from voice2face.config import FaceCNNConfig
from voice2face.utils.images import check_images

FEATURE_DIM = 64  # the trait reader's penultimate features (also the space of ``fd_traits``)


@dataclass(frozen=True)
class TraitSpec:
    """One face trait: its name, ``binary`` or ``regression``, and whether a voice reveals it."""

    name: str
    kind: str
    voice_revealed: bool


def conv_trunk(config: FaceCNNConfig) -> tuple[nn.Sequential, int]:
    """The face networks' conv trunk: ``config.depth`` blocks of two 3×3 conv–BatchNorm–ReLU and a
    2× max-pool, ``config.width`` channels doubling per block (at most 512). Returns (trunk, output
    channels); ``[B, 3, S, S]`` → ``[B, C, S / 2^depth, S / 2^depth]``."""
    layers: list[nn.Module] = []
    channels_in = 3
    for block in range(config.depth):
        channels = min(config.width << block, 512)
        layers += [
            nn.Conv2d(channels_in, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.MaxPool2d(2),
        ]
        channels_in = channels
    return nn.Sequential(*layers), channels_in


def resize_faces(images: torch.Tensor, size: int) -> torch.Tensor:
    """Images ``[N, 3, H, W]`` as float ``[N, 3, size, size]`` (bilinear where the size differs)."""
    if tuple(images.shape[-2:]) != (size, size):
        images = F.interpolate(images.float(), size=(size, size), mode="bilinear", align_corners=False)
    return images.float()


class TraitNet(nn.Module):
    """Conv trunk → 64-d features → one output per trait (a logit, or a standardised value).

    features: ``[B, 3, S, S]`` in [-1, 1] → ``[B, 64]``; forward: → ``[B, T]``; :meth:`predict`
    gives each trait's value in its own units (binary: 0/1).
    """

    def __init__(self, config: FaceCNNConfig, specs: Sequence[TraitSpec], mean: Sequence[float], std: Sequence[float]):
        super().__init__()
        self.config, self.specs = config, tuple(specs)
        self.trunk, channels = conv_trunk(config)
        self.project = nn.Sequential(nn.Linear(channels, FEATURE_DIM), nn.ReLU())
        self.heads = nn.Linear(FEATURE_DIM, len(self.specs))
        self.register_buffer("target_mean", torch.tensor(list(mean), dtype=torch.float32))
        self.register_buffer("target_std", torch.tensor(list(std), dtype=torch.float32))

    def features(self, images: torch.Tensor) -> torch.Tensor:
        check_images(images, "TraitNet input")
        return self.project(self.trunk(resize_faces(images, self.config.image_size)).mean(dim=(2, 3)))  # [B, 64]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.heads(self.features(images))  # [B, T]

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> dict[str, np.ndarray]:
        """Each trait's reading of images ``[B, 3, S, S]`` in [-1, 1]: binary 0/1, regression in its units."""
        out = self(images)  # [B, T]
        result = {}
        for k, spec in enumerate(self.specs):
            if spec.kind == "binary":
                result[spec.name] = (out[:, k] > 0).float().numpy()
            else:
                result[spec.name] = (out[:, k] * self.target_std[k] + self.target_mean[k]).numpy()
        return result
