"""Realism measures that need no pretrained weights: image sharpness and a classifier two-sample test.

A small generator's faces are often softer than the real ones, and an Inception-based distance
is a poor judge of 64 px synthetic faces. Two measures work on the images alone:

- ``laplacian_variance`` / ``sharpness_ratio``: the variance of the Laplacian of the luminance,
  a classic focus measure; generated vs real below 1 means the generated faces are blurrier.
- ``classifier_two_sample_test`` (C2ST, Lopez-Paz & Oquab 2017): a small CNN trained afresh in
  each cross-validation fold to tell real from generated images. Held-out accuracy near 0.5
  means it cannot tell them apart; near 1 means it always can. The network sees the images at
  their own resolution and is augmented only by horizontal flips, so blur, colour casts and
  texture artefacts all remain visible to it.

``gaussian_blur`` is the reference degradation: real images blurred by a known σ calibrate
both measures.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from voice2face.config import C2STConfig
from voice2face.errors import MetricError
from voice2face.metrics.face_cnn import instrument_threads, recalibrate_batchnorm
from voice2face.utils.images import uint8_to_float

LUMA_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R BT.601, the weights of PIL's convert("L")
_CHUNK = 256  # images per chunk where a whole set in float64 could be large


# --------------------------------------------------------------------------- sharpness


def _check_batch(images: object, where: str, *, channels: int | None = None) -> torch.Tensor:
    """The tensor itself if it is a 4-d image batch (with ``channels`` channels when given)."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or (channels and images.shape[1] != channels):
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        want = f"[N, {channels}, H, W]" if channels else "[N, C, H, W]"
        raise MetricError(f"{where} must be an image batch {want}, got {shape}.")
    if images.dtype != torch.uint8 and not images.is_floating_point():
        raise MetricError(f"{where} must be uint8 or float images, got dtype {images.dtype}.")
    return images


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur images by a separable Gaussian of ``sigma`` pixels: the reference degradation.

    images: ``[N, C, H, W]`` uint8 or float. The kernel has radius ``ceil(3 sigma)`` and is
    normalised to sum 1; borders are reflect-padded, so the size is kept and a constant image
    stays constant. Returns ``[N, C, H, W]`` of the input's dtype (uint8 is rounded and clamped
    to 0..255). ``sigma`` 0 returns the input itself.
    """
    images = _check_batch(images, "Images to blur")
    if not isinstance(sigma, (int, float)) or not math.isfinite(sigma) or sigma < 0:
        raise MetricError(f"Blur sigma must be a finite number of pixels >= 0, got {sigma!r}.")
    if sigma == 0:
        return images
    batch, channels, height, width = images.shape
    radius = math.ceil(3 * sigma)
    if radius >= min(height, width):
        raise MetricError(
            f"Blur sigma {sigma} px needs images larger than {radius} px for its reflect padding, "
            f"got {height}x{width}; use a smaller sigma."
        )
    compute = images.dtype if images.dtype == torch.float64 else torch.float32
    taps = torch.arange(-radius, radius + 1, dtype=torch.float64)  # [K]
    kernel = torch.exp(-taps.square() / (2 * sigma**2))
    kernel = (kernel / kernel.sum()).to(device=images.device, dtype=compute)  # [K]
    x = images.to(compute).reshape(batch * channels, 1, height, width)  # [N*C, 1, H, W]
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="reflect"), kernel.view(1, 1, 1, -1))  # along W
    x = F.conv2d(F.pad(x, (0, 0, radius, radius), mode="reflect"), kernel.view(1, 1, -1, 1))  # along H
    x = x.reshape(batch, channels, height, width)
    if images.dtype == torch.uint8:
        return x.round().clamp(0, 255).to(torch.uint8)
    return x.to(images.dtype)


def laplacian_maps(images: torch.Tensor, name: str = "laplacian_maps") -> Iterator[torch.Tensor]:
    """The 3x3 Laplacian (4-neighbour kernel) of each image's luminance over the valid region, chunk by
    chunk: float64 ``[n, H-2, W-2]`` for ``n`` of at most 256 images at a time (a whole set in float64
    could be large). images: ``[N, 3, H, W]`` uint8, or float in [-1, 1] (mapped to 0..255 first, so
    that both give the same maps); luminance is 0.299 R + 0.587 G + 0.114 B on the 0..255 scale.
    ``name``: the caller, as bad input's MetricError names it."""
    images = _check_batch(images, f"Images for {name}", channels=3)
    if images.shape[2] < 3 or images.shape[3] < 3:
        raise MetricError(f"{name} needs images of at least 3x3 pixels, got {tuple(images.shape)}.")
    weights = torch.tensor(LUMA_WEIGHTS, dtype=torch.float64, device=images.device).view(1, 3, 1, 1)
    for start in range(0, images.shape[0], _CHUNK):
        x = images[start : start + _CHUNK].double()  # [n, 3, H, W]
        if images.is_floating_point():
            x = (x + 1) * 127.5
        luma = (x * weights).sum(dim=1)  # [n, H, W]
        centre = luma[:, 1:-1, 1:-1]  # [n, H-2, W-2]
        yield luma[:, :-2, 1:-1] + luma[:, 2:, 1:-1] + luma[:, 1:-1, :-2] + luma[:, 1:-1, 2:] - 4 * centre


