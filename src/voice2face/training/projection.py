"""Projection of aligned faces into a frozen generator's W+ (the paper's route, step 3).

A projector network learns image → W+ from the generator's own samples, whose codes are known;
half of them (``style_mixing``) mix two codes at a random layer, so it sees W+ beyond W. Then a
face's code is the projector's prediction, optionally refined per face by gradient steps on
the pixel error through the generator (``refine_steps``). The projector never sees a real face
while it learns, so it cannot memorise the speakers: it is an instrument of the generator.

    projector = train_projector(G, ProjectionConfig(steps=2000), seed=0)
    ws = project_faces(G, projector, faces_uint8, config)        # [N, num_ws, w_dim]

A trained projector is saved beside the generator it belongs to (``projector.safetensors``, with
the SHA-256 of that generator's weights): a model folder that ships one lets the voice side be
trained on a new corpus without training the projector again (the demo does this).

:func:`train_projector` keeps its own few-line loop rather than being a trainer of
:func:`~voice2face.training.loop.run_training`: it is part of the mapper stage's set-up (run
before that stage's trainer exists), and the loop's contract does not fit it. The loop snapshots
into the run's ``model/`` (the mapper's), writes ``stats.jsonl`` under the mapper's step numbers,
and on a time budget or Ctrl-C stops with a snapshot it says resumes exactly; the projector has
no snapshot or resume (its product is ``projector.safetensors`` and the projected codes, written
once it has run all its steps), and a projector stopped half-way would project the codes with it.
:func:`project_faces`' refinement is a per-face optimisation of codes, not training.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from voice2face.config import ProjectionConfig
from voice2face.errors import CheckpointError
from voice2face.models.ops import assert_shape
from voice2face.utils.images import uint8_to_float


class Projector(nn.Module):
    """Image ``[B, 3, R, R]`` in [-1, 1] → W+ code ``[B, num_ws, w_dim]`` (an offset from ``w_avg``).

    Stride-2 convolutions from R down to 4 px (``width`` channels doubling, at most 256), then
    two fully connected layers; the last starts at zero, so the first guess is ``w_avg``.
    """

    def __init__(self, resolution: int, num_ws: int, w_dim: int, width: int = 32) -> None:
        super().__init__()
        self.resolution, self.num_ws, self.w_dim = resolution, num_ws, w_dim
        layers: list[nn.Module] = []
        channels_in, size, block = 3, resolution, 0
        while size > 4:
            channels = min(width << block, 256)
            layers += [
                nn.Conv2d(channels_in, channels, 3, padding=1), nn.LeakyReLU(0.2),
                nn.Conv2d(channels, channels, 3, padding=1, stride=2), nn.LeakyReLU(0.2),
            ]  # fmt: skip
            channels_in, size, block = channels, size // 2, block + 1
        self.trunk = nn.Sequential(*layers)
        out = nn.Linear(512, num_ws * w_dim)
        nn.init.zeros_(out.weight)
        nn.init.zeros_(out.bias)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(channels_in * 16, 512), nn.LeakyReLU(0.2), out)
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """images ``[B, 3, R, R]`` → ws ``[B, num_ws, w_dim]``."""
        assert_shape(images, [None, 3, self.resolution, self.resolution], "faces to project")
        return self.w_avg + self.head(self.trunk(images)).view(-1, self.num_ws, self.w_dim)


def save_projector(projector: Projector, path: str | Path, generator_sha256: str) -> None:
    """Write ``projector`` to ``path`` (safetensors, atomically) with its shape and the SHA-256 of
    the generator weights it was trained on."""
    from voice2face.storage.checkpoint import save_tensors

    width = projector.trunk[0].out_channels
    meta = {"resolution": projector.resolution, "num_ws": projector.num_ws, "w_dim": projector.w_dim, "width": width}
    save_tensors(path, projector.state_dict(), {**{k: str(v) for k, v in meta.items()}, "generator": generator_sha256})


def load_projector(path: str | Path, generator_sha256: str) -> Projector | None:
    """The projector saved at ``path`` if it was trained on the generator whose weights hash to
    ``generator_sha256``; None if it belongs to another generator. A damaged file is a CheckpointError."""
    from voice2face.storage.checkpoint import read_tensor_metadata

    meta = read_tensor_metadata(path)
    if meta.get("generator") != generator_sha256:
        return None
    try:
        projector = Projector(int(meta["resolution"]), int(meta["num_ws"]), int(meta["w_dim"]), int(meta["width"]))
    except (KeyError, ValueError):
        raise CheckpointError(f"{path} does not describe a projector; delete it to train one again.") from None
    from voice2face.storage.checkpoint import load_state_into, load_tensors

    load_state_into(projector, load_tensors(path), path)
    return projector.eval().requires_grad_(False)


def _check_generator(generator: nn.Module) -> None:
    if getattr(generator, "c_dim", None) != 0 or not hasattr(generator, "synthesis"):
        raise ValueError("projection needs an unconditional StyleGAN2 generator (c_dim 0)")


@torch.no_grad()
def sample_codes(generator: nn.Module, batch: int, style_mixing: float, rng: torch.Generator) -> torch.Tensor:
    """Random W+ codes ``[batch, num_ws, w_dim]`` of the generator; with probability ``style_mixing``
    each row switches to a second code from a random layer on."""
    device = next(generator.parameters()).device
    z = torch.randn(batch, generator.z_dim, generator=rng)
    ws = generator.mapping(z.to(device), None, skip_w_avg_update=True)
    mixed = torch.rand(batch, generator=rng) < style_mixing
    if generator.num_ws > 1 and bool(mixed.any()):
        z2 = torch.randn(batch, generator.z_dim, generator=rng)
        ws2 = generator.mapping(z2.to(device), None, skip_w_avg_update=True)
        cut = torch.randint(1, generator.num_ws, (batch,), generator=rng).to(device)
        layer = torch.arange(generator.num_ws, device=device)[None]  # [1, L]
        mixed = mixed.to(device)
        take_second = (mixed[:, None] & (layer >= cut[:, None]))[..., None]  # [B, L, 1]
        ws = torch.where(take_second, ws2, ws)
    return ws


def train_projector(
    generator: nn.Module, config: ProjectionConfig, *, seed: int = 0, progress: bool = True
) -> Projector:
    """Train a :class:`Projector` on ``config.steps`` batches of the frozen generator's samples (W+ regression)."""
    _check_generator(generator)
    generator.eval().requires_grad_(False)
    torch.manual_seed(seed)
    device = next(generator.parameters()).device
    projector = Projector(generator.img_resolution, generator.num_ws, generator.w_dim, config.width).to(device)
    projector.w_avg.copy_(generator.mapping.w_avg)
    optimiser = torch.optim.Adam(projector.parameters(), lr=config.lr)
    rng = torch.Generator().manual_seed(seed)
    bar = tqdm(range(config.steps), desc="projector", unit="step", disable=not progress, leave=False)
    for _ in bar:
        ws = sample_codes(generator, config.batch_size, config.style_mixing, rng)  # [B, L, C]
        with torch.no_grad():  # clamped, as every face it will see is
            images = generator.synthesis(ws, noise_mode="const").clamp(-1, 1)  # [B, 3, R, R]
        loss = F.mse_loss(projector(images), ws)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        bar.set_postfix(mse=f"{loss.item():.4f}")
    return projector.eval().requires_grad_(False)


