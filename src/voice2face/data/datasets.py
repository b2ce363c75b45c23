"""torch Datasets over any prepared dataset (synthvox or VoxCeleb/VGGFace): voices, faces, pairs.

- :class:`VoiceDataset`: ``(features [F, T] float32, identity index)`` per utterance; speech is
  found and featurised by :mod:`voice2face.audio.pipeline`, so bad files raise the same errors
  as everywhere else. An optional :class:`FeatureCache` keeps the features as ``.npy`` files.
- :class:`FaceDataset`: ``(image [3, H, W] float32 in [-1, 1], identity index)`` per image, with
  the paper's normalisation ``(x − 127.5) / 127.5``.
- :class:`PairDataset`: ``(features [F, T], a face [3, H, W] of the same identity, identity
  index)`` per utterance.

Training batches crop every voice in a batch to one length drawn between the crop bounds
(paper: 3–8 s; shorter utterances are tiled): :class:`CropCollate`, which each training
dataset offers as ``collate_fn``. Evaluation uses whole utterances, so there ``collate_fn`` is
None and the DataLoader needs ``batch_size=1`` for voices of different lengths.

Identity indices are :meth:`~voice2face.data.manifest.Manifest.identity_index` of the split:
sorted ids → 0..n−1, stable across runs and independent of file order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch.utils.data import Dataset

from voice2face.audio.features import random_crop, random_crop_length
from voice2face.audio.pipeline import load_speech, speech_features
from voice2face.config import AudioConfig, CropConfig, FeatureConfig, VADConfig, to_dict
from voice2face.data.manifest import FaceRecord, Manifest, UtteranceRecord
from voice2face.errors import DatasetError
from voice2face.utils.files import atomic_open
from voice2face.utils.images import uint8_to_float


class FeatureCache:
    """Speech features of utterances stored as ``.npy`` under ``folder``, written atomically.

    Entries live in a subfolder named by a hash of the audio, VAD and feature settings, and each
    file's name carries the source file's size and modification time, so changed settings or a
    re-written recording never reuse stale features.
    """

    def __init__(self, folder: str | Path, features: FeatureConfig, audio: AudioConfig, vad: VADConfig | None) -> None:
        settings = {"features": to_dict(features), "audio": to_dict(audio), "vad": vad and to_dict(vad)}
        digest = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
        self.folder = Path(folder) / digest

    def path(self, manifest: Manifest, record: UtteranceRecord) -> Path:
        """Where the features of ``record`` are (or will be) stored."""
        stat = manifest.file(record).stat()
        stamp = hashlib.sha1(f"{manifest.root.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:10]
        return self.folder / f"{record.path}.{stamp}.npy"

    def load(self, path: Path) -> np.ndarray | None:
        """The cached features ``[F, T]``, or None when absent or unreadable."""
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None

    def store(self, path: Path, features: np.ndarray) -> None:
        """Write ``features`` to ``path`` atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(path, "wb") as handle:
            np.save(handle, features, allow_pickle=False)


class VoiceFeatures:
    """Loads the features ``[F, T]`` of an utterance: decode → VAD → features, optionally cached."""

    def __init__(
        self,
        manifest: Manifest,
        features: FeatureConfig | None = None,
        audio: AudioConfig | None = None,
        vad: VADConfig | None = VADConfig(),
        cache_dir: str | Path | None = None,
    ) -> None:
        self.manifest = manifest
        self.features = features or FeatureConfig()
        self.audio = audio or AudioConfig(sample_rate=self.features.active.sample_rate)
        self.vad = vad
        self.cache = FeatureCache(cache_dir, self.features, self.audio, vad) if cache_dir is not None else None

    def __call__(self, record: UtteranceRecord) -> np.ndarray:
        """float32 ``[F, T]``."""
        cached_at = self.cache.path(self.manifest, record) if self.cache is not None else None
        if cached_at is not None:
            cached = self.cache.load(cached_at)
            if cached is not None:
                return cached
        speech = load_speech(self.manifest.file(record), self.audio, self.vad)
        features = speech_features(speech, self.features)  # [F, T]
        if cached_at is not None:
            self.cache.store(cached_at, features)
        return features


def read_face(path: Path, resolution: int | None = None) -> np.ndarray:
    """A face image as uint8 ``[H, W, 3]`` RGB; DatasetError naming the file if unreadable or
    not ``resolution`` square."""
    try:
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("RGB"))
    except (OSError, UnidentifiedImageError) as exc:
        raise DatasetError(
            f"Cannot read face image {path} ({exc}); the file is missing or corrupt, so regenerate the dataset."
        ) from None
    if resolution is not None and pixels.shape[:2] != (resolution, resolution):
        raise DatasetError(
            f"Face image {path} is {pixels.shape[1]}×{pixels.shape[0]} but the dataset's face_resolution is "
            f"{resolution}; regenerate the dataset or fix the image."
        )
    return pixels


def read_faces(manifest: Manifest, records: Sequence[FaceRecord]) -> torch.Tensor:
    """uint8 ``[M, 3, R, R]`` of face records (at the manifest's resolution)."""
    pixels = [read_face(manifest.file(record), manifest.face_resolution) for record in records]  # [R, R, 3] each
    return torch.from_numpy(np.stack(pixels)).permute(0, 3, 1, 2).contiguous()


