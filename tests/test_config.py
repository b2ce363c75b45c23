"""Configs: JSON round trip, strict keys, range checks."""

from __future__ import annotations

import json

import pytest

from voice2face.config import FeatureConfig, LogMelConfig, MFCCConfig, load_json, save_json
from voice2face.errors import ConfigError


def test_round_trip_through_json(tmp_path):
    config = FeatureConfig(kind="logmel", mfcc=MFCCConfig(n_ceps=20, n_mels=40), logmel=LogMelConfig(n_mels=80))
    path = tmp_path / "features.json"
    save_json(config, path)
    assert load_json(FeatureConfig, path) == config
    assert not [p for p in tmp_path.iterdir() if p.name != "features.json"]


def test_unknown_keys_and_bad_json_name_the_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"kind": "mfcc", "mfcc": {"n_cepz": 13}}))
    with pytest.raises(ConfigError, match=r"bad\.json\.mfcc has unknown field\(s\) n_cepz"):
        load_json(FeatureConfig, path)
    path.write_text("{not json")
    with pytest.raises(ConfigError, match=r"bad\.json is not valid JSON"):
        load_json(FeatureConfig, path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_json(FeatureConfig, tmp_path / "missing.json")


def test_feature_dims():
    assert FeatureConfig(kind="mfcc").dim == 39
    assert FeatureConfig(kind="logmel").dim == 64
    with pytest.raises(ConfigError, match="feature kind"):
        FeatureConfig(kind="spectrogram")
