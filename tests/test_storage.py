"""storage/: one owner for the run and model folder layout (issue 15).

What older versions wrote still loads (tests/data, written by the code before storage/ existed);
resolve() accepts every kind of folder with one set of errors; runs are numbered, found by their
settings and marked done; model folders are replaced atomically, trainer state included.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from voice2face import __version__
from voice2face.config import EncoderTrainingConfig, GANTrainingConfig, MapperTrainingConfig, ModelConfig
from voice2face.errors import CheckpointError, ConfigError, MetricError
from voice2face.storage import (
    ModelFolder,
    RunFolder,
    RunOptions,
    bundled_model_dir,
    find_runs,
    layout,
    metric_record,
    resolve,
)
from voice2face.storage.checkpoint import read_model_config

DATA = Path(__file__).resolve().parent / "data"
OLD_MODEL, OLD_RUN, OLD_OPTIONS = DATA / "old_model", DATA / "old_run", DATA / "old_options"
SRC = Path(__file__).resolve().parents[1] / "src" / "voice2face"
SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def _copy(source: Path, target: Path) -> Path:
    return Path(shutil.copytree(source, target))


# ------------------------------------------------------------------ what older versions wrote


def test_an_old_format_model_folder_still_loads():
    folder = resolve(OLD_MODEL)
    assert folder == ModelFolder(OLD_MODEL) and folder.run is None
    config, modules = folder.load()
    assert sorted(modules) == ["generator", "voice_encoder"] and config.voice_encoder.embedding_dim == 8
    assert not any(module.training for module in modules.values())
    features = torch.zeros(2, 39, 50)  # [B, F, T]
    embedding = modules["voice_encoder"](features)
    assert embedding.shape == (2, 8)
    faces = modules["generator"](torch.zeros(2, 4), embedding, noise_mode="const")
    assert faces.shape == (2, 3, 8, 8) and torch.isfinite(faces).all()
    assert folder.snapshot()["snapshot"].startswith("voice2face ")  # no trainer state: labelled by its version


def test_an_old_format_run_folder_still_resolves_resumes_and_parses():
    run = RunFolder(OLD_RUN)
    folder = resolve(OLD_RUN)
    assert folder.path == OLD_RUN / "model" and folder.run == run
    assert resolve(OLD_RUN / "model").run == run
    state = run.read_trainer_state()  # torch.load(weights_only=True) of the old file
    assert state["stage"] == "encoder" and state["step"] == 2
    assert folder.snapshot() == {"snapshot": "step 2", "kimg": None, "step": 2}
    assert sorted(folder.load().modules) == ["voice_encoder"]
    options = run.read_options()
    assert (options.stage, options.preset, options.seed, options.world_size) == ("encoder", "tiny", 0, 1)
    config = options.training_config()
    assert isinstance(config, EncoderTrainingConfig) and config.steps == 2


@pytest.mark.parametrize("stage", ["encoder", "gan", "gan-unconditional", "mapper"])
def test_old_training_options_parse_and_are_written_back_byte_for_byte(tmp_path, stage):
    written = OLD_OPTIONS / stage / layout.OPTIONS_FILE
    options = RunFolder(written.parent).read_options()
    kinds = {"encoder": EncoderTrainingConfig, "gan": GANTrainingConfig, "mapper": MapperTrainingConfig}
    assert isinstance(options.training_config(), kinds[options.stage])
    assert options.to_dict() == json.loads(written.read_text())
    RunFolder(tmp_path).write_options(options)
    assert (tmp_path / layout.OPTIONS_FILE).read_bytes() == written.read_bytes()


def test_the_training_commands_record_the_options_they_always_recorded():
    from voice2face.training.options import resolve_options

    made = {
        "encoder": resolve_options("encoder", "synthvox-quick", "d").to_dict(),
        "gan": resolve_options("gan", "synthvox-quick", "d", encoder="e").to_dict(),
        "gan-unconditional": resolve_options("gan", "synthface-64", "d").to_dict(),
        "mapper": resolve_options("mapper", "synthvox-wplus-64", "d").to_dict(),
    }
    for stage, options in made.items():
        old = json.loads((OLD_OPTIONS / stage / layout.OPTIONS_FILE).read_text())
        assert set(options) | {"world_size"} == set(old), stage
        assert RunOptions.from_dict(options).to_dict() == options


def test_run_options_keep_what_they_do_not_know_and_refuse_what_is_not_options(tmp_path):
    options = RunOptions.from_dict({"seed": 3, "config": {"steps": 1}, "note": "by hand"})
    assert options.stage is None and options.extra == {"note": "by hand"}
    assert options.to_dict()["note"] == "by hand"
    with pytest.raises(ConfigError, match="no known stage"):
        options.training_config()
    for bad in ({"seed": "0"}, {"config": [1]}, {"stage": 2}):
        with pytest.raises(ConfigError, match="damaged"):
            RunOptions.from_dict(bad, where="x.json")
    with pytest.raises(ConfigError, match=r"has no training_options\.json"):
        RunFolder(tmp_path).read_options()
    (tmp_path / layout.OPTIONS_FILE).write_text("{oops")
    with pytest.raises(ConfigError, match="is unreadable"):
        RunFolder(tmp_path).read_options()


# ------------------------------------------------------------------ resolve()


def test_resolve_accepts_each_kind_of_folder(tmp_path):
    model = _copy(OLD_MODEL, tmp_path / "bare")
    assert resolve(model) == ModelFolder(model) and resolve(str(model)).run is None
    run = tmp_path / "00001-run"
    _copy(OLD_MODEL, run / "model")
    (run / layout.OPTIONS_FILE).write_text(json.dumps({"stage": "gan", "seed": 0}))
    assert resolve(run).path == run / "model" and resolve(run).run == RunFolder(run)
    assert resolve(run / "model").path == run / "model" and resolve(run / "model").run == RunFolder(run)
    no_options = tmp_path / "copied"  # a run's model/ copied on its own: a plain model folder
    _copy(OLD_MODEL, no_options / "model")
    assert resolve(no_options / "model").run is None
    assert resolve(no_options).path == no_options / "model"  # given as a run folder, it is one
    bundled = resolve(None)
    assert bundled == resolve("bundled") == ModelFolder.bundled() and bundled.path == bundled_model_dir()


def test_resolve_errors_are_one_sentence_each(tmp_path, monkeypatch):
    cases = {
        tmp_path / "missing": r"Model or run folder .*missing does not exist; pass a run folder or its model/ folder\.",
        tmp_path / "empty": r"empty is not a model or run folder: config\.json is missing",
        tmp_path / "a-file": r"a-file is a file, not a folder",
    }
    (tmp_path / "empty").mkdir()
    (tmp_path / "a-file").write_text("x")
    for path, message in cases.items():
        with pytest.raises(CheckpointError, match=message) as info:
            resolve(path)
        assert "\n" not in str(info.value) and str(path) in str(info.value)
        assert resolve(path, check=False) == ModelFolder(path)  # a dry run may name what does not exist yet
    with pytest.raises(CheckpointError, match="pass --encoder a run folder"):
        resolve(tmp_path / "missing", flag="--encoder")
    monkeypatch.setattr("voice2face.storage.layout.bundled_model_dir", lambda: tmp_path / "absent")
    with pytest.raises(CheckpointError, match=r"No bundled model is installed .*-m MODEL_DIR"):
        resolve(None)


def test_resolve_puts_back_a_model_folder_left_aside_by_a_killed_save(tmp_path):
    run = tmp_path / "00000-run"
    _copy(OLD_MODEL, run / "model")
    (run / "model").rename(run / ".model.old-1234abcd")  # killed between the two renames of a save
    assert resolve(run).path == run / "model" and (run / "model" / layout.CONFIG_NAME).is_file()


# ------------------------------------------------------------------ run folders


def test_run_folders_are_numbered_after_the_highest_number(tmp_path):
    first = RunFolder.create(tmp_path / "runs", "synthvox-quick")
    assert first.path.name == "00000-synthvox-quick" and first.number == 0
    (tmp_path / "runs" / "00041-by-hand").mkdir()
    (tmp_path / "runs" / "notes").mkdir()
    assert RunFolder.create(tmp_path / "runs", "next").path.name == "00042-next"
    assert RunFolder(tmp_path / "runs" / "notes").number is None
    for bad in ("../escape", "", "-dash", "a b"):
        with pytest.raises(ConfigError, match="Run description"):
            RunFolder.create(tmp_path / "runs", bad)
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="is a file"):
        RunFolder.create(tmp_path / "file", "x")


def test_a_run_folder_names_every_file_from_the_layout(tmp_path):
    run = RunFolder(tmp_path)
    names = {
        run.options_path: "training_options.json", run.stats_path: "stats.jsonl", run.metrics_path: "metrics.jsonl",
        run.model.path: "model", run.trainer_state_path: "trainer_state.pt",
        run.codes_path: "speaker_codes.safetensors", run.reader_path: "selection_reader.safetensors",
        run.projector_path: "projector.safetensors",
        run.reals_grid: "reals.png", run.projection_grid: "projection.png", run.fakes_grid(12_345): "fakes000012.png",
        run.portraits_grid(40): "portraits000040.png", run.evaluation_grid("test"): "eval-test-fakes.png",
    }  # fmt: skip
    for path, name in names.items():
        assert path.name == name
    assert run.trainer_state_path.parent.name == "model" and run.tensorboard_dir == tmp_path


def test_done_marker_is_the_one_the_build_script_wrote(tmp_path):
    run = RunFolder(tmp_path / "00000-x")
    run.path.mkdir()
    assert not run.done
    with pytest.raises(CheckpointError, match="no snapshot"):
        run.mark_done()
    _copy(OLD_MODEL, run.model.path)
    run.mark_done()
    assert run.done and (run.path / "DONE").read_text() == "finished\n"


def _fake_run(root: Path, name: str, done: bool = False, **options) -> RunFolder:
    run = RunFolder(root / name)
    run.model.path.mkdir(parents=True)
    run.write_options(RunOptions(**options))
    if done:
        (run.path / layout.DONE_MARKER).write_text("finished\n")
    return run


def test_find_runs_matches_settings_and_skips_what_is_not_a_run(tmp_path):
    a = _fake_run(tmp_path, "00000-quick", stage="gan", seed=0, config={"kimg": 1})
    b = _fake_run(tmp_path, "00001-quick", stage="gan", seed=1, config={"kimg": 1})
    c = _fake_run(tmp_path, "00002-other", stage="encoder", seed=0)
    (tmp_path / "00003-quick").mkdir()  # no options: not a run
    (tmp_path / "00004-quick").mkdir()
    (tmp_path / "00004-quick" / layout.OPTIONS_FILE).write_text("{torn")  # unreadable: left alone
    assert find_runs(tmp_path) == [a, b, c]
    assert find_runs(tmp_path, "*-quick") == [a, b]
    assert find_runs(tmp_path, matching={"seed": 0}) == [a, c]
    assert find_runs(tmp_path, "*-quick", matching={"seed": 0, "config": {"kimg": 1}}) == [a]
    assert find_runs(tmp_path, matching=lambda options: options.stage == "encoder") == [c]
    assert find_runs(tmp_path / "absent") == []


# ------------------------------------------------------------------ model folders


def _tiny(seed: int):
    from voice2face.models import build_voice_encoder

    torch.manual_seed(seed)
    config = read_model_config(OLD_MODEL)
    config = dataclasses.replace(config, generator=None, weights=())
    return {"voice_encoder": build_voice_encoder(config.voice_encoder)}, config


def test_a_snapshot_replaces_weights_and_trainer_state_in_one_atomic_swap(tmp_path):
    folder = RunFolder(tmp_path / "run").model
    modules, config = _tiny(0)
    written = folder.save(modules, config, trainer_state={"stage": "encoder", "step": 7, "w": torch.ones(3)})
    assert isinstance(written, ModelConfig) and written.weights[0].file == "voice_encoder.safetensors"
    assert folder.read_trainer_state()["step"] == 7 and folder.snapshot()["step"] == 7
    assert sorted(p.name for p in folder.path.iterdir()) == [
        "config.json", "trainer_state.pt", "voice_encoder.safetensors"
    ]  # fmt: skip
    newer, _ = _tiny(1)
    folder.save(newer, config, trainer_state={"stage": "encoder", "step": 8})
    assert folder.read_trainer_state()["step"] == 8
    loaded = folder.load().modules["voice_encoder"].state_dict()
    assert all(torch.equal(loaded[name], tensor) for name, tensor in newer["voice_encoder"].state_dict().items())
    assert [p.name for p in folder.path.parent.iterdir()] == ["model"]  # no temporary or set-aside folders left
    with pytest.raises(ConfigError, match="trainer state once"):
        folder.save(newer, config, trainer_state={}, extra_files={layout.TRAINER_STATE: b""})
    assert folder.read_trainer_state()["step"] == 8  # a refused save leaves the folder as it was


def test_a_corrupt_trainer_state_is_named_and_the_snapshot_falls_back_to_the_version(tmp_path):
    folder = ModelFolder(_copy(OLD_RUN / "model", tmp_path / "model"))
    folder.trainer_state_path.write_bytes(b"not a trainer state")
    with pytest.raises(CheckpointError, match=r"trainer_state\.pt cannot be read"):
        folder.read_trainer_state()
    assert folder.snapshot()["snapshot"].startswith("voice2face ")


# ------------------------------------------------------------------ metrics.jsonl


def test_append_metrics_writes_one_json_line_per_record(tmp_path):
    run = RunFolder(tmp_path)
    first = metric_record("fid", {"fid": np.float64(12.5), "num_fake": np.int64(50)}, snapshot="network-000100")
    path = run.append_metrics(first)
    run.append_metrics({"metric": "ppl", "results": {"ppl_w_end": float("nan")}, "options": {"space": "w"}})
    lines = path.read_text(encoding="utf-8").splitlines()
    assert path == run.metrics_path and path.name == "metrics.jsonl" and len(lines) == 2
    records = [json.loads(line) for line in lines]
    assert records == run.read_metrics()
    assert records[0]["metric"] == "fid" and records[0]["results"] == {"fid": 12.5, "num_fake": 50}
    assert records[0]["snapshot"] == "network-000100" and records[0]["voice2face_version"] == __version__
    assert records[0]["timestamp"].endswith("+00:00")
    assert records[1]["results"] == {"ppl_w_end": None}, "NaN is stored as null, not as invalid JSON"
    assert records[1]["options"] == {"space": "w"} and "timestamp" in records[1]
    assert not list(tmp_path.glob(".metrics.jsonl*")), "a temporary file was left behind"


def test_append_metrics_refuses_bad_input(tmp_path):
    with pytest.raises(MetricError, match="does not exist"):
        RunFolder(tmp_path / "missing").append_metrics(metric_record("fid", {}))
    run = RunFolder(tmp_path)
    with pytest.raises(MetricError, match="needs 'metric' and 'results'"):
        run.append_metrics({"fid": 3})
    with pytest.raises(MetricError, match=r"record.results.x holds a value of type object"):
        run.append_metrics(metric_record("fid", {"x": object()}))
    assert not (tmp_path / "metrics.jsonl").exists()


def test_read_metrics_names_a_broken_line(tmp_path):
    (tmp_path / "metrics.jsonl").write_text('{"metric": "fid", "results": {}}\n{"metric": "fi\n')
    with pytest.raises(MetricError, match=r"Line 2 of .*metrics.jsonl is not JSON"):
        RunFolder(tmp_path).read_metrics()


# ------------------------------------------------------------------ one owner


OWNED = [r'"trainer_state\.pt"', r'"training_options\.json"', r'"DONE"', r'"stats\.jsonl"', r'"metrics\.jsonl"',
         r'"config\.json"', r'/ "model"\b', r'"speaker_codes\.safetensors"', r'"selection_reader\.safetensors"',
         r'"projector\.safetensors"', r"\btorch\.load\("]  # fmt: skip


def test_only_storage_names_the_files_of_run_and_model_folders():
    pattern = re.compile("|".join(OWNED))
    found = []
    for path in [*SRC.rglob("*.py"), *SCRIPTS.glob("*.py")]:
        if path.is_relative_to(SRC / "storage") or path == SRC / "metrics" / "inception.py":
            continue  # the Inception network's own weight file is read by the FID instrument (not a model folder)
        if path.is_relative_to(SRC / "models" / "pretrained"):
            continue  # DESIGN: the importer of official checkpoints is the other reader of weights
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                found.append(f"{path.name}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


def test_installing_instruments_ships_exactly_the_new_files_and_records_their_corpus(tmp_path):
    """The shipped instruments (storage.instruments, what `build_bundled_model.py --install` writes):
    the new files and the record of their corpus replace the old ones; a missing or broken record is
    one sentence naming the file and the fix."""
    from voice2face.storage.instruments import (
        ShippedCorpus,
        install_instruments,
        shipped_corpus,
        shipped_instrument_files,
    )
    from voice2face.storage.layout import SHIPPED_INSTRUMENTS_RECORD

    folder, built = tmp_path / "instruments", tmp_path / "cache"
    built.mkdir()
    (new := built / "trait-net-new.npz").write_bytes(b"new")
    with pytest.raises(CheckpointError, match=rf"{SHIPPED_INSTRUMENTS_RECORD}.*cannot be read.*--install"):
        shipped_corpus(folder)
    (old := built / "trait-net-old.npz").write_bytes(b"old")
    install_instruments(folder, [old], ShippedCorpus(200, 0, 64, "0" * 16))
    assert [p.name for p in shipped_instrument_files(folder)] == ["trait-net-old.npz"]
    corpus = ShippedCorpus(200, 0, 128, "9a980db63b8e84ed")
    install_instruments(folder, [new], corpus)
    assert [p.name for p in shipped_instrument_files(folder)] == ["trait-net-new.npz"]
    assert (folder / "trait-net-new.npz").read_bytes() == b"new"
    assert shipped_corpus(folder) == corpus and corpus.settings == (200, 0, 128)
    with pytest.raises(CheckpointError, match="holds none"):
        install_instruments(folder, [], corpus)
    assert shipped_instrument_files(folder)  # a refused install leaves what was shipped
    (folder / SHIPPED_INSTRUMENTS_RECORD).write_text('{"identities": 200}')
    with pytest.raises(CheckpointError, match="cannot be read"):
        shipped_corpus(folder)


def test_the_package_records_the_corpus_of_its_shipped_instruments():
    from voice2face.storage.instruments import shipped_corpus, shipped_instrument_files

    corpus = shipped_corpus()
    assert corpus.identities > 0 and corpus.resolution in (64, 128) and len(corpus.manifest_sha256_16) == 16
    assert [p.name.startswith("trait-net-") for p in shipped_instrument_files()] == [True]
