"""Training data from a prepared dataset: features of utterances and faces, held in memory
(in the containers of :mod:`voice2face.data.containers`).

Both stages read the dataset once (with a progress bar and an optional feature cache) instead
of decoding audio every epoch. A file that cannot be read is skipped, counted and logged; only
when more than ``max_bad_fraction`` of a split is unreadable does preparation stop, with one
sentence saying how many and where.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from voice2face.config import FeatureConfig
from voice2face.data.containers import FaceTensors, PairedTensors, UtteranceFeatures
from voice2face.data.datasets import VoiceFeatures, read_face
from voice2face.data.manifest import Manifest
from voice2face.errors import DatasetError, Voice2FaceError
from voice2face.models.embedding import embed_utterances

log = logging.getLogger(__name__)

R = TypeVar("R")
T = TypeVar("T")

DEFAULT_MAX_BAD_FRACTION = 0.05


def _read_all(
    records: Sequence[R],
    read: Callable[[R], T],
    *,
    what: str,
    where: Path,
    max_bad_fraction: float,
    progress: bool,
) -> tuple[list[R], list[T]]:
    """Read every record, skipping (and logging) the unreadable ones up to a fraction."""
    kept_records, values, bad = [], [], []
    for record in tqdm(records, desc=f"reading {what}", unit="file", disable=not progress, leave=False):
        try:
            values.append(read(record))
            kept_records.append(record)
        except Voice2FaceError as exc:
            bad.append(record)
            log.warning("skipping %s: %s", what[:-1] if what.endswith("s") else what, exc)
    if records and len(bad) > max_bad_fraction * len(records):
        raise DatasetError(
            f"{len(bad)} of {len(records)} {what} in {where} could not be read (over the "
            f"{max_bad_fraction:.0%} allowed); fix or regenerate the dataset (the log names each file)."
        )
    if bad:
        log.warning("skipped %d unreadable %s of %d in %s", len(bad), what, len(records), where)
    return kept_records, values


def utterance_features(
    manifest: Manifest,
    split: str,
    features: FeatureConfig,
    *,
    holdout_per_speaker: int = 0,
    cache_dir: str | Path | None = None,
    max_bad_fraction: float = DEFAULT_MAX_BAD_FRACTION,
    progress: bool = True,
) -> tuple[UtteranceFeatures, UtteranceFeatures | None]:
    """Features ``[F, T]`` of a split's utterances, labelled by speaker index (sorted ids).

    With ``holdout_per_speaker`` > 0, each speaker's last utterances (by manifest order) go to a
    second set, for speaker-identification accuracy on unseen recordings of known speakers.
    """
    records = manifest.utterances_in(split)
    if not records:
        raise DatasetError(f"the {split} split of {manifest.path} has no utterances; check the manifest.")
    reader = VoiceFeatures(manifest, features, cache_dir=cache_dir)
    kept, values = _read_all(
        records, reader, what=f"{split} utterances", where=manifest.path,
        max_bad_fraction=max_bad_fraction, progress=progress,
    )  # fmt: skip
    names = sorted({r.identity for r in kept})
    index = {name: i for i, name in enumerate(names)}
    train_feats, train_labels, hold_feats, hold_labels = [], [], [], []
    per_speaker = Counter(record.identity for record in kept)
    seen: dict[str, int] = {}
    for record, value in zip(kept, values, strict=True):
        seen[record.identity] = seen.get(record.identity, 0) + 1
        # keep at least one utterance of every speaker for training
        held = holdout_per_speaker > 0 and seen[record.identity] > max(
            1, per_speaker[record.identity] - holdout_per_speaker
        )
        (hold_feats if held else train_feats).append(value)
        (hold_labels if held else train_labels).append(index[record.identity])
    train = UtteranceFeatures(train_feats, np.array(train_labels), names)
    holdout = UtteranceFeatures(hold_feats, np.array(hold_labels), names) if hold_feats else None
    return train, holdout


def _split_faces(
    manifest: Manifest, split: str, max_bad_fraction: float, progress: bool
) -> tuple[list, list[np.ndarray]]:
    """(readable face records, their pixels ``[R, R, 3]`` uint8) of a split; unreadable ones skipped."""
    records = manifest.faces_in(split)
    if not records:
        raise DatasetError(f"the {split} split of {manifest.path} has no faces; check the manifest.")
    return _read_all(
        records, lambda r: read_face(manifest.file(r), manifest.face_resolution), what=f"{split} faces",
        where=manifest.path, max_bad_fraction=max_bad_fraction, progress=progress,
    )  # fmt: skip


def paired_tensors(
    manifest: Manifest,
    split: str,
    encoder: nn.Module,
    features: FeatureConfig,
    *,
    device: torch.device | str = "cpu",
    cache_dir: str | Path | None = None,
    max_bad_fraction: float = DEFAULT_MAX_BAD_FRACTION,
    progress: bool = True,
) -> PairedTensors:
    """Faces (uint8) and frozen-encoder voice embeddings of a split, for stage 2."""
    voices, _ = utterance_features(
        manifest, split, features, cache_dir=cache_dir, max_bad_fraction=max_bad_fraction, progress=progress
    )
    embeddings = embed_utterances(encoder, voices.features, device=torch.device(device))  # [U, D]
    kept, pixels = _split_faces(manifest, split, max_bad_fraction, progress)
    index = {name: i for i, name in enumerate(voices.speaker_names)}
    keep = [i for i, r in enumerate(kept) if r.identity in index]
    faces = torch.from_numpy(np.stack([pixels[i] for i in keep])).permute(0, 3, 1, 2).contiguous()  # [N, 3, R, R]
    face_identity = torch.tensor([index[kept[i].identity] for i in keep])
    return PairedTensors(
        faces, face_identity, embeddings, torch.from_numpy(voices.speaker).long(), list(voices.speaker_names)
    )


def face_tensors(
    manifest: Manifest,
    split: str,
    *,
    max_bad_fraction: float = DEFAULT_MAX_BAD_FRACTION,
    progress: bool = True,
) -> FaceTensors:
    """Every face (uint8) of a split, without voices: unconditional pretraining's data."""
    _, pixels = _split_faces(manifest, split, max_bad_fraction, progress)
    return FaceTensors(torch.from_numpy(np.stack(pixels)).permute(0, 3, 1, 2).contiguous())  # [N, 3, R, R]


def speaker_faces(
    manifest: Manifest,
    split: str,
    speaker_names: Sequence[str],
    *,
    max_bad_fraction: float = DEFAULT_MAX_BAD_FRACTION,
    progress: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The faces of a split's given speakers: (uint8 ``[N, 3, R, R]``, speaker index ``[N]`` into
    ``speaker_names``); faces of other identities are left out, and a speaker without a readable
    face is an error (their face code would be undefined)."""
    kept, pixels = _split_faces(manifest, split, max_bad_fraction, progress)
    index = {name: i for i, name in enumerate(speaker_names)}
    keep = [i for i, r in enumerate(kept) if r.identity in index]
    missing = sorted(set(speaker_names) - {kept[i].identity for i in keep})
    if missing:
        raise DatasetError(f"{len(missing)} {split} speakers of {manifest.path} have no readable face "
                           f"(first: {missing[0]}); fix or regenerate the dataset.")  # fmt: skip
    faces = torch.from_numpy(np.stack([pixels[i] for i in keep])).permute(0, 3, 1, 2).contiguous()
    return faces, torch.tensor([index[kept[i].identity] for i in keep])
