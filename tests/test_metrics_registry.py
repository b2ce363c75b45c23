"""The one metric registry (voice2face.evaluation.registry): names are the functions' registered
names, duplicates are refused, unknown names are named with the choices, and what a metric cannot
do becomes a record (skipped or failed, with the reason) instead of an exception."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from voice2face.config import DEFAULT_EVALUATION_METRICS, EvaluationConfig
from voice2face.errors import ConfigError, MetricError, MetricUnavailableError
from voice2face.evaluation.registry import MetricRegistry, check_metric_names, registered_metrics


def _ctx(row: str = "model", **values):
    return SimpleNamespace(row=row, generator=object() if row == "model" else None, **values)


def test_the_name_is_registered_once_and_the_first_registration_stands():
    registry = MetricRegistry()

    @registry.register("sharpness", labels=(("sharpness", "sharpness"),))
    def sharpness(ctx):
        return {"sharpness": float(sum(ctx.images))}

    assert list(registry.metrics()) == ["sharpness"]
    assert registry.metrics()["sharpness"].labels == (("sharpness", "sharpness"),)
    assert registry.run("sharpness", _ctx(images=[1, 2])) == {"sharpness": 3.0}

    def sharpness_again(ctx):
        return {}

    with pytest.raises(MetricError, match="'sharpness' is already registered"):
        registry.register("sharpness")(sharpness_again)
    assert registry.run("sharpness", _ctx(images=[1])) == {"sharpness": 1.0}, "the first registration must stand"


def test_unknown_names_non_dict_results_and_skipped_or_failed_metrics():
    registry = MetricRegistry()

    @registry.register("broken")
    def broken(ctx):
        return 3.0

    @registry.register("needs_weights")
    def needs_weights(ctx):
        raise MetricUnavailableError("skipped: no weights here.")

    @registry.register("too_few")
    def too_few(ctx):
        raise MetricError("Two faces are too few for a covariance.")

    @registry.register("path_length", needs_generator=True)
    def path_length(ctx):
        return {"ppl": 1.0}

    with pytest.raises(ConfigError, match="unknown metric 'nope'; choose from broken, needs_weights, too_few"):
        registry.run("nope", _ctx())
    with pytest.raises(MetricError, match="returned float, not a dict"):
        registry.run("broken", _ctx())
    assert registry.run("needs_weights", _ctx()) == {"skipped": "skipped: no weights here."}
    assert registry.run("too_few", _ctx()) == {"failed": "Two faces are too few for a covariance."}
    assert registry.run("path_length", _ctx()) == {"ppl": 1.0}
    skipped = registry.run("path_length", _ctx("real"))
    assert skipped == {"skipped": "path_length needs a generator; the real row has none."}


def test_the_builtin_metrics_are_the_names_evaluate_accepts():
    """The registry is the only list of metric names: every default is registered, and an unknown
    name (or a metric of voice2face.metrics that evaluate does not name, like fd_embedding) is refused."""
    names = set(registered_metrics())
    assert {"realism", "traits", "descriptors", "identity", "attributes", "fd", "fid", "kid", "ppl", "lpips"} <= names
    assert set(DEFAULT_EVALUATION_METRICS) <= names and set(EvaluationConfig().metrics) <= names
    assert "lpips" not in DEFAULT_EVALUATION_METRICS, "lpips needs weights the user gives: never a default"
    check_metric_names(DEFAULT_EVALUATION_METRICS)
    for unknown in ("fid50k_full", "fd_embedding"):
        with pytest.raises(ConfigError, match=f"unknown metric '{unknown}'; choose from realism, "):
            check_metric_names([unknown])
