"""`voice2face demo` runs the whole pipeline from nothing and keeps to its time budget."""

from __future__ import annotations

import json

import pytest

from voice2face.cli import main
from voice2face.demo import run_demo
from voice2face.errors import ConfigError
from voice2face.inference.png import SYNTHETIC_NOTICE, read_png_metadata


@pytest.mark.slow
@pytest.mark.parametrize("route", ["wplus", "conditional"])
def test_demo_end_to_end(tmp_path, route):
    """The whole pipeline runs and writes what it promises; its timing lives in benchmarks/, not here
    (a test that asserts wall-clock time fails on a loaded machine). The paper's route reuses the
    bundled generator and its projector and trains only the voice side."""
    result = run_demo(tmp_path / "demo", minutes=0.5, identities=24, route=route, progress=False)
    config = json.loads((result.run / "model" / "config.json").read_text())
    assert (config.get("mapper") is not None) == (route == "wplus")
    assert result.report.is_file() and "<table" in result.report.read_text()
    assert (result.run / "model" / "config.json").is_file() and (result.run / "metrics.jsonl").is_file()
    assert "1:2 matching" in result.evaluation and "ceiling" in result.evaluation
    assert result.portraits and read_png_metadata(result.portraits[0])["Description"] == SYNTHETIC_NOTICE
    assert "two-sample accuracy" in result.evaluation and "oracle voice" in result.evaluation


def test_demo_refuses_a_used_folder(tmp_path, capsys):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "x").write_text("keep")
    with pytest.raises(ConfigError, match="is not empty"):
        run_demo(tmp_path / "old")
    assert main(["demo", "--out", str(tmp_path / "old")]) == 1  # a file problem, as in every command
    assert (tmp_path / "old" / "x").read_text() == "keep"
    assert "Traceback" not in capsys.readouterr().err
