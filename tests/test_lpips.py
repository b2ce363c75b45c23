"""LPIPS-VGG16 against the lpips package with the same (random) VGG16 weights and its bundled
lin weights; VGG16's ImageNet weights are a torchvision download, not available here."""

from __future__ import annotations

import pytest
import torch

from voice2face.config import PPLConfig
from voice2face.errors import MetricError, MetricUnavailableError
from voice2face.metrics.lpips import LPIPSVGG16, bundled_lin_weights, load_lpips_vgg16
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
