"""FID Inception port, weight loading, Fréchet distance and KID, checked against pytorch-fid
where it is the peer (same random weights: the published weights cannot be downloaded here)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from voice2face.config import FIDConfig
from voice2face.errors import MetricError, MetricUnavailableError
from voice2face.metrics.cache import StatsCache
from voice2face.metrics.fid import (
    FIDInceptionV3,
    fd_embedding,
    feature_statistics,
    fid,
    frechet_distance,
    kernel_inception_distance,
    kid,
    load_fid_inception,
)
from voice2face.metrics.inception import INCEPTION_WEIGHTS_ENV, resolve_inception_weights

from peers import import_peer


def randomised_inception(seed: int = 0) -> FIDInceptionV3:
    """Our network with random weights and batch-norm statistics that keep activations O(1)."""
    network = FIDInceptionV3()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for key, value in network.state_dict().items():
            if key.endswith("conv.weight"):
                value.copy_(torch.randn(value.shape, generator=generator) * (2.0 / value[0].numel()) ** 0.5)
            elif key.endswith("running_mean") or key.endswith("bn.bias"):
                value.copy_(torch.randn(value.shape, generator=generator) * 0.1)
            elif key.endswith("running_var") or key.endswith("bn.weight"):
                value.copy_(torch.rand(value.shape, generator=generator) + 0.5)
            elif key.startswith("fc."):
                value.copy_(torch.randn(value.shape, generator=generator) * 0.01)
    return network


@pytest.fixture(scope="module")
def inception() -> FIDInceptionV3:
    return randomised_inception()


@pytest.fixture(scope="module")
def pytorch_fid_inception():
    module, why = import_peer("pytorch_fid.inception")
    if module is None:
        pytest.skip(f"pytorch-fid is the peer (dev extra): {why}")
    return module


def test_state_dict_has_the_published_layout(inception):
    state = inception.state_dict()
    assert state["Conv2d_1a_3x3.conv.weight"].shape == (32, 3, 3, 3)
    assert state["Mixed_7c.branch_pool.conv.weight"].shape == (192, 2048, 1, 1)
    assert state["fc.weight"].shape == (1008, 2048)
    assert "Mixed_5b.branch1x1.bn.num_batches_tracked" in state
    assert not any(k.startswith("AuxLogits") for k in state)
    assert sum(v.numel() for k, v in state.items() if not k.endswith("num_batches_tracked")) > 23_000_000


def test_matches_pytorch_fid_with_identical_random_weights(inception, pytorch_fid_inception, monkeypatch):
    # pytorch-fid builds its network and then loads "the published weights" strictly: handing it our
    # state dict instead proves the keys and shapes are the published file's, and gives both networks
    # the same random weights.
    ours = {k: v.clone() for k, v in inception.state_dict().items()}
    monkeypatch.setattr(pytorch_fid_inception, "load_state_dict_from_url", lambda *a, **k: ours)
    theirs = pytorch_fid_inception.InceptionV3([3]).eval()
    generator = torch.Generator().manual_seed(1)
    for size in (64, 299):
        images01 = torch.rand(3, 3, size, size, generator=generator)
        with torch.no_grad():
            expected = theirs(images01)[0][:, :, 0, 0]  # pytorch-fid takes [0, 1]
            got = inception(images01 * 2 - 1)  # ours takes [-1, 1]
        assert got.shape == (3, 2048)
        assert expected.abs().mean() > 0.1, "activations vanished: the comparison would be empty"
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_fid_specific_blocks_differ_from_imagenet_inception(inception):
    # The FID graph's average pools skip padding and its last block max-pools: switching either
    # off changes the features, so the quirks are really in the forward pass.
    images = torch.rand(1, 3, 299, 299, generator=torch.Generator().manual_seed(2)) * 2 - 1
    with torch.no_grad():
        reference = inception(images)
        inception.Mixed_7c.max_pool = False
        try:
            changed = inception(images)
        finally:
            inception.Mixed_7c.max_pool = True
    assert (reference - changed).abs().max() > 1e-3


def test_load_published_layout_and_pytorch_fid_wrapper_layout(tmp_path, inception):
    path = tmp_path / "pt_inception.pth"
    torch.save(inception.state_dict(), path)
    loaded = load_fid_inception(path)
    assert len(loaded.weights_id) == 64 and loaded.weights_id != "random-init"
    images = torch.rand(2, 3, 75, 75, generator=torch.Generator().manual_seed(3)) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(loaded(images), inception(images))

    # pytorch-fid's InceptionV3 wrapper stores the same layers as blocks.<i>.<j>, without fc.
    blocks = [["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"], ["Conv2d_3b_1x1", "Conv2d_4a_3x3"]]
    blocks += [
        [f"Mixed_{n}" for n in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e")],
        ["Mixed_7a", "Mixed_7b", "Mixed_7c"],
    ]
    wrapper = {}
    for key, value in inception.state_dict().items():
        name, rest = key.split(".", 1)
        for b, names in enumerate(blocks):
            if name in names:
                wrapper[f"blocks.{b}.{names.index(name)}.{rest}"] = value
    path2 = tmp_path / "wrapper.pth"
    torch.save(wrapper, path2)
    with torch.no_grad():
        torch.testing.assert_close(load_fid_inception(path2)(images), inception(images))


class NotATensor:
    pass


@pytest.mark.parametrize(
    "content, phrase",
    [
        ("missing", "does not exist"),
        ("garbage", "not a plain PyTorch state dict"),
        ("pickled-object", "not a plain PyTorch state dict"),
        ("a-list", "mapping of names to tensors"),
        ("wrong-shape", "wrong shape: Conv2d_1a_3x3.conv.weight"),
        ("missing-key", "missing: Mixed_7c"),
        ("extra-key", "unexpected: AuxLogits.fc.weight"),
    ],
)
def test_bad_weight_files_raise_one_sentence_naming_the_file(tmp_path, inception, content, phrase):
    path = tmp_path / f"{content}.pth"
    state = dict(inception.state_dict())
    if content == "garbage":
        path.write_bytes(np.random.default_rng(0).bytes(1000))
    elif content == "pickled-object":
        torch.save({"Conv2d_1a_3x3.conv.weight": NotATensor()}, path)
    elif content == "a-list":
        torch.save([torch.zeros(1)], path)
    elif content == "wrong-shape":
        state["Conv2d_1a_3x3.conv.weight"] = torch.zeros(32, 3, 5, 5)
        torch.save(state, path)
    elif content == "missing-key":
        torch.save({k: v for k, v in state.items() if not k.startswith("Mixed_7c")}, path)
    elif content == "extra-key":
        torch.save({**state, "AuxLogits.fc.weight": torch.zeros(3)}, path)
    with pytest.raises(MetricError) as info:
        load_fid_inception(path)
    message = str(info.value)
    assert phrase in message and str(path) in message
    assert "\n" not in message and message.endswith(".")


def test_weights_come_from_the_argument_or_the_environment_never_a_download(tmp_path):
    with pytest.raises(MetricUnavailableError, match="no Inception weights; pass --inception-weights or set"):
        resolve_inception_weights(None, environ={})
    weights = tmp_path / "w.pth"
    weights.write_bytes(b"x")
    assert resolve_inception_weights(None, environ={INCEPTION_WEIGHTS_ENV: str(weights)}) == weights
    assert resolve_inception_weights(str(weights), environ={INCEPTION_WEIGHTS_ENV: "/elsewhere"}) == weights
    with pytest.raises(MetricError, match="do not exist"):
        resolve_inception_weights(tmp_path / "nope.pth", environ={})


def test_fid_without_weights_is_skipped_with_the_reason():
    # A plain function says why it cannot run; the evaluation registry records that as {"skipped": why}.
    with pytest.raises(MetricUnavailableError) as caught:
        fid(fake_images=[torch.zeros(2, 3, 8, 8)], real_images=[torch.zeros(2, 3, 8, 8)])
    reason = str(caught.value)
    assert "VOICE2FACE_INCEPTION_WEIGHTS" in reason and "--inception-weights" in reason


def _random_stats(rng: np.random.Generator, n: int, d: int, shift: float = 0.0):
    features = rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) * 0.3 + shift
    return feature_statistics(features)


@pytest.mark.parametrize("n, d", [(300, 32), (500, 64), (40, 64), (10, 64)])  # the last two are singular
def test_frechet_distance_equals_pytorch_fid(n, d):
    module, why = import_peer("pytorch_fid.fid_score")
    if module is None:
        pytest.skip(f"pytorch-fid is the peer (dev extra): {why}")
    rng = np.random.default_rng(n + d)
    mu1, sigma1 = _random_stats(rng, n, d)
    mu2, sigma2 = _random_stats(rng, n, d, shift=0.5)
    expected = module.calculate_frechet_distance(mu1, sigma1, mu2, sigma2)
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, abs=1e-6, rel=1e-9)


@pytest.mark.parametrize("n", [500, 40])
def test_fast_eigh_path_agrees_with_sqrtm(n):
    rng = np.random.default_rng(n)
    mu1, sigma1 = _random_stats(rng, n, 64)
    mu2, sigma2 = _random_stats(rng, n, 64, shift=0.3)
    reference = frechet_distance(mu1, sigma1, mu2, sigma2)
    assert frechet_distance(mu1, sigma1, mu2, sigma2, method="eigh") == pytest.approx(reference, rel=1e-6, abs=1e-6)


def test_frechet_distance_known_answers():
    # 1-d: (m1 - m2)² + s1 + s2 - 2·sqrt(s1·s2)
    assert frechet_distance([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(4 + 4 + 9 - 12)
    # Diagonal covariances: per-dimension sums.
    s1, s2 = np.diag([1.0, 4.0, 9.0]), np.diag([4.0, 4.0, 1.0])
    expected = 1.0 + (1 + 4 - 4) + (4 + 4 - 8) + (9 + 1 - 6)
    assert frechet_distance([0, 0, 1.0], s1, [0, 0, 0.0], s2) == pytest.approx(expected)
    rng = np.random.default_rng(0)
    mu, sigma = _random_stats(rng, 400, 16)
    assert abs(frechet_distance(mu, sigma, mu, sigma)) < 1e-6
    with pytest.raises(MetricError, match="same length"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


def _naive_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]

    def k(a, b):
        return (a @ b / d + 1) ** 3

    m = len(x)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_kid_is_the_unbiased_polynomial_mmd():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((12, 5)), rng.standard_normal((12, 5)) + 0.7
    # One subset holding every row of each set: KID is exactly the unbiased MMD².
    mean, std = kernel_inception_distance(x, y, num_subsets=1, subset_size=12)
    assert mean == pytest.approx(_naive_mmd2(x, y), rel=1e-10) and std == 0.0
    same = rng.standard_normal((400, 8))
    other = rng.standard_normal((400, 8))
    near, _ = kernel_inception_distance(same, other, num_subsets=20, subset_size=200)
    far, _ = kernel_inception_distance(same, other + 1.0, num_subsets=20, subset_size=200)
    assert abs(near) < 0.05 < far


class ToyEmbedder:
    name = "toy"
    dim = 4
    weights_id = "toy-v1"

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.normalize(images.mean(dim=(2, 3)).repeat(1, 2)[:, :4] + 0.1, dim=1)


def _batches(seed: int, count: int = 3, size: int = 8, shift: float = 0.0):
    generator = torch.Generator().manual_seed(seed)
    return [(torch.rand(4, 3, size, size, generator=generator) * 2 - 1 + shift).clamp(-1, 1) for _ in range(count)]


def test_fd_in_another_embedding_is_labelled_with_the_embedder_and_cached(tmp_path):
    cache = StatsCache(tmp_path)
    kwargs = dict(embedder=ToyEmbedder(), cache=cache, dataset="toy-faces:train")
    first = fd_embedding(fake_images=_batches(1, shift=0.5), real_images=_batches(2), **kwargs)
    assert "fd_toy" in first and "fid" not in first and first["embedder"] == "toy"
    assert first["fd_toy"] > 0
    # Real statistics now come from the cache: no real images needed, same number.
    again = fd_embedding(fake_images=_batches(1, shift=0.5), real_images=None, **kwargs)
    assert again["fd_toy"] == pytest.approx(first["fd_toy"], rel=1e-12)
    assert len(list(tmp_path.glob("stats-*.npz"))) == 2  # moments and features


@pytest.mark.slow
def test_fid_and_kid_end_to_end_with_a_cache(tmp_path, inception):
    cache = StatsCache(tmp_path)
    real = _batches(5, count=3, size=32)
    # eigh: scipy's sqrtm of a 2048² matrix alone takes ~10 s on 2 cores (it is the default).
    common = dict(inception=inception, cache=cache, dataset="noise:test")
    fast = FIDConfig(frechet_method="eigh")
    same = fid(fake_images=_batches(6, count=3, size=32), real_images=real, config=fast, **common)
    shifted = fid(fake_images=_batches(6, count=3, size=32, shift=0.6), real_images=None, config=fast, **common)
    assert 0 <= same["fid"] < shifted["fid"]
    assert same["num_fake"] == 12 and same["inception_weights"] == "random-init"
    assert same["comparable_to_published"] is False
    kid_result = kid(fake_images=_batches(6, count=3, size=32, shift=0.6), real_images=None, **common)
    assert kid_result["kid"] > 0 and kid_result["num_real"] == 12
