"""`voice2face demo` runs the whole pipeline from nothing and keeps to its time budget."""

from __future__ import annotations

import json

import pytest

from voice2face.cli import main
from voice2face.errors import ConfigError
from voice2face.recipes.demo import run_demo
from voice2face.storage import bundled_model_dir
from voice2face.storage.png import SYNTHETIC_NOTICE, read_png_metadata


@pytest.mark.slow
@pytest.mark.parametrize("route", ["wplus", "conditional"])
def test_demo_end_to_end(tmp_path, route):
    """The whole pipeline runs and writes what it promises; its timing lives in benchmarks/, not here
    (a test that asserts wall-clock time fails on a loaded machine). The paper's route reuses the
    bundled generator and its mapper's reader and trains only the voice side."""
    if route == "wplus" and json.loads((bundled_model_dir() / "config.json").read_text()).get("mapper") is None:
        pytest.skip("the bundled model is not of the paper's route (issue 14: not yet rebuilt on it)")
    result = run_demo(tmp_path / "demo", minutes=0.5, identities=24, route=route, progress=False)
    config = json.loads((result.run / "model" / "config.json").read_text())
    assert (config.get("mapper") is not None) == (route == "wplus")
    assert result.report.is_file() and "<table" in result.report.read_text()
    assert (result.run / "model" / "config.json").is_file() and (result.run / "metrics.jsonl").is_file()
    cut = any("identity metrics" in note for note in result.notes)  # what the plan cut is said, and is cut
    assert ("recall@1" in result.evaluation) == (not cut) and "ceiling" in result.evaluation
    assert result.portraits and read_png_metadata(result.portraits[0])["Description"] == SYNTHETIC_NOTICE
    oracles_cut = any("oracle rows" in note for note in result.notes)  # a run that fell late cuts them, and says so
    assert "two-sample accuracy" in result.evaluation and ("oracle voice" in result.evaluation) == (not oracles_cut)
    assert {"probe", "corpus", "encoder", "second_stage", "evaluation", "tail", "total"} <= set(result.seconds)


def test_demo_refuses_a_used_folder(tmp_path, capsys):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "x").write_text("keep")
    with pytest.raises(ConfigError, match="is not empty"):
        run_demo(tmp_path / "old")
    assert main(["demo", "--out", str(tmp_path / "old")]) == 1  # a file problem, as in every command
    assert (tmp_path / "old" / "x").read_text() == "keep"
    assert "Traceback" not in capsys.readouterr().err


def test_a_stage_that_stopped_short_is_said_in_a_sentence(tmp_path):
    from voice2face.recipes.demo import stopped_short
    from voice2face.storage.trainer_state import trainer_state_bytes

    model = tmp_path / "run" / "model"
    model.mkdir(parents=True)
    (model / "trainer_state.pt").write_bytes(trainer_state_bytes({"step": 19}))
    assert stopped_short("stage 1 (voice encoder)", tmp_path / "run", 200, "steps") == (
        "stage 1 (voice encoder) stopped at 19/200 steps when its share of the time ran out: results will be "
        "weaker than a full run's; give more --minutes."
    )
    assert stopped_short("stage 1 (voice encoder)", tmp_path / "run", 19, "steps") is None


