"""Faces from fixed latents: the one way every part turns conditions and a seed into images.

Latents come from a CPU ``torch.Generator`` seeded with ``seed``, by one of two rules:

- ``"per_row"`` (:class:`~voice2face.inference.pipeline.VoiceToFace`): output row i gets the i-th
  ``[1, z_dim]`` draw, so a row's latent never depends on how many rows are asked for (torch
  fills a large tensor with a vectorised sampler, so one ``[N, z_dim]`` draw would tie row 0 to N).
- ``"per_sample"`` (evaluation, training grids): one ``[S, z_dim]`` draw; sample j of every
  condition uses the same z_j, so the faces of two voices differ only by the voice.

The rules give different latents for the same seed; each is kept because figures and files
depend on it (the bundled model's card figures come from ``per_sample``, the portraits of
``voice2face portrait`` from ``per_row``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from voice2face.config import GeneratorConfig
from voice2face.models.ops import channels_per_resolution
from voice2face.utils.images import float_to_uint8

LATENT_RULES = ("per_row", "per_sample")


def fixed_latents(count: int, z_dim: int, seed: int, rule: str = "per_row") -> torch.Tensor:
    """``count`` latents ``[count, z_dim]`` from ``torch.Generator().manual_seed(seed)`` by ``rule``
    (see the module docstring): ``per_row`` draws them one at a time, ``per_sample`` at once."""
    rng = torch.Generator().manual_seed(seed)
    if rule == "per_row":
        return torch.cat([torch.randn(1, z_dim, generator=rng) for _ in range(count)])  # [count, z_dim]
    if rule == "per_sample":
        return torch.randn([count, z_dim], generator=rng)  # [count, z_dim]
    raise ValueError(f"latent rule must be one of {LATENT_RULES}, got {rule!r}")


#: Bytes of working memory a StyleGAN2 pass takes per image, per output pixel and feature map at the
#: top resolution: measured 600 MB per image for the official 1024 px config F (32 maps at 1024 px)
#: and 87 MB at 256 px (paper256, 64 maps), fp32 on CPU without gradients.
PASS_BYTES_PER_VALUE = 20.0


def images_per_pass(config: GeneratorConfig, memory_mb: float, limit: int) -> int:
    """How many faces of generator ``config`` one pass may draw within ``memory_mb``: at least 1, at
    most ``limit`` (the cost grows with the top resolution's pixels and feature maps)."""
    resolution = config.img_resolution
    channels = channels_per_resolution([resolution], config.channel_base, config.channel_max, config.top_channels)
    top_channels = channels[resolution]
    per_image = PASS_BYTES_PER_VALUE * resolution * resolution * top_channels
    return max(1, min(limit, int(memory_mb * 2**20 // per_image)))


def generate_faces(
    generator: nn.Module,
    conditions: torch.Tensor | None,
    *,
    seed: int,
    samples_per_condition: int = 1,
    latent_rule: str = "per_row",
    truncation_psi: float = 1.0,
    noise_mode: str = "const",
    batch_size: int = 32,
    device: torch.device | str | None = None,
    as_uint8: bool = False,
    progress: Callable[[], None] | None = None,
) -> torch.Tensor:
    """Faces ``[N·S, 3, R, R]`` on the CPU, condition-major (the S faces of condition 0 first), from
    conditions ``[N, D]`` (None: one unconditional set of S faces) and latents drawn from ``seed``.

    ``latent_rule`` ``per_row``: row r of the output gets the r-th latent; ``per_sample``: sample j
    of every condition gets z_j. Images are clamped to [-1, 1] float, or with ``as_uint8`` turned into
    uint8 batch by batch (``half_even`` rounding, see :func:`~voice2face.utils.images.float_to_uint8`).
    ``batch_size`` images per forward pass (summation order, hence the last float bits, follows it);
    inputs move to ``device`` when given. ``progress()`` is called after each batch.
    """
    samples = samples_per_condition
    rows = 1 if conditions is None else conditions.shape[0]
    if conditions is not None and conditions.ndim != 2:
        raise ValueError(f"conditions must be [N, D], got {tuple(conditions.shape)}")
    if latent_rule == "per_sample":
        latents = fixed_latents(samples, generator.z_dim, seed, latent_rule).repeat(rows, 1)  # [N·S, z_dim]
    else:
        latents = fixed_latents(rows * samples, generator.z_dim, seed, latent_rule)  # [N·S, z_dim]
    conditions = None if conditions is None else conditions.repeat_interleave(samples, dim=0)  # [N·S, D]
    chunks = []
    with torch.inference_mode():  # faster than no_grad on CPU (no version counters); same numbers
        for start in range(0, latents.shape[0], batch_size):
            z = latents[start : start + batch_size]
            c = None if conditions is None else conditions[start : start + batch_size]
            if device is not None:
                z, c = z.to(device), None if c is None else c.to(device)
            images = generator(z, c, truncation_psi=truncation_psi, noise_mode=noise_mode)  # [b, 3, R, R]
            chunks.append(float_to_uint8(images) if as_uint8 else images.clamp(-1, 1).cpu())
            if progress is not None:
                progress()
    return torch.cat(chunks)  # outside inference mode: an ordinary tensor
