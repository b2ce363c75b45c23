"""The bundle build (scripts/build_bundled_model.py → voice2face.recipes.bundle) continues earlier work
only when it was made the same way: an encoder run of the preset's current settings, steps and seed; a
stage-2 run of its settings (voice2face.recipes.runs)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from voice2face.config import to_dict
from voice2face.recipes.runs import drew_with, earlier_gan_run, finished_encoder_run
from voice2face.training.presets import get_preset


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
    preset = get_preset("synthvox-quick")
    runs = tmp_path / "runs"
    runs.mkdir()
    assert finished_encoder_run(runs, preset, 0, None) is None
    longer = dataclasses.replace(preset.encoder, steps=preset.encoder.steps * 3)
    _run(runs, "00000-synthvox-quick-encoder", dataclasses.replace(longer, lr=longer.lr / 2))  # older recipe
    _run(runs, "00001-synthvox-quick-encoder", longer, done=False)  # interrupted
    _run(runs, "00002-synthvox-quick-encoder", longer, seed=1)  # another seed
    assert finished_encoder_run(runs, preset, 0, longer.steps) is None
    good = _run(runs, "00003-synthvox-quick-encoder", longer)
    assert finished_encoder_run(runs, preset, 0, longer.steps) == good
    assert finished_encoder_run(runs, preset, 0, None) is None, "the preset's own length was asked for"


def test_a_stage2_run_is_continued_only_if_made_with_the_current_settings_and_encoder(tmp_path):
    preset = get_preset("synthvox-quick")
    runs = tmp_path / "runs"
    runs.mkdir()
    encoder = runs / "00000-synthvox-quick-encoder"
    old = dataclasses.replace(preset.gan, g_lr=preset.gan.g_lr * 2)
    _run(runs, "00001-synthvox-quick", old, encoder=str(encoder / "model"))
    _run(runs, "00002-synthvox-quick", preset.gan, encoder=str(tmp_path / "other" / "model"))
    assert earlier_gan_run(runs, preset, 0, encoder) is None
    shorter = dataclasses.replace(preset.gan, kimg=preset.gan.kimg / 2)  # length may differ: it is continued
    good = _run(runs, "00003-synthvox-quick", shorter, encoder=str(encoder / "model"))
    assert earlier_gan_run(runs, preset, 0, encoder) == good
    assert earlier_gan_run(runs, preset, 1, encoder) is None
    # A run recorded before a setting existed (here g_freeze_lr) is read with its default, as its resume does.
    options = json.loads((good / "training_options.json").read_text())
    del options["config"]["g_freeze_lr"]
    (good / "training_options.json").write_text(json.dumps(options))
    assert earlier_gan_run(runs, preset, 0, encoder) == good


def test_the_flags_default_to_the_build_options():
    """The script's flags and BuildOptions share their defaults (one home for each), --work aside."""
    from voice2face.recipes.bundle import BuildOptions, build_options, default_work, parser

    parsed = build_options(parser(tmp := Path("/checkout")).parse_args([]))
    assert parsed == build_options(dataclasses.replace(BuildOptions(), work=default_work(tmp)))


@pytest.mark.parametrize(
    ("argv", "stage1"),
    [
        ([], "synthvox-quick"),
        (["--route", "wplus"], "synthvox-pool-64"),
        (["--route", "wplus", "--mapper-preset", "synthvox-wplus-64"], "synthvox-wplus-64"),
        (["--route", "wplus", "--preset", "synthvox-quick"], "synthvox-quick"),
    ],
)
def test_stage_1_is_the_routes_and_the_recorded_command_rebuilds_the_same_options(argv, stage1):
    """Stage 1 trains the voice side's own encoder on the paper's route (the label-free one hears voicing
    rows), and the command a build records (the card's "Reproduce") parses back to the same options."""
    import shlex

    from voice2face.recipes.bundle import build_options, parser

    options = build_options(parser().parse_args([*argv, "--generator", "snapshots/synthface-64/model", "--install"]))
    assert options.preset == stage1
    words = shlex.split(options.command())
    assert words[:2] == ["python", "scripts/build_bundled_model.py"] and "--generator" in words
    again = build_options(parser().parse_args(words[2:]))
    assert dataclasses.replace(
        again, generator=options.generator.resolve() if again.generator else None
    ) == dataclasses.replace(options, generator=options.generator.resolve())


