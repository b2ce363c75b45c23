"""LPIPS-VGG16 against the lpips package with the same (random) VGG16 weights and its bundled
lin weights; VGG16's ImageNet weights are a torchvision download, not available here. The weights
are found from the option or the environment, never downloaded; diversity is the mean distance
over pairs of faces of one voice, or of different speakers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from voice2face.config import LPIPSConfig, PPLConfig
from voice2face.errors import MetricError, MetricUnavailableError
from voice2face.metrics.lpips import (
    LIN_WEIGHTS_ENV,
    LPIPSVGG16,
    VGG16_WEIGHTS_ENV,
    bundled_lin_weights,
    load_lpips_vgg16,
    lpips_diversity,
    resolve_lpips_weights,
    sample_pairs,
)
from voice2face.metrics.ppl import ppl

from peers import import_peer
from tiny_generator import TinyGenerator

SLICE_ENDS = (4, 9, 16, 23, 30)  # lpips splits VGG16's features into slices ending at these indices


@pytest.fixture(scope="module")
def weight_files(tmp_path_factory):
    """A torchvision-layout VGG16 state dict with random weights, and LPIPS lin weights."""
    folder = tmp_path_factory.mktemp("lpips")
    generator = torch.Generator().manual_seed(0)
    vgg = {}
    for key, value in LPIPSVGG16().features.state_dict().items():
        scale = (2.0 / value[0].numel()) ** 0.5 if key.endswith("weight") else 0.01
        vgg[f"features.{key}"] = torch.randn(value.shape, generator=generator) * scale
    vgg["classifier.0.weight"] = torch.zeros(2, 2)  # torchvision's file has a classifier: ignored
    torch.save(vgg, folder / "vgg16.pth")
    lin = bundled_lin_weights()
    if lin is None:
        lin = folder / "lin.pth"
        channels = (64, 128, 256, 512, 512)
        torch.save({f"lin{k}.model.1.weight": torch.rand(1, c, 1, 1) for k, c in enumerate(channels)}, lin)
    return folder / "vgg16.pth", lin, vgg


def _image_pair(seed: int, size: int = 64):
    generator = torch.Generator().manual_seed(seed)
    a = torch.rand(3, 3, size, size, generator=generator) * 2 - 1
    return a, (a + 0.3 * torch.randn(a.shape, generator=generator)).clamp(-1, 1)


def test_matches_the_lpips_package_with_identical_weights(weight_files):
    module, why = import_peer("lpips")
    if module is None:
        pytest.skip(f"the lpips package is the peer (dev extra): {why}")
    if bundled_lin_weights() is None:
        pytest.skip("the lpips package has no bundled v0.1 vgg.pth")
    vgg_path, lin_path, vgg = weight_files
    ours = load_lpips_vgg16(vgg_path, lin_path)
    theirs = module.LPIPS(net="vgg", pretrained=True, pnet_rand=True, verbose=False).eval()
    state = theirs.state_dict()
    for key, value in vgg.items():
        if key.startswith("features."):
            index = int(key.split(".")[1])
            slice_number = next(n for n, end in enumerate(SLICE_ENDS, 1) if index < end)
            state[f"net.slice{slice_number}.{key[len('features.') :]}"] = value
    theirs.load_state_dict(state)
    img_a, img_b = _image_pair(1)
    with torch.no_grad():
        expected = theirs(img_a, img_b).flatten()
        got = ours(img_a, img_b)
    assert got.shape == (3,) and (expected > 0).all()
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)


def test_distance_properties_and_use_in_path_length(weight_files):
    vgg_path, lin_path, _ = weight_files
    lpips = load_lpips_vgg16(vgg_path, lin_path)
    img_a, img_b = _image_pair(2, size=32)
    with torch.no_grad():
        assert torch.equal(lpips(img_a, img_a), torch.zeros(3))
        forward, backward = lpips(img_a, img_b), lpips(img_b, img_a)
    torch.testing.assert_close(forward, backward)
    assert (forward > 0).all() and len(lpips.weights_id) == 33
    config = PPLConfig(num_samples=4, batch_size=4)
    result = ppl(generator=TinyGenerator(resolution=32), distance=lpips, conditions=torch.zeros(1, 3), config=config)
    assert result["ppl_distance"] == "lpips_vgg16" and result["ppl_w_end"] > 0


def test_missing_or_wrong_weights_are_named(tmp_path, weight_files):
    with pytest.raises(MetricUnavailableError, match="LPIPS needs VGG16 weights"):
        load_lpips_vgg16(None)
    vgg_path, lin_path, vgg = weight_files
    broken = tmp_path / "vgg_broken.pth"
    torch.save({k: v for k, v in vgg.items() if k != "features.28.weight"}, broken)
    with pytest.raises(MetricError, match=r"vgg_broken.pth does not match the network \(missing: 28.weight\)"):
        load_lpips_vgg16(broken, lin_path)
    with pytest.raises(MetricError, match=r"does not hold lin0\.\.lin4"):
        load_lpips_vgg16(vgg_path, vgg_path)


def test_weights_come_from_the_option_or_the_environment_and_are_never_downloaded(tmp_path, weight_files):
    vgg_path, lin_path, _ = weight_files
    with pytest.raises(MetricUnavailableError) as caught:
        resolve_lpips_weights(None, lin_path, environ={})
    reason = str(caught.value)  # one sentence that says how to give the file
    assert "--vgg16-weights" in reason and VGG16_WEIGHTS_ENV in reason and "vgg16-397923af.pth" in reason
    assert reason.count(". ") == 0 and reason.endswith(".")
    environ = {VGG16_WEIGHTS_ENV: str(vgg_path), LIN_WEIGHTS_ENV: str(lin_path)}
    assert resolve_lpips_weights(None, None, environ=environ) == (vgg_path, lin_path)
    if bundled_lin_weights() is not None:  # lin weights ship in the lpips wheel: used when none are given
        assert resolve_lpips_weights(vgg_path, None, environ={}) == (vgg_path, bundled_lin_weights())
    else:
        with pytest.raises(MetricUnavailableError, match="--lpips-weights or set VOICE2FACE_LPIPS_WEIGHTS"):
            resolve_lpips_weights(vgg_path, None, environ={})
    assert resolve_lpips_weights(vgg_path, lin_path, environ={VGG16_WEIGHTS_ENV: "/elsewhere"}) == (vgg_path, lin_path)
    with pytest.raises(MetricError, match=r"nope\.pth do not exist; check --vgg16-weights"):
        resolve_lpips_weights(tmp_path / "nope.pth", lin_path, environ={})
    with pytest.raises(MetricError, match=r"lin\.pth do not exist; check --lpips-weights"):
        resolve_lpips_weights(vgg_path, tmp_path / "lin.pth", environ={})


def test_pairs_are_drawn_within_or_across_groups_without_repeats():
    groups = ["a", "a", "a", "b", "b", "c"]
    same = sample_pairs(groups, same=True, count=100, seed=0)
    assert sorted(map(tuple, same.tolist())) == [(0, 1), (0, 2), (1, 2), (3, 4)]
    other = sample_pairs(groups, same=False, count=100, seed=0)
    assert len(other) == 11 and all(groups[i] != groups[j] and i < j for i, j in other.tolist())
    # More pairs than asked for: a seeded draw without repeats (across groups, by rejection).
    many = [k // 3 for k in range(300)]  # 100 groups of 3
    drawn = sample_pairs(many, same=False, count=50, seed=1)
    assert drawn.shape == (50, 2) and len(set(map(tuple, drawn.tolist()))) == 50
    assert all(many[i] != many[j] and i < j for i, j in drawn.tolist())
    assert np.array_equal(drawn, sample_pairs(many, same=False, count=50, seed=1))
    within = sample_pairs(many, same=True, count=20, seed=1)
    assert within.shape == (20, 2) and all(many[i] == many[j] for i, j in within.tolist())
    assert sample_pairs(["a", "b"], same=True, count=5, seed=0).shape == (0, 2)
    assert sample_pairs(["a", "a"], same=False, count=5, seed=0).shape == (0, 2)


def test_diversity_is_zero_for_copies_and_moves_with_the_images(weight_files):
    vgg_path, lin_path, _ = weight_files
    lpips = load_lpips_vgg16(vgg_path, lin_path)
    generator = torch.Generator().manual_seed(3)
    people = torch.randint(0, 256, (3, 3, 32, 32), generator=generator, dtype=torch.uint8)
    faces = people.repeat_interleave(2, dim=0)  # [6, 3, 32, 32]: each voice's two faces are one image
    voices, speakers = [0, 0, 1, 1, 2, 2], ["a", "a", "b", "b", "c", "c"]
    config = LPIPSConfig(pairs=20, batch_size=4)
    copies = lpips_diversity(lpips, faces, voices, speakers, config)
    assert copies["lpips_same_voice"] == 0.0 and copies["same_voice_pairs"] == 3
    assert copies["lpips_other_speakers"] > 0 and copies["other_speaker_pairs"] == 12
    assert copies["lpips_weights"] == lpips.weights_id
    varied = faces.clone()
    varied[1::2] = torch.randint(0, 256, (3, 3, 32, 32), generator=generator, dtype=torch.uint8)
    changed = lpips_diversity(lpips, varied, voices, speakers, config)
    assert changed["lpips_same_voice"] > 0
    assert changed["lpips_other_speakers"] != pytest.approx(copies["lpips_other_speakers"])
    alone = lpips_diversity(lpips, faces, [0, 1, 2, 3, 4, 5], ["a"] * 6, config)
    assert alone["lpips_same_voice"] is None and alone["lpips_other_speakers"] is None
    with pytest.raises(MetricError, match="one voice and one speaker per face"):
        lpips_diversity(lpips, faces, voices[:5], speakers, config)
