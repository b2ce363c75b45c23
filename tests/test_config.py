"""Configs: JSON round trip, strict keys, range checks in every domain, and no torch on import."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from voice2face.config import (
    AudioConfig,
    CropConfig,
    EncoderTrainingConfig,
    EvaluationConfig,
    FaceCNNConfig,
    FeatureConfig,
    GANTrainingConfig,
    GeneratorConfig,
    InferenceConfig,
    LogMelConfig,
    MFCCConfig,
    ModelConfig,
    PPLConfig,
    SynthVoxConfig,
    VADConfig,
    VoiceEncoderConfig,
    from_dict,
    load_json,
    save_json,
)
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


def test_importing_config_does_not_import_torch():
    """The CLI, run folders and model folders read configs without building anything."""
    code = "import sys, voice2face.config; print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]", proc.stdout


DOMAINS = ("base", "audio", "models", "training", "metrics", "data", "inference", "evaluation")


def test_the_package_re_exports_every_public_name_of_its_domains():
    import voice2face.config as package

    for domain in DOMAINS:
        module = importlib.import_module(f"voice2face.config.{domain}")
        defined = [
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and getattr(value, "__module__", module.__name__) == module.__name__
            and not isinstance(value, type(package))
            and name not in {"annotations", "C"}
        ]
        for name in defined:
            assert getattr(package, name) is getattr(module, name), f"voice2face.config.{name} ({domain})"
            assert name in package.__all__, name


def _bad(cls, **fields):
    return lambda: cls(**fields)


# One bad value per domain: each raises ConfigError with one sentence that names the field.
BAD_VALUES = {
    "audio": (_bad(AudioConfig, sample_rate=1000), "sample_rate"),
    "audio (VAD)": (_bad(VADConfig, aggressiveness=4), "aggressiveness"),
    "audio (features)": (_bad(MFCCConfig, frame_ms=50.0), "frame_ms"),
    "models": (_bad(GeneratorConfig, img_resolution=48), "img_resolution"),
    "models (encoder)": (_bad(VoiceEncoderConfig, attention="cbam"), "attention"),
    "models (folder)": (_bad(ModelConfig, format="other"), "format"),
    "training": (_bad(EncoderTrainingConfig, batch_size=1), "batch_size"),
    "training (GAN)": (_bad(GANTrainingConfig, ops_impl="cuda"), "ops_impl"),
    "training (crops)": (_bad(CropConfig, min_seconds=9.0), "min_seconds"),
    "metrics": (_bad(PPLConfig, space="x"), "space"),
    "metrics (face CNN)": (_bad(FaceCNNConfig, depth=7), "depth"),
    "data": (_bad(SynthVoxConfig, identities=2), "identities"),
    "inference": (_bad(InferenceConfig, noise_mode="random"), "noise_mode"),
    "evaluation": (_bad(EvaluationConfig, split="dev"), "split"),
    "evaluation (metrics)": (_bad(EvaluationConfig, metrics=()), "metric"),  # names: the registry checks them
}


@pytest.mark.parametrize("domain", list(BAD_VALUES))
def test_each_domain_refuses_a_bad_value_naming_the_field(domain):
    build, field_name = BAD_VALUES[domain]
    with pytest.raises(ConfigError) as info:
        build()
    message = str(info.value)
    assert field_name in message and message.endswith(".") and "\n" not in message, message


def test_from_dict_names_the_nested_field_that_is_wrong():
    with pytest.raises(ConfigError, match=r"model\.generator has unknown field\(s\) zdim"):
        from_dict(ModelConfig, {"generator": {"zdim": 3}}, where="model")
    with pytest.raises(ConfigError, match="must be a JSON object"):
        from_dict(ModelConfig, [1, 2], where="model")
    with pytest.raises(ConfigError, match="img_resolution"):
        from_dict(ModelConfig, {"generator": {"img_resolution": 48}}, where="model")
