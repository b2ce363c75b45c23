"""Voice-activity detection: finds speech and the silences around it; fallback rules."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from voice2face.audio import vad
from voice2face.audio.vad import detect_speech, resolve_backend, speech_only
from voice2face.config import VADConfig
from voice2face.errors import ConfigError, NoSpeechError

from conftest import SR, speech_like


@pytest.mark.parametrize("backend", ["webrtc", "energy"])
@pytest.mark.parametrize("frame_ms", [10, 20, 30])
def test_finds_speech_between_leading_and_trailing_silence(backend, frame_ms):
    signal = speech_like(3.0, lead=1.0, trail=1.5)
    result = detect_speech(signal, SR, VADConfig(backend=backend, frame_ms=frame_ms))
    assert result.backend == backend
    start, _ = result.segments[0].seconds(SR)
    _, end = result.segments[-1].seconds(SR)
    assert 0.75 <= start <= 1.05, start
    assert 3.95 <= end <= 4.35, end
    assert 2.8 <= result.speech_seconds <= 3.5
    kept = np.concatenate([signal[s.start : s.end] for s in result.segments])
    np.testing.assert_array_equal(result.speech, kept)


def test_higher_aggressiveness_keeps_no_more():
    signal = speech_like(4.0, lead=0.5, trail=0.5, noise_db=-35.0, seed=3)
    kept = [detect_speech(signal, SR, VADConfig(aggressiveness=a)).speech_seconds for a in range(4)]
    assert kept == sorted(kept, reverse=True)


def test_silence_gives_no_segments_and_speech_only_raises():
    zeros = np.zeros(2 * SR, dtype=np.float32)
    for backend in ("webrtc", "energy"):
        assert detect_speech(zeros, SR, VADConfig(backend=backend)).segments == ()
    with pytest.raises(NoSpeechError, match=r"No speech found in quiet\.wav"):
        speech_only(zeros, SR, source="quiet.wav")


def test_unsupported_webrtc_rate_is_analysed_at_16k():
    sr = 22050
    signal = speech_like(2.0, sr=sr, lead=1.0, trail=1.0)
    result = detect_speech(signal, sr)
    start, _ = result.segments[0].seconds(sr)
    assert 0.75 <= start <= 1.05 and result.sample_rate == sr


def test_energy_fallback_only_when_webrtcvad_is_missing_and_logged_once(monkeypatch, caplog):
    def broken():
        raise ImportError("No module named 'webrtcvad'")

    monkeypatch.setattr(vad, "_import_webrtcvad", broken)
    monkeypatch.setattr(vad, "_fallback_warned", False)
    with caplog.at_level(logging.WARNING, logger="voice2face.audio.vad"):
        first = detect_speech(speech_like(2.0, lead=0.5), SR)
        second = detect_speech(speech_like(2.0, lead=0.5), SR)
    assert first.backend == second.backend == "energy"
    assert caplog.text.count("using the energy-based VAD") == 1
    with pytest.raises(ConfigError, match="webrtcvad-wheels"):
        resolve_backend("webrtc")


def test_webrtc_is_used_when_importable():
    assert resolve_backend("auto") == "webrtc"
    assert resolve_backend("energy") == "energy"


@pytest.mark.parametrize("kwargs", [{"frame_ms": 25}, {"aggressiveness": 4}, {"backend": "silero"}, {"padding_ms": -1}])
def test_bad_vad_options_are_config_errors(kwargs):
    with pytest.raises(ConfigError):
        VADConfig(**kwargs)
