"""synthvox: the generative model, determinism, the written corpus, the audio path, the CLI."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image

from voice2face.audio.pipeline import load_speech, speech_features
from voice2face.cli import main
from voice2face.config import FeatureConfig, SynthVoxConfig, from_dict
from voice2face.data.manifest import load_manifest
from voice2face.data.splits import SPLITS, split_counts
from voice2face.data.synthvox import corpus, draw_identity, generate_corpus, synthesize_utterance
from voice2face.data.synthvox.traits import SEXES, item_rng
from voice2face.errors import DatasetError

from conftest import TINY_SYNTHVOX

MICRO = SynthVoxConfig(
    identities=6,
    utterances_per_identity=1,
    faces_per_identity=1,
    max_utterance_seconds=3.0,
    preview_identities=4,
    example_voices=2,
)


def _digests(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_identities_follow_the_documented_model():
    people = [draw_identity(0, index) for index in range(2000)]
    by_sex = {sex: [p for p in people if p.latent.sex == sex] for sex in SEXES}
    assert 900 < len(by_sex["male"]) < 1100
    f0 = {sex: np.array([p.voice.f0_hz for p in group]) for sex, group in by_sex.items()}
    low, high = np.percentile(f0["male"], [2.5, 97.5])
    assert 85 <= low and high <= 160, (low, high)  # adult male F0 ≈ 85–155 Hz
    low, high = np.percentile(f0["female"], [2.5, 97.5])
    assert 145 <= low and high <= 260, (low, high)  # adult female F0 ≈ 165–255 Hz, lower when older
    vtl = {sex: np.array([p.voice.vtl_cm for p in group]) for sex, group in by_sex.items()}
    assert vtl["male"].mean() - vtl["female"].mean() > 2.0
    for group in by_sex.values():  # within sex, size drives vocal-tract length, jaw and head size
        size = np.array([p.latent.size for p in group])
        assert np.corrcoef(size, [p.voice.vtl_cm for p in group])[0, 1] > 0.6
        assert np.corrcoef(size, [p.face.head_size for p in group])[0, 1] > 0.8
    ages = np.array([p.latent.age for p in people])
    assert 18 <= ages.min() and ages.max() <= 80
    assert np.corrcoef(ages, [p.face.wrinkles for p in people])[0, 1] > 0.8
    assert np.corrcoef(ages, [p.voice.jitter for p in people])[0, 1] > 0.7
    assert all(p.face.facial_hair == "none" and not p.face.bald for p in by_sex["female"])
    assert sum(p.face.facial_hair != "none" for p in by_sex["male"]) > 0.4 * len(by_sex["male"])
    assert all(p.face.sex == p.latent.sex for p in people)


def test_identities_are_drawn_from_seed_and_index_alone():
    assert draw_identity(3, 17) == draw_identity(3, 17)
    assert draw_identity(3, 17) != draw_identity(4, 17)
    assert draw_identity(3, 17).traits_dict() != draw_identity(3, 18).traits_dict()


def test_same_seed_same_bytes_whatever_the_workers_and_another_seed_differs(tmp_path):
    generate_corpus(tmp_path / "one", MICRO, workers=1)
    generate_corpus(tmp_path / "two", MICRO, workers=2)
    generate_corpus(tmp_path / "seed1", SynthVoxConfig(**{**MICRO.__dict__, "seed": 1}), workers=1)
    one, two, other = _digests(tmp_path / "one"), _digests(tmp_path / "two"), _digests(tmp_path / "seed1")
    assert one == two
    data_files = [name for name in one if name.startswith(("voices/", "faces/"))]
    assert len(data_files) == 12
    assert all(one[name] != other.get(name) for name in data_files)


def test_manifest_is_valid_with_identity_disjoint_splits(tiny_manifest):
    manifest = tiny_manifest
    assert manifest.source == "synthvox" and manifest.sample_rate == 16000 and manifest.face_resolution == 64
    assert from_dict(SynthVoxConfig, manifest.generator_config) == TINY_SYNTHVOX
    counts = split_counts(24, TINY_SYNTHVOX.split_weights)
    assert tuple(manifest.splits[s] for s in SPLITS) == counts == (18, 2, 4)
    members = {split: set(manifest.identity_ids(split)) for split in SPLITS}
    assert not (
        members["train"] & members["val"] or members["train"] & members["test"] or members["val"] & members["test"]
    )
    assert set.union(*members.values()) == {i.id for i in manifest.identities}
    for split in SPLITS:  # every file of a split belongs to one of its identities
        assert {u.identity for u in manifest.utterances_in(split)} == members[split]
        assert {f.identity for f in manifest.faces_in(split)} == members[split]
    sexes = {manifest.identity(i).attributes["sex"] for i in members["train"]}
    assert sexes == {"female", "male"}  # stratified by sex
    assert len(manifest.utterances) == 48 and len(manifest.faces) == 48
    for identity in manifest.identities:
        assert identity.attributes["age"] == identity.traits["latent"]["age"]
        assert set(identity.traits) == {"latent", "voice", "face"}


def test_manifest_holds_ceiling_and_chance(tiny_manifest):
    ceiling, chance = tiny_manifest.ceiling, tiny_manifest.chance
    n = tiny_manifest.splits["test"]
    assert chance == {
        "split": "test",
        "identities": n,
        "matching_1v2": 0.5,
        "recall_at_1": 1 / n,
        "recall_at_5": 1.0,
        "recall_at_10": 1.0,
    }
    assert ceiling["split"] == "test" and ceiling["identities"] == n
    for key in ("matching_1v2", "recall_at_1", "recall_at_5", "recall_at_10"):
        assert chance[key] <= ceiling[key] <= 1.0
    assert ceiling["matching_1v2"] >= ceiling["references"]["sex_only"]["matching_1v2"]


def test_voices_pass_the_audio_pipeline_and_the_vad_finds_the_silences(tiny_manifest):
    found_both, lead_errors = 0, []
    for utterance in tiny_manifest.utterances:
        path = tiny_manifest.file(utterance)
        info = soundfile.info(str(path))
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
        assert abs(info.frames / 16000 - utterance.seconds) < 1e-3
        assert 2.0 <= utterance.seconds <= 5.0
        speech = load_speech(path)
        for kind in ("mfcc", "logmel"):
            features = speech_features(speech, FeatureConfig(kind=kind))
            assert np.isfinite(features).all() and features.shape[1] > 50
        start = speech.segments[0].start / 16000
        end = speech.segments[-1].end / 16000
        lead, trail = utterance.info["speech_start"], utterance.seconds - utterance.info["speech_end"]
        assert lead >= 0.29 and trail >= 0.29  # every file has silence to find
        if start > 0.1 and utterance.seconds - end > 0.05:
            found_both += 1
        lead_errors.append(start - lead)
        assert end >= utterance.info["speech_end"]  # never cuts speech off at the end
    assert found_both >= 0.9 * len(tiny_manifest.utterances)
    # webrtc marks speech from ~0.1 s before the drawn onset (its frames plus the VAD padding)
    assert -0.2 < float(np.median(lead_errors)) < 0.05


def test_faces_preview_and_examples(tiny_corpus, tiny_manifest):
    for face in tiny_manifest.faces:
        with Image.open(tiny_manifest.file(face)) as image:
            assert image.format == "PNG" and image.mode == "RGB" and image.size == (64, 64)
            assert np.asarray(image).std() > 20  # a drawing, not a flat colour
    with Image.open(tiny_corpus / "preview.png") as preview:
        assert preview.size == (8 * 128, 128 + 30)  # 8 labelled tiles in one row
    examples = sorted((tiny_corpus / "examples").glob("*.wav"))
    assert [p.name.split("-")[0] for p in examples] == ["female", "male"]
    utterance_bytes = {tiny_manifest.file(u).read_bytes() for u in tiny_manifest.utterances}
    assert all(p.read_bytes() in utterance_bytes for p in examples)


def test_higher_resolution_faces(tmp_path):
    config = SynthVoxConfig(**{**MICRO.__dict__, "identities": 3, "resolution": 128, "preview_identities": 0})
    manifest = generate_corpus(tmp_path / "hires", config, workers=1)
    with Image.open(manifest.file(manifest.faces[0])) as image:
        assert image.size == (128, 128)
    assert not (tmp_path / "hires" / "preview.png").exists()


def test_refuses_a_non_empty_folder_and_overwrite_replaces_it(tmp_path):
    out = tmp_path / "corpus"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(DatasetError, match="exists and is not empty"):
        generate_corpus(out, MICRO, workers=1)
    assert (out / "keep.txt").read_text() == "mine"
    generate_corpus(out, MICRO, workers=1, overwrite=True)
    assert not (out / "keep.txt").exists() and load_manifest(out).splits["train"] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus"]  # no staging or old folders left


def test_an_interrupted_run_leaves_nothing_that_looks_like_a_dataset(tmp_path, monkeypatch):
    calls = []

    def failing_render(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_render(*args, **kwargs)

    real_render = corpus.render_face
    monkeypatch.setattr(corpus, "render_face", failing_render)
    with pytest.raises(KeyboardInterrupt):
        generate_corpus(tmp_path / "corpus", MICRO, workers=1)
    assert list(tmp_path.iterdir()) == []


def test_cli_writes_a_corpus_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "sv"
    argv = ["synth-corpus", str(out), "--identities", "6", "--utterances-per-identity", "1"]
    argv += ["--faces-per-identity", "1", "--workers", "1", "-q"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    manifest = load_manifest(out)
    assert manifest.generator_config["identities"] == 6 and manifest.generator_config["resolution"] == 64
    assert f"wrote:     {out / 'manifest.json'}" in printed
    assert "identities train/val/test 4/1/1" in printed
    before = (out / "manifest.json").read_bytes()
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--overwrite" in err and "Traceback" not in err
    assert (out / "manifest.json").read_bytes() == before


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["--resolution", "300"], 2),
        (["--resolution", "16"], 2),
        (["--identities", "2"], 2),
        (["--identities", "0"], 2),
        (["--workers", "0"], 2),
        (["--seed", "-1"], 2),
    ],
)
def test_cli_rejects_bad_options(tmp_path, argv, code, capsys):
    out = tmp_path / "sv"
    try:
        result = main(["synth-corpus", str(out), *argv])
    except SystemExit as exit_:  # argparse's own usage errors
        result = exit_.code
    assert result == code
    assert not out.exists()


def test_generator_config_is_json_and_reproduces_the_corpus(tiny_corpus):
    data = json.loads((tiny_corpus / "manifest.json").read_text())
    assert data["format"] == "voice2face-dataset" and data["version"] == 1
    assert from_dict(SynthVoxConfig, data["generator_config"]) == TINY_SYNTHVOX


def _loud_frames(signal: np.ndarray, size: int, hop: int) -> np.ndarray:
    frames = np.lib.stride_tricks.sliding_window_view(signal.astype(np.float64), size)[::hop]  # [T, size]
    energy = (frames**2).mean(axis=1)
    return frames[energy > np.percentile(energy, 70)]


def _spectral_centroid(signal: np.ndarray, low: float = 250.0, high: float = 4000.0) -> float:
    power = np.abs(np.fft.rfft(_loud_frames(signal, 1024, 256) * np.hanning(1024), axis=1)) ** 2
    freqs = np.fft.rfftfreq(1024, 1 / 16000)
    band = (freqs >= low) & (freqs <= high)
    spectrum = power[:, band].mean(axis=0)
    return float((freqs[band] * spectrum).sum() / spectrum.sum())


def _high_band_db(signal: np.ndarray) -> float:
    power = np.abs(np.fft.rfft(_loud_frames(signal, 512, 128) * np.hanning(512), axis=1)) ** 2
    freqs = np.fft.rfftfreq(512, 1 / 16000)
    return float(10 * np.log10(power[:, freqs > 3500].sum() / power[:, (freqs > 100) & (freqs < 1500)].sum()))


def _voices(voice, count: int = 3) -> list[np.ndarray]:
    rng = [item_rng(9, 0, 1, k) for k in range(count)]
    return [synthesize_utterance(voice, r, seconds=5.0, snr_db=(40.0, 40.0))[0] for r in rng]


def test_formants_scale_inversely_with_vocal_tract_length():
    base = replace(draw_identity(0, 1).voice, f0_hz=150.0)
    short = np.mean([_spectral_centroid(x) for x in _voices(replace(base, vtl_cm=14.0))])
    long = np.mean([_spectral_centroid(x) for x in _voices(replace(base, vtl_cm=17.5))])
    assert short / long == pytest.approx(17.5 / 14.0, rel=0.05)


def test_breathiness_and_tremor_are_audible():
    base = replace(draw_identity(0, 1).voice, f0_hz=120.0, jitter=0.004, shimmer=0.03, tremor=0.0)
    modal = np.mean([_high_band_db(x) for x in _voices(replace(base, breathiness=0.1))])
    breathy = np.mean([_high_band_db(x) for x in _voices(replace(base, breathiness=0.7))])
    assert breathy - modal > 4.0  # aspiration noise fills the band above 3.5 kHz
    steady = np.mean([_f0_wobble(x) for x in _voices(replace(base, breathiness=0.1))])
    shaky = np.mean([_f0_wobble(x) for x in _voices(replace(base, breathiness=0.1, tremor=0.04))])
    assert shaky > 1.5 * steady  # a 4% tremor at 4.5–6.5 Hz shakes F0 from frame to frame


def _f0_wobble(signal: np.ndarray) -> float:
    """Median |Δ ln F0| between consecutive 10 ms frames (autocorrelation pitch, interpolated lag)."""
    size = 640
    frames = np.lib.stride_tricks.sliding_window_view(signal.astype(np.float64), size)[::160]
    frames = frames - frames.mean(axis=1, keepdims=True)
    power = np.abs(np.fft.rfft(frames * np.hanning(size), 2 * size, axis=1)) ** 2
    autocorrelation = np.fft.irfft(power, axis=1)[:, :size]
    autocorrelation /= autocorrelation[:, :1] + 1e-12
    rows = np.arange(frames.shape[0])
    lag = 40 + np.argmax(autocorrelation[:, 40:267], axis=1)  # 60–400 Hz
    before, peak, after = (autocorrelation[rows, lag + k] for k in (-1, 0, 1))
    fine_lag = lag + 0.5 * (before - after) / (before - 2 * peak + after - 1e-12)
    log_f0 = np.where(peak > 0.6, np.log(16000 / fine_lag), np.nan)
    return float(np.nanmedian(np.abs(np.diff(log_f0))))
