"""Perceptual path length (Karras et al., StyleGAN 2019; StyleGAN2 2020).

How much the image changes for a tiny step ε along a random path in latent space:
``E[d(G(l(t)), G(l(t + ε))) / ε²]``, where l interpolates between two random latents —
spherically in Z (slerp, then the mapping network) or linearly in W (lerp after it). With
"end" sampling t = 0; with "full" sampling t ~ U(0, 1). Distances outside the 1st–99th
percentiles are dropped before the mean, as in StyleGAN's evaluation.

The generator only has to follow the protocol below (StyleGAN2's call signatures), and the
distance is pluggable: any callable ``distance(img_a, img_b) -> [B]`` on images in [-1, 1],
e.g. LPIPS-VGG16 (StyleGAN's choice; :mod:`voice2face.metrics.lpips`, from weight files the user gives)
or the squared distance of normalised face embeddings
(:func:`voice2face.metrics.embedders.embedding_distance`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F

from voice2face.config import PPLConfig
from voice2face.errors import MetricError

Distance = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
ConditionSource = torch.Tensor | Callable[[int, torch.Generator], torch.Tensor] | None


class StyleGenerator(Protocol):
    """What path length needs of a generator (StyleGAN2's interface)."""

    z_dim: int
    c_dim: int
    num_ws: int

    def mapping(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """``[B, z_dim]``, ``[B, c_dim]`` → ``[B, num_ws, w_dim]``."""
        ...

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        """``[B, num_ws, w_dim]`` → images ``[B, 3, H, W]`` in [-1, 1]."""
        ...


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between the directions of ``a`` and ``b`` (``[B, D]``) at
    fractions ``t`` (``[B]``); returns unit vectors ``[B, D]`` (Z is used only by direction)."""
    a, b = F.normalize(a, dim=-1), F.normalize(b, dim=-1)
    cos = (a * b).sum(dim=-1, keepdim=True).clamp(-1.0, 1.0)
    angle = t[:, None] * torch.acos(cos)
    towards_b = F.normalize(b - cos * a, dim=-1)  # unit vector in the a–b plane, orthogonal to a
    return F.normalize(a * torch.cos(angle) + towards_b * torch.sin(angle), dim=-1)


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Linear interpolation; ``t`` is ``[B]`` and broadcasts over the other dimensions."""
    return a + (b - a) * t.view(-1, *([1] * (a.ndim - 1)))


def face_crop(images: torch.Tensor) -> torch.Tensor:
    """StyleGAN's FFHQ face region: rows 3/8–7/8, columns 2/8–6/8 of ``[B, 3, H, W]``."""
    eighth = images.shape[2] // 8
    return images[:, :, eighth * 3 : eighth * 7, eighth * 2 : eighth * 6]


def _conditions(source: ConditionSource, count: int, c_dim: int, rng: torch.Generator) -> torch.Tensor:
    """``[count, c_dim]`` conditions: rows drawn from a tensor, or from a sampler callable."""
    if c_dim == 0:
        return torch.zeros(count, 0)
    if source is None:
        raise MetricError(f"The generator is conditional (c_dim={c_dim}); pass conditions (e.g. voice embeddings).")
    if callable(source) and not isinstance(source, torch.Tensor):
        c = source(count, rng)
    else:
        c = source[torch.randint(source.shape[0], (count,), generator=rng)]
    if c.shape != (count, c_dim):
        raise MetricError(f"Conditions must be [{count}, {c_dim}], got {tuple(c.shape)}.")
    return c.float()


@torch.no_grad()
def path_lengths(
    generator: StyleGenerator,
    distance: Distance,
    *,
    conditions: ConditionSource = None,
    config: PPLConfig = PPLConfig(),
) -> np.ndarray:
    """Per-sample path lengths ``d / ε²`` (``[num_samples]``, unfiltered). Seeded by ``config.seed``."""
    rng = torch.Generator().manual_seed(config.seed)
    device = next((p.device for p in getattr(generator, "parameters", list)()), torch.device("cpu"))
    eps = config.epsilon
    lengths = []
    done = 0
    while done < config.num_samples:
        batch = min(config.batch_size, config.num_samples - done)
        t = torch.rand(batch, generator=rng) if config.sampling == "full" else torch.zeros(batch)
        z = torch.randn(2 * batch, generator.z_dim, generator=rng)  # [2B, z_dim]: both ends of each path
        c = _conditions(conditions, batch, generator.c_dim, rng)  # [B, c_dim]: one condition per path
        c2 = torch.cat([c, c]).to(device)
        if config.space == "w":
            ws = generator.mapping(z.to(device), c2)  # [2B, num_ws, w_dim]
            if ws.ndim != 3 or ws.shape[0] != 2 * batch:
                raise MetricError(f"generator.mapping returned {tuple(ws.shape)}, not [{2 * batch}, num_ws, w_dim].")
            start, end = ws[:batch], ws[batch:]
            tt = t.to(device)
            ws = torch.cat([lerp(start, end, tt), lerp(start, end, tt + eps)])
        else:
            start, end = z[:batch], z[batch:]
            z_pair = torch.cat([slerp(start, end, t), slerp(start, end, t + eps)])
            ws = generator.mapping(z_pair.to(device), c2)  # [2B, num_ws, w_dim]
        images = generator.synthesis(ws, noise_mode=config.noise_mode)  # [2B, 3, H, W] in [-1, 1]
        if images.ndim != 4 or images.shape[:2] != (2 * batch, 3):
            raise MetricError(f"generator.synthesis returned {tuple(images.shape)}, not [{2 * batch}, 3, H, W].")
        images = images.float()
        if config.crop:
            images = face_crop(images)
        if images.shape[2] > config.max_resolution:
            factor = images.shape[2] // config.max_resolution
            images = F.avg_pool2d(images, factor)
        d = distance(images[:batch], images[batch:])  # [B]
        if d.shape != (batch,):
            raise MetricError(f"The PPL distance returned {tuple(d.shape)} for {batch} image pairs; it must be [B].")
        lengths.append(d.double().cpu() / eps**2)
        done += batch
    return torch.cat(lengths).numpy()


def filtered_mean(values: np.ndarray, low: float = 1.0, high: float = 99.0) -> tuple[float, int]:
    """Mean of ``values`` between the ``low`` (rounded down) and ``high`` (rounded up) percentiles, and how many."""
    lo = np.percentile(values, low, method="lower")
    hi = np.percentile(values, high, method="higher")
    kept = values[(values >= lo) & (values <= hi)]
    return float(kept.mean()), int(kept.size)


def ppl(
    *,
    generator: StyleGenerator,
    distance: Distance,
    conditions: ConditionSource = None,
    config: PPLConfig = PPLConfig(),
) -> dict[str, Any]:
    """Perceptual path length of ``generator`` under ``distance``.

    conditions: ``[Nc, c_dim]`` rows to draw from (e.g. test-voice embeddings) or a callable
    ``(count, torch.Generator) -> [count, c_dim]``; not needed when ``c_dim == 0``.
    Returns ``{"ppl_<space>_<sampling>", "ppl_samples", "ppl_kept", "ppl_distance"}``; the
    distance's ``name`` attribute (e.g. "lpips_vgg16", "dlib") labels the number.
    """
    lengths = path_lengths(generator, distance, conditions=conditions, config=config)
    value, kept = filtered_mean(lengths, config.low_percentile, config.high_percentile)
    return {
        f"ppl_{config.space}_{config.sampling}": value,
        "ppl_samples": int(lengths.size),
        "ppl_kept": kept,
        "ppl_distance": str(getattr(distance, "name", getattr(distance, "__name__", "custom"))),
    }
