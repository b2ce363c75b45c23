"""Importing peer libraries that need torchvision, for parity tests only.

torchvision's wheel here is a CUDA build: its Python code runs on CPU, but loading its compiled
operator library fails, and its import then stops at the missing ``torchvision::nms`` operator.
Registering plain-PyTorch CPU definitions of the two operators it declares lets it import. The
project itself never needs this; it stays inside tests/ (see shared/ENVIRONMENT.md).
"""

from __future__ import annotations

import importlib
from types import ModuleType

import torch

_SHIM: list[torch.library.Library] = []


def _nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression; only here so that torchvision imports."""
    order = scores.argsort(descending=True)
    keep = []
    while order.numel():
        best = order[0]
        keep.append(int(best))
        if order.numel() == 1:
            break
        rest = boxes[order[1:]]
        top_left = torch.maximum(boxes[best, :2], rest[:, :2])
        bottom_right = torch.minimum(boxes[best, 2:], rest[:, 2:])
        inter = (bottom_right - top_left).clamp(min=0).prod(1)
        area = (boxes[best, 2:] - boxes[best, :2]).prod()
        union = area + (rest[:, 2:] - rest[:, :2]).prod(1) - inter
        order = order[1:][inter / union <= iou_threshold]
    return torch.tensor(keep, dtype=torch.long)


def _qnms(dets: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    return _nms(dets.dequantize(), scores.dequantize(), iou_threshold)


def _register_torchvision_ops() -> None:
    if _SHIM:
        return
    try:
        torch.ops.torchvision.nms  # noqa: B018 - present when torchvision's own library loaded
        return
    except (AttributeError, RuntimeError):
        pass
    library = torch.library.Library("torchvision", "DEF")
    library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    library.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    library.impl("nms", _nms, "CPU")
    library.impl("qnms", _qnms, "CPU")
    _SHIM.append(library)


def import_peer(name: str) -> tuple[ModuleType | None, str]:
    """Import ``name`` (e.g. ``pytorch_fid.inception``) with the torchvision shim; return
    (module, "") or (None, why it cannot be imported) for a skip reason."""
    try:
        _register_torchvision_ops()
        return importlib.import_module(name), ""
    except Exception as exc:  # a missing dev peer, or torchvision failing in a new way
        return None, f"{name} cannot be imported here ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})"