def test_the_plan_gives_training_what_the_fixed_parts_leave_and_cuts_then_warns_on_a_slow_machine():
    from voice2face.recipes.demo import DEMO_METRICS, DEMO_REFERENCES, REFERENCE, plan_demo

    parts = (REFERENCE.corpus_s, REFERENCE.evaluation_s, REFERENCE.instruments_s, REFERENCE.identity_s,
             REFERENCE.voice_probe_s, REFERENCE.tail_s)  # fmt: skip
    fixed = sum(parts)
    need = REFERENCE.min_training_s["wplus"]
    ample = (fixed + need) / 60 + 1  # minutes that fit everything at reference speed
    reference = plan_demo(ample, 200, "wplus", REFERENCE.probe_s)
    assert reference.slowdown == pytest.approx(1.0) and reference.evaluation.metrics == DEMO_METRICS
    assert not reference.cuts and reference.warning is None and reference.evaluation.voice_probe
    assert reference.evaluation.rows == DEMO_REFERENCES
    assert reference.fixed_s == pytest.approx(fixed) and reference.training_s == pytest.approx(ample * 60 - fixed)

    shipped = plan_demo(ample, 200, "wplus", REFERENCE.probe_s, instruments_shipped=True)  # read-out comes trained
    assert shipped.fixed_s == pytest.approx(fixed - REFERENCE.instruments_s) and REFERENCE.instruments_s > 0

    # Cut in order: the identity metrics, the voice probe, the blurred row, the real row; each is said.
    tight = (fixed - REFERENCE.identity_s + need) / 60 + 0.1
    one_cut = plan_demo(tight, 200, "wplus", REFERENCE.probe_s)
    assert "identity" not in one_cut.evaluation.metrics and one_cut.evaluation.voice_probe and len(one_cut.cuts) == 1
    assert one_cut.warning is None
    tighter = (fixed - REFERENCE.identity_s - REFERENCE.voice_probe_s + need) / 60 + 0.1
    two_cuts = plan_demo(tighter, 200, "wplus", REFERENCE.probe_s)
    assert not two_cuts.evaluation.voice_probe and "voice embedding" in two_cuts.cuts[1] and two_cuts.warning is None
    assert two_cuts.evaluation.rows == DEMO_REFERENCES
    rows = REFERENCE.reference_row_s
    assert rows > 0
    three_cuts = plan_demo(tighter - rows / 60, 200, "wplus", REFERENCE.probe_s)
    assert three_cuts.evaluation.rows == ("real", "oracle_voice_mode", "oracle_sex")
    assert "blurred_real_1.2" in three_cuts.cuts[2]
    four_cuts = plan_demo(tighter - 2 * rows / 60, 200, "wplus", REFERENCE.probe_s)
    assert four_cuts.evaluation.rows == ("oracle_voice_mode", "oracle_sex") and four_cuts.warning is None

    slow = plan_demo(ample, 200, "wplus", 3 * REFERENCE.probe_s)  # a loaded machine: three times slower
    assert "identity" not in slow.evaluation.metrics and "identity metrics" in slow.cuts[0]
    assert not slow.evaluation.voice_probe and slow.evaluation.rows == ("oracle_voice_mode", "oracle_sex")
    lean = fixed - REFERENCE.identity_s - REFERENCE.voice_probe_s - 2 * rows
    assert slow.fixed_s == pytest.approx(3 * lean)
    assert slow.warning and "near chance" in slow.warning and "--minutes" in slow.warning
    enough = int(slow.warning.split("--minutes ")[1].rstrip("."))
    assert enough > ample and plan_demo(enough, 200, "wplus", 3 * REFERENCE.probe_s).warning is None

    small = plan_demo(ample, 24, "wplus", REFERENCE.probe_s)  # a small corpus costs less to make and evaluate
    assert small.fixed_s < reference.fixed_s and small.training_s > reference.training_s

    hopeless = plan_demo(1, 200, "conditional", 10 * REFERENCE.probe_s)
    assert hopeless.training_s == 0 and "near chance" in hopeless.warning


def test_a_slower_machine_than_planned_cuts_more_of_the_evaluation_to_end_on_time():
    """What the demo does when the machine slows down after its first seconds: the evaluation is
    re-estimated at the slower speed and cut until it fits the time left, or nothing is left to cut."""
    from voice2face.recipes.demo import REFERENCE, EvaluationPlan, fit_evaluation

    plan = EvaluationPlan(metrics=("realism", "traits"), voice_probe=False)
    idle = plan.seconds(1.0, 200, instruments_shipped=True)
    kept, cuts = fit_evaluation(idle, plan, 1.0, 200, instruments_shipped=True)
    assert kept == plan and cuts == []
    loaded, cuts = fit_evaluation(idle, plan, 2.0, 200, instruments_shipped=True)  # twice slower: rows go
    assert loaded.rows == ("oracle_voice_mode", "oracle_sex") and len(cuts) == 2 and "blurred_real_1.2" in cuts[0]
    lean = 2 * (idle - 2 * REFERENCE.reference_row_s)
    assert loaded.seconds(2.0, 200, instruments_shipped=True) == pytest.approx(lean)
    # The oracle rows go only when the run is late (the trait score is measured against them); the
    # model row is never cut.
    assert fit_evaluation(0.0, loaded, 5.0, 200)[0] == loaded
    late, cuts = fit_evaluation(0.0, loaded, 5.0, 200, oracles=True)
    assert late.rows == () and "trait score" in cuts[0] and "realism" in late.metrics
    assert late.seconds(1.0, 200) == pytest.approx(loaded.seconds(1.0, 200) - REFERENCE.oracle_rows_s)


def test_the_speed_probe_times_a_fixed_workload():
    from voice2face.recipes.demo import machine_speed

    assert 0 < machine_speed(repeats=1) < 600 and 0 < machine_speed(repeats=3) < 600
