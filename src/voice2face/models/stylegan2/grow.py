"""Grow a pretrained StyleGAN2 by one resolution (64 → 128 px), as its skip generator allows.

The skip generator's image is the sum of every block's toRGB output, each upsampled to the top, so a
block added on top whose toRGB starts at zero draws exactly the smaller generator's image,
upsampled by the resampling filter: ``G_big(z) = upsample2d(G_small(z))`` at the first step. The new
block's convolutions start at their usual initialisation and learn the finer detail while the rest
fine-tunes from where it was. The residual discriminator gains a new top block (fromRGB at the new
resolution); the smaller one's fromRGB, which read the image at its old top, has no place and is
dropped. Everything else keeps its name, shape and value.
"""

from __future__ import annotations

import torch
from torch import nn


def grow_into(big: nn.Module, small_state: dict[str, torch.Tensor], *, what: str) -> list[str]:
    """Copy ``small_state`` into ``big`` wherever a name exists in both; return ``big``'s names that
    stayed new. Raises ValueError when a shared name has another shape (the networks differ in more
    than their resolution) or when nothing at all is shared."""
    target = big.state_dict()
    shared = [name for name in small_state if name in target]
    if not shared:
        raise ValueError(f"the smaller {what} shares no parameter with the larger one; they are not one family")
    for name in shared:
        if small_state[name].shape != target[name].shape:
            raise ValueError(
                f"the smaller {what}'s {name} is {tuple(small_state[name].shape)} but the larger one's is "
                f"{tuple(target[name].shape)}: growing adds a resolution and changes nothing else (same widths)"
            )
    with torch.no_grad():
        for name in shared:
            target[name].copy_(small_state[name])
    big.load_state_dict(target)
    return [name for name in target if name not in small_state]


def grow_generator(big: nn.Module, small: nn.Module) -> list[str]:
    """Load the smaller generator ``small`` into ``big`` (one or more resolutions above it) and zero
    the toRGB of every block ``small`` lacks, so that ``big`` first draws ``small``'s images,
    upsampled. Returns the names that are new."""
    if big.synthesis.img_resolution <= small.synthesis.img_resolution:
        raise ValueError(
            f"growing needs a larger generator: {big.synthesis.img_resolution} px from "
            f"{small.synthesis.img_resolution} px"
        )
    new = grow_into(big, small.state_dict(), what="generator")
    with torch.no_grad():
        for res in big.synthesis.block_resolutions:
            if res > small.synthesis.img_resolution:
                torgb = getattr(big.synthesis, f"b{res}").torgb
                torgb.weight.zero_()
                torgb.bias.zero_()
    return new


def grow_discriminator(big: nn.Module, small: nn.Module) -> list[str]:
    """Load the smaller discriminator into ``big``: shared blocks keep their weights, the new top
    block starts fresh, the smaller one's top fromRGB is dropped. Returns the names that are new."""
    if big.img_resolution <= small.img_resolution:
        raise ValueError(
            f"growing needs a larger discriminator: {big.img_resolution} px from {small.img_resolution} px"
        )
    state = {name: value for name, value in small.state_dict().items() if ".fromrgb." not in name}
    return grow_into(big, state, what="discriminator")
