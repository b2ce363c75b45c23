"""Differentiable augmentation of what the discriminator sees (DiffAugment, Zhao et al. 2020).

A discriminator trained on a few thousand faces memorises them and its gradients stop teaching
the generator. DiffAugment applies the same family of random, differentiable transformations
to real and generated images alike before D, so D cannot use them to tell the two apart and the
generator's gradient flows through the transformation. Policies (as in the paper):

- ``color``: per-image brightness shift (±0.5), saturation scale (0–2) and contrast scale (0.5–1.5);
- ``translation``: an integer shift of up to 1/8 of the side, the uncovered border zero-filled;
- ``cutout``: one zeroed square of half the side per image, at a random place.

Images are float ``[B, C, H, W]`` in [-1, 1]. Every random number comes from the caller's
``draw(shape)`` function, so a training run's augmentation is reproducible, resumable, and the
same across processes (the trainer draws for the global batch and keeps its rank's share).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from voice2face.config import AUGMENT_POLICIES

#: ``draw(shape)`` → uniform [0, 1) numbers of ``shape`` (first axis: the batch) on the images' device.
Draw = Callable[[list[int]], torch.Tensor]


def _color(x: torch.Tensor, draw: Draw) -> torch.Tensor:
    batch = x.shape[0]
    x = x + (draw([batch, 1, 1, 1]) - 0.5)  # brightness
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (draw([batch, 1, 1, 1]) * 2) + mean  # saturation
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - mean) * (draw([batch, 1, 1, 1]) + 0.5) + mean  # contrast


def _translation(x: torch.Tensor, draw: Draw, ratio: float = 0.125) -> torch.Tensor:
    batch, _, height, width = x.shape
    max_dy, max_dx = int(height * ratio + 0.5), int(width * ratio + 0.5)
    shift = draw([batch, 2])  # [B, 2] in [0, 1)
    dy = (shift[:, 0] * (2 * max_dy + 1)).floor().long() - max_dy  # [B] in [-max_dy, max_dy]
    dx = (shift[:, 1] * (2 * max_dx + 1)).floor().long() - max_dx
    rows = torch.arange(height, device=x.device)[None, :] - dy[:, None]  # [B, H]: source row of each output row
    cols = torch.arange(width, device=x.device)[None, :] - dx[:, None]  # [B, W]
    valid = ((rows >= 0) & (rows < height))[:, None, :, None] & ((cols >= 0) & (cols < width))[:, None, None, :]
    rows, cols = rows.clamp(0, height - 1), cols.clamp(0, width - 1)
    gathered = x.gather(2, rows[:, None, :, None].expand(-1, x.shape[1], -1, width))  # [B, C, H, W]
    gathered = gathered.gather(3, cols[:, None, None, :].expand(-1, x.shape[1], height, -1))
    return gathered * valid


def _cutout(x: torch.Tensor, draw: Draw, ratio: float = 0.5) -> torch.Tensor:
    batch, _, height, width = x.shape
    size_y, size_x = int(height * ratio + 0.5), int(width * ratio + 0.5)
    centre = draw([batch, 2])  # [B, 2]
    cy = (centre[:, 0] * (height + 1 - size_y % 2)).floor().long()  # [B]
    cx = (centre[:, 1] * (width + 1 - size_x % 2)).floor().long()
    ys = torch.arange(height, device=x.device)[None, :]  # [1, H]
    xs = torch.arange(width, device=x.device)[None, :]
    inside_y = (ys >= (cy - size_y // 2)[:, None]) & (ys < (cy - size_y // 2 + size_y)[:, None])  # [B, H]
    inside_x = (xs >= (cx - size_x // 2)[:, None]) & (xs < (cx - size_x // 2 + size_x)[:, None])  # [B, W]
    keep = ~(inside_y[:, :, None] & inside_x[:, None, :])  # [B, H, W]
    return x * keep[:, None].to(x.dtype)


_POLICIES = {"color": _color, "translation": _translation, "cutout": _cutout}
assert tuple(_POLICIES) == AUGMENT_POLICIES


def parse_policy(policy: str) -> tuple[str, ...]:
    """The policy names of ``"color,translation,cutout"`` (ValueError on an unknown one)."""
    names = tuple(name for name in policy.split(",") if name)
    unknown = [name for name in names if name not in _POLICIES]
    if unknown:
        raise ValueError(f"unknown augmentation {unknown}; choose from {', '.join(AUGMENT_POLICIES)}")
    return names


def diff_augment(images: torch.Tensor, policy: str | tuple[str, ...], draw: Draw) -> torch.Tensor:
    """Apply ``policy`` (names in order) to images ``[B, C, H, W]``; differentiable in ``images``."""
    names = parse_policy(policy) if isinstance(policy, str) else policy
    if images.ndim != 4:
        raise ValueError(f"diff_augment takes images [B, C, H, W], got {list(images.shape)}")
    for name in names:
        images = _POLICIES[name](images, draw)
    return images


def make_draw(rng: torch.Generator, device: torch.device, rank: int = 0, world_size: int = 1) -> Draw:
    """A ``draw`` for :func:`diff_augment` from ``rng``: numbers are drawn for the global batch
    (this rank's batch × ``world_size``) and this rank keeps its strided share."""

    def draw(shape: list[int]) -> torch.Tensor:
        full = torch.rand([shape[0] * world_size, *shape[1:]], generator=rng)
        return full[rank::world_size].to(device)

    return draw


def as_augmenter(policy: str, draw: Draw) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """``images → augmented images`` for a config's policy string, or None when it is empty."""
    names = parse_policy(policy)
    if not names:
        return None
    return lambda images: diff_augment(images, names, draw)


__all__ = ["as_augmenter", "diff_augment", "make_draw", "parse_policy"]
