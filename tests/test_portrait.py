"""`voice2face portrait`: PNGs that say they are synthetic, reproducible, and clean failure on bad input;
folders (recursive, duplicates, colliding names), progress lines, and file modes that follow the umask."""

from __future__ import annotations

import os
import shutil
import stat

import numpy as np
import pytest

from test_bad_input import CATALOGUE, NON_SPEECH
from voice2face.cli import main
from voice2face.inference.portrait import collect_audio_files, output_names
from voice2face.storage.png import IPTC_SYNTHETIC, SYNTHETIC_NOTICE, read_png_metadata

from conftest import speech_like, write_audio


def _portrait(*argv) -> int:
    return main(["portrait", *map(str, argv)])


def test_writes_named_pngs_with_metadata_and_same_seed_same_bytes(tiny_model, speech_wav, tmp_path, capsys):
    assert _portrait(speech_wav, "-m", tiny_model, "-o", tmp_path / "a", "--samples", "2", "--seed", "5") == 0
    files = sorted((tmp_path / "a").iterdir())
    assert [p.name for p in files] == ["speech_0.png", "speech_1.png"]
    assert capsys.readouterr().out.split() == [str(p) for p in files]
    meta = read_png_metadata(files[1])
    assert meta["Description"] == SYNTHETIC_NOTICE and meta["Software"].startswith("voice2face ")
    assert meta["Model"] == "tiny-model" and meta["Seed"] == "5" and meta["Source"] == "speech.wav"
    assert meta["Sample"] == "1" and meta["TruncationPsi"] == "1.0" and meta["Resolution"] == "16 px"
    assert IPTC_SYNTHETIC in meta["XML:com.adobe.xmp"]
    assert _portrait(speech_wav, "-m", tiny_model, "-o", tmp_path / "b", "--samples", "2", "--seed", "5") == 0
    assert [p.read_bytes() for p in files] == [(tmp_path / "b" / p.name).read_bytes() for p in files]
    assert _portrait(speech_wav, "-m", tiny_model, "-o", tmp_path / "c", "--samples", "2", "--seed", "6") == 0
    assert files[0].read_bytes() != (tmp_path / "c" / "speech_0.png").read_bytes()


def test_grid_and_folder_input(tiny_model, tmp_path):
    voices = tmp_path / "voices"
    voices.mkdir()
    for name, seed in (("alice.wav", 1), ("bob.flac", 2)):
        write_audio(voices / name, speech_like(2.0, seed=seed, f0=110 + 60 * seed))
    (voices / "notes.txt").write_text("not audio")
    out = tmp_path / "out"
    assert _portrait(voices, "-m", tiny_model, "-o", out, "--samples", "3", "--grid", "-q") == 0
    assert sorted(p.name for p in out.iterdir()) == ["alice.png", "bob.png"]
    meta = read_png_metadata(out / "bob.png")
    assert meta["Source"] == "bob.flac" and meta["Samples"] == "3" and meta["Description"] == SYNTHETIC_NOTICE


def test_a_bad_file_among_good_ones_is_reported_and_the_rest_are_written(tiny_model, speech_wav, tmp_path, capsys):
    bad = tmp_path / "zeros.wav"
    write_audio(bad, speech_like(1.0) * 0)
    out = tmp_path / "out"
    assert _portrait(bad, speech_wav, "-m", tiny_model, "-o", out, "--samples", "1") == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "Traceback" not in "".join(err)
    assert err[0].startswith("voice2face: error: ") and str(bad) in err[0]
    assert err[1] == f"[2/2] {speech_wav}: 1 image"  # stderr is not a terminal here: a line per finished file
    assert sorted(p.name for p in out.iterdir()) == ["speech_0.png"]


@pytest.mark.parametrize("case", list(CATALOGUE))
def test_bad_input_catalogue_one_line_nonzero_nothing_written(tiny_model, tmp_path, case, capsys):
    build, phrase = CATALOGUE[case]
    path = build(tmp_path)
    out = tmp_path / "out"
    code = _portrait(path, "-m", tiny_model, "-o", out, "--samples", "1")
    err = capsys.readouterr().err
    assert code != 0
    assert err.count("\n") == 1 and phrase in err and str(path) in err
    assert "Traceback" not in err
    assert not out.exists()


