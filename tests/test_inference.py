"""The VoiceToFace API: determinism under a seed, waveform input, long and short speech, bad input."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile
from PIL import Image

from test_bad_input import CATALOGUE
from voice2face.config import InferenceConfig
from voice2face.errors import AudioError, CheckpointError, ConfigError, NonSpeechError, OutputError
from voice2face.inference.pipeline import VoiceToFace
from voice2face.inference.portrait import write_portraits
from voice2face.storage.png import IPTC_SYNTHETIC, SYNTHETIC_NOTICE, read_png_metadata

from conftest import SR, TINY_MODEL, speech_like


@pytest.fixture(scope="module")
def pipe(tiny_model) -> VoiceToFace:
    return VoiceToFace.from_pretrained(tiny_model)


def _pixels(images) -> np.ndarray:
    return np.stack([np.asarray(image) for image in images])  # [N, R, R, 3]


def test_same_seed_same_faces_and_different_seeds_differ(pipe, speech_wav):
    first = pipe(speech_wav, num_samples=3, seed=7)
    assert len(first) == 3 and all(image.size == (16, 16) and image.mode == "RGB" for image in first)
    assert np.array_equal(_pixels(first), _pixels(pipe(speech_wav, num_samples=3, seed=7)))
    assert not np.array_equal(_pixels(first), _pixels(pipe(speech_wav, num_samples=3, seed=8)))
    # Sample k has the same latent whatever the number asked for (pixels may differ by float rounding).
    alone = _pixels(pipe(speech_wav, num_samples=1, seed=7))[0].astype(int)
    assert np.abs(alone - _pixels(first)[0]).max() <= 2
    # The faces of one call differ from each other (different latents).
    assert not np.array_equal(_pixels(first)[0], _pixels(first)[1])


def test_numpy_waveform_gives_the_file_result(pipe, speech_wav):
    samples, rate = soundfile.read(str(speech_wav), dtype="float32")
    assert np.allclose(pipe.embed(samples, sample_rate=rate), pipe.embed(speech_wav), atol=1e-6)
    from_array = pipe(samples, num_samples=2, seed=1, sample_rate=rate)
    assert np.array_equal(_pixels(from_array), _pixels(pipe(speech_wav, num_samples=2, seed=1)))
    with pytest.raises(ConfigError, match="sample_rate"):
        pipe(samples)


def test_long_speech_is_split_into_windows_whose_embeddings_are_averaged(pipe):
    signal = speech_like(40.0, seed=3)
    speech = pipe.speech(signal, SR)
    windows = pipe.windows(speech)
    fps = pipe.config.features.frames_per_second
    assert windows.shape[0] == 5 and windows.shape[1] == 39
    assert 7.0 * fps <= windows.shape[2] <= 8.0 * fps
    embedding = pipe.embed(signal, sample_rate=SR)
    assert embedding.shape == (TINY_MODEL["encoder"]["embedding_dim"],) and np.isfinite(embedding).all()
    assert np.allclose(embedding, pipe.encode(windows).mean(0).numpy(), atol=1e-6)
    assert len(pipe(signal, num_samples=2, sample_rate=SR)) == 2


def test_short_speech_is_tiled_to_the_minimum(pipe):
    signal = speech_like(1.0, seed=4)
    windows = pipe.windows(pipe.speech(signal, SR))
    assert windows.shape == (1, 39, round(3.0 * pipe.config.features.frames_per_second))
    assert len(pipe(signal, num_samples=1, sample_rate=SR)) == 1


def test_generate_takes_embeddings(pipe):
    dim = pipe.embedding_dim
    embeddings = np.random.default_rng(0).standard_normal((5, dim)).astype(np.float32)
    images = pipe.generate(embeddings, seed=3, truncation_psi=0.5)
    assert len(images) == 5
    tensors = pipe.generate_tensors(embeddings, seed=3)  # [5, 3, 16, 16]
    assert tensors.shape == (5, 3, 16, 16) and tensors.min() >= -1 and tensors.max() <= 1
    # Batching is a memory setting: a batch of 2 gives the same faces up to float rounding.
    small = VoiceToFace(pipe.config, pipe.voice_encoder, pipe.generator, inference=InferenceConfig(batch_size=2))
    difference = _pixels(small.generate(embeddings, seed=3)).astype(int) - _pixels(pipe.generate(embeddings, seed=3))
    assert np.abs(difference).max() <= 2
    assert len(pipe.generate(embeddings[0])) == 1
    for bad in (np.zeros((2, dim + 1)), np.full((1, dim), np.nan)):
        with pytest.raises(ConfigError):
            pipe.generate(bad)


def test_bad_options_are_config_errors(pipe, speech_wav):
    for kwargs in ({"num_samples": 0}, {"truncation_psi": 1.5}, {"seed": -1}):
        with pytest.raises(ConfigError):
            pipe(speech_wav, **kwargs)


def test_run_folder_is_accepted_and_a_missing_bundled_model_is_explained(tiny_model, tmp_path, monkeypatch):
    shutil.copytree(tiny_model, tmp_path / "00001-run" / "model")
    pipe = VoiceToFace.from_pretrained(tmp_path / "00001-run")
    assert pipe.name == "00001-run/model"
    # An installation whose bundled model was removed (e.g. a slimmed package).
    monkeypatch.setattr("voice2face.storage.layout.bundled_model_dir", lambda: tmp_path / "absent")
    with pytest.raises(CheckpointError, match="No bundled model") as info:
        VoiceToFace.from_pretrained()
    assert "\n" not in str(info.value) and "-m MODEL_DIR" in str(info.value)


def test_a_voice_encoder_alone_embeds_and_says_it_draws_no_faces(tiny_encoder_run, speech_wav, tmp_path):
    """A train-encoder run loads to embed voices; asking it for faces names the folder and the fix."""
    pipe = VoiceToFace.from_pretrained(tiny_encoder_run)
    assert pipe.generator is None and not pipe.has_generator and pipe.name == f"{tiny_encoder_run.name}/model"
    embedding = pipe.embed(speech_wav)
    assert embedding.shape == (pipe.embedding_dim,) and np.isfinite(embedding).all()
    assert np.array_equal(embedding, VoiceToFace.from_pretrained(tiny_encoder_run / "model").embed(speech_wav))
    out = tmp_path / "out"
    for draw in (
        lambda: pipe(speech_wav, num_samples=1),
        lambda: pipe.generate(embedding[None]),
        lambda: write_portraits(pipe, [speech_wav], out, progress=False),
    ):
        with pytest.raises(CheckpointError) as info:
            draw()
        message = str(info.value)
        assert str(tiny_encoder_run / "model") in message and "voice encoder only" in message
        assert "voice2face train --encoder" in message and "\n" not in message and message.endswith(".")
    assert not out.exists()


@pytest.mark.parametrize("case", list(CATALOGUE))
def test_api_rejects_the_bad_input_catalogue_in_one_sentence(pipe, tmp_path, case):
    build, phrase = CATALOGUE[case]
    path = build(tmp_path)
    with pytest.raises(AudioError) as info:
        pipe(path, num_samples=1)
    message = str(info.value)
    assert phrase in message and str(path) in message
    assert "\n" not in message and message.endswith(".")


def test_import_stays_light_until_the_pipeline_is_used():
    code = (
        "import sys, voice2face; assert 'torch' not in sys.modules, 'torch imported eagerly'; "
        "from voice2face import VoiceToFace; assert 'torch' in sys.modules; print(VoiceToFace.__name__)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "VoiceToFace"


def test_save_writes_marked_pngs_that_record_how_each_face_was_made(pipe, speech_wav, tmp_path):
    faces = pipe(speech_wav, num_samples=2, seed=7, truncation_psi=0.5)
    assert faces[1].info["Description"] == SYNTHETIC_NOTICE and faces[1].info["Sample"] == "1"
    paths = pipe.save(faces, tmp_path / "new" / "folder", name="voice")
    assert paths == [tmp_path / "new" / "folder" / f"voice_{k}.png" for k in range(2)]
    meta = read_png_metadata(paths[1])
    assert meta["Description"] == SYNTHETIC_NOTICE and IPTC_SYNTHETIC in meta["XML:com.adobe.xmp"]
    assert meta["Model"] == pipe.name and meta["Seed"] == "7" and meta["Sample"] == "1"
    assert meta["TruncationPsi"] == "0.5" and meta["Source"] == "speech.wav"
    with Image.open(paths[0]) as reopened:
        assert np.array_equal(np.asarray(reopened), np.asarray(faces[0]))
    # Faces from embeddings say what they can (no source); a plain PIL save keeps none of it.
    more = pipe.generate(pipe.embed(speech_wav)[None], seed=3)
    meta = read_png_metadata(pipe.save(more, tmp_path, name="more")[0])
    assert meta["Seed"] == "3" and meta["Sample"] == "0" and "Source" not in meta
    more[0].save(tmp_path / "plain.png")
    assert "Description" not in read_png_metadata(tmp_path / "plain.png")


def test_save_refuses_a_bad_name_or_folder_and_leaves_nothing(pipe, speech_wav, tmp_path):
    faces = pipe(speech_wav, num_samples=1)
    for bad in ("", "../up", "a/b", ".hidden"):
        with pytest.raises(ConfigError, match="plain file-name stem"):
            pipe.save(faces, tmp_path / "out", name=bad)
    (tmp_path / "a-file").write_text("in the way")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        pipe.save(faces, tmp_path / "a-file" / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "speech.wav"]


def test_non_speech_is_refused_unless_the_inference_config_allows_it(pipe, tmp_path, caplog):
    noise = 0.3 * np.random.default_rng(0).standard_normal(3 * SR).astype(np.float32)
    with pytest.raises(NonSpeechError, match="the waveform does not sound like speech"):
        pipe(noise, num_samples=1, sample_rate=SR)
    lenient = VoiceToFace(
        pipe.config, pipe.voice_encoder, pipe.generator, inference=InferenceConfig(allow_non_speech=True)
    )
    with caplog.at_level(logging.WARNING):
        assert len(lenient(noise, num_samples=1, sample_rate=SR)) == 1
    assert any("does not sound like speech" in r.getMessage() for r in caplog.records)