def laplacian_variance(images: torch.Tensor) -> torch.Tensor:
    """Sharpness of each image: the variance of the 3x3 Laplacian of its luminance.

    images: ``[N, 3, H, W]`` uint8, or float in [-1, 1] (:func:`laplacian_maps`). The Laplacian is
    taken over the valid region ``[H-2, W-2]`` only, with no padding, and its population variance
    (÷ count) is returned per image: float64 ``[N]``.
    """
    maps = laplacian_maps(images, "laplacian_variance")
    variances = [laplacian.flatten(1).var(dim=1, correction=0) for laplacian in maps]  # [n] each
    if not variances:
        return torch.zeros(0, dtype=torch.float64, device=images.device)
    return torch.cat(variances)


def sharpness_ratio(generated: torch.Tensor, real: torch.Tensor) -> float:
    """How sharp generated images are relative to real ones: mean laplacian_variance(generated)
    / mean laplacian_variance(real). 1 = as sharp; below 1 = blurrier.

    generated, real: ``[N, 3, H, W]`` uint8 or float in [-1, 1] (any N >= 1, any size >= 3x3).
    """
    generated_sharpness = laplacian_variance(generated)  # [N_generated]
    real_sharpness = laplacian_variance(real)  # [N_real]
    if generated_sharpness.numel() == 0 or real_sharpness.numel() == 0:
        raise MetricError("sharpness_ratio needs at least one generated and one real image; got an empty set.")
    real_mean = real_sharpness.mean().item()
    if real_mean <= 0:
        raise MetricError("The real images are perfectly flat (zero Laplacian), so no sharpness ratio exists.")
    return generated_sharpness.mean().item() / real_mean


# --------------------------------------------------------------------------- C2ST


def _c2st_network(width: int) -> nn.Sequential:
    """The fixed C2ST classifier: ``[B, 3, H, W]`` in [-1, 1] → ``[B, 1]`` logit (real = 1).

    Three blocks of conv3x3 → BatchNorm → ReLU → maxpool 2 (widths w, 2w, 4w), global average
    pooling, one linear layer. Max pooling rather than strided convolutions: about twice as fast
    on a CPU, and the first conv still sees every pixel. The ReLU is applied after the pooling:
    both are monotone, so outputs and gradients are identical, and the ReLU touches a quarter of
    the pixels (about 6% faster on a CPU).
    """
    layers: list[nn.Module] = []
    channels_in = 3
    for block in range(3):
        channels = width << block
        layers += [
            nn.Conv2d(channels_in, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.MaxPool2d(2),
            nn.ReLU(),
        ]
        channels_in = channels
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels_in, 1)]
    return nn.Sequential(*layers)


def _check_c2st_inputs(real: object, generated: object, folds: int) -> None:
    """Raise MetricError unless both are uint8 ``[N, 3, H, W]`` of one size with enough images."""
    for name, images in (("real", real), ("generated", generated)):
        if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] != 3:
            shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
            raise MetricError(f"C2ST {name} images must be a batch [N, 3, H, W], got {shape}.")
        if images.dtype != torch.uint8:
            raise MetricError(
                f"C2ST {name} images must be uint8 (0..255), got {images.dtype}; "
                "convert with ((x + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)."
            )
        if min(images.shape[2:]) < 8:
            raise MetricError(f"C2ST needs images of at least 8x8 pixels, got {name} {tuple(images.shape[2:])}.")
        if images.shape[0] < 2 * folds:
            raise MetricError(
                f"C2ST with {folds} folds needs at least {2 * folds} {name} images, got {images.shape[0]}; "
                "give more images or use fewer folds."
            )
    if real.shape[2:] != generated.shape[2:]:
        raise MetricError(
            f"C2ST real images are {tuple(real.shape[2:])} but generated ones {tuple(generated.shape[2:])}; "
            "resize one set so both have the same height and width."
        )