def face_tensor(pixels: np.ndarray) -> torch.Tensor:
    """uint8 ``[H, W, 3]`` → float32 ``[3, H, W]`` in [-1, 1], as ``(x − 127.5) / 127.5``."""
    return uint8_to_float(torch.from_numpy(np.array(pixels)).permute(2, 0, 1))  # [3, H, W]; a copy torch may write


class CropCollate:
    """Batches ``(features [F, T], *rest)`` items: one crop length per batch, each voice cropped
    (or tiled) to it → ``(features [B, F, L], *rest stacked)``; ints become a long tensor ``[B]``.

    Randomness comes from torch's generator, so DataLoader workers differ and ``torch.manual_seed``
    makes a run repeatable.
    """

    def __init__(self, crop: CropConfig, frames_per_second: float) -> None:
        self.crop = crop
        self.frames_per_second = frames_per_second

    def __call__(self, batch: Sequence[tuple]) -> tuple[torch.Tensor, ...]:
        rng = np.random.default_rng(int(torch.randint(0, 2**62, ()).item()))
        length = random_crop_length(self.crop, self.frames_per_second, rng)
        voices = torch.stack([torch.from_numpy(random_crop(item[0].numpy(), length, rng)) for item in batch])
        rest = []
        for column in zip(*(item[1:] for item in batch), strict=True):
            if isinstance(column[0], torch.Tensor):
                rest.append(torch.stack(column))
            else:
                rest.append(torch.tensor(column, dtype=torch.long))
        return (voices, *rest)  # [B, F, L], ...


class _Split:
    """What every dataset here shares: the manifest, the split and its identity labels."""

    def __init__(self, manifest: Manifest, split: str) -> None:
        self.manifest = manifest
        self.split = split
        self.labels = manifest.identity_index(split)

    @property
    def num_identities(self) -> int:
        """Identities in the split (the classifier's output size for the train split)."""
        return len(self.labels)


class VoiceDataset(_Split, Dataset):
    """Utterances of one split: ``(features [F, T] float32, identity index)``.

    With ``train``, ``collate_fn`` crops each batch to one random length within ``crop``.
    """

    def __init__(
        self,
        manifest: Manifest,
        split: str,
        feature_config: FeatureConfig | None = None,
        crop_config: CropConfig | None = None,
        train: bool = True,
        *,
        audio_config: AudioConfig | None = None,
        vad_config: VADConfig | None = VADConfig(),
        cache_dir: str | Path | None = None,
    ) -> None:
        _Split.__init__(self, manifest, split)
        self.records = manifest.utterances_in(split)
        self.voices = VoiceFeatures(manifest, feature_config, audio_config, vad_config, cache_dir)
        self.train = train
        crop_config = crop_config or CropConfig()
        self.collate_fn = CropCollate(crop_config, self.voices.features.frames_per_second) if train else None

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        record = self.records[index]
        features = torch.from_numpy(self.voices(record))  # [F, T]
        return features, self.labels[record.identity]


class FaceDataset(_Split, Dataset):
    """Face images of one split: ``(image [3, H, W] float32 in [-1, 1], identity index)``."""

    def __init__(self, manifest: Manifest, split: str) -> None:
        _Split.__init__(self, manifest, split)
        self.records: list[FaceRecord] = manifest.faces_in(split)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        record = self.records[index]
        pixels = read_face(self.manifest.file(record), self.manifest.face_resolution)  # [H, W, 3]
        return face_tensor(pixels), self.labels[record.identity]


class PairDataset(_Split, Dataset):
    """Utterances of one split, each with a face of the same person:
    ``(features [F, T], image [3, H, W] in [-1, 1], identity index)``.

    In training the face is drawn at random among the identity's images (torch's generator);
    otherwise it is fixed per utterance, so evaluation is repeatable.
    """

    def __init__(
        self,
        manifest: Manifest,
        split: str,
        feature_config: FeatureConfig | None = None,
        crop_config: CropConfig | None = None,
        train: bool = True,
        *,
        audio_config: AudioConfig | None = None,
        vad_config: VADConfig | None = VADConfig(),
        cache_dir: str | Path | None = None,
    ) -> None:
        _Split.__init__(self, manifest, split)
        self.voices_of = VoiceDataset(
            manifest,
            split,
            feature_config,
            crop_config,
            train,
            audio_config=audio_config,
            vad_config=vad_config,
            cache_dir=cache_dir,
        )
        self.faces_of = manifest.faces_by_identity(split)
        self.train = train
        self.collate_fn = self.voices_of.collate_fn

    def __len__(self) -> int:
        return len(self.voices_of)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        features, label = self.voices_of[index]
        identity = self.voices_of.records[index].identity
        faces = self.faces_of[identity]
        pick = int(torch.randint(len(faces), ()).item()) if self.train else index % len(faces)
        pixels = read_face(self.manifest.file(faces[pick]), self.manifest.face_resolution)
        return features, face_tensor(pixels), label
