"""SE-ResNet18 voice encoder: shapes for both feature kinds and any T, the ablation switches,
the speaker head, gradients, determinism and the documented parameter counts."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from voice2face.config import VoiceEncoderConfig
from voice2face.errors import ConfigError
from voice2face.models import build_voice_encoder
from voice2face.models.voice_encoder import SEBasicBlock, SqueezeExcitation, VoiceEncoder


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def tiny(**kwargs) -> VoiceEncoder:
    return build_voice_encoder(VoiceEncoderConfig(**{"width_multiplier": 0.125, **kwargs}))


@pytest.mark.parametrize(("input_dim", "frames"), [(39, 50), (39, 480), (64, 77), (64, 600), (39, 1)])
def test_any_length_gives_one_embedding(input_dim, frames):
    encoder = tiny(input_dim=input_dim).eval()
    embedding = encoder(torch.randn(2, input_dim, frames))
    assert embedding.shape == (2, 512) and torch.isfinite(embedding).all()


def test_documented_parameter_counts():
    with torch.device("meta"):
        assert count(VoiceEncoder(VoiceEncoderConfig())) == 13_878_712  # F=39 MFCC+Δ+ΔΔ, stats pooling, no head
        assert count(VoiceEncoder(VoiceEncoderConfig(input_dim=64))) == 15_451_576
        assert count(VoiceEncoder(VoiceEncoderConfig(width_multiplier=0.5))) == 4_128_476
        assert count(VoiceEncoder(VoiceEncoderConfig(num_speakers=1000))) == 13_878_712 + 512 * 1000 + 1000


def test_resnet18_layout_with_se_and_mish_in_every_block():
    encoder = VoiceEncoder(VoiceEncoderConfig())
    blocks = [m for m in encoder.modules() if isinstance(m, SEBasicBlock)]
    assert len(blocks) == 8  # [2, 2, 2, 2]
    assert [b.conv2.out_channels for b in blocks] == [64, 64, 128, 128, 256, 256, 512, 512]
    assert all(
        isinstance(b.se, SqueezeExcitation) and b.se.fc1.out_features == b.conv2.out_channels // 16 for b in blocks
    )
    assert not any(
        isinstance(m, nn.ReLU | nn.MaxPool2d) for m in encoder.modules() if not isinstance(m, SqueezeExcitation)
    )
    assert sum(isinstance(m, nn.Mish) for m in encoder.modules()) == 1 + 2 * 8


def test_ablation_switches_change_the_module_as_named():
    se_mish, no_se, relu = tiny(), tiny(attention="none"), tiny(activation="relu")
    assert not any(isinstance(m, SqueezeExcitation) for m in no_se.modules())
    assert count(no_se) < count(se_mish)
    assert not any(isinstance(m, nn.Mish) for m in relu.modules())
    assert count(relu) == count(se_mish)  # same weights, different nonlinearity
    features = torch.randn(2, 39, 60)
    torch.manual_seed(0)
    a = tiny().eval()(features)
    torch.manual_seed(0)
    b = tiny(activation="relu").eval()(features)
    assert not torch.allclose(a, b)
    mean_pool = tiny(pooling="mean")
    assert mean_pool.embedding.in_features * 2 == se_mish.embedding.in_features


def test_speaker_head_and_gradients_reach_every_parameter():
    encoder = tiny(num_speakers=5, se_reduction=2).train()  # r=16 at 1/8 width leaves 1 (dead-prone) ReLU unit
    embedding, logits = encoder.forward_with_logits(torch.randn(3, 39, 64))
    assert embedding.shape == (3, 512) and logits.shape == (3, 5)
    nn.functional.cross_entropy(logits, torch.tensor([0, 1, 4])).backward()
    for name, param in encoder.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    assert tiny().forward_with_logits(torch.randn(1, 39, 64))[1] is None


def test_deterministic_under_a_seed_and_checks_its_input():
    def build(seed):
        torch.manual_seed(seed)
        return tiny().eval()

    features = torch.randn(2, 39, 100)
    assert torch.equal(build(0)(features), build(0)(features))
    with pytest.raises(ValueError, match=r"voice features must have shape \[\*, 39, \*\], got \[2, 64, 100\]"):
        build(0)(torch.randn(2, 64, 100))


def test_config_rejects_unknown_switches():
    with pytest.raises(ConfigError, match="attention"):
        VoiceEncoderConfig(attention="cbam")
    with pytest.raises(ConfigError, match="activation"):
        VoiceEncoderConfig(activation="gelu")
    with pytest.raises(ConfigError, match="blocks_per_stage"):
        VoiceEncoderConfig(blocks_per_stage=(2, 2, 2))