def _train_and_test_fold(
    images: torch.Tensor,
    labels: torch.Tensor,
    train_index: torch.Tensor,
    test_index: torch.Tensor,
    config: C2STConfig,
    generator: torch.Generator,
) -> float:
    """Train a fresh classifier on ``images[train_index]``; its accuracy on ``images[test_index]``.

    images: uint8 ``[M, 3, H, W]``; labels: float ``[M]`` (1 = real, 0 = generated), both on
    the same device; indices: long ``[m]`` on the CPU. ``generator`` draws the initial weights'
    seed, the shuffling and the flips.
    """
    init_seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(init_seed)
        network = _c2st_network(config.width)
    network = network.to(images.device)
    optimizer = torch.optim.Adam(network.parameters(), lr=config.learning_rate)
    steps_per_epoch = -(-train_index.numel() // config.batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs * steps_per_epoch)
    network.train()
    for _ in range(config.epochs):
        order = train_index[torch.randperm(train_index.numel(), generator=generator)]
        for start in range(0, order.numel(), config.batch_size):
            batch = order[start : start + config.batch_size]
            if batch.numel() < 2:  # BatchNorm cannot learn from a batch of one
                continue
            flip = (torch.rand(batch.numel(), generator=generator) < 0.5).to(images.device)  # [B]
            x = uint8_to_float(images[batch])  # [B, 3, H, W]
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
            loss = F.binary_cross_entropy_with_logits(network(x).squeeze(1), labels[batch])  # []
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
    recalibrate_batchnorm(network, images[train_index], config.batch_size, forward=lambda x: network(uint8_to_float(x)))
    network.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, test_index.numel(), config.batch_size):
            batch = test_index[start : start + config.batch_size]
            logits = network(uint8_to_float(images[batch])).squeeze(1)  # [B]
            correct += int(((logits > 0).float() == labels[batch]).sum())  # sigmoid(logit) > 0.5
    return correct / test_index.numel()


def classifier_two_sample_test(
    real: torch.Tensor,
    generated: torch.Tensor,
    config: C2STConfig = C2STConfig(),
    *,
    progress: bool = False,
) -> dict:
    """How well a small CNN tells real from generated images: the classifier two-sample test.

    Lopez-Paz & Oquab (2017). Both classes are subsampled (from ``config.seed``) to the same
    ``n = min(len(real), len(generated), config.max_per_class)`` images and each is split into
    ``config.folds`` parts; in each fold a fresh network (three blocks of conv3x3 → BatchNorm →
    ReLU → maxpool, widths w, 2w, 4w, global average pooling, a linear layer to one logit; BCE
    with logits, Adam) is trained on the other parts, its BatchNorm statistics are recalibrated
    on those training images, and it is scored on the held-out part (accuracy of
    ``sigmoid(logit) > 0.5``). Only random horizontal flips augment the training images; they
    reach the network in [-1, 1] at their own size.

    real, generated: uint8 ``[N, 3, H, W]`` (0..255), the same H and W (>= 8), at least
    ``2 * folds`` images each, on one device (generated is moved to real's device).
    Returns ``{"c2st": mean held-out accuracy (0.5 = indistinguishable, 1 = always told apart),
    "c2st_std": population std over folds, "c2st_folds": [accuracy per fold],
    "c2st_per_class": n}``. Deterministic for ``config.seed`` on one machine with a fixed number
    of threads; the global random state is left as it was.
    """
    if not isinstance(config, C2STConfig):
        raise MetricError(f"C2ST config must be a C2STConfig, got {type(config).__name__}.")
    _check_c2st_inputs(real, generated, config.folds)
    generated = generated.to(real.device)
    generator = torch.Generator().manual_seed(config.seed)
    per_class = min(real.shape[0], generated.shape[0], config.max_per_class)
    real_pick = torch.randperm(real.shape[0], generator=generator)[:per_class]  # [n]
    generated_pick = torch.randperm(generated.shape[0], generator=generator)[:per_class]  # [n]
    images = torch.cat([real[real_pick], generated[generated_pick]])  # [2n, 3, H, W] uint8
    labels = torch.cat([torch.ones(per_class), torch.zeros(per_class)]).to(real.device)  # [2n]
    # The picks are already in random order, so contiguous parts are random folds; image i of
    # the real class and image n + i of the generated class fall in the same fold.
    parts = torch.tensor_split(torch.arange(per_class), config.folds)
    accuracies = []
    for fold in tqdm(range(config.folds), desc="C2ST folds", unit="fold", disable=not progress, leave=False):
        test_part = parts[fold]
        train_part = torch.cat([part for other, part in enumerate(parts) if other != fold])
        test_index = torch.cat([test_part, test_part + per_class])
        train_index = torch.cat([train_part, train_part + per_class])
        with instrument_threads():  # the same classifier on any machine (see INSTRUMENT_THREADS)
            accuracies.append(_train_and_test_fold(images, labels, train_index, test_index, config, generator))
    folds = torch.tensor(accuracies, dtype=torch.float64)
    return {
        "c2st": folds.mean().item(),
        "c2st_std": folds.std(correction=0).item(),
        "c2st_folds": accuracies,
        "c2st_per_class": per_class,
    }
