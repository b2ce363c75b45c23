"""The VoiceToFace API: determinism under a seed, waveform input, long and short speech, bad input."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from test_bad_input import CATALOGUE
from voice2face.config import InferenceConfig
from voice2face.errors import AudioError, CheckpointError, ConfigError
from voice2face.inference.pipeline import VoiceToFace

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
    monkeypatch.setattr("voice2face.inference.pipeline.bundled_model_dir", lambda: tmp_path / "absent")
    with pytest.raises(CheckpointError, match="No bundled model") as info:
        VoiceToFace.from_pretrained()
    assert "\n" not in str(info.value) and "-m MODEL_DIR" in str(info.value)


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
