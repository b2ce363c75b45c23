"""The bad-input catalogue: every case is one sentence naming the file, a non-zero exit,
no traceback, and nothing written. Two awkward-but-valid files must simply work.

Three more catalogues: recordings that decode but do not sound like speech (refused unless
--allow-non-speech), and output folders that cannot be used (refused before any model work).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from voice2face import example_voices
from voice2face.audio.pipeline import load_speech
from voice2face.audio.speechlike import assess_speech, check_speech_like
from voice2face.cli import main
from voice2face.config import AudioConfig
from voice2face.errors import AudioError, NonSpeechError, OutputError
from voice2face.utils.files import prepare_output_dir

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


def _truncated_data(tmp: Path) -> Path:
    # A whole header that declares 3 s, followed by only the first 1.5 s of the samples.
    good = write_audio(tmp / "whole.wav", speech_like(3.0))
    data = good.read_bytes()
    (tmp / "cut.wav").write_bytes(data[: 44 + (len(data) - 44) // 2])
    return tmp / "cut.wav"


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
    "WAV data shorter than its header declares": (_truncated_data, "is truncated: its header declares 3.00 s"),
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
    assert "must end in .npy" in capsys.readouterr().err
    # A missing folder is no usage error: it is made (the output-folder catalogue has ones that cannot be).
    assert main(["features", str(path), "-o", str(tmp_path / "no" / "such" / "dir.npy")]) == 0


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


def test_a_truncated_wav_says_how_much_is_missing(tmp_path):
    path = _truncated_data(tmp_path)
    with pytest.raises(AudioError, match=r"declares 3\.00 s of audio but the file holds only 1\.50 s"):
        load_speech(path)
    # Short of only its last pad byte or partial frame, a file is complete enough and decodes.
    whole = tmp_path / "whole.wav"
    (tmp_path / "nearly.wav").write_bytes(whole.read_bytes()[:-1])
    assert load_speech(tmp_path / "nearly.wav").duration_seconds == pytest.approx(3.0, abs=1e-3)


# ------------------------------------------------------------------ recordings that are not speech


def _white_noise(tmp: Path) -> Path:
    return write_audio(tmp / "hiss.wav", 0.3 * np.random.default_rng(0).standard_normal(3 * SR))


def _pure_tone(tmp: Path) -> Path:
    return write_audio(tmp / "beep.wav", 0.5 * np.sin(2 * np.pi * 440.0 * np.arange(3 * SR) / SR))


def _music(tmp: Path) -> Path:
    """An organ-like melody: harmonic notes held for 0.25–1 s, as in much music."""
    rng = np.random.default_rng(5)
    notes = []
    while sum(map(len, notes)) < 4 * SR:
        pitch, seconds = rng.choice([262.0, 294.0, 330.0, 349.0, 392.0, 440.0]), rng.choice([0.25, 0.5, 1.0])
        t = np.arange(int(seconds * SR)) / SR
        tone = sum(0.7**k * np.sin(2 * np.pi * pitch * (k + 1) * t) for k in range(8))
        notes.append(tone * np.minimum(1.0, t / 0.02) * np.minimum(1.0, (seconds - t) / 0.05))
    music = np.concatenate(notes)
    return write_audio(tmp / "tune.wav", 0.5 * music / np.abs(music).max())


NON_SPEECH: dict[str, tuple[Callable[[Path], Path], str]] = {
    "white noise": (_white_noise, "like hiss or noise"),
    "a pure tone": (_pure_tone, "a steady tone"),
    "music (held notes)": (_music, "steady notes, like music"),
}


@pytest.mark.parametrize("case", list(NON_SPEECH))
def test_non_speech_is_refused_in_one_sentence_that_names_the_way_round_it(tmp_path, case):
    build, phrase = NON_SPEECH[case]
    path = build(tmp_path)
    speech = load_speech(path)  # decodes and passes the VAD: the refusal is the speech-likeness check's
    with pytest.raises(NonSpeechError) as info:
        check_speech_like(speech.speech, speech.sample_rate, speech.source)
    message = str(info.value)
    assert phrase in message and str(path) in message and "--allow-non-speech" in message
    assert "does not sound like speech" in message and "\n" not in message and message.endswith(".")


@pytest.mark.parametrize("case", list(NON_SPEECH))
def test_cli_refuses_non_speech_unless_forced_and_then_warns(tmp_path, case, capsys, caplog):
    build, phrase = NON_SPEECH[case]
    path = build(tmp_path)
    out = tmp_path / "out.npy"
    assert main(["features", str(path), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and phrase in err and str(path) in err and "Traceback" not in err
    assert not out.exists()
    with caplog.at_level(logging.WARNING):
        assert main(["features", str(path), "-o", str(out), "--allow-non-speech"]) == 0
    assert out.is_file()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and phrase in warnings[0] and "using it anyway" in warnings[0]


def test_speech_is_not_mistaken_for_noise_tone_or_music(tmp_path):
    """The check must not refuse what it exists to let through: the shipped examples, the
    tests' babble at several pitches and lengths, and speech with noise 10 dB below it."""
    for voice in example_voices():
        speech = load_speech(voice)
        assert assess_speech(speech.speech, speech.sample_rate).reason() is None, voice
    noisy = speech_like(4.0, seed=7)
    noisy = noisy + 0.3 * noisy.std() * np.random.default_rng(1).standard_normal(noisy.size).astype(np.float32)
    signals = [speech_like(seconds, f0=f0, seed=seed) for seconds in (1.0, 3.0) for f0 in (110, 180, 260)
               for seed in (0, 1)] + [noisy]  # fmt: skip
    for signal in signals:
        assert assess_speech(signal, SR).reason() is None


