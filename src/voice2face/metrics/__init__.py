"""Evaluation metrics: a registry of named metric functions and the results file.

Modules: ``fid`` (FID, KID, Fréchet distance in other embeddings; the Inception port lives in
``inception``), ``ppl`` (perceptual path length), ``identity`` (1:2 matching, recall@K,
cosine, attribute agreement), ``embedders`` (face embedders and the small face CNN).
"""

from voice2face.metrics.registry import (
    MetricRegistry,
    StatsCache,
    append_result,
    list_metrics,
    make_record,
    read_results,
    register_metric,
    run_metric,
    stats_key,
)

__all__ = [
    "MetricRegistry",
    "StatsCache",
    "append_result",
    "list_metrics",
    "make_record",
    "read_results",
    "register_metric",
    "run_metric",
    "stats_key",
]
