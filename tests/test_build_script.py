"""scripts/build_bundled_model.py continues earlier work only when it was made the same way: an
encoder run of the preset's current settings, steps and seed; a stage-2 run of its settings."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path

from voice2face.config import to_dict
from voice2face.training.presets import get_preset

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build_bundled_model.py"


def _script():
    spec = importlib.util.spec_from_file_location("build_bundled_model", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(runs: Path, name: str, config, seed: int = 0, done: bool = True, **extra) -> Path:
    run = runs / name
    (run / "model").mkdir(parents=True)
    options = {"config": json.loads(json.dumps(to_dict(config))), "preset": "synthvox-quick", "seed": seed, **extra}
    (run / "training_options.json").write_text(json.dumps(options))
    (run / "model" / "config.json").write_text("{}")
    if done:
        (run / "DONE").write_text("finished\n")
    return run


def test_an_encoder_run_is_reused_only_if_made_with_the_current_settings(tmp_path):
    build, preset = _script(), get_preset("synthvox-quick")
    runs = tmp_path / "runs"
    runs.mkdir()
    assert build._finished_encoder_run(runs, preset, 0, None) is None
    longer = dataclasses.replace(preset.encoder, steps=preset.encoder.steps * 3)
    _run(runs, "00000-synthvox-quick-encoder", dataclasses.replace(longer, lr=longer.lr / 2))  # older recipe
    _run(runs, "00001-synthvox-quick-encoder", longer, done=False)  # interrupted
    _run(runs, "00002-synthvox-quick-encoder", longer, seed=1)  # another seed
    assert build._finished_encoder_run(runs, preset, 0, longer.steps) is None
    good = _run(runs, "00003-synthvox-quick-encoder", longer)
    assert build._finished_encoder_run(runs, preset, 0, longer.steps) == good
    assert build._finished_encoder_run(runs, preset, 0, None) is None, "the preset's own length was asked for"


def test_a_stage2_run_is_continued_only_if_made_with_the_current_settings_and_encoder(tmp_path):
    build, preset = _script(), get_preset("synthvox-quick")
    runs = tmp_path / "runs"
    runs.mkdir()
    encoder = runs / "00000-synthvox-quick-encoder"
    old = dataclasses.replace(preset.gan, g_lr=preset.gan.g_lr * 2)
    _run(runs, "00001-synthvox-quick", old, encoder=str(encoder / "model"))
    _run(runs, "00002-synthvox-quick", preset.gan, encoder=str(tmp_path / "other" / "model"))
    assert build._earlier_gan_run(runs, preset, 0, encoder) is None
    shorter = dataclasses.replace(preset.gan, kimg=preset.gan.kimg / 2)  # length may differ: it is continued
    good = _run(runs, "00003-synthvox-quick", shorter, encoder=str(encoder / "model"))
    assert build._earlier_gan_run(runs, preset, 0, encoder) == good
    assert build._earlier_gan_run(runs, preset, 1, encoder) is None
