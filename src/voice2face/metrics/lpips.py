"""LPIPS with a VGG16 backbone (Zhang et al. 2018): the distance StyleGAN's path length uses.

The network is VGG16's convolutional part (torchvision's ``features`` layout), tapped after
relu1_2, relu2_2, relu3_3, relu4_3 and relu5_3; each tap is unit-normalised over channels,
the squared difference of the two images is weighted per channel by a learned 1×1 layer
("lin"), averaged over space, and the five layers are summed.

Both weight sets come from files the user gives; nothing is downloaded:
- VGG16: torchvision's ImageNet state dict (``vgg16-397923af.pth``; keys ``features.<i>.*``,
  the classifier's keys are ignored);
- lin: LPIPS v0.1's ``vgg.pth`` (keys ``lin<k>.model.1.weight``); when not given, the copy
  inside an installed ``lpips`` package is used, as that file ships in its wheel.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
from torch import nn

from voice2face.errors import MetricError, MetricUnavailableError
from voice2face.metrics.cache import file_sha256
from voice2face.metrics.inception import load_matching_state, load_state_dict_file
from voice2face.utils.images import check_images

# VGG16 convolutions (out channels) in torchvision's ``features`` order; "M" is a 2×2 max pool.
VGG16_LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512)
TAP_CHANNELS = (64, 128, 256, 512, 512)
# LPIPS's input scaling: ImageNet statistics expressed for inputs in [-1, 1].
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
NO_VGG_MESSAGE = (
    "skipped: LPIPS needs VGG16 weights; pass the path of torchvision's vgg16 ImageNet state dict "
    "(vgg16-397923af.pth), or use a face-embedding distance (nothing is downloaded)."
)


class _LinearWeights(nn.Module):
    """One LPIPS channel-weighting layer, laid out as LPIPS stores it (``model.1.weight``)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.model = nn.Sequential(nn.Identity(), nn.Conv2d(channels, 1, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class LPIPSVGG16(nn.Module):
    """LPIPS-VGG16 distance: ``(img_a, img_b)`` each ``[B, 3, H, W]`` in [-1, 1] → ``[B]``."""

    name = "lpips_vgg16"

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for item in VGG16_LAYOUT:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(channels, int(item), 3, padding=1), nn.ReLU()]
                channels = int(item)
        self.features = nn.Sequential(*layers)
        # Indices in ``features`` after which LPIPS reads an activation (the ReLU of relu1_2 … relu5_3).
        relus = [i for i, layer in enumerate(layers) if isinstance(layer, nn.ReLU)]
        self.taps = tuple(relus[i] for i in (1, 3, 6, 9, 12))
        for k, channels in enumerate(TAP_CHANNELS):
            self.add_module(f"lin{k}", _LinearWeights(channels))
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1), persistent=False)
        self.weights_id = "random-init"
        self.requires_grad_(False)
        self.eval()

    def _activations(self, images: torch.Tensor) -> list[torch.Tensor]:
        x = (images.float() - self.shift) / self.scale
        taps = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in self.taps:
                taps.append(x / (x.square().sum(dim=1, keepdim=True).sqrt() + 1e-10))  # unit over channels
                if len(taps) == len(self.taps):
                    break
        return taps

    def forward(self, img_a: torch.Tensor, img_b: torch.Tensor) -> torch.Tensor:
        check_images(img_a, "LPIPS input")
        check_images(img_b, "LPIPS input")
        if img_a.shape != img_b.shape:
            raise MetricError(f"LPIPS compares images of one shape, got {tuple(img_a.shape)} and {tuple(img_b.shape)}.")
        both = self._activations(torch.cat([img_a, img_b]))  # 5 × [2B, C_k, H_k, W_k]
        batch = img_a.shape[0]
        total = torch.zeros(batch, device=img_a.device)
        for k, taps in enumerate(both):
            difference = (taps[:batch] - taps[batch:]).square()  # [B, C_k, H_k, W_k]
            total = total + getattr(self, f"lin{k}")(difference).mean(dim=(1, 2, 3))
        return total  # [B]


def bundled_lin_weights() -> Path | None:
    """LPIPS v0.1's VGG ``vgg.pth`` inside an installed ``lpips`` package, if there is one."""
    # find_spec locates the package without importing it: lpips imports torchvision, which
    # cannot be imported on CPU-only torch here.
    spec = importlib.util.find_spec("lpips")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(folder) / "weights" / "v0.1" / "vgg.pth"
        if path.is_file():
            return path
    return None


def load_lpips_vgg16(vgg_weights: str | Path | None, lin_weights: str | Path | None = None) -> LPIPSVGG16:
    """LPIPS-VGG16 from the user's VGG16 state dict and LPIPS lin weights (see the module docstring).

    Raises :class:`MetricUnavailableError` without VGG16 weights (a metric using it is skipped),
    and :class:`MetricError` naming the file when a file does not fit.
    """
    if vgg_weights is None:
        raise MetricUnavailableError(NO_VGG_MESSAGE)
    lin_path = Path(lin_weights) if lin_weights is not None else bundled_lin_weights()
    if lin_path is None:
        raise MetricUnavailableError(
            "skipped: LPIPS needs its lin weights (LPIPS v0.1 vgg.pth); pass their path or install the lpips package."
        )
    network = LPIPSVGG16()
    vgg_path = Path(vgg_weights)
    vgg = load_state_dict_file(vgg_path, "VGG16 weights")
    features = {k[len("features.") :]: v for k, v in vgg.items() if k.startswith("features.")}
    load_matching_state(network.features, features, vgg_path, "VGG16 weights")
    lin = load_state_dict_file(lin_path, "LPIPS lin weights")
    own_lin = {k: v for k, v in network.state_dict().items() if k.startswith("lin")}
    if set(lin) != set(own_lin):
        raise MetricError(
            f"LPIPS lin weights file {lin_path} does not hold lin0..lin4 of VGG; give LPIPS v0.1 vgg.pth."
        )
    load_matching_state(network, {**network.features.state_dict(prefix="features."), **lin}, lin_path, "LPIPS")
    network.weights_id = f"{file_sha256(vgg_path)[:16]}+{file_sha256(lin_path)[:16]}"
    return network.eval()
