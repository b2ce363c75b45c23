"""Face embedders: dlib's ResNet on a real photo, and the small face CNN trained on a tiny
synthetic set made here (one colour and shape per identity; sex = which shape)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from voice2face.config import FaceCNNConfig
from voice2face.errors import ConfigError, MetricError
from voice2face.metrics.embedders import (
    CNNFaceEmbedder,
    FaceEmbedder,
    corpus_attribute_classifier,
    corpus_embedder,
    to_uint8_hwc,
)
from voice2face.metrics.face_cnn import random_blur, train_face_cnn
from voice2face.metrics.identity import match_1v2, recall_at_k

SMALL = FaceCNNConfig(image_size=32, width=8, depth=3, embedding_dim=16, epochs=8, batch_size=32, seed=0)


def toy_faces(per_identity: int, seed: int, identities: int = 6) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """[N, 3, 32, 32] in [-1, 1]: identity k is a blob of its own colour at its own place, a
    square for even k ("f"), a disc for odd k ("m"), jittered and noisy per image."""
    rng = np.random.default_rng(seed)
    colours = np.random.default_rng(99).uniform(-0.8, 0.8, (identities, 3))
    yy, xx = np.mgrid[0:32, 0:32]
    images, ids = [], []
    for k in range(identities):
        cy, cx = 10 + 12 * (k % 2), 8 + 8 * (k // 2)
        for _ in range(per_identity):
            y, x = cy + rng.integers(-2, 3), cx + rng.integers(-2, 3)
            mask = (np.abs(yy - y) <= 5) & (np.abs(xx - x) <= 5) if k % 2 == 0 else (yy - y) ** 2 + (xx - x) ** 2 <= 36
            image = np.full((3, 32, 32), -0.9) + 0.1 * rng.standard_normal((3, 32, 32))
            image[:, mask] = colours[k][:, None] + 0.1 * rng.standard_normal((3, int(mask.sum())))
            images.append(image)
            ids.append(k)
    ids = np.array(ids)
    sexes = np.where(ids % 2 == 0, "f", "m")
    return torch.tensor(np.stack(images), dtype=torch.float32).clamp(-1, 1), ids, sexes


@pytest.fixture(scope="module")
def trained():
    images, ids, _ = toy_faces(12, seed=0)
    return train_face_cnn(images, ids, SMALL)


@pytest.mark.slow
def test_training_is_deterministic_for_a_seed(trained):
    images, ids, _ = toy_faces(12, seed=0)
    again, classes = train_face_cnn(images, ids, SMALL)
    assert classes == list(range(6))
    for (name, a), b in zip(trained[0].state_dict().items(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b), f"{name} differs between two runs with the same seed"
    before = torch.rand(1).item()
    torch.manual_seed(123)
    expected = torch.rand(1).item()
    torch.manual_seed(123)
    train_face_cnn(images, ids % 2, FaceCNNConfig(**{**SMALL.__dict__, "epochs": 1}))
    assert torch.rand(1).item() == expected, "training must not disturb the global random state"
    assert before != expected


def test_trained_embedding_separates_held_out_identities(trained):
    network, _ = trained
    embedder = CNNFaceEmbedder(network, name="toy", weights_id="test")
    assert isinstance(embedder, FaceEmbedder)
    gallery, gallery_ids, _ = toy_faces(4, seed=1)
    probes, probe_ids, _ = toy_faces(3, seed=2)
    real, generated = embedder.embed(gallery), embedder.embed(probes)
    assert generated.shape == (18, 16)
    torch.testing.assert_close(generated.norm(dim=1), torch.ones(18))
    assert match_1v2(generated, probe_ids, real, gallery_ids, num_pairs=0)["match_1v2"] > 0.95
    assert recall_at_k(generated, probe_ids, real, gallery_ids, ks=(1,))["recall@1"] > 0.9
    # Other sizes are resized to the network's input size.
    resized = embedder.embed(torch.nn.functional.interpolate(probes, size=48, mode="bilinear"))
    assert resized.shape == (18, 16)


@pytest.mark.slow
def test_corpus_embedder_and_classifier_are_cached_by_data_and_config(tmp_path):
    calls = []

    def identity_data():
        calls.append("identity")
        images, ids, _ = toy_faces(12, seed=0)
        return images, ids

    def sex_data():
        calls.append("sex")
        images, _, sexes = toy_faces(12, seed=0)
        return images, sexes

    first = corpus_embedder(identity_data, dataset="toy:v1", cache_dir=tmp_path, config=SMALL)
    second = corpus_embedder(identity_data, dataset="toy:v1", cache_dir=tmp_path, config=SMALL)
    assert calls == ["identity"], "the second call must load the cached weights, not train again"
    assert first.name == "synthvox" and first.dim == 16 and first.weights_id == second.weights_id
    probes, _, _ = toy_faces(2, seed=3)
    torch.testing.assert_close(first.embed(probes), second.embed(probes))
    other = corpus_embedder(identity_data, dataset="toy:v2", cache_dir=tmp_path, config=SMALL)
    assert calls == ["identity", "identity"] and other.weights_id != first.weights_id

    classifier = corpus_attribute_classifier(sex_data, dataset="toy:v1", cache_dir=tmp_path, config=SMALL)
    held_out, _, sexes = toy_faces(3, seed=4)
    predicted = classifier.predict(held_out)
    assert classifier.name == "synthvox-sex" and set(predicted) <= {"f", "m"}
    assert np.mean(np.array(predicted) == sexes) > 0.9
    cached = corpus_attribute_classifier(sex_data, dataset="toy:v1", cache_dir=tmp_path, config=SMALL)
    assert cached.predict(held_out) == predicted and calls.count("sex") == 1
    assert not list(tmp_path.glob(".*.tmp")), "a temporary file was left behind"


def _high_frequency(images: torch.Tensor) -> torch.Tensor:
    """Per image: mean squared discrete Laplacian → ``[B]``."""
    x = images
    lap = 4 * x[..., 1:-1, 1:-1] - x[..., :-2, 1:-1] - x[..., 2:, 1:-1] - x[..., 1:-1, :-2] - x[..., 1:-1, 2:]
    return lap.square().mean(dim=(1, 2, 3))


def test_blur_augmentation_softens_each_image_by_its_own_amount():
    images, _, _ = toy_faces(2, seed=5)  # [12, 3, 32, 32]
    blurred = random_blur(images, 2.0, torch.Generator().manual_seed(0))
    assert blurred.shape == images.shape and torch.isfinite(blurred).all()
    again = random_blur(images, 2.0, torch.Generator().manual_seed(0))
    assert torch.equal(blurred, again), "the same generator state must give the same blur"
    ratio = _high_frequency(blurred) / _high_frequency(images)
    assert (ratio < 1).all(), "blurring must remove fine detail"
    assert ratio.max() / ratio.min() > 3, "each image gets its own σ, so some are much softer than others"
    flat = torch.full((2, 3, 16, 16), 0.25)
    torch.testing.assert_close(random_blur(flat, 2.0, torch.Generator().manual_seed(1)), flat)  # weights sum to 1
    with pytest.raises(ConfigError, match="blur must be 0–4 px for image_size 32"):
        FaceCNNConfig(image_size=32, blur=5.0)


@pytest.mark.slow
def test_classifier_trained_with_blur_judges_soft_images():
    """Like a small generator's faces, the soft probes lack the crisp edges a classifier trained
    only on sharp images relies on: it falls to about chance on them, the blur-trained one does not."""
    images, _, sexes = toy_faces(12, seed=0)
    held_out, _, truth = toy_faces(3, seed=6)
    padded = torch.nn.functional.pad(held_out, (1, 1, 1, 1), mode="reflect")
    soft = torch.nn.functional.avg_pool2d(padded, 3, stride=1)  # a 3×3 box blur, unlike training's Gaussians
    accuracy = {}
    for blur in (0.0, 2.0):
        network, classes = train_face_cnn(images, sexes, FaceCNNConfig(**{**SMALL.__dict__, "blur": blur}))
        for name, probe in (("sharp", held_out), ("soft", soft)):
            with torch.no_grad():
                predicted = np.array([classes[i] for i in network.logits(probe).argmax(1).tolist()])
            accuracy[blur, name] = float(np.mean(predicted == truth))
    assert accuracy[0.0, "sharp"] == accuracy[2.0, "sharp"] == 1.0, accuracy
    assert accuracy[0.0, "soft"] < 0.75, f"the toy no longer shows the failure blur is for: {accuracy}"
    assert accuracy[2.0, "soft"] > 0.85, accuracy


def test_training_input_is_checked():
    with pytest.raises(MetricError, match="at least 2 classes"):
        train_face_cnn(torch.zeros(4, 3, 32, 32), [1, 1, 1, 1], SMALL)
    with pytest.raises(MetricError, match="4 training images but 3 labels"):
        train_face_cnn(torch.zeros(4, 3, 32, 32), [0, 1, 0], SMALL)
    with pytest.raises(MetricError, match=r"images \[B, 3, H, W\]"):
        train_face_cnn(torch.zeros(4, 32, 32), [0, 1, 0, 1], SMALL)


# --------------------------------------------------------------------------- dlib


@pytest.fixture(scope="module")
def dlib_embedder():
    pytest.importorskip("dlib", reason="dlib-bin is in the 'faces' extra (and dev)")
    pytest.importorskip("face_recognition_models", reason="face-recognition-models is in the 'faces' extra")
    from voice2face.metrics.embedders import DlibEmbedder

    return DlibEmbedder()


def _to_tensor(image: np.ndarray) -> torch.Tensor:
    """An HWC photo (uint8, or float in [0, 1]) → [1, 3, H, W] in [-1, 1]."""
    image = np.asarray(image, dtype=np.float32)
    if image.max() > 1.5:
        image = image / 255.0
    return torch.from_numpy(image).permute(2, 0, 1)[None] * 2 - 1


def test_dlib_recognises_the_same_face_rotated_and_rescaled(dlib_embedder):
    data = pytest.importorskip("skimage.data", reason="scikit-image (dev extra) ships the astronaut photo")
    transform = pytest.importorskip("skimage.transform")
    photo = data.astronaut()  # 512×512 RGB, one face
    moved = transform.rescale(transform.rotate(photo, 15, mode="edge"), 0.6, channel_axis=2)
    a = dlib_embedder.embed(_to_tensor(photo))
    b = dlib_embedder.embed(_to_tensor(moved))
    assert dlib_embedder.last_detected == [True], "the rotated, rescaled face must still be detected"
    assert a.shape == (1, 128)
    torch.testing.assert_close(a.norm(dim=1), torch.ones(1))
    distance = float((a - b).norm())
    assert distance < 0.6, f"same face at distance {distance:.3f}; dlib's same-person threshold is 0.6"
    # A different face (lfw_subset, 25 px crops, upscaled) sits further away than the same one.
    faces = torch.from_numpy(data.lfw_subset()[:8]).float()[:, None].repeat(1, 3, 1, 1)
    others = dlib_embedder.embed(torch.nn.functional.interpolate(faces, size=100, mode="bilinear") * 2 - 1)
    assert float((others - a).norm(dim=1).min()) > distance


def test_uint8_conversion_round_trips_pixels():
    pixels = torch.arange(256, dtype=torch.float32).view(1, 1, 16, 16).repeat(1, 3, 1, 1)
    converted = to_uint8_hwc(pixels / 127.5 - 1)
    assert converted.shape == (1, 16, 16, 3) and converted.dtype == np.uint8
    assert np.array_equal(converted[0, :, :, 0].ravel(), np.arange(256))