def test_the_evaluation_corpus_takes_the_generators_resolution(tmp_path):
    """A bundle built on a 128 px generator is evaluated on 128 px faces (the instruments read the
    corpus's resolution and refuse a generator of another)."""
    from voice2face.config import ModelConfig
    from voice2face.models import build_generator
    from voice2face.recipes.bundle import BuildOptions, generator_resolution
    from voice2face.storage import ModelFolder
    from voice2face.training.presets import get_preset

    config = get_preset("synthface-128").gan
    folder = tmp_path / "model"
    ModelFolder(folder).save({"generator": build_generator(config.generator)}, ModelConfig(generator=config.generator))
    assert generator_resolution(BuildOptions(route="wplus", generator=folder)) == 128
    assert generator_resolution(BuildOptions(route="wplus")) == 64  # synthface-64 pretrained by the build
    assert generator_resolution(BuildOptions(route="conditional", preset="synthvox-quick")) == 64


def test_a_grown_generators_card_names_its_base_and_how_it_grew(tmp_path):
    """A generator grown from another (`train --generator`) is described with its base: the card's
    command names the base's folder, the base's kimg comes from its snapshot, and the held blocks
    and the resolution come from the grown run's settings."""
    from voice2face.recipes.bundle import pretraining_lineage
    from voice2face.report.card import _grown_from, _grown_text, _pretraining_time
    from voice2face.storage import ModelFolder

    base = Path(__file__).resolve().parents[1] / "snapshots" / "synthface-64" / "model"
    config = dataclasses.replace(get_preset("synthface-128").gan, g_freeze_kimg=100.0)
    run = _run(tmp_path, "00000-synthface-128", config, generator=str(base))
    lineage = pretraining_lineage(run / "model")
    # The committed snapshot continues from session to session: its kimg is read, not remembered here.
    base_kimg = round(ModelFolder(base).snapshot()["kimg"], 1)
    assert base_kimg > 300 and lineage["base_kimg"] == base_kimg and lineage["preset"] == "synthvox-quick"
    assert _grown_from(lineage) == " --generator snapshots/synthface-64/model"
    text = _grown_text(lineage, 150.0)
    assert f"at 128 px, after {base_kimg} kimg of the base generator's pretraining" in text
    assert "up to 32 px) were held for its first 100 kimg" in text
    # A snapshot shipped before the hold ended was held for all of its kimg.
    assert "up to 32 px) were held throughout" in _grown_text(lineage, 60.0)
    options = {"pretraining": lineage, "route": "wplus"}
    assert _pretraining_time(options, 60.0, {"generator": 3600.0}).startswith("60 min (the grown run's;")
    assert "~66 s/kimg at 128 px" in _pretraining_time(options, 60.0, {"generator": None})
    # A generator pretrained from nothing says nothing of a base.
    plain = pretraining_lineage(_run(tmp_path, "00001-synthface-64", get_preset("synthface-64").gan))
    assert "base_kimg" not in plain and _grown_from(plain) == _grown_text(plain, 60.0) == ""


def test_a_voice_side_is_reused_only_while_its_generators_folder_holds_the_same_weights(tmp_path):
    """A pretraining snapshot committed in place keeps its path and changes its weights: the build must
    not take a voice side fitted to the old generator for the new one (it matches runs by the path)."""
    import torch

    from voice2face.config import ModelConfig
    from voice2face.models import build_generator
    from voice2face.storage import ModelFolder

    config = get_preset("synthface-64").gan.generator
    torch.manual_seed(0)
    generator = build_generator(config)
    snapshot, run = tmp_path / "snapshot", tmp_path / "runs" / "00000-synthvox-pool-64"
    ModelFolder(snapshot).save({"generator": generator}, ModelConfig(generator=config))
    assert drew_with(run, snapshot), "a run with no snapshot yet is taken as it is"
    ModelFolder(run / "model").save({"generator": generator}, ModelConfig(generator=config))
    assert drew_with(run, snapshot)
    with torch.no_grad():
        next(generator.parameters()).add_(0.01)  # the pretraining continued
    ModelFolder(snapshot).save({"generator": generator}, ModelConfig(generator=config))
    assert not drew_with(run, snapshot)
