"""The one evaluation context that every evaluation metric takes (``fn(ctx) -> dict``).

The metrics are named in :mod:`voice2face.evaluation.registry` (stylegan2-ada's ``metric_main``
pattern) and defined in :mod:`voice2face.evaluation.metrics`.

A context holds one **row**: the faces to score (the model's, or a reference row's: real faces,
blurred real faces, oracle renders) and the speaker of each, beside what every row is scored
against: the split's *gallery* (real faces of the same speakers, other images than a ``real``
row's) and the *pool* of real training faces that the realism measures compare with. Trained
instruments (the face-trait network, the identity embedder, Inception) live in
:class:`Instruments`, built once per evaluation and shared by every row, so each row is measured
by exactly the same instrument.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from voice2face.config import EvaluationConfig
from voice2face.data.manifest import Manifest
from voice2face.utils.images import uint8_to_float


@dataclass
class Instruments:
    """The trained or loaded measuring networks of one evaluation, built on first use."""

    built: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, build: Callable[[], Any]) -> Any:
        """The instrument ``key``, built by ``build()`` the first time it is asked for."""
        if key not in self.built:
            self.built[key] = build()
        return self.built[key]


@dataclass
class EvalContext:
    """What an evaluation metric reads. Images are uint8 ``[N, 3, R, R]``.

    row: "model" or a reference row's name. faces / face_ids: the row's faces and the speaker
    of each; face_voices: the voice (utterance) each face was generated from, for the model row
    (None: a reference row, whose faces come from no voice). gallery / gallery_ids: the split's
    real faces the identity metrics compare with. pool / pool_ids: real training-split faces (the
    realism measures' reference) and their people. two_sample_size: every row's two-sample tests
    use this many of its faces (the ``real`` row's count), so rows are compared at equal sizes;
    None uses them all. generator and embeddings (``[U, D]``) only for the model row.
    inception_weights, vgg16_weights, lpips_weights: the weight files the user gave for FID/KID
    and LPIPS (None: the environment's, else skipped).
    """

    manifest: Manifest
    config: EvaluationConfig
    cache: Path
    data_key: str
    row: str
    faces: torch.Tensor
    face_ids: list[str]
    gallery: torch.Tensor
    gallery_ids: list[str]
    pool: torch.Tensor
    instruments: Instruments
    pool_ids: list[str] = field(default_factory=list)
    two_sample_size: int | None = None
    generator: torch.nn.Module | None = None
    embeddings: torch.Tensor | None = None
    face_voices: list[Any] | None = None
    inception_weights: str | Path | None = None
    vgg16_weights: str | Path | None = None
    lpips_weights: str | Path | None = None

    @property
    def split(self) -> str:
        """The evaluated split."""
        return self.config.split

    @functools.cached_property
    def sex_of(self) -> dict[str, Any]:
        """Each split identity's sex (None where unknown)."""
        return {i.id: i.attributes.get("sex") for i in self.manifest.identities if i.split == self.split}

    @functools.cached_property
    def two_sample_faces(self) -> tuple[torch.Tensor, list[str]]:
        """The row's faces that its two-sample tests use: ``two_sample_size`` of them, drawn without
        replacement (seeded by the config's seed; a row with fewer faces keeps them all)."""
        size = self.two_sample_size
        if size is None or self.faces.shape[0] <= size:
            return self.faces, list(self.face_ids)
        chosen = np.sort(np.random.default_rng([self.config.seed, 11]).choice(self.faces.shape[0], size, replace=False))
        return self.faces[torch.from_numpy(chosen)], [self.face_ids[i] for i in chosen]

    def batches(self, images: torch.Tensor) -> Iterator[torch.Tensor]:
        """uint8 ``[N, 3, R, R]`` → float batches ``[B, 3, R, R]`` in [-1, 1]."""
        size = self.config.batch_size
        for start in range(0, images.shape[0], size):
            yield uint8_to_float(images[start : start + size])

    def apply(self, fn: Callable[[torch.Tensor], Any], images: torch.Tensor) -> Any:
        """``fn`` over float batches of ``images``, concatenated (tensors) or merged (dicts of arrays)."""
        parts = [fn(batch) for batch in self.batches(images)]
        if isinstance(parts[0], dict):
            return {key: np.concatenate([np.asarray(p[key]) for p in parts]) for key in parts[0]}
        return torch.cat(parts)
