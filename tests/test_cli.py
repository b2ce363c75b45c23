"""The console script: version, help, features end to end on the shipped example."""

from __future__ import annotations

import numpy as np
import pytest

from voice2face import __version__
from voice2face.audio.features import log_mel, mfcc
from voice2face.audio.pipeline import load_speech
from voice2face.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"voice2face {__version__}"


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "features" in capsys.readouterr().out


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
