"""The records of a run folder's ``metrics.jsonl``: one JSON object per evaluated metric, appended.

stylegan2-ada's habit: every evaluation appends a line, so a run's history of measurements is one
file that a report can plot against kimg. A record is built by :func:`metric_record` and written
through :meth:`voice2face.storage.RunFolder.append_metrics` (read back with
:meth:`~voice2face.storage.RunFolder.read_metrics`). :func:`json_ready` is the one conversion of
measured values (numpy and torch scalars and arrays, paths, NaN) into plain JSON, used by the
records, by the statistics cache's keys and by ``voice2face evaluate --json``.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from voice2face import __version__
from voice2face.errors import MetricError
from voice2face.utils.files import atomic_write_bytes


def json_ready(value: Any, where: str) -> Any:
    """Plain JSON values from numpy/torch scalars, arrays and tuples; NaN/Inf become None.

    where: the field's name in the error when a value cannot be stored (e.g. ``"record"``).
    """
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


def metric_record(
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


def append_metric_record(path: Path, record: Mapping[str, Any]) -> Path:
    """Append ``record`` (from :func:`metric_record`, or a dict with ``metric`` and ``results``) as one
    JSON line to the file ``path`` (a run folder's ``metrics.jsonl``), and return ``path``.

    The file is rewritten atomically, so a crash never leaves half a line behind.
    """
    folder = path.parent
    if not folder.is_dir():
        raise MetricError(f"Run folder {folder} does not exist; create it or pass the run's folder.")
    if "metric" not in record or "results" not in record:
        raise MetricError("A metric record needs 'metric' and 'results' fields; build it with metric_record().")
    full = metric_record(str(record["metric"]), record["results"])
    full.update(record)
    line = json.dumps(json_ready(full, "record"), sort_keys=True, allow_nan=False) + "\n"
    previous = path.read_bytes() if path.exists() else b""
    if previous and not previous.endswith(b"\n"):
        previous += b"\n"
    atomic_write_bytes(path, previous + line.encode("utf-8"))
    return path


def read_metric_records(path: Path) -> list[dict[str, Any]]:
    """Every record of the ``metrics.jsonl`` at ``path``, oldest first (empty when there is none)."""
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
