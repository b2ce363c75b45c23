"""Differentiable augmentation of what the discriminator sees (DiffAugment, Zhao et al. 2020).

A discriminator trained on a few thousand faces memorises them and its gradients stop teaching
the generator. DiffAugment applies the same family of random, differentiable transformations
to real and generated images alike before D, so D cannot use them to tell the two apart and the
generator's gradient flows through the transformation. Policies (as in the paper):

- ``color``: per-image brightness shift (±0.5), saturation scale (0–2) and contrast scale (0.5–1.5);
- ``translation``: an integer shift of up to 1/8 of the side, the uncovered border zero-filled;
- ``cutout``: one zeroed square of half the side per image, at a random place.

With a probability ``p`` < 1 each transformation is applied to each image with that probability
(one more draw per image and transformation); :class:`AugmentTuner` adapts ``p`` during training to
how sure the discriminator is of the real faces (ADA, Karras et al. 2020, "Training Generative
Adversarial Networks with Limited Data"), so that a large corpus gets little augmentation and a small
one as much as it needs.

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


def diff_augment(
    images: torch.Tensor, policy: str | tuple[str, ...], draw: Draw, p: float | None = None
) -> torch.Tensor:
    """Apply ``policy`` (names in order) to images ``[B, C, H, W]``; differentiable in ``images``.

    ``p`` None: every transformation to every image. A number in [0, 1]: each transformation to each
    image with that probability (a further draw per image, taken whatever ``p`` is, so the random
    stream does not depend on it)."""
    names = parse_policy(policy) if isinstance(policy, str) else policy
    if images.ndim != 4:
        raise ValueError(f"diff_augment takes images [B, C, H, W], got {list(images.shape)}")
    for name in names:
        changed = _POLICIES[name](images, draw)
        if p is None:
            images = changed
        else:
            chosen = draw([images.shape[0], 1, 1, 1]) < p  # [B, 1, 1, 1]
            images = torch.where(chosen, changed, images)
    return images


class Augmenter:
    """A run's augmentation: ``augmenter(images)`` applies ``names`` with probability ``p`` (None:
    always, DiffAugment as published). ``p`` is an attribute the trainer's :class:`AugmentTuner`
    moves and its snapshot saves."""

    def __init__(self, names: tuple[str, ...], draw: Draw, p: float | None = None):
        self.names, self.draw, self.p = names, draw, p

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        return diff_augment(images, self.names, self.draw, self.p)


class AugmentTuner:
    """ADA's controller of the augmentation probability.

    :meth:`observe` takes the mean sign of D's logits on each step's real faces; every ``interval``
    steps :meth:`adjust` turns their mean r_t (−1: D calls every real face fake; 1: real, with
    certainty) into a new ``p``: up by ``images / (kimg · 1000)`` per adjustment when r_t exceeds
    ``target`` (D grows sure of the real faces: it is memorising them), down by as much when under
    it, within [0, 1] (the official code only floors it at 0; a probability stops at 1); ``images``
    is the number of images those steps saw.
    """

    def __init__(self, target: float, kimg: float, interval: int, batch_size: int):
        self.target, self.interval = target, interval
        self.increment = interval * batch_size / (kimg * 1000)
        self.signs: list[float] = []
        self.last_rt: float | None = None  # the last adjustment's r_t (None before the first)

    def observe(self, real_sign: float) -> None:
        """One step's mean sign over the global batch (a multi-process trainer averages its ranks' first)."""
        self.signs.append(real_sign)

    def due(self) -> bool:
        return len(self.signs) >= self.interval

    def adjust(self, p: float) -> float:
        """The new ``p`` from the signs observed since the last adjustment (their mean is :attr:`last_rt`)."""
        rt = sum(self.signs) / len(self.signs)
        self.signs.clear()
        self.last_rt = rt
        step = self.increment if rt > self.target else -self.increment if rt < self.target else 0.0
        return min(1.0, max(0.0, p + step))

    def state_dict(self) -> dict:
        return {"signs": list(self.signs), "last_rt": self.last_rt}

    def load_state_dict(self, state: dict) -> None:
        self.signs = [float(value) for value in state["signs"]]
        self.last_rt = state.get("last_rt")


def make_draw(rng: torch.Generator, device: torch.device, rank: int = 0, world_size: int = 1) -> Draw:
    """A ``draw`` for :func:`diff_augment` from ``rng``: numbers are drawn for the global batch
    (this rank's batch × ``world_size``) and this rank keeps its strided share."""

    def draw(shape: list[int]) -> torch.Tensor:
        full = torch.rand([shape[0] * world_size, *shape[1:]], generator=rng)
        return full[rank::world_size].to(device)

    return draw


def as_augmenter(policy: str, draw: Draw, p: float = 1.0, adaptive: bool = False) -> Augmenter | None:
    """The :class:`Augmenter` of a config's policy string, or None when it is empty. With ``p`` 1 and
    no adaptation every transformation applies to every image (no probability draws, the random
    stream of runs made before ``augment_p`` existed)."""
    names = parse_policy(policy)
    if not names:
        return None
    return Augmenter(names, draw, None if p == 1 and not adaptive else p)


__all__ = ["AugmentTuner", "Augmenter", "as_augmenter", "diff_augment", "make_draw", "parse_policy"]