#: synthvox-1225 seed 1's recordings the check once refused for too few syllables (limit 0.4): all short
#: (1.8–2.6 s of speech, 13–17 windows), measuring 0.31–0.37. sv00150/004 was the one reported.
EDGE_RECORDINGS = {"sv00150": 4, "sv00778": 6, "sv01147": 1, "sv01199": 3, "sv01202": 1}


def test_synthvox_own_short_recordings_with_few_syllables_are_speech(tmp_path):
    """The corpus's own recordings, rendered byte for byte as ``synth-corpus --identities 1225 --seed 1``
    writes them (each item draws from its own (seed, identity, item) generator, so one speaker is
    enough): their syllable share is low, and they must still pass."""
    from voice2face.config import SynthVoxConfig
    from voice2face.data.synthvox import draw_identity, generate_identity
    from voice2face.data.synthvox.corpus import utterance_path

    config = SynthVoxConfig(identities=1225, seed=1, faces_per_identity=1)
    for identity_id, item in EDGE_RECORDINGS.items():
        identity = draw_identity(config.seed, int(identity_id[2:]))
        assert identity.id == identity_id
        generate_identity(identity, config, str(tmp_path))
        path = tmp_path / utterance_path(identity_id, item)
        speech = load_speech(path)
        measured = assess_speech(speech.speech, speech.sample_rate)
        assert 0.3 < measured.syllable_fraction < 0.4, (path, measured)  # the edge it once fell over
        assert measured.reason() is None, (path, measured)
        check_speech_like(speech.speech, speech.sample_rate, speech.source)


def test_steady_sound_whose_spectrum_moves_is_refused_for_its_missing_syllables(tmp_path):
    """What the syllable rule alone refuses: not flat, not a tone, no held notes, and no rise and fall."""
    t = np.arange(3 * SR) / SR
    phase = np.cumsum(600.0 + 300.0 * np.sin(2 * np.pi * 0.5 * t)) / SR  # a siren's glide
    siren = sum(0.7**k * np.sin(2 * np.pi * (k + 1) * phase) for k in range(8))
    path = write_audio(tmp_path / "siren.wav", 0.5 * siren / np.abs(siren).max())
    speech = load_speech(path)
    measured = assess_speech(speech.speech, speech.sample_rate)
    assert measured.syllable_fraction < 0.1 and measured.held_fraction < 0.3 and measured.peak_fraction < 0.9
    with pytest.raises(NonSpeechError, match="does not rise and fall in syllables"):
        check_speech_like(speech.speech, speech.sample_rate, speech.source)


# ------------------------------------------------------------------ output folders that cannot be used


def _under_a_file(tmp: Path) -> Path:
    (tmp / "a-file").write_text("in the way")
    return tmp / "a-file" / "out"


def _a_file(tmp: Path) -> Path:
    (tmp / "out").write_text("in the way")
    return tmp / "out"


def _special_file_system(tmp: Path) -> Path:
    if not Path("/proc/self").is_dir():
        pytest.skip("no /proc here")
    return Path("/proc/voice2face-cannot-be-here")


def _read_only_parent(tmp: Path) -> Path:
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders; the permission case is the monkeypatched test below")
    parent = tmp / "locked"
    parent.mkdir(mode=0o555)
    return parent / "out"


OUTPUT_FOLDERS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "a path under a file": (_under_a_file, "is a file, not a folder"),
    "a file where the folder should be": (_a_file, "is a file, not a folder"),
    "a special file system (/proc/x)": (_special_file_system, "Cannot create output folder"),
    "a read-only parent": (_read_only_parent, "permission denied"),
}


@pytest.mark.parametrize("case", list(OUTPUT_FOLDERS))
def test_output_folder_that_cannot_be_used_fails_before_any_work(tmp_path, case, capsys, monkeypatch):
    build, phrase = OUTPUT_FOLDERS[case]
    folder = build(tmp_path)
    recording = write_audio(tmp_path / "ok.wav", speech_like(2.0))

    def no_work(*args, **kwargs):
        raise AssertionError("the model was loaded, or audio decoded, before the output folder was checked")

    monkeypatch.setattr("voice2face.inference.pipeline.VoiceToFace.from_pretrained", no_work)
    monkeypatch.setattr("voice2face.audio.pipeline.load_speech", no_work)
    before = sorted(tmp_path.rglob("*"))
    for argv in (
        ["portrait", str(recording), "-o", str(folder)],
        ["features", str(recording), "-o", str(folder / "f.npy")],
    ):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("voice2face: error: ") and "Traceback" not in err
        assert phrase in err and "-o" in err
    assert sorted(tmp_path.rglob("*")) == before, "something was written"


def test_a_folder_without_permission_is_refused_naming_it(tmp_path, monkeypatch):
    """What a non-root user meets in a read-only parent, without needing one (tests may run as root)."""

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(OutputError) as info:
        prepare_output_dir(tmp_path / "new" / "out", "-o")
    message = str(info.value)
    assert (
        message
        == f"Cannot create output folder {tmp_path / 'new' / 'out'} (permission denied); choose another -o folder."
    )
    assert not (tmp_path / "new").exists()


def test_a_folder_made_for_a_command_that_wrote_nothing_is_removed(tmp_path, capsys):
    out = tmp_path / "deep" / "er"
    assert main(["features", str(_all_zero(tmp_path)), "-o", str(out / "f.npy")]) == 1
    assert not (tmp_path / "deep").exists()
    assert main(["features", str(write_audio(tmp_path / "ok.wav", speech_like(2.0))), "-o", str(out / "f.npy")]) == 0
    assert (out / "f.npy").is_file()
