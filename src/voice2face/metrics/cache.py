"""The cache of what measuring costs: real-image statistics and trained instruments, kept as arrays.

Statistics of real images (Inception means and covariances, embeddings) and the instruments
trained on a dataset's real faces are expensive and fixed for that dataset, so they are cached
under a hash of everything that determines them (:func:`stats_key`): the data, the extractor and
its weights (:func:`file_sha256`), and the options that change the numbers. Files are ``.npz``,
written atomically and never unpickled (stylegan2-ada's metric cache, with ``os.replace``).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from voice2face.errors import MetricError
from voice2face.storage.metric_records import json_ready
from voice2face.utils.files import atomic_write_bytes

#: Revision of the code that trains the evaluation's instruments (the corpus face networks of
#: :mod:`voice2face.metrics.face_cnn` and :mod:`voice2face.metrics.traits`, their architectures in
#: :mod:`voice2face.models.face_nets`, the descriptor read-out of :mod:`voice2face.metrics.descriptors`).
#: Every trained instrument's cache key carries it, as the feature caches carry
#: ``FEATURES_REVISION``: raise it when a change there changes what an instrument learns for the same
#: data and settings, and re-ship ``assets/instruments`` (``tests/test_instrument_revision.py`` stops
#: a change to those files that forgets to decide). 2: the first recorded revision; the shipped trait
#: read-out had changed under revision 1's key between 19f99af and 8d09778 (the corpus had not).
INSTRUMENTS_REVISION = 2


def file_sha256(path: str | Path, *, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes (names weights in cache keys and results)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def stats_key(dataset: str, extractor: str, weights_hash: str, options: Mapping[str, Any] | None = None) -> str:
    """Cache key of real-image statistics: a hash of the dataset's identity (e.g. its manifest's
    hash and split), the feature extractor's name and weights hash, and the options that change
    the numbers (resolution, number of images, ...)."""
    payload = {
        "dataset": dataset,
        "extractor": extractor,
        "weights": weights_hash,
        "options": json_ready(dict(options or {}), "options"),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class StatsCache:
    """Arrays cached as ``DIR/<prefix>-<key>.npz``, written atomically, never unpickled.

    Each file also stores its key, which is checked on load, so a renamed or stale file is
    recomputed instead of being trusted.
    """

    def __init__(self, directory: str | Path, prefix: str = "stats") -> None:
        self.directory = Path(directory)
        self.prefix = prefix

    def path(self, key: str) -> Path:
        """Where the arrays of ``key`` live."""
        return self.directory / f"{self.prefix}-{key}.npz"

    def load(self, key: str) -> dict[str, np.ndarray] | None:
        """The arrays saved under ``key``, or None when absent or not matching the key."""
        path = self.path(key)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
        except (OSError, ValueError) as exc:
            raise MetricError(
                f"Cached statistics {path} cannot be read ({exc}); delete the file to recompute."
            ) from None
        if str(arrays.pop("__key__", "")) != key:
            return None
        return arrays

    def save(self, key: str, arrays: Mapping[str, np.ndarray]) -> Path:
        """Save ``arrays`` under ``key`` (atomically) and return the file's path."""
        if "__key__" in arrays:
            raise MetricError("Array name '__key__' is reserved by the statistics cache; rename it.")
        self.directory.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.savez(buffer, __key__=np.array(key), **{name: np.asarray(a) for name, a in arrays.items()})
        path = self.path(key)
        atomic_write_bytes(path, buffer.getvalue())
        return path

    def get_or_compute(self, key: str, compute: Callable[[], Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
        """Load ``key`` or compute, save and return the arrays."""
        cached = self.load(key)
        if cached is not None:
            return cached
        arrays = {name: np.asarray(a) for name, a in compute().items()}
        self.save(key, arrays)
        return arrays
