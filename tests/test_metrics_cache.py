"""The statistics cache of voice2face.metrics: keys that depend on everything that determines the
arrays, atomic npz files that are never unpickled, and stale or renamed files recomputed."""

from __future__ import annotations

import numpy as np
import pytest

from voice2face.errors import MetricError
from voice2face.metrics.cache import StatsCache, stats_key


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


def test_the_evaluation_takes_the_shipped_instruments_into_its_cache_unless_told_to_retrain(tmp_path):
    from voice2face.evaluation.run import _take_shipped_instruments
    from voice2face.storage.layout import shipped_instruments_dir

    shipped = sorted(p.name for p in shipped_instruments_dir().glob("*.npz"))
    assert shipped  # the default corpus's trait read-out
    _take_shipped_instruments(tmp_path / "cache")
    assert sorted(p.name for p in (tmp_path / "cache").glob("*.npz")) == shipped
    kept = tmp_path / "cache" / shipped[0]
    kept.write_bytes(b"a local file")  # one already in the cache is left alone (its key is checked on load)
    _take_shipped_instruments(tmp_path / "cache")
    assert kept.read_bytes() == b"a local file"
