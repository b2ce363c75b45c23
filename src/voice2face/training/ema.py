"""Exponential moving average of generator weights, with StyleGAN2's half-life schedule.

The EMA generator is what gets evaluated and shipped: averaging over recent steps removes
much of the GAN's step-to-step jitter.
"""

from __future__ import annotations

import torch
from torch import nn


def ema_beta(batch_size: int, images_seen: int, half_life_kimg: float, rampup: float | None) -> float:
    """Decay per step so that weights halve their influence every ``half_life_kimg`` thousand images.

    With ``rampup`` (e.g. 0.05) the half-life is at most ``rampup × images_seen`` early in training,
    so the average does not drag the random initialisation along for too long.
    """
    half_life = half_life_kimg * 1000.0
    if rampup is not None:
        half_life = min(half_life, images_seen * rampup)
    return 0.5 ** (batch_size / max(half_life, 1e-8))


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, beta: float) -> None:
    """``ema ← beta·ema + (1 − beta)·model`` for parameters; buffers (w_avg, BN stats) are copied.

    ``model`` must be the bare module (unwrap DistributedDataParallel first) with the same structure.
    """
    ema_params = dict(ema.named_parameters())
    ema_buffers = dict(ema.named_buffers())
    model_params = dict(model.named_parameters())
    model_buffers = dict(model.named_buffers())
    if ema_params.keys() != model_params.keys() or ema_buffers.keys() != model_buffers.keys():
        raise ValueError("update_ema: the EMA copy and the model have different parameters or buffers")
    for name, param in model_params.items():
        ema_params[name].copy_(param.detach().lerp(ema_params[name], beta))
    for name, buffer in model_buffers.items():
        ema_buffers[name].copy_(buffer)
