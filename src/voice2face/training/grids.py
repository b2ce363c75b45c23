"""The image grids a training run writes beside its snapshots, to see how it goes.

- stage 2: ``reals.png`` (a training speaker's true face per row; unconditional: training faces)
  and ``fakesNNNNNN.png`` at each snapshot (each row: the true face, then faces the EMA generator
  makes from that speaker's voice; unconditional: faces from fixed latents);
- the voice→W+ stage: the projection grid (training faces beside the renderings of their projected
  codes) and ``portraits`` grids at each snapshot (validation speakers' faces and their portraits).

Every grid draws from the same latents (:data:`GRID_SEED`) at every snapshot, so the rows compare.
"""

from __future__ import annotations

from pathlib import Path

import torch

GRID_ROWS, GRID_SAMPLES = 6, 5
GRID_SEED = 2024  # the training grids' latents: the same faces at every snapshot


@torch.no_grad()
def write_generator_grid(trainer, path: Path, real_only: bool = False) -> None:
    """Rows: a training speaker's true face, then faces the EMA generator makes from their voice.
    Unconditional pretraining: a block of training faces, or of generated faces from fixed latents."""
    from voice2face.models.generation import generate_faces
    from voice2face.storage.png import save_synthetic_png, synthetic_metadata
    from voice2face.utils.images import grid, real_then_generated_grid, uint8_to_float

    data = trainer.data
    meta = synthetic_metadata(model=path.parent.name, kimg=f"{trainer.images_seen / 1000:.2f}")
    if not trainer.conditional:
        count = GRID_ROWS * (1 + GRID_SAMPLES)
        if real_only:
            faces = uint8_to_float(data.faces[:count])
        else:
            faces = generate_faces(
                trainer.G_ema, None, seed=GRID_SEED, samples_per_condition=count, latent_rule="per_sample",
                batch_size=count, device=trainer.context.device,
            )  # fmt: skip  # [count, 3, R, R]
        save_synthetic_png(grid(faces, columns=1 + GRID_SAMPLES), path, meta)
        return
    rows = min(GRID_ROWS, data.num_identities)
    reals = [uint8_to_float(data.faces[data.face_identity == k][:1]) for k in range(rows)]  # each [1, 3, R, R]
    generated = None
    if not real_only:
        conditions = torch.cat([data.embeddings[data.by_identity[k][:1]] for k in range(rows)])  # [rows, D]
        faces = generate_faces(
            trainer.G_ema, conditions, seed=GRID_SEED, samples_per_condition=GRID_SAMPLES, latent_rule="per_sample",
            batch_size=GRID_SAMPLES, device=trainer.context.device,
        )  # fmt: skip  # [rows·S, 3, R, R]
        generated = list(faces.split(GRID_SAMPLES))
    image = real_then_generated_grid(reals, generated, columns=1 if real_only else 1 + GRID_SAMPLES)
    save_synthetic_png(image, path, meta)


def write_projection_grid(G, faces: torch.Tensor, ws: torch.Tensor, path: Path) -> None:
    """Pairs of columns: a training face, then the generator's rendering of its projected code."""
    from voice2face.storage.png import save_synthetic_png, synthetic_metadata
    from voice2face.utils.images import grid, uint8_to_float

    with torch.no_grad():
        rendered = G.synthesis(ws.to(next(G.parameters()).device), noise_mode="const").cpu()
    tiles = torch.stack([uint8_to_float(faces), rendered.clamp(-1, 1)], dim=1).flatten(0, 1)  # [2N, 3, R, R]
    save_synthetic_png(grid(tiles, columns=8), path, synthetic_metadata(model=path.parent.name, kind="projection"))


def write_mapper_grid(trainer, preview, path: Path) -> None:
    """Rows: a validation speaker's true face, then faces the model makes from their voice."""
    if preview is None:
        return
    from voice2face.models.generation import generate_faces
    from voice2face.storage.png import save_synthetic_png, synthetic_metadata
    from voice2face.utils.images import real_then_generated_grid, uint8_to_float

    faces, identity = preview
    names = trainer.validation[0].speaker_names
    rows = min(GRID_ROWS, len(names))
    embeddings = trainer.speaker_embeddings(trainer.validation[0])  # [S, D]
    generated = generate_faces(
        trainer.voice_generator(), embeddings[:rows], seed=GRID_SEED, samples_per_condition=GRID_SAMPLES,
        latent_rule="per_sample", batch_size=GRID_SAMPLES,
    )  # fmt: skip  # [rows·S, 3, R, R]
    reals = [uint8_to_float(faces[identity == k][:1]) for k in range(rows)]  # each [1, 3, R', R']
    if reals and reals[0].shape[-1] != generated.shape[-1]:  # photos of another size than the generator's
        size = tuple(generated.shape[-2:])
        reals = [torch.nn.functional.interpolate(r, size=size, mode="bilinear", antialias=True) for r in reals]
    image = real_then_generated_grid(reals, list(generated.split(GRID_SAMPLES)), columns=1 + GRID_SAMPLES)
    save_synthetic_png(image, path, synthetic_metadata(model=path.parent.name, step=str(trainer.step)))
