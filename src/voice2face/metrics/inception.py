"""The FID Inception-v3 network (TensorFlow's 2015-12-05 graph) in plain PyTorch, and its loader.

FID numbers are only comparable when every paper uses the same network: the TF graph that
Heusel et al. released, as ported to PyTorch by pytorch-fid. That graph differs from the
ImageNet Inception-v3 of torchvision in three ways kept here: the pooling branch of the
A, C and first E blocks averages without counting the zero padding (TF's ``SAME`` average
pool), the last E block max-pools in its pooling branch, and the classifier has 1008 outputs.

The module's state-dict keys and shapes are those of the published weight file
``pt_inception-2015-12-05-6726825d.pth``, so that file loads as it is. It is never downloaded:
the user gives its path (``--inception-weights`` or ``VOICE2FACE_INCEPTION_WEIGHTS``).
"""

from __future__ import annotations

import os
import pickle
import re
from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from voice2face.errors import MetricError, MetricUnavailableError
from voice2face.metrics.cache import file_sha256
from voice2face.utils.images import check_images

INCEPTION_WEIGHTS_ENV = "VOICE2FACE_INCEPTION_WEIGHTS"
INCEPTION_SIZE = 299
FEATURE_DIM = 2048
# torch.hub names files by the first hex digits of their SHA-256; this is the published file's.
PUBLISHED_SHA256_PREFIX = "6726825d"
NO_WEIGHTS_MESSAGE = (
    "skipped: no Inception weights; pass --inception-weights or set VOICE2FACE_INCEPTION_WEIGHTS "
    "to the path of pt_inception-2015-12-05-6726825d.pth (nothing is downloaded)."
)


