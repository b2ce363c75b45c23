"""Image tensors: the checks at their boundaries, pixels ↔ [-1, 1] floats, and pictures (one face, or a grid)."""

from __future__ import annotations

from collections.abc import Sequence

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


#: How :func:`float_to_uint8` rounds ``127.5 (x + 1)`` to a pixel. Both are "nearest pixel"; they
#: differ at halves and by float rounding, in about 5 of a million values, so each keeps its users'
#: outputs bit for bit: "half_even" (``torch.round``) for faces handed to metrics (evaluation's
#: figures), "half_up" (``floor(127.5 x + 128)``, computed on the CPU) for pictures written to files
#: (the portraits of ``voice2face portrait`` and every grid).
PIXEL_ROUNDING = ("half_even", "half_up")


def float_to_uint8(images: torch.Tensor, rounding: str = "half_even") -> torch.Tensor:
    """Float images in [-1, 1] (clipped) → uint8 tensor of the same shape on the CPU, rounded by
    ``rounding`` (see :data:`PIXEL_ROUNDING`)."""
    if rounding == "half_even":
        return ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()
    if rounding == "half_up":
        return (images.detach().float().cpu() * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    raise ValueError(f"rounding must be one of {PIXEL_ROUNDING}, got {rounding!r}")


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """Images ``[B, 3, H, W]`` in [-1, 1] (values outside are clipped) → uint8 ``[B, H, W, 3]`` for a
    picture file (``half_up`` rounding)."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"expected images [B, 3, H, W], got {tuple(images.shape)}")
    return float_to_uint8(images, rounding="half_up").permute(0, 2, 3, 1).numpy()


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


def real_then_generated_grid(
    reals: Sequence[torch.Tensor], generated: Sequence[torch.Tensor] | None, columns: int
) -> Image.Image:
    """One row per person: their real face ``reals[i]`` ``[1, 3, H, W]``, then ``generated[i]``
    ``[k, 3, H, W]`` (the first ``columns - 1``), padded with white tiles to ``columns``; all in
    [-1, 1]. ``generated=None`` gives the real faces alone."""
    if generated is not None and len(generated) != len(reals):
        raise ValueError(f"need one set of generated faces per real face, got {len(generated)} for {len(reals)}")
    tiles = []
    for i, real in enumerate(reals):
        row = [real] if generated is None else [real, generated[i][: columns - 1]]
        used = sum(part.shape[0] for part in row)
        blank = torch.ones((max(0, columns - used), *real.shape[1:]), dtype=real.dtype)  # white in [-1, 1]
        tiles.append(torch.cat([*row, blank]))
    return grid(torch.cat(tiles), columns=columns)