def project_faces(
    generator: nn.Module,
    projector: Projector,
    faces: torch.Tensor,
    config: ProjectionConfig,
    *,
    batch_size: int = 64,
    progress: bool = True,
) -> torch.Tensor:
    """uint8 faces ``[N, 3, R, R]`` → their W+ codes ``[N, num_ws, w_dim]`` (float32, CPU).

    The projector's guess, then ``config.refine_steps`` Adam steps per batch on the pixel error
    of the generator's rendering (the generator stays frozen).
    """
    _check_generator(generator)
    assert_shape(faces, [None, 3, generator.img_resolution, generator.img_resolution], "faces to project")
    out = []
    for start in tqdm(range(0, faces.shape[0], batch_size), desc="projecting faces", unit="batch",
                      disable=not progress, leave=False):  # fmt: skip
        target = uint8_to_float(faces[start : start + batch_size]).to(next(projector.parameters()).device)
        with torch.no_grad():
            ws = projector(target)
        if config.refine_steps:
            ws = ws.clone().requires_grad_(True)
            optimiser = torch.optim.Adam([ws], lr=config.refine_lr)
            for _ in range(config.refine_steps):
                loss = F.mse_loss(generator.synthesis(ws, noise_mode="const"), target)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
        out.append(ws.detach().float().cpu())
    return torch.cat(out)


@torch.no_grad()
def calibration_codes(
    generator: nn.Module, projector: Projector, count: int = 4096, *, seed: int = 0, batch_size: int = 256
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random codes of the generator in W ``[count, w_dim]`` and the projections of their renderings
    ``[count, num_ws, w_dim]``: what calibrates the voice mapper's edit (VoiceToWPlus.fit_basis)."""
    _check_generator(generator)
    rng = torch.Generator().manual_seed(seed)
    device = next(generator.parameters()).device
    codes, projected = [], []
    for start in range(0, count, batch_size):
        z = torch.randn(min(batch_size, count - start), generator.z_dim, generator=rng)
        ws = generator.mapping(z.to(device), None, skip_w_avg_update=True)  # [b, L, C], equal layers
        images = generator.synthesis(ws, noise_mode="const").clamp(-1, 1)
        codes.append(ws[:, 0].float().cpu())
        projected.append(projector(images.to(next(projector.parameters()).device)).float().cpu())
    return torch.cat(codes), torch.cat(projected)


def speaker_codes(codes: torch.Tensor, face_identity: torch.Tensor, num_speakers: int) -> torch.Tensor:
    """Mean code per speaker: codes ``[N, L, C]``, face_identity ``[N]`` in [0, S) → ``[S, L, C]``.

    A speaker without faces is an error (their target would be undefined)."""
    assert_shape(face_identity, [codes.shape[0]], "face identities")
    counts = torch.bincount(face_identity, minlength=num_speakers)
    if bool((counts == 0).any()):
        missing = torch.nonzero(counts == 0).flatten().tolist()
        raise ValueError(f"speakers {missing[:5]} have no faces to project")
    from voice2face.training.trainers.mapper import speaker_means

    return speaker_means(codes, face_identity.numpy(), num_speakers)
