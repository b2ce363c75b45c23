"""Training and metric curves as PNG bytes (matplotlib, Agg backend; the ``report`` extra).

Each function returns ``(title, png bytes)`` pairs, so the HTML builder can embed them as
data URIs; without matplotlib it raises :class:`MetricUnavailableError` and the report says so.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from voice2face.errors import MetricUnavailableError

#: Result keys that count things (sample sizes, folds) rather than measure them: not plotted.
COUNT_SUFFIXES = ("_voices", "_count", "_samples", "_kept", "_folds", "_gallery", "num_fake", "num_real")


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt
    except ImportError:
        raise MetricUnavailableError(
            "Curves need matplotlib; install it with pip install -c constraints.txt -e '.[report]'."
        ) from None
    return plt


def _figure_png(title: str, xlabel: str, series: Mapping[str, tuple[Sequence[float], Sequence[float]]]) -> bytes:
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(5.2, 3.2), dpi=100)
    try:
        for label, (xs, ys) in sorted(series.items()):
            axes.plot(xs, ys, marker="o" if len(xs) < 8 else None, markersize=3, linewidth=1.2, label=label)
        axes.set_title(title, fontsize=10)
        axes.set_xlabel(xlabel, fontsize=9)
        axes.tick_params(labelsize=8)
        axes.grid(alpha=0.3)
        if len(series) > 1:
            axes.legend(fontsize=7, loc="best")
        figure.tight_layout()
        buffer = io.BytesIO()
        # No timestamps or software tags in the file, so the same run gives the same bytes.
        figure.savefig(buffer, format="png", metadata={"Software": None})
        return buffer.getvalue()
    finally:
        plt.close(figure)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def stats_curves(records: Sequence[Mapping[str, Any]]) -> list[tuple[str, bytes]]:
    """One figure per group of ``stats.jsonl`` scalars (``loss/…``, ``acc/…``, ``val/…``), against kimg
    (or step where a run records no kimg, as stage 1 does)."""
    if not records:
        return []
    use_kimg = any((_number(r.get("kimg")) or 0) > 0 for r in records)
    axis = "kimg" if use_kimg else "step"
    groups: dict[str, dict[str, tuple[list[float], list[float]]]] = defaultdict(dict)
    for record in records:
        x = _number(record.get(axis))
        if x is None:
            continue
        for key, value in record.items():
            y = _number(value)
            if key in ("step", "kimg", "time") or y is None or "/" not in key:
                continue
            group = key.split("/", 1)[0]
            xs, ys = groups[group].setdefault(key, ([], []))
            xs.append(x)
            ys.append(y)
    return [(f"stats.jsonl: {group}", _figure_png(group, axis, series))
            for group, series in sorted(_curves_only(groups).items())]  # fmt: skip


def metric_curves(records: Iterable[Mapping[str, Any]]) -> list[tuple[str, bytes]]:
    """One figure per metric of ``metrics.jsonl``: each measured value against the snapshot's kimg
    (or the evaluation's order where a record has no kimg)."""
    by_metric: dict[str, dict[str, tuple[list[float], list[float]]]] = defaultdict(dict)
    use_kimg = True
    records = list(records)
    if any(_number(r.get("kimg")) is None for r in records):
        use_kimg = False
    for index, record in enumerate(records):
        x = _number(record.get("kimg")) if use_kimg else float(index)
        for key, value in (record.get("results") or {}).items():
            y = _number(value)
            if y is None or key.endswith(COUNT_SUFFIXES):
                continue
            xs, ys = by_metric[str(record.get("metric"))].setdefault(key, ([], []))
            xs.append(x)
            ys.append(y)
    axis = "kimg" if use_kimg else "evaluation"
    return [(f"metrics.jsonl: {name}", _figure_png(name, axis, series))
            for name, series in sorted(_curves_only(by_metric).items())]  # fmt: skip


def _curves_only(groups: Mapping[str, Mapping[str, tuple[list[float], list[float]]]]) -> dict[str, dict]:
    """The series of at least two points, by group; groups left with none are left out (a single
    point is not a curve: the tables hold it)."""
    kept = {name: {key: xy for key, xy in series.items() if len(xy[0]) > 1} for name, series in groups.items()}
    return {name: series for name, series in kept.items() if series}
