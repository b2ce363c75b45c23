"""An evaluation as text and as JSON: the model beside every reference row, per metric key.

Labels come from the metrics' registration (:func:`~voice2face.evaluation.registry.evaluation_metric`),
so a new metric appears here without an edit. The trait-space Bayes ceiling of synthvox is its
own labelled line, never the ceiling of a pixel metric.
"""

from __future__ import annotations

import json
from typing import Any

from voice2face.evaluation.registry import registered_metrics
from voice2face.storage.metric_records import json_ready

SHORT_ROW_NAMES = {
    "model": "model",
    "real": "real",
    "blurred_real_1.2": "blur σ1.2",
    "blurred_real_2.0": "blur σ2.0",
    "oracle_voice_mode": "oracle mode",
    "oracle_voice": "oracle voice",
    "oracle_sex": "oracle sex",
}


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def table_rows(summary: dict[str, Any]) -> tuple[list[str], list[list[str]], list[tuple[str, str]]]:
    """(header, rows of cells, [(metric, why)] for metrics the model row skipped or failed).

    Columns: the metric key's label, the model, each reference row, chance (where known)."""
    rows_by_name = {"model": summary["results"], **summary.get("references", {})}
    names = list(rows_by_name)
    chance = summary.get("reference", {}).get("chance", {})
    header = ["metric", *(SHORT_ROW_NAMES.get(n, n) for n in names), "chance"]
    lines: list[list[str]] = []
    missing: list[tuple[str, str]] = []
    for metric, registered in registered_metrics().items():
        model_values = rows_by_name["model"].get(metric)
        if model_values is None:
            continue
        if "skipped" in model_values or "failed" in model_values:
            missing.append((metric, model_values.get("skipped") or f"failed: {model_values['failed']}"))
            continue
        for key, label in registered.labels:
            if key not in model_values:
                continue
            cells = [_fmt(rows_by_name[n].get(metric, {}).get(key)) for n in names]
            lines.append([label, *cells, _fmt(chance.get(key))])
    return header, lines, missing


