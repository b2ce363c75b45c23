"""The bad-input catalogue: every case is one sentence naming the file, a non-zero exit,
no traceback, and nothing written. Two awkward-but-valid files must simply work."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from voice2face.audio.pipeline import load_speech
from voice2face.cli import main
from voice2face.config import AudioConfig
from voice2face.errors import AudioError

from conftest import SR, speech_like, write_audio


def _missing(tmp: Path) -> Path:
    return tmp / "nope.wav"


def _directory(tmp: Path) -> Path:
    (tmp / "folder.wav").mkdir()
    return tmp / "folder.wav"


def _zero_bytes(tmp: Path) -> Path:
    (tmp / "empty.wav").write_bytes(b"")
    return tmp / "empty.wav"


def _truncated_header(tmp: Path) -> Path:
    good = write_audio(tmp / "good.wav", speech_like(1.0))
    (tmp / "truncated.wav").write_bytes(good.read_bytes()[:30])
    return tmp / "truncated.wav"


def _random_bytes(tmp: Path) -> Path:
    (tmp / "noise.wav").write_bytes(np.random.default_rng(1).bytes(50_000))
    return tmp / "noise.wav"


def _all_zero(tmp: Path) -> Path:
    return write_audio(tmp / "zeros.wav", np.zeros(2 * SR, dtype=np.float32))


def _nan_samples(tmp: Path) -> Path:
    signal = speech_like(1.0)
    signal[100:200] = np.nan
    return write_audio(tmp / "nan.wav", signal, subtype="FLOAT")


def _inf_samples(tmp: Path) -> Path:
    signal = speech_like(1.0)
    signal[500] = np.inf
    return write_audio(tmp / "inf.wav", signal, subtype="FLOAT")


def _too_little_speech(tmp: Path) -> Path:
    return write_audio(tmp / "short.wav", speech_like(0.1, lead=1.0, trail=1.0))


def _too_long(tmp: Path) -> Path:
    # 601 s at 8 kHz, 8 bit: 4.8 MB; the limit is checked from the header, before decoding.
    signal = np.zeros((601 * 8000,), dtype=np.float32)
    return write_audio(tmp / "long.wav", signal, 8000, subtype="PCM_U8")


CATALOGUE: dict[str, tuple[Callable[[Path], Path], str]] = {
    "missing path": (_missing, "does not exist"),
    "a directory": (_directory, "is a directory"),
    "zero-byte file": (_zero_bytes, "is empty"),
    "truncated WAV header": (_truncated_header, "corrupt, truncated"),
    "random bytes named .wav": (_random_bytes, "corrupt, truncated"),
    "all-zero audio": (_all_zero, "No speech found"),
    "NaN samples": (_nan_samples, "NaN or infinite"),
    "Inf samples": (_inf_samples, "NaN or infinite"),
    "speech shorter than the minimum": (_too_little_speech, "under the 0.5 s minimum"),
    "longer than the maximum": (_too_long, "over the 600 s maximum"),
}


@pytest.mark.parametrize("case", list(CATALOGUE))
def test_library_raises_one_sentence_naming_the_file(tmp_path, case):
    build, phrase = CATALOGUE[case]
    path = build(tmp_path)
    with pytest.raises(AudioError) as info:
        load_speech(path)
    message = str(info.value)
    assert phrase in message
    assert str(path) in message
    assert "\n" not in message and message.endswith(".")


@pytest.mark.parametrize("case", list(CATALOGUE))
def test_cli_prints_one_line_exits_nonzero_and_writes_nothing(tmp_path, case, capsys):
    build, phrase = CATALOGUE[case]
    path = build(tmp_path)
    out = tmp_path / "out.npy"
    code = main(["features", str(path), "-o", str(out)])
    captured = capsys.readouterr()
    assert code != 0
    assert captured.err.count("\n") == 1 and phrase in captured.err and str(path) in captured.err
    assert "Traceback" not in captured.err
    assert not out.exists()
    assert not list(tmp_path.glob(".out.npy*")), "a temporary output file was left behind"


def test_an_existing_output_survives_a_failed_run(tmp_path):
    out = tmp_path / "keep.npy"
    np.save(out, np.arange(3))
    before = out.read_bytes()
    assert main(["features", str(_all_zero(tmp_path)), "-o", str(out)]) != 0
    assert out.read_bytes() == before


def test_real_process_has_no_traceback_and_nonzero_exit(tmp_path):
    path = _random_bytes(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "voice2face", "features", str(path)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.startswith("voice2face: error: Cannot decode") and str(path) in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_limits_are_configurable(tmp_path):
    path = write_audio(tmp_path / "ten.wav", speech_like(10.0))
    with pytest.raises(AudioError, match="over the 5 s maximum"):
        load_speech(path, AudioConfig(max_seconds=5.0))
    with pytest.raises(AudioError, match="under the 20 s minimum"):
        load_speech(path, AudioConfig(min_speech_seconds=20.0, max_seconds=60.0))
    assert main(["features", str(path), "--max-seconds", "5"]) == 1
    assert main(["features", str(path), "--max-seconds", "30"]) == 0


def test_bad_options_exit_with_usage_error(tmp_path, capsys):
    path = write_audio(tmp_path / "ok.wav", speech_like(2.0))
    for argv in (["--kind", "spectrogram"], ["--vad-aggressiveness", "7"], ["--max-seconds", "-1"]):
        with pytest.raises(SystemExit) as info:
            main(["features", str(path), *argv])
        assert info.value.code == 2
    assert main(["features", str(path), "-o", str(tmp_path / "out.txt")]) == 2
    assert main(["features", str(path), "-o", str(tmp_path / "no" / "such" / "dir.npy")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_8khz_8bit_stereo_wav_simply_works(tmp_path):
    mono = speech_like(2.0, sr=8000, lead=0.5, trail=0.5)
    path = write_audio(tmp_path / "phone.wav", np.stack([mono, 0.8 * mono], axis=1), 8000, subtype="PCM_U8")
    speech = load_speech(path)
    assert speech.sample_rate == SR and speech.speech_seconds > 1.5
    assert main(["features", str(path)]) == 0


def test_48khz_24bit_wav_simply_works(tmp_path):
    path = write_audio(tmp_path / "studio.wav", speech_like(2.0, sr=48000, lead=0.5), 48000, subtype="PCM_24")
    speech = load_speech(path)
    assert speech.sample_rate == SR and abs(speech.duration_seconds - 2.5) < 0.01
    assert main(["features", str(path), "--kind", "logmel"]) == 0
