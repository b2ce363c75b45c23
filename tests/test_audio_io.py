"""load_audio: formats, bit depths, channels, rates, resampling quality, ffmpeg route."""

from __future__ import annotations

import logging
import shutil
import subprocess

import numpy as np
import pytest

from voice2face.audio import io as audio_io
from voice2face.audio.io import load_audio, prepare_waveform, resample
from voice2face.errors import AudioError

from conftest import SR, speech_like, write_audio


def _tone(freq: float, sr: int, seconds: float = 1.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _dominant_hz(signal: np.ndarray, sr: int) -> float:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(signal.size)))
    return float(np.fft.rfftfreq(signal.size, 1 / sr)[spectrum.argmax()])


@pytest.mark.parametrize(
    ("ext", "subtype", "sr", "channels"),
    [
        ("wav", "PCM_U8", 8000, 2),
        ("wav", "PCM_16", 16000, 1),
        ("wav", "PCM_24", 48000, 1),
        ("wav", "PCM_32", 22050, 2),
        ("wav", "FLOAT", 44100, 1),
        ("wav", "DOUBLE", 32000, 6),
        ("flac", "PCM_16", 32000, 2),
        ("flac", "PCM_24", 96000, 1),
        ("ogg", "VORBIS", 16000, 1),
    ],
)
def test_formats_decode_to_16k_mono_float(tmp_path, ext, subtype, sr, channels):
    tone = _tone(440.0, sr)
    signal = np.stack([tone] * channels, axis=1) if channels > 1 else tone
    path = write_audio(tmp_path / f"tone.{ext}", signal, sr, subtype=subtype)
    out = load_audio(path)
    assert out.dtype == np.float32 and out.ndim == 1
    assert abs(out.size - SR) <= 2
    assert np.abs(out).max() <= 1.0
    assert abs(_dominant_hz(out, SR) - 440.0) < 2.0
    tolerance = 0.05 if subtype in ("PCM_U8", "VORBIS") else 0.01
    assert abs(np.sqrt(np.mean(out**2)) - 0.5 / np.sqrt(2)) < tolerance


def test_channels_are_averaged(tmp_path):
    left, right = _tone(300.0, SR), _tone(1000.0, SR, amplitude=0.25)
    path = write_audio(tmp_path / "stereo.wav", np.stack([left, right], axis=1), SR, subtype="FLOAT")
    np.testing.assert_allclose(load_audio(path), (left + right) / 2, atol=1e-6)


def test_resampling_removes_content_above_the_new_nyquist():
    sr = 48000
    mixture = _tone(440.0, sr, 2.0) + _tone(12000.0, sr, 2.0)  # 12 kHz would alias to 4 kHz
    out = resample(mixture, sr, SR)
    spectrum = np.abs(np.fft.rfft(out * np.hanning(out.size)))
    freqs = np.fft.rfftfreq(out.size, 1 / SR)
    alias = spectrum[np.abs(freqs - 4000.0) < 20].max()
    assert 20 * np.log10(alias / spectrum.max()) < -60.0


def test_uint8_and_int16_arrays_are_scaled_to_full_range():
    full = np.array([0, 128, 255], dtype=np.uint8)
    np.testing.assert_allclose(prepare_waveform(full, SR), [-1.0, 0.0, 127 / 128], atol=1e-7)
    pcm = np.array([-32768, 0, 16384], dtype=np.int16)
    np.testing.assert_allclose(prepare_waveform(pcm, SR), [-1.0, 0.0, 0.5], atol=1e-7)


def test_float_beyond_full_scale_is_scaled_down_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="voice2face.audio.io"):
        out = prepare_waveform(np.array([0.0, 2.0, -1.0], dtype=np.float32), SR, source="loud")
    np.testing.assert_allclose(out, [0.0, 1.0, -0.5])
    assert "loud peaks at 2.00" in caplog.text


def test_compressed_format_without_ffmpeg_says_to_install_it(tmp_path, monkeypatch):
    path = tmp_path / "voice.m4a"
    path.write_bytes(b"\x00\x00\x00\x20ftypM4A " + bytes(range(200)))
    monkeypatch.setattr(audio_io.shutil, "which", lambda name: None)
    with pytest.raises(AudioError, match=r"voice\.m4a is m4a audio, which needs ffmpeg.*install ffmpeg"):
        load_audio(path)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg binary not on PATH (apt-get install ffmpeg)")
@pytest.mark.parametrize("ext", ["mp3", "m4a"])
def test_compressed_formats_decode_through_ffmpeg(tmp_path, ext):
    wav = write_audio(tmp_path / "src.wav", speech_like(2.0, sr=22050), 22050)
    target = tmp_path / f"voice.{ext}"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), str(target)], check=True)
    out = load_audio(target)
    assert out.dtype == np.float32 and out.ndim == 1
    assert abs(out.size / SR - 2.0) < 0.1  # encoders add a little padding
    assert 0.1 < np.abs(out).max() <= 1.0


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg binary not on PATH (apt-get install ffmpeg)")
def test_corrupt_compressed_file_names_it(tmp_path):
    path = tmp_path / "broken.mp3"
    path.write_bytes(np.random.default_rng(0).bytes(4000))
    with pytest.raises(AudioError, match=r"broken\.mp3"):
        load_audio(path)
