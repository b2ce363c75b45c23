"""Reading a prepared dataset's recordings and faces (synthvox or VoxCeleb/VGGFace).

- :class:`VoiceFeatures`: an utterance record → its features ``[F, T]`` float32; speech is found
  and featurised by :mod:`voice2face.audio.pipeline`, so bad files raise the same errors as
  everywhere else. Features that the dataset's preparation stored (:class:`PackedFeatures`, one
  memory-mapped array per person) are read when their settings match; an optional
  :class:`FeatureCache` keeps the others as ``.npy`` files.
- :func:`read_face` / :func:`read_faces`: face records → uint8 pixels (``[H, W, 3]``, or a batch
  ``[M, 3, R, R]``); :func:`voice2face.utils.images.uint8_to_float` gives the paper's
  normalisation ``(x − 127.5) / 127.5``.

The trainers hold a split's features and faces in memory (:mod:`voice2face.training.data`) and
crop voices themselves; evaluation embeds whole utterances.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from voice2face.audio.features import FEATURES_REVISION
from voice2face.audio.pipeline import load_speech, speech_features
from voice2face.config import AudioConfig, FeatureConfig, VADConfig, to_dict
from voice2face.data.manifest import FaceRecord, Manifest, UtteranceRecord
from voice2face.errors import DatasetError
from voice2face.utils.files import atomic_open

PACKED_FOLDER = "features"  # a prepared dataset's stored features: features/<settings digest>/<identity>.npy|.json


def feature_digest(features: FeatureConfig, audio: AudioConfig, vad: VADConfig | None) -> str:
    """A short hash of everything that decides an utterance's features: the audio, VAD and feature
    settings and :data:`~voice2face.audio.features.FEATURES_REVISION` (the feature code's)."""
    settings = {"features": to_dict(features), "audio": to_dict(audio), "vad": vad and to_dict(vad)}
    settings["revision"] = FEATURES_REVISION
    return hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]


class PackedFeatures:
    """Features stored with a prepared dataset, one pair of files per person under
    ``<dataset>/features/<digest>/`` (:func:`feature_digest`):

    - ``<identity>.npy``: float32 ``[ΣT, F]``, the person's utterances one after another (time-major,
      so each utterance is one contiguous block of the memory map);
    - ``<identity>.json``: ``{utterance path: [first frame, frames, source file bytes]}``.

    An utterance whose recording no longer has the stored size is not served (the recording is the
    source of truth), nor is anything from a damaged index.
    """

    def __init__(self, root: Path, digest: str) -> None:
        self.folder = Path(root) / PACKED_FOLDER / digest
        self._open: dict[str, tuple[np.ndarray, dict[str, list[int]]] | None] = {}

    def _person(self, identity: str) -> tuple[np.ndarray, dict[str, list[int]]] | None:
        if identity not in self._open:
            try:
                index = json.loads((self.folder / f"{identity}.json").read_text())
                data = np.load(self.folder / f"{identity}.npy", mmap_mode="r", allow_pickle=False)
                self._open[identity] = (data, index) if data.ndim == 2 and isinstance(index, dict) else None
            except (OSError, ValueError):
                self._open[identity] = None
        return self._open[identity]

    def get(self, manifest: Manifest, record: UtteranceRecord) -> np.ndarray | None:
        """The stored features ``[F, T]`` of ``record``, or None when there are none (or stale ones)."""
        person = self._person(record.identity)
        if person is None or record.path not in person[1]:
            return None
        data, index = person
        try:
            start, frames, size = (int(v) for v in index[record.path])
            if manifest.file(record).stat().st_size != size or start < 0 or start + frames > data.shape[0]:
                return None
        except (OSError, TypeError, ValueError):
            return None
        return np.ascontiguousarray(data[start : start + frames].T, dtype=np.float32)

    @staticmethod
    def write(folder: Path, identity: str, items: Sequence[tuple[str, np.ndarray, int]]) -> None:
        """Store one person's ``(utterance path, features [F, T], source bytes)`` (atomically, array first)."""
        folder.mkdir(parents=True, exist_ok=True)
        index, offset = {}, 0
        for path, features, size in items:
            index[path] = [offset, int(features.shape[1]), int(size)]
            offset += int(features.shape[1])
        width = items[0][1].shape[0] if items else 0
        packed = np.concatenate([f.T for _, f, _ in items]) if items else np.zeros((0, width), np.float32)
        with atomic_open(folder / f"{identity}.npy", "wb") as handle:
            np.save(handle, packed.astype(np.float32), allow_pickle=False)
        with atomic_open(folder / f"{identity}.json", "wb") as handle:
            handle.write(json.dumps(index, sort_keys=True).encode())


class FeatureCache:
    """Speech features of utterances stored as ``.npy`` under ``folder``, written atomically.

    Entries live in a subfolder named by a hash of the audio, VAD and feature settings and of
    :data:`~voice2face.audio.features.FEATURES_REVISION` (the feature code's), and each
    file's name carries the source file's size and modification time, so changed settings or a
    re-written recording never reuse stale features.
    """

    def __init__(self, folder: str | Path, features: FeatureConfig, audio: AudioConfig, vad: VADConfig | None) -> None:
        self.folder = Path(folder) / feature_digest(features, audio, vad)

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
        self.packed = PackedFeatures(manifest.root, feature_digest(self.features, self.audio, vad))

    def __call__(self, record: UtteranceRecord) -> np.ndarray:
        """float32 ``[F, T]``."""
        packed = self.packed.get(self.manifest, record)
        if packed is not None:
            return packed
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
