"""`voice2face portrait`: PNGs that say they are synthetic, reproducible, and clean failure on bad input."""

from __future__ import annotations

import shutil

import pytest

from test_bad_input import CATALOGUE
from voice2face.cli import main
from voice2face.inference.png import IPTC_SYNTHETIC, SYNTHETIC_NOTICE, read_png_metadata

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
    assert meta["Sample"] == "1" and meta["TruncationPsi"] == "1.0"
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
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(bad) in err and "Traceback" not in err
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


def test_clashing_names_and_bad_options_are_usage_errors(tiny_model, speech_wav, tmp_path, capsys):
    other = tmp_path / "other"
    other.mkdir()
    twin = write_audio(other / "speech.wav", speech_like(2.0))
    out = tmp_path / "out"
    assert _portrait(speech_wav, twin, "-m", tiny_model, "-o", out) == 2
    assert "would both write speech_0.png" in capsys.readouterr().err
    assert _portrait(speech_wav, "-m", tiny_model, "-o", out, "--truncation", "1.5") == 2
    assert _portrait(speech_wav, "-m", tiny_model, "-o", out, "--device", "tpu9") == 2
    with pytest.raises(SystemExit):
        _portrait(speech_wav, "-m", tiny_model, "--samples", "0")
    assert not out.exists()


def test_without_a_bundled_model_the_command_says_to_pass_one(speech_wav, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("voice2face.inference.pipeline.bundled_model_dir", lambda: tmp_path / "absent")
    assert _portrait(speech_wav, "-o", tmp_path / "out") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No bundled model" in err and "-m MODEL_DIR" in err
    assert "Traceback" not in err and not (tmp_path / "out").exists()