def format_table(summary: dict[str, Any]) -> str:
    """The evaluation as a plain-text table, the model beside its reference rows."""
    header, rows, missing = table_rows(summary)
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) if rows else len(header[i]) for i in range(len(header))]
    lines = [
        f"model:   {summary['model_dir']} ({summary['snapshot']})",
        f"data:    {summary['dataset']['name']} / {summary['split']}: {summary['voices']} voices → "
        f"{summary['generated']} generated faces (synthetic), {summary['real_faces']} real faces; "
        f"identity embedder {summary['embedder']}",
        "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    for metric, why in missing:
        lines.append(f"{metric}: {why}")
    lines += ceiling_lines(summary)
    lines += probe_lines(summary)
    lines += [f"seen by one instrument family only: {flag}" for flag in summary.get("flags", [])]
    if summary.get("metrics_file"):
        lines.append(f"appended to {summary['metrics_file']}")
    return "\n".join(lines)


def probe_lines(summary: dict[str, Any]) -> list[str]:
    """One line: how much age and sex a linear probe reads from the voice embeddings (if measured)."""
    probe = summary.get("voice_probe") or {}
    parts = []
    for key, label in (("age", "age R²"), ("sex", "sex accuracy")):
        if isinstance(probe.get(key), dict) and "score" in probe[key]:
            parts.append(f"{label} {probe[key]['score']:.2f}")
    if not parts:
        return []
    return ["voice embedding, linear probe (train speakers → these): " + ", ".join(parts)]


def ceiling_lines(summary: dict[str, Any]) -> list[str]:
    """The dataset's trait-space Bayes ceiling, labelled as such (no line when the dataset has none)."""
    ceiling = summary.get("reference", {}).get("ceiling", {})
    if "match_1v2" not in ceiling:
        return []
    return [
        f"trait-space Bayes ceiling (from the exact traits, not a bound on any pixel metric): 1:2 matching "
        f"{ceiling['match_1v2']:.3f}"
    ]


#: The compact JSON's groups: ``--json`` keeps these keys of each metric's results.
JSON_GROUPS = {
    "realism": (
        "c2st",
        "c2st_std",
        "faces_compared",
        "distinct_faces",
        "shared_across_speakers",
        "faces",
        "sharpness_ratio",
        "fd_traits",
    ),
    "traits": None,  # every trait, voice_traits_mean and voice_trait_score
    "descriptors": None,  # the same, by the other instrument family, and its two-sample test
    "identity": ("match_1v2", "match_1v2_same_sex", "recall@1", "recall@5", "recall@10", "cosine_speaker"),
    "attributes": ("sex_agreement",),
    "fd": ("fd",),
    "fid": ("fid",),
    "kid": ("kid",),
    "ppl": ("ppl_w_end", "ppl_w_full", "ppl_z_end", "ppl_z_full"),
}


def _compact(values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for metric, results in values.items():
        if "skipped" in results or "failed" in results:
            out[metric] = {k: v for k, v in results.items() if k in ("skipped", "failed")}
            continue
        keys = JSON_GROUPS.get(metric)
        if metric in ("traits", "descriptors"):
            keys = tuple(k for k in results if k != "faces")
        out[metric] = {k: results[k] for k in (keys or results) if k in results}
    return out


def summary_json(summary: dict[str, Any]) -> str:
    """``voice2face evaluate --json``: ``{"model": {group: {...}}, "references": {row: {...}}, ...}``."""
    payload = {
        "model": _compact(summary["results"]),
        "references": {row: _compact(values) for row, values in summary.get("references", {}).items()},
        "trait_space_ceiling": summary.get("reference", {}).get("ceiling", {}),
        "chance": summary.get("reference", {}).get("chance", {}),
        "model_dir": str(summary["model_dir"]),
        "snapshot": summary["snapshot"],
        "dataset": summary["dataset"],
        "split": summary["split"],
        "voices": summary["voices"],
        "generated": summary["generated"],
        "options": summary["options"],
        "voice_probe": summary.get("voice_probe", {}),
        "flags": summary.get("flags", []),
    }
    return json.dumps(json_ready(payload, "summary"), indent=2, sort_keys=True) + "\n"


def _get(summary: dict[str, Any], row: str, metric: str, key: str) -> Any:
    values = summary["results"] if row == "model" else summary.get("references", {}).get(row, {})
    return (values.get(metric) or {}).get(key)


def verdict(summary: dict[str, Any]) -> str:
    """A few sentences on what the evaluation shows, in words that follow the numbers: realism
    against the real and blurred real rows (what softness alone costs), traits against the real row
    and the oracles, how many portraits are distinct, and the figures only one instrument family
    sees. A figure without its reference is not used."""
    parts = []
    realism = _realism_words(summary)
    if realism:
        parts.append(realism)
    faces, distinct = _get(summary, "model", "realism", "faces"), _get(summary, "model", "realism", "distinct_faces")
    if faces and distinct is not None and distinct < faces:
        shared = _get(summary, "model", "realism", "shared_across_speakers")
        where = ""
        if shared == 0:
            where = " (the same face only for recordings of one speaker)"
        elif shared:
            where = f" ({shared} are identical to another speaker's)"
        parts.append(f"{distinct} of the {faces} portraits are distinct{where}.")
    sex = _get(summary, "model", "traits", "sex")
    if sex is not None:
        real_sex = _get(summary, "real", "traits", "sex")
        text = f"Sex read off the faces agrees with the voice for {sex:.2f} of them (chance 0.5"
        text += f", real faces {real_sex:.2f})" if real_sex is not None else ")"
        other = _get(summary, "model", "descriptors", "sex")
        if other is not None:
            text += f"; {other:.2f} by the descriptor read-out"
        score = _get(summary, "model", "traits", "voice_trait_score")
        if score is not None:
            text += (f"; voice-revealed trait score {score:.2f} (a random person of the right sex 0, the posterior's "
                     "best guess of the face 1)")  # fmt: skip
        parts.append(text + ".")
    flags = summary.get("flags") or []
    if flags:
        parts.append("Seen by one instrument family only: " + " ".join(flags))
    return " ".join(parts) or "No realism or trait figures were measured."


def _realism_words(summary: dict[str, Any]) -> str | None:
    """The two-sample test in words: how often a classifier tells the faces from real ones, beside
    what real faces and blurred real faces get (each row compared at the same size)."""
    c2st = _get(summary, "model", "realism", "c2st")
    if c2st is None:
        return None
    real = _get(summary, "real", "realism", "c2st")
    blur_low = _get(summary, "blurred_real_1.2", "realism", "c2st")
    blur_high = _get(summary, "blurred_real_2.0", "realism", "c2st")
    told = f"two-sample accuracy {c2st:.2f}, how often a classifier tells them from real faces (0.5: never"
    told += f"; real faces {real:.2f}" if real is not None else ""
    told += f"; real faces blurred by σ 1.2 px {blur_low:.2f}" if blur_low is not None else ""
    told += f", by σ 2 px {blur_high:.2f})" if blur_high is not None else ")"
    other = _get(summary, "model", "descriptors", "c2st")
    if other is not None:
        told += f"; the descriptor family's test {other:.2f}"
        other_blur = _get(summary, "blurred_real_1.2", "descriptors", "c2st")
        told += f" (blur σ 1.2: {other_blur:.2f})" if other_blur is not None else ""
    if real is not None and c2st <= max(real + 0.05, 0.6):
        return f"As hard to tell from real faces as other real faces: {told}."
    if blur_high is not None and c2st > max(blur_high, 0.9):
        return f"Not yet faces: {told}."
    if blur_low is not None and c2st > blur_low:
        return f"Face-like, but told apart more easily than slightly blurred real faces: {told}."
    if blur_low is not None:
        return f"Face-like, told apart no more easily than slightly blurred real faces, yet far from real: {told}."
    return f"Face-like: {told}."


def markdown_table(summary: dict[str, Any]) -> str:
    """The evaluation table (model beside reference rows) in Markdown, then the skipped metrics."""
    header, rows, missing = table_rows(summary)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines += [f"- {metric}: {why}" for metric, why in missing]
    lines += [f"- {line}" for line in ceiling_lines(summary)]
    lines += [f"- seen by one instrument family only: {flag}" for flag in summary.get("flags", [])]
    return "\n".join(lines)
