"""Metric registry, metrics.jsonl records and the statistics cache."""

from __future__ import annotations

import json

import numpy as np
import pytest

from voice2face import __version__
from voice2face.errors import MetricError, MetricUnavailableError
from voice2face.metrics import (
    MetricRegistry,
    StatsCache,
    append_result,
    list_metrics,
    make_record,
    read_results,
    run_metric,
    stats_key,
)


def test_the_function_name_is_the_metric_name_and_duplicates_are_refused():
    registry = MetricRegistry()

    @registry.register
    def sharpness(*, images):
        return {"sharpness": float(sum(images))}

    assert registry.names() == ["sharpness"]
    assert registry.run("sharpness", images=[1, 2]) == {"sharpness": 3.0}

    def sharpness(*, images):  # noqa: F811 - a second metric of the same name
        return {}

    with pytest.raises(MetricError, match="'sharpness' is already registered"):
        registry.register(sharpness)
    assert registry.run("sharpness", images=[1]) == {"sharpness": 1.0}, "the first registration must stand"


def test_unknown_names_non_dict_results_and_skipped_metrics():
    registry = MetricRegistry()

    @registry.register
    def broken():
        return 3.0

    @registry.register
    def needs_weights():
        raise MetricUnavailableError("skipped: no weights here.")

    with pytest.raises(MetricError, match="Unknown metric 'nope'; registered metrics are: broken, needs_weights"):
        registry.run("nope")
    with pytest.raises(MetricError, match="returned float, not a dict"):
        registry.run("broken")
    assert registry.run("needs_weights") == {"skipped": "skipped: no weights here."}


def test_builtin_metrics_are_registered():
    assert {"fid", "kid", "fd_embedding", "ppl", "identity", "attributes"} <= set(list_metrics())
    with pytest.raises(MetricError, match="Unknown metric"):
        run_metric("fid50k_full")


def test_append_result_writes_one_json_line_per_record(tmp_path):
    first = make_record("fid", {"fid": np.float64(12.5), "num_fake": np.int64(50)}, snapshot="network-000100")
    path = append_result(tmp_path, first)
    append_result(tmp_path, {"metric": "ppl", "results": {"ppl_w_end": float("nan")}, "options": {"space": "w"}})
    lines = path.read_text(encoding="utf-8").splitlines()
    assert path.name == "metrics.jsonl" and len(lines) == 2
    records = [json.loads(line) for line in lines]
    assert records == read_results(tmp_path)
    assert records[0]["metric"] == "fid" and records[0]["results"] == {"fid": 12.5, "num_fake": 50}
    assert records[0]["snapshot"] == "network-000100" and records[0]["voice2face_version"] == __version__
    assert records[0]["timestamp"].endswith("+00:00")
    assert records[1]["results"] == {"ppl_w_end": None}, "NaN is stored as null, not as invalid JSON"
    assert records[1]["options"] == {"space": "w"} and "timestamp" in records[1]
    assert not list(tmp_path.glob(".metrics.jsonl*")), "a temporary file was left behind"


def test_append_result_refuses_bad_input(tmp_path):
    with pytest.raises(MetricError, match="does not exist"):
        append_result(tmp_path / "missing", make_record("fid", {}))
    with pytest.raises(MetricError, match="needs 'metric' and 'results'"):
        append_result(tmp_path, {"fid": 3})
    with pytest.raises(MetricError, match=r"record.results.x holds a value of type object"):
        append_result(tmp_path, make_record("fid", {"x": object()}))
    assert not (tmp_path / "metrics.jsonl").exists()


def test_read_results_names_a_broken_line(tmp_path):
    (tmp_path / "metrics.jsonl").write_text('{"metric": "fid", "results": {}}\n{"metric": "fi\n')
    with pytest.raises(MetricError, match=r"Line 2 of .*metrics.jsonl is not JSON"):
        read_results(tmp_path)


def test_stats_key_depends_on_every_part():
    base = stats_key("synthvox:abc:test", "inception", "6726825d", {"resolution": 64})
    assert base == stats_key("synthvox:abc:test", "inception", "6726825d", {"resolution": 64})
    others = {
        stats_key("synthvox:abd:test", "inception", "6726825d", {"resolution": 64}),
        stats_key("synthvox:abc:test", "dlib", "6726825d", {"resolution": 64}),
        stats_key("synthvox:abc:test", "inception", "00000000", {"resolution": 64}),
        stats_key("synthvox:abc:test", "inception", "6726825d", {"resolution": 128}),
    }
    assert base not in others and len(others) == 4


def test_stats_cache_round_trip_and_stale_files(tmp_path):
    cache = StatsCache(tmp_path / "cache")
    calls = []

    def compute():
        calls.append(1)
        return {"mu": np.arange(3.0), "sigma": np.eye(3)}

    first = cache.get_or_compute("k1", compute)
    second = cache.get_or_compute("k1", compute)
    assert len(calls) == 1
    np.testing.assert_array_equal(first["sigma"], second["sigma"])
    assert set(second) == {"mu", "sigma"}
    # A file renamed to another key's name is not trusted.
    cache.path("k1").rename(cache.path("k2"))
    assert cache.load("k2") is None
    cache.path("k2").write_bytes(b"not an npz")
    with pytest.raises(MetricError, match=r"cannot be read.*delete the file to recompute"):
        cache.load("k2")
