"""The console script: version, help, features end to end on the shipped example; defaults from the
configs, and no training, evaluation or synthetic corpus imported by --help or portrait."""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys

import numpy as np
import pytest

from voice2face import __version__, example_voices
from voice2face.audio.features import log_mel, mfcc
from voice2face.audio.pipeline import load_speech
from voice2face.cli import SentenceFormatter, build_parser, main
from voice2face.cli.options import default_of
from voice2face.config import (
    FEATURE_KINDS,
    SPLITS,
    VAD_BACKENDS,
    AudioConfig,
    EvaluationConfig,
    FeatureConfig,
    SynthVoxConfig,
    VADConfig,
)

from conftest import speech_like, write_audio


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"voice2face {__version__}"


def test_no_command_prints_help_and_succeeds(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: voice2face") and "portrait" in out and "features" in out
    proc = subprocess.run([sys.executable, "-m", "voice2face"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("usage: voice2face") and proc.stderr == ""


def test_features_of_the_shipped_example(example_wav, tmp_path, capsys):
    out = tmp_path / "example.npy"
    assert main(["features", str(example_wav), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    speech = load_speech(example_wav)
    expected = mfcc(speech.speech)
    np.testing.assert_array_equal(np.load(out), expected)
    assert f"mfcc [T={expected.shape[0]}, 39]" in printed
    assert "VAD: webrtc" in printed and f"wrote:     {out}" in printed
    # the example has 0.6 s of silence at each end, which the VAD removes
    assert speech.duration_seconds - speech.speech_seconds > 0.8


def test_logmel_kind_and_no_vad(example_wav, tmp_path, capsys):
    out = tmp_path / "logmel.npy"
    assert main(["features", str(example_wav), "--kind", "logmel", "--no-vad", "-o", str(out)]) == 0
    saved = np.load(out)
    np.testing.assert_array_equal(saved, log_mel(load_speech(example_wav, vad=None).speech))
    assert saved.shape[0] == 64
    assert "VAD: none" in capsys.readouterr().out


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _option(parser: argparse.ArgumentParser, flag: str) -> argparse.Action | None:
    return next((a for a in parser._actions if flag in a.option_strings), None)


def test_verbose_goes_before_or_after_the_command(example_wav):
    parser = build_parser()
    for argv, level in ((["-v", "features", "x.wav"], 1), (["features", "x.wav", "-v"], 1),
                        (["-v", "portrait", "x.wav", "-vv"], 3), (["features", "x.wav"], 0)):  # fmt: skip
        args = parser.parse_args(argv)
        assert args.verbose + args.command_verbose == level, argv
    for command, subparser in _subcommands().items():
        assert _option(subparser, "-v") is not None, f"{command} does not take -v"
    assert main(["features", str(example_wav), "-v"]) == 0


def test_every_command_that_runs_a_network_takes_the_same_device_option():
    commands = _subcommands()
    with_device = {name for name, parser in commands.items() if _option(parser, "--device") is not None}
    assert {"train-encoder", "train", "portrait", "evaluate"} <= with_device
    for name in with_device:
        device = _option(commands[name], "--device")
        assert tuple(device.choices) == ("auto", "cpu", "cuda") and device.default == "auto", name


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has a CUDA GPU")
def test_cuda_without_a_gpu_is_a_usage_error_in_every_command(tmp_path, capsys):
    wav = write_audio(tmp_path / "ok.wav", speech_like(2.0))
    runs = str(tmp_path / "runs")
    for argv in (["portrait", str(wav), "-o", str(tmp_path / "p")], ["evaluate", "--data", str(tmp_path)],
                 ["train-encoder", "--data", str(tmp_path), "--out", runs],
                 ["train", "--data", str(tmp_path), "--out", runs, "--encoder", str(tmp_path)]):  # fmt: skip
        assert main([*argv, "--device", "cuda"]) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "no usable CUDA GPU" in err and "--device cpu" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.wav"]


def _exit_code(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's usage errors
        return int(exc.code)


def test_the_same_kind_of_error_gives_the_same_exit_code_in_every_command(tmp_path, capsys):
    """1: a file problem (an input missing, an output that cannot be made); 2: a usage problem."""
    missing, blocked = tmp_path / "missing", tmp_path / "a-file" / "out"
    (tmp_path / "a-file").write_text("in the way")
    wav = write_audio(tmp_path / "ok.wav", speech_like(2.0))
    file_problems = {
        "features: missing recording": ["features", str(missing / "x.wav")],
        "portrait: missing recording": ["portrait", str(missing / "x.wav"), "-o", str(tmp_path / "p")],
        "portrait: missing model": ["portrait", str(wav), "-m", str(missing), "-o", str(tmp_path / "p")],
        "evaluate: missing model": ["evaluate", str(missing), "--data", str(missing)],
        "evaluate: missing data": ["evaluate", "--data", str(missing)],
        "train-encoder: missing data": ["train-encoder", "--data", str(missing), "--out", str(tmp_path / "r")],
        "train-encoder: missing run": ["train-encoder", "--resume", str(missing)],
        "train: missing run": ["train", "--resume", str(missing)],
        "train: missing encoder": ["train", "--data", str(missing), "--out", str(tmp_path / "r"), "--encoder",
                                   str(missing)],
        "report: missing run": ["report", str(missing), "-o", str(tmp_path / "r.html")],
        "import-stylegan2: missing checkpoint": ["import-stylegan2", str(missing / "x.pkl"), "-o", str(tmp_path / "m")],
        "import-stylegan2: blocked output": ["import-stylegan2", str(wav), "-o", str(blocked / "model")],
        "features: blocked output": ["features", str(wav), "-o", str(blocked / "f.npy")],
        "portrait: blocked output": ["portrait", str(wav), "-o", str(blocked)],
        "evaluate: blocked output": ["evaluate", "--data", str(missing), "--json", str(blocked / "s.json")],
        "train-encoder: blocked output": ["train-encoder", "--data", str(missing), "--out", str(blocked)],
        "train: blocked output": ["train", "--data", str(missing), "--out", str(blocked), "--encoder", str(wav)],
        "report: blocked output": ["report", str(tmp_path), "-o", str(blocked / "r.html")],
        "synth-corpus: blocked output": ["synth-corpus", str(blocked / "corpus"), "--identities", "3"],
        "synth-faces: blocked output": ["synth-faces", str(blocked / "faces"), "--count", "16"],
        "demo: blocked output": ["demo", "--out", str(blocked)],
        "demo: used output": ["demo", "--out", str(tmp_path)],
        "synth-corpus: used output": ["synth-corpus", str(tmp_path)],
        "serve: missing model": ["serve", "-m", str(missing)],
        "prepare: missing data": ["prepare", "voxceleb", "--voxceleb1", str(missing), "--faces", str(missing),
                                  "--meta", str(missing / "vox1_meta.csv"), "-o", str(tmp_path / "v")],
        "prepare: blocked output": ["prepare", "voxceleb", "--voxceleb1", str(missing), "--faces", str(missing),
                                    "--meta", str(wav), "-o", str(blocked / "v")],
    }  # fmt: skip
    usage_problems = {
        "features: bad kind": ["features", str(wav), "--kind", "spectrogram"],
        "features: bad output name": ["features", str(wav), "-o", str(tmp_path / "f.txt")],
        "portrait: bad truncation": ["portrait", str(wav), "--truncation", "2", "-o", str(tmp_path / "p")],
        "portrait: bad device": ["portrait", str(wav), "--device", "tpu"],
        "evaluate: bad split": ["evaluate", "--data", str(tmp_path), "--split", "dev"],
        "train-encoder: no data": ["train-encoder", "--out", str(tmp_path / "r")],
        "train-encoder: unknown preset": ["train-encoder", "--preset", "nope", "--dry-run"],
        "train: bad kimg": ["train", "--kimg", "-1", "--dry-run"],
        "synth-corpus: bad count": ["synth-corpus", str(tmp_path / "c"), "--identities", "0"],
        "synth-faces: bad count": ["synth-faces", str(tmp_path / "c"), "--count", "zero"],
        "report: no run": ["report"],
        "import-stylegan2: no output": ["import-stylegan2", str(wav)],
        "demo: bad budget": ["demo", "--out", str(tmp_path / "d"), "--minutes", "0"],
        "prepare: bad face size": ["prepare", "voxceleb", "--voxceleb1", str(tmp_path), "--faces", str(tmp_path),
                                   "--meta", str(wav), "-o", str(tmp_path / "v"), "--face-size", "4"],
        "prepare: no source": ["prepare"],
        "serve: bad port": ["serve", "--port", "0"],
    }  # fmt: skip
    for expected, cases in ((1, file_problems), (2, usage_problems)):
        for case, argv in cases.items():
            before = sorted(tmp_path.rglob("*"))
            assert _exit_code(argv) == expected, case
            err = capsys.readouterr().err
            assert "Traceback" not in err and "error:" in err, case
            assert sorted(tmp_path.rglob("*")) == before, f"{case}: something was written"
    assert {case.split(":")[0] for case in file_problems} == set(_subcommands())  # every command is covered


def test_log_lines_read_as_sentences():
    formatter = SentenceFormatter()

    def line(message: str, *args: object, level: int = logging.WARNING) -> str:
        return formatter.format(logging.LogRecord("voice2face", level, __file__, 1, message, args, None))

    assert line("skipping %s: %s", "a.wav", "bad header") == "voice2face: warning: Skipping a.wav: bad header."
    assert line("Restored %s.", "model") == "voice2face: warning: Restored model."
    assert line("/x/a.wav peaks at 1.50; scaling it") == "voice2face: warning: /x/a.wav peaks at 1.50; scaling it."
    assert line("done?", level=logging.INFO) == "voice2face: info: Done?"


def test_a_warning_from_a_real_process_is_one_sentence(tmp_path):
    loud = write_audio(tmp_path / "loud.wav", 3.0 * speech_like(2.0), subtype="FLOAT")  # peaks beyond full scale
    proc = subprocess.run(
        [sys.executable, "-m", "voice2face", "features", str(loud)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    (warning,) = proc.stderr.splitlines()
    assert warning.startswith(f"voice2face: warning: {loud} peaks at ") and warning.endswith(".")


NOT_FOR_HELP = ("voice2face.training", "voice2face.evaluation", "voice2face.data.synthvox")


def _imported_by(argv: list[str]) -> list[str]:
    """Which of NOT_FOR_HELP a fresh process has imported after ``main(argv)``."""
    code = (
        "import sys\nfrom voice2face.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        f"print([m for m in {NOT_FOR_HELP!r} if m in sys.modules])"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return proc.stdout.strip().splitlines()


def test_help_and_portrait_leave_training_evaluation_and_the_corpus_unimported(tmp_path):
    """A command imports what it needs when it runs: --help builds every parser without them."""
    assert _imported_by(["--help"])[-1] == "[]"
    voice = str(example_voices()[0])
    argv = ["portrait", voice, "-o", str(tmp_path / "p"), "--samples", "1", "-q"]
    assert _imported_by(argv)[-1] == "[]"
    assert len(list((tmp_path / "p").glob("*.png"))) == 1


def test_cli_defaults_and_choices_are_the_configs():
    parser = build_parser()
    features = parser.parse_args(["features", "x.wav"])
    audio, vad = AudioConfig(), VADConfig()
    assert (features.sample_rate, features.min_speech, features.max_seconds) == (
        audio.sample_rate, audio.min_speech_seconds, audio.max_seconds,
    )  # fmt: skip
    assert (features.vad_backend, features.vad_aggressiveness) == (vad.backend, vad.aggressiveness)
    assert features.kind == FeatureConfig().kind
    assert tuple(_option(_subcommands()["features"], "--kind").choices) == FEATURE_KINDS
    assert tuple(_option(_subcommands()["portrait"], "--vad-backend").choices) == VAD_BACKENDS
    corpus, synthvox = parser.parse_args(["synth-corpus", "out"]), SynthVoxConfig()
    for name in ("identities", "utterances_per_identity", "faces_per_identity", "resolution", "seed"):
        assert getattr(corpus, name) == getattr(synthvox, name), name
    evaluate, config = parser.parse_args(["evaluate", "--data", "d"]), EvaluationConfig()
    assert (evaluate.metrics, evaluate.references, evaluate.split) == (config.metrics, config.references, config.split)
    assert (evaluate.samples_per_voice, evaluate.seed, evaluate.batch_size, evaluate.embedder) == (
        config.samples_per_voice, config.seed, config.batch_size, config.embedder,
    )  # fmt: skip
    assert evaluate.ppl_samples == config.ppl.num_samples
    assert tuple(_option(_subcommands()["evaluate"], "--split").choices) == SPLITS


def test_the_preset_help_lists_every_preset():
    from voice2face.training.presets import PRESETS

    help_text = _option(_subcommands()["train"], "--preset").help
    assert f"training recipe: {', '.join(PRESETS)} (default:" in help_text
    assert build_parser().parse_args(["train"]).preset in PRESETS


def test_default_of_reads_a_config_field_and_its_factory():
    assert default_of(AudioConfig, "sample_rate") == AudioConfig().sample_rate
    assert default_of(EvaluationConfig, "ppl") == EvaluationConfig().ppl
    with pytest.raises(AttributeError, match="no field 'rate'"):
        default_of(AudioConfig, "rate")


@pytest.mark.parametrize(
    "raised, said", [(KeyboardInterrupt(), "interrupted"), (KeyboardInterrupt("at 3 kimg"), "at 3 kimg")]
)
def test_an_interrupt_says_so_and_exits_130(monkeypatch, capsys, raised, said):
    """A bare Ctrl-C (while a run still reads its data, say) carries no message: it printed 'voice2face: '."""
    import voice2face.cli.features as features

    def interrupted(args):
        raise raised

    monkeypatch.setattr(features, "run", interrupted)
    assert main(["features", str(example_voices()[0])]) == 130
    assert capsys.readouterr().err.strip() == f"voice2face: {said}"