class ConvBN(nn.Module):
    """Convolution without bias, batch norm (TF's epsilon 1e-3), ReLU: Inception's unit."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(out_channels, eps=1e-3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)), inplace=True)  # the batch norm output is ours to overwrite


def _tf_avg_pool(x: torch.Tensor) -> torch.Tensor:
    # TF's SAME average pool divides by the number of real (unpadded) pixels in each window.
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class MixedA(nn.Module):
    """35×35 block: 1×1, 5×5, double 3×3 and pooled branches."""

    def __init__(self, in_channels: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = ConvBN(in_channels, 64, 1)
        self.branch5x5_1 = ConvBN(in_channels, 48, 1)
        self.branch5x5_2 = ConvBN(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = ConvBN(in_channels, 64, 1)
        self.branch3x3dbl_2 = ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = ConvBN(96, 96, 3, padding=1)
        self.branch_pool = ConvBN(in_channels, pool_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        wide = self.branch5x5_2(self.branch5x5_1(x))
        deep = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        pooled = self.branch_pool(_tf_avg_pool(x))
        return torch.cat([self.branch1x1(x), wide, deep, pooled], 1)


class MixedB(nn.Module):
    """35→17 reduction: strided 3×3, strided double 3×3, max pool."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch3x3 = ConvBN(in_channels, 384, 3, stride=2)
        self.branch3x3dbl_1 = ConvBN(in_channels, 64, 1)
        self.branch3x3dbl_2 = ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = ConvBN(96, 96, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        deep = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), deep, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class MixedC(nn.Module):
    """17×17 block with factorised 7×7 convolutions (1×7 then 7×1)."""

    def __init__(self, in_channels: int, channels_7x7: int) -> None:
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = ConvBN(in_channels, 192, 1)
        self.branch7x7_1 = ConvBN(in_channels, c7, 1)
        self.branch7x7_2 = ConvBN(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = ConvBN(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = ConvBN(in_channels, c7, 1)
        self.branch7x7dbl_2 = ConvBN(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = ConvBN(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = ConvBN(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = ConvBN(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = ConvBN(in_channels, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        single = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        double = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            double = layer(double)
        pooled = self.branch_pool(_tf_avg_pool(x))
        return torch.cat([self.branch1x1(x), single, double, pooled], 1)


class MixedD(nn.Module):
    """17→8 reduction: strided 3×3, 7×7-then-strided-3×3, max pool."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch3x3_1 = ConvBN(in_channels, 192, 1)
        self.branch3x3_2 = ConvBN(192, 320, 3, stride=2)
        self.branch7x7x3_1 = ConvBN(in_channels, 192, 1)
        self.branch7x7x3_2 = ConvBN(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = ConvBN(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = ConvBN(192, 192, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        short = self.branch3x3_2(self.branch3x3_1(x))
        long = self.branch7x7x3_1(x)
        for layer in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            long = layer(long)
        return torch.cat([short, long, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class MixedE(nn.Module):
    """8×8 block with split 1×3 / 3×1 outputs; ``max_pool`` selects the FID graph's last-block quirk."""

    def __init__(self, in_channels: int, *, max_pool: bool) -> None:
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = ConvBN(in_channels, 320, 1)
        self.branch3x3_1 = ConvBN(in_channels, 384, 1)
        self.branch3x3_2a = ConvBN(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = ConvBN(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = ConvBN(in_channels, 448, 1)
        self.branch3x3dbl_2 = ConvBN(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = ConvBN(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = ConvBN(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = ConvBN(in_channels, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mid = self.branch3x3_1(x)
        split = torch.cat([self.branch3x3_2a(mid), self.branch3x3_2b(mid)], 1)
        deep = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        deep_split = torch.cat([self.branch3x3dbl_3a(deep), self.branch3x3dbl_3b(deep)], 1)
        # The released graph max-pools here in the last block (TF's, not the paper's, choice).
        pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1) if self.max_pool else _tf_avg_pool(x)
        return torch.cat([self.branch1x1(x), split, deep_split, self.branch_pool(pooled)], 1)


class FIDInceptionV3(nn.Module):
    """The FID Inception-v3: images in [-1, 1] to 2048-d pool features.

    forward: ``[B, 3, H, W]`` float in [-1, 1] → ``[B, 2048]``. Inputs of another size are
    resized to 299×299 bilinearly (``align_corners=False``, as pytorch-fid does) first.
    ``fc`` (1008 classes) is kept only so that the published weight file loads unchanged.
    """

    def __init__(self, resize_input: bool = True) -> None:
        super().__init__()
        self.resize_input = resize_input
        self.Conv2d_1a_3x3 = ConvBN(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = ConvBN(32, 32, 3)
        self.Conv2d_2b_3x3 = ConvBN(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = ConvBN(64, 80, 1)
        self.Conv2d_4a_3x3 = ConvBN(80, 192, 3)
        self.Mixed_5b = MixedA(192, pool_features=32)
        self.Mixed_5c = MixedA(256, pool_features=64)
        self.Mixed_5d = MixedA(288, pool_features=64)
        self.Mixed_6a = MixedB(288)
        self.Mixed_6b = MixedC(768, channels_7x7=128)
        self.Mixed_6c = MixedC(768, channels_7x7=160)
        self.Mixed_6d = MixedC(768, channels_7x7=160)
        self.Mixed_6e = MixedC(768, channels_7x7=192)
        self.Mixed_7a = MixedD(768)
        self.Mixed_7b = MixedE(1280, max_pool=False)
        self.Mixed_7c = MixedE(2048, max_pool=True)
        self.fc = nn.Linear(FEATURE_DIM, 1008)
        self.weights_id = "random-init"  # replaced by the weight file's SHA-256 when loaded
        self.requires_grad_(False)
        self.eval()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        check_images(images, "FIDInceptionV3 input")
        x = images.float()
        if self.resize_input and tuple(x.shape[-2:]) != (INCEPTION_SIZE, INCEPTION_SIZE):
            x = F.interpolate(x, size=(INCEPTION_SIZE, INCEPTION_SIZE), mode="bilinear", align_corners=False)
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))  # [B, 64, 147, 147]
        x = F.max_pool2d(x, kernel_size=3, stride=2)  # [B, 64, 73, 73]
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))  # [B, 192, 71, 71]
        x = F.max_pool2d(x, kernel_size=3, stride=2)  # [B, 192, 35, 35]
        for block in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a):
            x = block(x)  # → [B, 768, 17, 17]
        for block in (self.Mixed_6b, self.Mixed_6c, self.Mixed_6d, self.Mixed_6e, self.Mixed_7a):
            x = block(x)  # → [B, 1280, 8, 8]
        x = self.Mixed_7c(self.Mixed_7b(x))  # [B, 2048, 8, 8]
        return x.mean(dim=(2, 3))  # [B, 2048]


# --------------------------------------------------------------------------- loading

# pytorch-fid's InceptionV3 wrapper stores the same layers as blocks.<i>.<j>; accept that layout too.
_WRAPPER_BLOCKS = (
    ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"),
    ("Conv2d_3b_1x1", "Conv2d_4a_3x3"),
    ("Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"),
    ("Mixed_7a", "Mixed_7b", "Mixed_7c"),
)
_WRAPPER_KEY = re.compile(r"^blocks\.(\d+)\.(\d+)\.(.*)$")


def _from_wrapper_layout(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    renamed = {}
    for key, value in state.items():
        match = _WRAPPER_KEY.match(key)
        if match:
            block, index, rest = int(match[1]), int(match[2]), match[3]
            if block < len(_WRAPPER_BLOCKS) and index < len(_WRAPPER_BLOCKS[block]):
                key = f"{_WRAPPER_BLOCKS[block][index]}.{rest}"
        renamed[key] = value
    return renamed


def resolve_inception_weights(path: str | Path | None, environ: Mapping[str, str] | None = None) -> Path:
    """The weight file to use: ``path`` if given, else ``$VOICE2FACE_INCEPTION_WEIGHTS``.

    Raises :class:`MetricUnavailableError` (FID is skipped) when neither is set, and
    :class:`MetricError` when the named file does not exist.
    """
    environ = os.environ if environ is None else environ
    chosen = path if path not in (None, "") else environ.get(INCEPTION_WEIGHTS_ENV) or None
    if chosen is None:
        raise MetricUnavailableError(NO_WEIGHTS_MESSAGE)
    chosen = Path(chosen).expanduser()
    if not chosen.is_file():
        raise MetricError(
            f"Inception weights {chosen} do not exist; check --inception-weights / {INCEPTION_WEIGHTS_ENV}."
        )
    return chosen


def load_state_dict_file(path: str | Path, what: str) -> dict[str, torch.Tensor]:
    """A plain state dict of tensors from ``path``, loaded with ``weights_only=True`` (never unpickles code)."""
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise MetricError(f"{what} file {path} does not exist; check the path.") from None
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise MetricError(
            f"{what} file {path} is not a plain PyTorch state dict of tensors ({first}); give the original .pth file."
        ) from None
    if isinstance(state, Mapping) and isinstance(state.get("state_dict"), Mapping):
        state = state["state_dict"]
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise MetricError(
            f"{what} file {path} does not hold a mapping of names to tensors; give the original .pth file."
        )
    return dict(state)


def load_matching_state(module: nn.Module, state: Mapping[str, torch.Tensor], path: Path, what: str) -> None:
    """Copy ``state`` into ``module``, requiring the same keys and shapes (BatchNorm's
    ``num_batches_tracked`` may be absent); any mismatch is one error naming the file."""
    own = module.state_dict()
    optional = {k for k in own if k.endswith("num_batches_tracked")}
    missing = sorted(set(own) - set(state) - optional)
    unexpected = sorted(set(state) - set(own))
    wrong = sorted(k for k in set(own) & set(state) if tuple(own[k].shape) != tuple(state[k].shape))
    if missing or unexpected or wrong:
        parts = []
        for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong)):
            if keys:
                shown = ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
                parts.append(f"{label}: {shown}")
        raise MetricError(f"{what} file {path} does not match the network ({'; '.join(parts)}); give the right file.")
    with torch.no_grad():
        for key, value in state.items():
            own[key].copy_(value.to(own[key].dtype))


def load_fid_inception(path: str | Path, *, resize_input: bool = True) -> FIDInceptionV3:
    """Build :class:`FIDInceptionV3` and load the published weights (or pytorch-fid's wrapper layout) from ``path``."""
    path = Path(path)
    state = _from_wrapper_layout(load_state_dict_file(path, "Inception weights"))
    network = FIDInceptionV3(resize_input=resize_input)
    if "fc.weight" not in state and "fc.bias" not in state:
        # The wrapper layout has no classifier; pool features do not use it.
        state = {**state, "fc.weight": torch.zeros(1008, FEATURE_DIM), "fc.bias": torch.zeros(1008)}
    load_matching_state(network, state, path, "Inception weights")
    # Names these weights in cache keys and results; the published file's starts with 6726825d.
    network.weights_id = file_sha256(path)
    return network.eval()
