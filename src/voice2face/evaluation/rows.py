"""The reference rows every evaluation reports beside the model: what an ideal model would get.

A figure means something only beside what real faces and an ideal model get *under the same
instrument*. The split's faces of each speaker are divided into two halves by position (even
and odd images): the odd half is the **gallery** every row is compared with, and the even half
is the ``real`` row, so a real face is never compared with itself.

- ``real``: the speakers' own real faces (another image than the gallery's): the instrument's
  upper bound;
- ``blurred_real_1.2``, ``blurred_real_2.0``: the same, Gaussian-blurred by σ px: what softness
  alone costs;
- ``oracle_voice`` (synthvox only): each speaker's face re-rendered by the true renderer from the
  face traits the voice reveals (latents drawn from their posterior given the speaker's voice
  traits), everything a voice cannot reveal resampled;
- ``oracle_voice_mode`` (synthvox only): each speaker's face re-rendered from the posterior's best
  guess of what the voice reveals, every trait it decides at its most likely value: the ceiling of a
  trait read-out (a posterior *sample*, ``oracle_voice``, scatters around it);
- ``oracle_sex`` (synthvox only): a random person of the speaker's sex.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from voice2face.config import REFERENCE_ROWS
from voice2face.data.manifest import FaceRecord, Manifest
from voice2face.errors import MetricUnavailableError

BLUR_PREFIX = "blurred_real_"
ORACLE_PREFIX = "oracle_"


def split_halves(manifest: Manifest, split: str) -> tuple[list[FaceRecord], list[FaceRecord]]:
    """(real-row faces, gallery faces) of a split: per speaker, images at even positions (in path
    order) and at odd positions; a speaker with one image has it in the gallery only."""
    row, gallery = [], []
    for _, records in sorted(manifest.faces_by_identity(split).items()):
        ordered = sorted(records, key=lambda r: r.path)
        if len(ordered) == 1:
            gallery.extend(ordered)
            continue
        row.extend(ordered[0::2])
        gallery.extend(ordered[1::2])
    return row, gallery


def pool_records(manifest: Manifest, size: int, seed: int) -> list[FaceRecord]:
    """Up to ``size`` train-split faces, drawn without replacement from ``seed``: the real faces the
    realism measures compare with."""
    records = manifest.faces_in("train")
    if not records:
        raise MetricUnavailableError(f"Dataset {manifest.path} has no train-split faces to compare realism with.")
    if len(records) <= size:
        return list(records)
    chosen = np.random.default_rng([seed, 7]).choice(len(records), size=size, replace=False)
    return [records[i] for i in sorted(chosen)]


def reference_row(
    name: str,
    manifest: Manifest,
    split: str,
    real_faces: torch.Tensor,
    real_ids: Sequence[str],
    *,
    per_identity: int,
    seed: int,
) -> tuple[torch.Tensor, list[str]]:
    """uint8 faces ``[N, 3, R, R]`` and their speakers for reference row ``name``.

    real_faces / real_ids: the ``real`` row (see :func:`split_halves`). Oracle rows render
    ``per_identity`` faces for each speaker of the split (synthvox only; otherwise
    MetricUnavailableError saying why).
    """
    from voice2face.metrics.realism import gaussian_blur

    if name == "real":
        return real_faces, list(real_ids)
    if name.startswith(BLUR_PREFIX):
        return gaussian_blur(real_faces, float(name[len(BLUR_PREFIX) :])), list(real_ids)
    if name.startswith(ORACLE_PREFIX):  # voice2face.data.synthvox.oracle knows its kinds
        people = synthvox_people(manifest, split)
        from voice2face.data.synthvox.oracle import oracle_faces

        faces = oracle_faces(people, name, per_identity=per_identity, resolution=manifest.face_resolution, seed=seed)
        return torch.from_numpy(np.ascontiguousarray(faces)), [p.id for p in people for _ in range(per_identity)]
    raise ValueError(f"unknown reference row {name!r}; choose from {', '.join(REFERENCE_ROWS)}")


def synthvox_people(manifest: Manifest, split: str) -> list[Any]:
    """The split's people with their full synthvox traits (MetricUnavailableError on other data)."""
    from voice2face.data.synthvox.traits import Identity

    members = [i for i in manifest.identities if i.split == split]
    if not members or not all(i.traits for i in members):
        raise MetricUnavailableError(
            f"{manifest.path} does not record the generative traits of its people, so there is no oracle to render; "
            "oracle rows exist on synthvox corpora only."
        )
    index = manifest.identity_index()
    return [Identity.from_traits_dict(index[i.id], i.id, i.traits) for i in members]
