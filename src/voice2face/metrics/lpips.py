"""LPIPS with a VGG16 backbone (Zhang et al. 2018), and the diversity of a set of faces under it.

LPIPS is the distance StyleGAN's path length uses, and the one conditional GANs report diversity
with (BicycleGAN, Zhu et al. 2017; MSGAN, Mao et al. 2019): the mean LPIPS between outputs for one
input at different latents (:func:`lpips_diversity`).

The network is VGG16's convolutional part (torchvision's ``features`` layout), tapped after
relu1_2, relu2_2, relu3_3, relu4_3 and relu5_3; each tap is unit-normalised over channels,
the squared difference of the two images is weighted per channel by a learned 1×1 layer
("lin"), averaged over space, and the five layers are summed.

Both weight sets come from files the user gives; nothing is downloaded
(:func:`resolve_lpips_weights`):
- VGG16: torchvision's ImageNet state dict (``vgg16-397923af.pth``; keys ``features.<i>.*``,
  the classifier's keys are ignored): ``--vgg16-weights`` or ``$VOICE2FACE_VGG16_WEIGHTS``;
- lin: LPIPS v0.1's ``vgg.pth`` (keys ``lin<k>.model.1.weight``): ``--lpips-weights`` or
  ``$VOICE2FACE_LPIPS_WEIGHTS``; when not given, the copy inside an installed ``lpips`` package
  is used, as that file ships in its wheel.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from voice2face.config import LPIPSConfig
from voice2face.errors import MetricError, MetricUnavailableError
from voice2face.metrics.cache import file_sha256
from voice2face.metrics.inception import load_matching_state, load_state_dict_file
from voice2face.utils.images import check_images, uint8_to_float

# VGG16 convolutions (out channels) in torchvision's ``features`` order; "M" is a 2×2 max pool.
VGG16_LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512)
TAP_CHANNELS = (64, 128, 256, 512, 512)
# LPIPS's input scaling: ImageNet statistics expressed for inputs in [-1, 1].
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
VGG16_WEIGHTS_ENV = "VOICE2FACE_VGG16_WEIGHTS"
LIN_WEIGHTS_ENV = "VOICE2FACE_LPIPS_WEIGHTS"
NO_VGG_MESSAGE = (
    "skipped: LPIPS needs VGG16 weights; pass --vgg16-weights or set VOICE2FACE_VGG16_WEIGHTS to the path of "
    "torchvision's ImageNet vgg16 state dict, vgg16-397923af.pth (nothing is downloaded)."
)
NO_LIN_MESSAGE = (
    "skipped: LPIPS needs its lin weights; pass --lpips-weights or set VOICE2FACE_LPIPS_WEIGHTS to the path of "
    "LPIPS v0.1's vgg.pth, or install the lpips package, whose wheel ships that file."
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
        raise MetricUnavailableError(NO_LIN_MESSAGE)
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


def resolve_lpips_weights(
    vgg_weights: str | Path | None, lin_weights: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> tuple[Path, Path]:
    """The weight files to use: (VGG16, lin). Each is the path given, else its environment variable
    (``$VOICE2FACE_VGG16_WEIGHTS``, ``$VOICE2FACE_LPIPS_WEIGHTS``); lin falls back to the copy in an
    installed ``lpips`` package.

    Raises :class:`MetricUnavailableError` (the metric is skipped, with how to give the file) when a
    file is not given, and :class:`MetricError` when a named file does not exist.
    """
    environ = os.environ if environ is None else environ
    chosen = []
    for given, variable, option, missing in (
        (vgg_weights, VGG16_WEIGHTS_ENV, "--vgg16-weights", NO_VGG_MESSAGE),
        (lin_weights, LIN_WEIGHTS_ENV, "--lpips-weights", NO_LIN_MESSAGE),
    ):
        path = given if given not in (None, "") else environ.get(variable) or None
        if path is None and variable == LIN_WEIGHTS_ENV:
            path = bundled_lin_weights()
        if path is None:
            raise MetricUnavailableError(missing)
        path = Path(path).expanduser()
        if not path.is_file():
            raise MetricError(f"LPIPS weights {path} do not exist; check {option} / {variable}.")
        chosen.append(path)
    return chosen[0], chosen[1]


# --------------------------------------------------------------------------- diversity

Distance = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def sample_pairs(groups: Sequence[Any], *, same: bool, count: int, seed: int) -> np.ndarray:
    """Index pairs ``[P, 2]`` (i < j) of items in one group (``same``) or in two different groups.

    Every such pair when there are at most ``count``; else ``count`` of them, drawn uniformly
    without repeats with ``seed`` (pairs of different groups by rejection from all pairs, so a row
    of thousands of faces never lists its millions of pairs).
    """
    codes: dict[Any, int] = {}
    labels = np.array([codes.setdefault(group, len(codes)) for group in groups], dtype=np.int64)  # [N]
    n = labels.size
    rng = np.random.default_rng(seed)
    if same:
        blocks = [np.empty((0, 2), dtype=np.int64)]
        for label in range(len(codes)):
            members = np.flatnonzero(labels == label)
            first, second = np.triu_indices(members.size, k=1)
            blocks.append(np.stack([members[first], members[second]], axis=1))
        pairs = np.concatenate(blocks)
        if len(pairs) > count:
            pairs = pairs[np.sort(rng.choice(len(pairs), count, replace=False))]
        return pairs
    sizes = np.bincount(labels, minlength=1)
    total = (n * n - int((sizes**2).sum())) // 2  # pairs of different groups
    if total == 0:
        return np.empty((0, 2), dtype=np.int64)
    if total <= count:  # then n is at most about count + 1: listing every pair is cheap
        first, second = np.triu_indices(n, k=1)
        keep = labels[first] != labels[second]
        return np.stack([first[keep], second[keep]], axis=1)
    found = np.empty(0, dtype=np.int64)  # pair (i, j), i < j, as i·n + j, in the order drawn
    for _ in range(256):
        first, second = rng.integers(n, size=(2, 4 * count))
        keep = labels[first] != labels[second]
        drawn = np.minimum(first, second)[keep] * n + np.maximum(first, second)[keep]
        found = np.concatenate([found, drawn])
        _, where = np.unique(found, return_index=True)
        found = found[np.sort(where)]
        if found.size >= count:
            break
    found = found[:count]
    return np.stack([found // n, found % n], axis=1)


@torch.no_grad()
def mean_pair_distance(distance: Distance, faces: torch.Tensor, pairs: np.ndarray, batch_size: int) -> float | None:
    """Mean ``distance`` over ``pairs`` ``[P, 2]`` of uint8 ``faces`` ``[N, 3, R, R]`` (None without pairs)."""
    if len(pairs) == 0:
        return None
    total = 0.0
    for start in range(0, len(pairs), batch_size):
        chunk = torch.from_numpy(pairs[start : start + batch_size])  # [B, 2]
        first, second = uint8_to_float(faces[chunk[:, 0]]), uint8_to_float(faces[chunk[:, 1]])  # [B, 3, R, R]
        total += float(distance(first, second).double().sum())
    return total / len(pairs)


def lpips_diversity(
    distance: Distance,
    faces: torch.Tensor,
    voices: Sequence[Any],
    speakers: Sequence[Any],
    config: LPIPSConfig = LPIPSConfig(),
) -> dict[str, Any]:
    """How different a set of faces is under ``distance`` (LPIPS-VGG16: :func:`load_lpips_vgg16`).

    faces: uint8 ``[N, 3, R, R]``; voices ``[N]``: what each face was generated from (one utterance:
    faces of one voice differ only by latent); speakers ``[N]``: whose voice it is.
    Returns ``lpips_same_voice`` (mean over pairs of faces of one voice: the conditional GAN's
    diversity score; None when no voice has two faces), ``lpips_other_speakers`` (over pairs of
    faces of different speakers; near 0 when every voice gets one face), each with its number of
    pairs, and ``lpips_weights`` (the weights' id, so results of other weights are never mixed).
    """
    if faces.dtype != torch.uint8 or faces.ndim != 4 or faces.shape[1] != 3:
        raise MetricError(f"LPIPS diversity takes uint8 faces [N, 3, R, R], got {faces.dtype} {tuple(faces.shape)}.")
    if not len(voices) == len(speakers) == faces.shape[0]:
        raise MetricError(
            f"LPIPS diversity needs one voice and one speaker per face: {faces.shape[0]} faces, "
            f"{len(voices)} voices, {len(speakers)} speakers."
        )
    same = sample_pairs(voices, same=True, count=config.pairs, seed=config.seed)
    other = sample_pairs(speakers, same=False, count=config.pairs, seed=config.seed + 1)
    return {
        "lpips_same_voice": mean_pair_distance(distance, faces, same, config.batch_size),
        "same_voice_pairs": len(same),
        "lpips_other_speakers": mean_pair_distance(distance, faces, other, config.batch_size),
        "other_speaker_pairs": len(other),
        "lpips_weights": str(getattr(distance, "weights_id", getattr(distance, "name", "custom"))),
    }
