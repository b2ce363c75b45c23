"""The metric registry, the run folder's ``metrics.jsonl``, and the cache of real-image statistics.

A metric is a function registered with :func:`register_metric`: its name is the metric's
name, it takes keyword arguments only and returns a dict of JSON-ready results. Results are
appended one JSON line per evaluation to ``RUN_DIR/metrics.jsonl`` (stylegan2-ada's habit).
Statistics of real images (Inception means and covariances, embeddings) are expensive and
fixed for a dataset, so they are cached under a hash of everything that determines them.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from voice2face import __version__
from voice2face.errors import MetricError, MetricUnavailableError
from voice2face.storage.layout import METRICS_FILE as RESULTS_FILE
from voice2face.utils.files import atomic_write_bytes

MetricFn = Callable[..., dict[str, Any]]


class MetricRegistry:
    """Named metric functions; registering a name twice is an error, not a silent replacement."""

    def __init__(self) -> None:
        self._metrics: dict[str, MetricFn] = {}

    def register(self, fn: MetricFn) -> MetricFn:
        """Decorator: register ``fn`` under its own ``__name__`` and return it unchanged."""
        name = fn.__name__
        if name in self._metrics:
            other = self._metrics[name]
            raise MetricError(
                f"Metric {name!r} is already registered (by {other.__module__}.{other.__qualname__}); "
                "rename one of the two functions."
            )
        self._metrics[name] = fn
        return fn

    def names(self) -> list[str]:
        """Registered metric names, sorted."""
        return sorted(self._metrics)

    def get(self, name: str) -> MetricFn:
        """The function registered as ``name``."""
        try:
            return self._metrics[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise MetricError(f"Unknown metric {name!r}; registered metrics are: {known}.") from None

    def run(self, name: str, **kwargs: Any) -> dict[str, Any]:
        """Call metric ``name`` with ``kwargs``; a metric this machine cannot compute returns
        ``{"skipped": reason}`` instead of raising, so a report can list it as skipped."""
        fn = self.get(name)
        try:
            results = fn(**kwargs)
        except MetricUnavailableError as exc:
            return {"skipped": str(exc)}
        if not isinstance(results, dict):
            raise MetricError(f"Metric {name!r} returned {type(results).__name__}, not a dict; fix the metric.")
        return results


DEFAULT_REGISTRY = MetricRegistry()


def register_metric(fn: MetricFn) -> MetricFn:
    """Register ``fn`` in the default registry under its function name (see :class:`MetricRegistry`)."""
    return DEFAULT_REGISTRY.register(fn)


def list_metrics() -> list[str]:
    """Names of the metrics in the default registry, sorted."""
    _load_builtin_metrics()
    return DEFAULT_REGISTRY.names()


def run_metric(name: str, **kwargs: Any) -> dict[str, Any]:
    """Run the default registry's metric ``name`` (see :meth:`MetricRegistry.run`)."""
    _load_builtin_metrics()
    return DEFAULT_REGISTRY.run(name, **kwargs)


def _load_builtin_metrics() -> None:
    # The built-in metrics register themselves when their modules are imported.
    from voice2face.metrics import fid, identity, ppl  # noqa: F401


# --------------------------------------------------------------------------- results file


def json_ready(value: Any, where: str) -> Any:
    """Plain JSON values from numpy/torch scalars, arrays and tuples; NaN/Inf become None."""
    if isinstance(value, Mapping):
        return {str(k): json_ready(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v, where) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return json_ready(value.tolist(), where)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, bool, int)):
        return value
    raise MetricError(
        f"Metric record field {where} holds a value of type {type(value).__name__}, which JSON cannot store."
    )


def make_record(
    metric: str,
    results: Mapping[str, Any],
    *,
    snapshot: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One line of ``metrics.jsonl``: metric name, results, snapshot, options, UTC time, version."""
    return {
        "metric": metric,
        "results": dict(results),
        "snapshot": snapshot,
        "options": dict(options or {}),
        "timestamp": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "voice2face_version": __version__,
    }


def append_result(run_dir: str | Path, record: Mapping[str, Any]) -> Path:
    """Append ``record`` (from :func:`make_record`, or a dict with ``metric`` and ``results``)
    as one JSON line to ``run_dir/metrics.jsonl``; returns the file's path.

    The file is rewritten atomically, so a crash never leaves half a line behind.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise MetricError(f"Run folder {run_dir} does not exist; create it or pass the run's folder.")
    if "metric" not in record or "results" not in record:
        raise MetricError("A metric record needs 'metric' and 'results' fields; build it with make_record().")
    full = make_record(str(record["metric"]), record["results"])
    full.update(record)
    line = json.dumps(json_ready(full, "record"), sort_keys=True, allow_nan=False) + "\n"
    path = run_dir / RESULTS_FILE
    previous = path.read_bytes() if path.exists() else b""
    if previous and not previous.endswith(b"\n"):
        previous += b"\n"
    atomic_write_bytes(path, previous + line.encode("utf-8"))
    return path


def read_results(run_dir: str | Path) -> list[dict[str, Any]]:
    """Every record in ``run_dir/metrics.jsonl``, oldest first (empty when there is none)."""
    path = Path(run_dir) / RESULTS_FILE
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            raise MetricError(f"Line {number} of {path} is not JSON; remove or repair that line.") from None
    return records


# --------------------------------------------------------------------------- statistics cache


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