def _broken_model(tiny_model, tmp_path, how: str):
    model = shutil.copytree(tiny_model, tmp_path / "model")
    if how == "no config":
        (model / "config.json").unlink()
        return model, "config.json is missing"
    data = bytearray((model / "generator.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (model / "generator.safetensors").write_bytes(bytes(data))
    return model, "does not match the checksum"


@pytest.mark.parametrize("how", ["no config", "tampered weights"])
def test_missing_or_corrupt_model_names_the_file(tiny_model, speech_wav, tmp_path, how, capsys):
    model, phrase = _broken_model(tiny_model, tmp_path, how)
    out = tmp_path / "out"
    assert _portrait(speech_wav, "-m", model, "-o", out) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and phrase in err and str(model) in err and "Traceback" not in err
    assert not out.exists()


def test_a_voice_encoder_alone_is_refused_in_one_line_naming_the_folder(tiny_encoder_run, speech_wav, tmp_path, capsys):
    out = tmp_path / "out"
    assert _portrait(speech_wav, "-m", tiny_encoder_run, "-o", out) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "voice encoder only" in err and str(tiny_encoder_run / "model") in err
    assert "voice2face train --encoder" in err and "Traceback" not in err and not out.exists()


def test_size_resamples_the_portraits_and_says_from_what(tiny_model, speech_wav, tmp_path):
    from PIL import Image

    native = tmp_path / "native"
    assert _portrait(speech_wav, "-m", tiny_model, "-o", native, "--samples", "1", "-q") == 0
    for size in (40, 12):  # up and down from the tiny model's 16 px
        out = tmp_path / str(size)
        assert _portrait(speech_wav, "-m", tiny_model, "-o", out, "--samples", "1", "--size", size, "-q") == 0
        with Image.open(out / "speech_0.png") as picture, Image.open(native / "speech_0.png") as drawn:
            assert picture.size == (size, size)
            again = drawn.resize((size, size), Image.Resampling.LANCZOS)  # the same face, resampled
            assert np.array_equal(np.asarray(picture.convert("RGB")), np.asarray(again.convert("RGB")))
        meta = read_png_metadata(out / "speech_0.png")
        assert meta["Resampled"] == f"{size} px from the model's 16" and meta["Resolution"] == "16 px"
        assert meta["Description"] == SYNTHETIC_NOTICE
    both = tmp_path / "both"
    assert _portrait(speech_wav, "-m", tiny_model, "-o", both, "--samples", "1", "--size", 64, "--thumbnail", 8,
                     "-q") == 0  # fmt: skip
    with Image.open(both / "speech_0.png") as large, Image.open(both / "speech_0.8px.png") as small:
        assert large.size == (64, 64) and small.size == (8, 8)  # the thumbnail is taken from the native face
    assert "Resampled" not in read_png_metadata(both / "speech_0.8px.png")
    same = tmp_path / "same"  # the native size itself writes the native bytes
    assert _portrait(speech_wav, "-m", tiny_model, "-o", same, "--samples", "1", "--size", 16, "-q") == 0
    assert (same / "speech_0.png").read_bytes() == (native / "speech_0.png").read_bytes()


def test_bad_options_are_usage_errors(tiny_model, speech_wav, tmp_path, capsys):
    out = tmp_path / "out"
    assert _portrait(speech_wav, "-m", tiny_model, "-o", out, "--truncation", "1.5") == 2
    assert _portrait(speech_wav, "-m", tiny_model, "-o", out, "--size", "5000") == 2
    assert "portrait size must be a whole number of px from 8 to 4096, got 5000" in capsys.readouterr().err
    for bad in (["--device", "tpu9"], ["--samples", "0"], ["--sample-rate", "8000"]):
        with pytest.raises(SystemExit) as info:
            _portrait(speech_wav, "-m", tiny_model, "-o", out, *bad)
        assert info.value.code == 2, bad
    assert "unrecognized arguments: --sample-rate" in capsys.readouterr().err  # the model fixes the rate
    assert not out.exists()


@pytest.mark.parametrize("case", list(NON_SPEECH))
def test_non_speech_is_refused_and_nothing_written_unless_forced(tiny_model, tmp_path, case, capsys):
    build, phrase = NON_SPEECH[case]
    path = build(tmp_path)
    out = tmp_path / "out"
    assert _portrait(path, "-m", tiny_model, "-o", out, "--samples", "1") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and phrase in err and str(path) in err and "--allow-non-speech" in err
    assert not out.exists()
    assert _portrait(path, "-m", tiny_model, "-o", out, "--samples", "1", "--allow-non-speech", "-q") == 0
    assert [p.name for p in out.iterdir()] == [f"{path.stem}_0.png"]


def _voices(root, names):
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        write_audio(root / name, speech_like(1.5, seed=len(name), f0=100 + 7 * len(name)))
    return root


def test_recursive_takes_sub_folders_and_hidden_ones_are_left_out(tiny_model, tmp_path):
    voices = _voices(tmp_path / "voices", ["top.wav", "day1/alice.wav", "day1/deeper/bob.flac", ".trash/old.wav"])
    assert [p.name for p in collect_audio_files([voices])] == ["top.wav"]
    found = collect_audio_files([voices], recursive=True)
    assert [p.relative_to(voices).as_posix() for p in found] == ["day1/alice.wav", "day1/deeper/bob.flac", "top.wav"]
    out = tmp_path / "out"
    assert _portrait(voices, "-m", tiny_model, "-o", out, "--samples", "1", "-q") == 0
    assert [p.name for p in out.iterdir()] == ["top_0.png"]
    assert _portrait(voices, "-m", tiny_model, "-o", out, "--samples", "1", "-q", "--recursive") == 0
    assert sorted(p.name for p in out.iterdir()) == ["alice_0.png", "bob_0.png", "top_0.png"]


def test_a_folder_with_audio_only_in_sub_folders_points_to_recursive(tiny_model, tmp_path, capsys):
    voices = _voices(tmp_path / "voices", ["day1/alice.wav"])
    assert _portrait(voices, "-m", tiny_model, "-o", tmp_path / "out") == 1
    assert "--recursive" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_colliding_names_are_told_apart_instead_of_refusing_the_run(tiny_model, tmp_path, capsys):
    voices = _voices(tmp_path, ["a/voice.wav", "b/voice.wav", "b/voice.flac", "c/other.wav", "x/a/same.wav",
                                "y/a/same.wav"])  # fmt: skip
    files = collect_audio_files([tmp_path / d for d in ("a", "b", "c", "x/a", "y/a")])
    names = {p.relative_to(voices).as_posix(): n[0] for p, n in output_names(files, 2, as_grid=False).items()}
    assert names == {
        "a/voice.wav": "a-voice_0.png",  # the folder tells them apart
        "b/voice.flac": "b-voice-flac_0.png",  # in one folder, the extension does too
        "b/voice.wav": "b-voice-wav_0.png",
        "c/other.wav": "other_0.png",  # no clash, no change
        "x/a/same.wav": "x-a-same_0.png",  # as many folders as it takes
        "y/a/same.wav": "y-a-same_0.png",
    }
    all_names = [name for names in output_names(files, 2, as_grid=False).values() for name in names]
    assert len(set(all_names)) == len(all_names) == 12
    out = tmp_path / "out"
    assert _portrait(tmp_path / "a", tmp_path / "b", "-m", tiny_model, "-o", out, "--samples", "1", "--grid") == 0
    assert sorted(p.name for p in out.iterdir()) == ["a-voice.png", "b-voice-flac.png", "b-voice-wav.png"]
    assert read_png_metadata(out / "b-voice-flac.png")["Source"] == "voice.flac"


def test_a_name_made_to_tell_files_apart_never_takes_another_files_name(tmp_path):
    voices = _voices(tmp_path, ["a/voice.wav", "b/voice.wav", "c/a-voice.wav"])
    files = sorted(voices.rglob("*.wav"))
    stems = [names[0] for names in output_names(files, 1, as_grid=True).values()]
    assert len(set(stems)) == 3 and "a-voice.png" in stems


def test_the_same_file_given_twice_is_processed_once(tiny_model, speech_wav, tmp_path, capsys):
    link = tmp_path / "link.wav"
    link.symlink_to(speech_wav)
    files = collect_audio_files([speech_wav, tmp_path, speech_wav, link, tmp_path / "." / speech_wav.name])
    assert files == [speech_wav]
    out = tmp_path / "out"
    assert _portrait(speech_wav, speech_wav, "-m", tiny_model, "-o", out, "--samples", "1") == 0
    captured = capsys.readouterr()
    assert captured.out.split() == [str(out / "speech_0.png")]
    assert captured.err.splitlines() == [f"[1/1] {speech_wav}: 1 image"]


def test_progress_is_one_line_per_finished_file_when_stderr_is_not_a_terminal(tiny_model, tmp_path, capsys):
    voices = _voices(tmp_path / "voices", ["a.wav", "b.wav", "c.wav"])
    out = tmp_path / "out"
    assert _portrait(voices, "-m", tiny_model, "-o", out, "--samples", "2") == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines == [f"[{k}/3] {voices / name}: 2 images" for k, name in enumerate(["a.wav", "b.wav", "c.wav"], 1)]
    assert _portrait(voices, "-m", tiny_model, "-o", out, "--samples", "2", "-q") == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_outputs_follow_the_umask(tiny_model, speech_wav, tmp_path, umask):
    """Files get 0666 less the umask and folders 0777 less it, as any program's would: never the
    0600 / 0700 of the temporary names they are written under."""
    from voice2face.data.synthvox.faces import generate_face_corpus
    from voice2face.storage.checkpoint import load_pretrained, save_pretrained

    previous = os.umask(umask)
    try:
        out = tmp_path / "portraits"
        assert _portrait(speech_wav, "-m", tiny_model, "-o", out, "--samples", "1", "-q") == 0
        config, modules = load_pretrained(tiny_model)
        save_pretrained(tmp_path / "model", modules, config)
        generate_face_corpus(tmp_path / "faces", count=16, resolution=32, workers=1, progress=False)
    finally:
        os.umask(previous)
    files = [out / "speech_0.png", tmp_path / "model" / "config.json", tmp_path / "faces" / "manifest.json"]
    folders = [out, tmp_path / "model", tmp_path / "faces"]
    assert {p: stat.S_IMODE(p.stat().st_mode) for p in files} == {p: 0o666 & ~umask for p in files}
    assert {p: stat.S_IMODE(p.stat().st_mode) for p in folders} == {p: 0o777 & ~umask for p in folders}


def test_without_a_bundled_model_the_command_says_to_pass_one(speech_wav, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("voice2face.storage.layout.bundled_model_dir", lambda: tmp_path / "absent")
    assert _portrait(speech_wav, "-o", tmp_path / "out") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No bundled model" in err and "-m MODEL_DIR" in err
    assert "Traceback" not in err and not (tmp_path / "out").exists()
