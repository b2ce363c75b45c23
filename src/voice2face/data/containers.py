"""A split's training data held in memory: what :mod:`voice2face.training.data` reads a dataset into.

The trainers take these; the readers make them. They live in ``data/`` so that neither side
imports the other backwards (nothing here knows of training).

- :class:`UtteranceFeatures`: features ``[F, T_i]`` of many utterances, labelled by speaker.
- :class:`PairedTensors`: faces and voice embeddings of the same identities (conditional stage 2).
- :class:`FaceTensors`: unpaired faces (unconditional pretraining).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from voice2face.errors import DatasetError


@dataclass
class UtteranceFeatures:
    """Features of many utterances held in memory: ``features[i]`` is ``[F, T_i]``; ``speaker[i]`` its label."""

    features: list[np.ndarray]
    speaker: np.ndarray
    speaker_names: list[str]

    def __post_init__(self) -> None:
        if not self.features:
            raise DatasetError("no utterances to train on; check the dataset's manifest and split.")
        if len(self.features) != len(self.speaker):
            raise DatasetError("utterance features and speaker labels differ in number.")
        dims = {f.shape[0] for f in self.features}
        if len(dims) != 1:
            raise DatasetError(f"utterance features have different dimensions {sorted(dims)}; recompute them.")

    @property
    def dim(self) -> int:
        """F, features per frame."""
        return self.features[0].shape[0]


@dataclass
class FaceTensors:
    """Unpaired faces held in memory for unconditional pretraining: faces ``[N, 3, R, R]`` uint8."""

    faces: torch.Tensor

    def __post_init__(self) -> None:
        if self.faces.ndim != 4 or self.faces.dtype != torch.uint8 or self.faces.shape[0] == 0:
            raise DatasetError(
                f"faces must be a non-empty uint8 [N, 3, R, R], got {self.faces.dtype} {tuple(self.faces.shape)}."
            )

    @property
    def num_identities(self) -> int:
        """No identities: the faces are unpaired."""
        return 0

    @property
    def identity_names(self) -> list[str]:
        """No identities: the faces are unpaired."""
        return []


@dataclass
class PairedTensors:
    """Stage-2 training data held in memory.

    faces ``[N, 3, R, R]`` uint8; face_identity ``[N]`` (0..K-1); embeddings ``[U, D]`` voice
    embeddings of the frozen encoder; utterance_identity ``[U]``; identity_names ``K`` ids.
    """

    faces: torch.Tensor
    face_identity: torch.Tensor
    embeddings: torch.Tensor
    utterance_identity: torch.Tensor
    identity_names: list[str]

    def __post_init__(self) -> None:
        if self.faces.ndim != 4 or self.faces.dtype != torch.uint8:
            raise DatasetError(f"faces must be uint8 [N, 3, R, R], got {self.faces.dtype} {tuple(self.faces.shape)}.")
        if self.faces.shape[0] == 0 or self.embeddings.shape[0] == 0:
            raise DatasetError("the training split has no faces or no utterances; check the dataset's manifest.")
        if (
            self.faces.shape[0] != self.face_identity.shape[0]
            or self.embeddings.shape[0] != self.utterance_identity.shape[0]
        ):
            raise DatasetError("faces/utterances and their identity labels differ in number.")
        with_voice = set(self.utterance_identity.tolist())
        missing = sorted(set(self.face_identity.tolist()) - with_voice)
        if missing:
            names = ", ".join(self.identity_names[i] for i in missing[:3])
            raise DatasetError(f"training identities {names} have faces but no utterances; re-prepare the dataset.")
        self.by_identity = [
            torch.nonzero(self.utterance_identity == k).flatten().numpy() for k in range(len(self.identity_names))
        ]

    @property
    def num_identities(self) -> int:
        """K, the number of training identities (the identity head's width)."""
        return len(self.identity_names)
