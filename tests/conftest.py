"""Shared fixtures: speech-like test signals, audio files written on the fly, and a tiny synthvox corpus."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import soundfile
from scipy.signal import lfilter

from voice2face.config import SynthVoxConfig
from voice2face.data.manifest import Manifest, load_manifest
from voice2face.data.synthvox import generate_corpus

SR = 16000


def _resonator(signal: np.ndarray, freq: float, bandwidth: float, sr: int) -> np.ndarray:
    """Second-order resonance (one formant) with unity gain at DC."""
    r = np.exp(-np.pi * bandwidth / sr)
    a = [1.0, -2.0 * r * np.cos(2 * np.pi * freq / sr), r * r]
    return lfilter([sum(a)], a, signal)


def speech_like(
    seconds: float = 3.0,
    *,
    sr: int = SR,
    f0: float = 120.0,
    seed: int = 0,
    lead: float = 0.0,
    trail: float = 0.0,
    noise_db: float = -60.0,
) -> np.ndarray:
    """A babbling source–filter signal: voiced syllables with moving formants and fricatives.

    ``lead``/``trail`` seconds of near-silence (noise at ``noise_db`` dBFS) surround it.
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    pitch = f0 * (1 + 0.08 * np.sin(2 * np.pi * 0.7 * t) + 0.01 * rng.standard_normal(n).cumsum() / np.sqrt(n))
    phase = np.cumsum(pitch / sr)
    source = np.diff(np.floor(phase), prepend=0.0)  # one impulse per glottal cycle
    source = lfilter([1.0], [1.0, -0.95], source)  # glottal roll-off
    vowels = [(730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480), (570, 840, 2410)]
    syllable = 0.22
    voiced = np.zeros(n)
    for i, start in enumerate(range(0, n, int(syllable * sr))):
        stop = min(n, start + int(syllable * sr))
        f1, f2, f3 = vowels[rng.integers(len(vowels))]
        segment = source[start:stop]
        out = _resonator(segment, f1, 80, sr) + 0.5 * _resonator(segment, f2, 100, sr)
        out += 0.25 * _resonator(segment, f3, 120, sr)
        envelope = np.sin(np.pi * np.linspace(0, 1, stop - start)) ** 0.6
        if i % 3 == 2:  # a fricative instead of a vowel
            out = lfilter([1, -1], [1], rng.standard_normal(stop - start)) * 0.05
        voiced[start:stop] = out * envelope
    voiced /= np.abs(voiced).max() + 1e-9
    voiced *= 0.5
    parts = [np.zeros(int(lead * sr)), voiced, np.zeros(int(trail * sr))]
    signal = np.concatenate(parts)
    signal += 10 ** (noise_db / 20) * rng.standard_normal(signal.size)
    return signal.astype(np.float32)


def write_audio(path: Path, signal: np.ndarray, sr: int = SR, subtype: str = "PCM_16", **kwargs) -> Path:
    """Write ``signal`` ([N] or [N, C]) with soundfile and return the path."""
    soundfile.write(str(path), signal, sr, subtype=subtype, **kwargs)
    return path


@pytest.fixture
def speech_wav(tmp_path: Path) -> Path:
    """3 s of speech-like audio with 1 s of quiet before and after, 16 kHz 16-bit."""
    return write_audio(tmp_path / "speech.wav", speech_like(3.0, lead=1.0, trail=1.0))


@pytest.fixture
def python_sigint():
    """SIGINT handled as an interactive Python does (KeyboardInterrupt) for this test, whatever the
    runner inherited: a suite started in the background (nohup, `&`) inherits SIGINT ignored."""
    import signal

    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


@pytest.fixture(scope="session")
def example_wav() -> Path:
    """The example recording shipped inside the package."""
    return Path(str(resources.files("voice2face") / "assets" / "examples" / "example_voice.wav"))


# ------------------------------------------------------------------ synthvox corpora for tests

#: A corpus small enough to generate in a few seconds: 24 people (18/2/4 train/val/test),
#: two 2–5 s recordings and two 64 px faces each. Other tests (training, metrics) use it too.
TINY_SYNTHVOX = SynthVoxConfig(
    identities=24,
    utterances_per_identity=2,
    faces_per_identity=2,
    max_utterance_seconds=5.0,
    preview_identities=8,
    example_voices=2,
)


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    """The folder of a :data:`TINY_SYNTHVOX` corpus, generated once per test session (read-only)."""
    out = tmp_path_factory.mktemp("synthvox") / "tiny"
    generate_corpus(out, TINY_SYNTHVOX, workers=1)
    return out


@pytest.fixture(scope="session")
def tiny_manifest(tiny_corpus) -> Manifest:
    """The validated manifest of :func:`tiny_corpus`."""
    return load_manifest(tiny_corpus)


# ------------------------------------------------------------------ a tiny model folder for inference tests

#: Networks small enough that one portrait takes milliseconds: 16-d voice embedding, 16 px faces.
TINY_MODEL = dict(
    encoder=dict(input_dim=39, embedding_dim=16, width_multiplier=0.125, blocks_per_stage=(1, 1, 1, 1)),
    generator=dict(z_dim=8, c_dim=16, w_dim=16, img_resolution=16, channel_base=256, channel_max=16, mapping_layers=1),
)


def make_model_folder(directory: Path, seed: int = 0) -> Path:
    """Write a model folder of freshly built (untrained) tiny networks: config.json + safetensors."""
    import torch

    from voice2face.config import FeatureConfig, GeneratorConfig, MFCCConfig, ModelConfig, VoiceEncoderConfig
    from voice2face.models import build_generator, build_voice_encoder
    from voice2face.storage.checkpoint import save_pretrained

    torch.manual_seed(seed)
    config = ModelConfig(
        features=FeatureConfig(kind="mfcc", mfcc=MFCCConfig(normalize=True)),
        voice_encoder=VoiceEncoderConfig(**TINY_MODEL["encoder"]),
        generator=GeneratorConfig(**TINY_MODEL["generator"]),
    )
    modules = {
        "voice_encoder": build_voice_encoder(config.voice_encoder),
        "generator": build_generator(config.generator),
    }
    save_pretrained(directory, modules, config)
    return directory


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny untrained model folder (voice encoder + generator), made once per session (read-only)."""
    return make_model_folder(tmp_path_factory.mktemp("models") / "tiny-model")


# ------------------------------------------------------------------ tiny trained runs (tests/tiny_runs.py)


@pytest.fixture(scope="session")
def tiny_encoder_run(tiny_corpus, tmp_path_factory) -> Path:
    """A stage-1 run of :func:`tiny_runs.tiny_preset` on :func:`tiny_corpus`, trained once per session (read-only)."""
    from voice2face.training.runner import train_encoder

    from tiny_runs import tiny_preset

    return train_encoder(tiny_preset(), tiny_corpus, tmp_path_factory.mktemp("encoder-runs"), progress=False)


@pytest.fixture(scope="session")
def tiny_gan_run(tiny_corpus, tiny_encoder_run, tmp_path_factory) -> Path:
    """A finished stage-2 run (24 images, fakes grids, model/) on the tiny encoder; copy it before changing it."""
    from voice2face.training.runner import train_generator

    from tiny_runs import tiny_preset

    out = tmp_path_factory.mktemp("gan-runs")
    return train_generator(tiny_preset(), tiny_corpus, out, encoder=tiny_encoder_run, progress=False)
