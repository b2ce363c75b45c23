"""Image tensors: the checks at their boundaries, pixels ↔ [-1, 1] floats, and pictures (one face, or a grid)."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from voice2face.errors import MetricError


def check_images(images: torch.Tensor, where: str) -> None:
    """Images handed to a metric network must be a float batch ``[B, 3, H, W]``."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] != 3:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise MetricError(f"{where} must be images [B, 3, H, W] in [-1, 1], got {shape}.")
    if not images.is_floating_point():
        raise MetricError(f"{where} must be float images in [-1, 1], got dtype {images.dtype}; convert uint8 first.")


def uint8_to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 pixels (any shape) → float32 in [-1, 1] as ``(x − 127.5) / 127.5`` (the paper's normalisation)."""
    return (images.to(torch.float32) - 127.5) / 127.5


def float_to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Float images in [-1, 1] (clipped) → uint8 tensor of the same shape, rounded, on the CPU."""
    return ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """Images ``[B, 3, H, W]`` in [-1, 1] (values outside are clipped) → uint8 ``[B, H, W, 3]``."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"expected images [B, 3, H, W], got {tuple(images.shape)}")
    pixels = (images.detach().float().cpu() * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    return pixels.permute(0, 2, 3, 1).numpy()


def to_pil(images: torch.Tensor) -> list[Image.Image]:
    """Images ``[B, 3, H, W]`` in [-1, 1] → B RGB PIL images."""
    return [Image.fromarray(pixels) for pixels in to_uint8(images)]


def grid(images: torch.Tensor, columns: int, padding: int = 2, background: int = 255) -> Image.Image:
    """Tile ``[N, 3, H, W]`` images in [-1, 1] row by row, ``columns`` per row, on a light background."""
    pixels = to_uint8(images)
    count, height, width, _ = pixels.shape
    rows = -(-count // columns)
    canvas = np.full(
        (rows * (height + padding) + padding, columns * (width + padding) + padding, 3), background, np.uint8
    )
    for i, tile in enumerate(pixels):
        top, left = padding + (i // columns) * (height + padding), padding + (i % columns) * (width + padding)
        canvas[top : top + height, left : left + width] = tile
    return Image.fromarray(canvas)
