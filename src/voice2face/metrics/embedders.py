"""Face embedders: images to L2-normalised identity embeddings, behind one small interface.

- ``dlib``: dlib's 128-d face-recognition ResNet (shipped in the face-recognition-models
  wheel) on a 150×150 chip aligned from 5 landmarks; needs the ``faces`` extra.
- ``synthvox`` (or any corpus name): the small :class:`~voice2face.metrics.face_cnn.FaceCNN`
  trained on that corpus's own training faces.

Every embedder has ``name`` (which labels its results, e.g. ``fd_dlib``), ``dim``,
``weights_id`` (names its weights in cache keys) and ``embed(images) -> [B, D]``, images
``[B, 3, H, W]`` in [-1, 1]. :func:`embedding_distance` turns one into a distance for PPL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
import torch.nn.functional as F

from voice2face.config import ATTRIBUTE_BLUR, FaceCNNConfig
from voice2face.errors import MetricUnavailableError
from voice2face.metrics.cache import file_sha256
from voice2face.metrics.face_cnn import FaceCNN, load_or_train_face_cnn
from voice2face.utils.dlib_models import FACES_EXTRA_INSTALL, import_dlib
from voice2face.utils.images import check_images, float_to_uint8

log = logging.getLogger(__name__)
FACES_EXTRA_MESSAGE = (
    f"The dlib face embedder needs dlib-bin and face-recognition-models; install them with {FACES_EXTRA_INSTALL}."
)


@runtime_checkable
class FaceEmbedder(Protocol):
    """What the identity metrics and Fréchet distances need of a face embedder."""

    name: str
    dim: int
    weights_id: str

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """``[B, 3, H, W]`` in [-1, 1] → ``[B, dim]`` L2-normalised."""
        ...


def to_uint8_hwc(images: torch.Tensor) -> np.ndarray:
    """``[B, 3, H, W]`` in [-1, 1] → ``[B, H, W, 3]`` uint8 RGB (what dlib and image files use)."""
    check_images(images, "face images")
    return np.ascontiguousarray(float_to_uint8(images).permute(0, 2, 3, 1).numpy())


class DlibEmbedder:
    """dlib's face-recognition ResNet (128-d) on faces aligned by its 5-point landmark model.

    Each image's largest HOG face detection is aligned; when none is found (small or
    generated faces), the whole image is taken as the face box, since the inputs here are face
    crops. ``last_detected`` records which images of the last call had a detection.
    detect_upsample: when nothing is found at the image's scale, search again with the image
    doubled this many times.
    """

    name = "dlib"
    dim = 128

    def __init__(self, *, detect: bool = True, detect_upsample: int = 1, chip_size: int = 150) -> None:
        try:
            dlib, models = import_dlib()
        except ImportError:
            raise MetricUnavailableError(FACES_EXTRA_MESSAGE) from None
        self._dlib = dlib
        self.detect = detect
        self.detect_upsample = detect_upsample
        self.chip_size = chip_size
        recogniser_path = models.face_recognition_model_location()
        self._detector = dlib.get_frontal_face_detector()
        self._landmarks = dlib.shape_predictor(models.pose_predictor_five_point_model_location())
        self._recogniser = dlib.face_recognition_model_v1(recogniser_path)
        self.weights_id = f"dlib_resnet_v1-{file_sha256(recogniser_path)[:16]}"
        self.last_detected: list[bool] = []

    def _face_box(self, image: np.ndarray):
        height, width = image.shape[:2]
        if self.detect:
            # Search at the image's own scale first, then doubled (faces under ~80 px); the
            # detection the HOG model is surest of wins (the largest can be a false positive).
            for upsample in sorted({0, self.detect_upsample}):
                boxes, scores, _ = self._detector.run(image, upsample, 0.0)
                if len(boxes):
                    self.last_detected.append(True)
                    return boxes[int(np.argmax(scores))]
        self.last_detected.append(False)
        return self._dlib.rectangle(0, 0, width - 1, height - 1)

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """``[B, 3, H, W]`` in [-1, 1] → ``[B, 128]`` L2-normalised."""
        self.last_detected = []
        vectors = []
        for image in to_uint8_hwc(images):
            shape = self._landmarks(image, self._face_box(image))
            chip = self._dlib.get_face_chip(image, shape, size=self.chip_size, padding=0.25)
            vectors.append(np.asarray(self._recogniser.compute_face_descriptor(chip), dtype=np.float32))
        embeddings = torch.from_numpy(np.stack(vectors))  # [B, 128]
        return F.normalize(embeddings, dim=1)


class CNNFaceEmbedder:
    """A trained :class:`FaceCNN` used as an identity embedder (for the synthetic corpus)."""

    def __init__(self, network: FaceCNN, *, name: str, weights_id: str) -> None:
        self.network = network.eval()
        self.name = name
        self.dim = network.config.embedding_dim
        self.weights_id = weights_id

    @torch.no_grad()
    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """``[B, 3, H, W]`` in [-1, 1] → ``[B, embedding_dim]`` L2-normalised."""
        return self.network.embed(images)


class FaceAttributeClassifier:
    """A trained :class:`FaceCNN` that predicts one attribute (e.g. sex) of a face."""

    def __init__(self, network: FaceCNN, classes: Sequence[Any], *, name: str, attribute: str) -> None:
        self.network = network.eval()
        self.classes = list(classes)
        self.name = name
        self.attribute = attribute

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> list[Any]:
        """``[B, 3, H, W]`` in [-1, 1] → B labels (values of the training labels)."""
        return [self.classes[i] for i in self.network.logits(images).argmax(dim=1).tolist()]


def corpus_embedder(
    data: Callable[[], tuple[torch.Tensor, Sequence[Any]]],
    *,
    dataset: str,
    cache_dir: str | Path,
    name: str = "synthvox",
    config: FaceCNNConfig = FaceCNNConfig(),
) -> CNNFaceEmbedder:
    """The identity embedder of a corpus, trained on its training faces (``data()`` → images,
    identity labels) or loaded from ``cache_dir`` when trained before for the same data and config."""
    network, _, key = load_or_train_face_cnn(data, dataset=dataset, task="identity", cache_dir=cache_dir, config=config)
    return CNNFaceEmbedder(network, name=name, weights_id=key)


def corpus_attribute_classifier(
    data: Callable[[], tuple[torch.Tensor, Sequence[Any]]],
    *,
    dataset: str,
    cache_dir: str | Path,
    attribute: str = "sex",
    name: str = "synthvox",
    config: FaceCNNConfig = FaceCNNConfig(blur=ATTRIBUTE_BLUR),
) -> FaceAttributeClassifier:
    """A classifier of ``attribute`` trained on a corpus's faces (``data()`` → images, attribute
    labels), cached like :func:`corpus_embedder`. The default trains with blur augmentation
    (:data:`~voice2face.config.ATTRIBUTE_BLUR`) so that it can judge soft generated faces."""
    network, classes, _ = load_or_train_face_cnn(
        data, dataset=dataset, task=f"attribute-{attribute}", cache_dir=cache_dir, config=config
    )
    return FaceAttributeClassifier(network, classes, name=f"{name}-{attribute}", attribute=attribute)


def make_embedder(name: str, **kwargs: Any) -> FaceEmbedder:
    """A face embedder by name: ``"dlib"`` (kwargs as :class:`DlibEmbedder`), or a corpus name
    with the kwargs of :func:`corpus_embedder` (``data``, ``dataset``, ``cache_dir``, ``config``)."""
    if name == "dlib":
        return DlibEmbedder(**kwargs)
    return corpus_embedder(name=name, **kwargs)


def embedding_distance(embedder: FaceEmbedder) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """A distance for path length: squared Euclidean distance of the two images' normalised
    embeddings. ``(img_a, img_b)`` each ``[B, 3, H, W]`` in [-1, 1] → ``[B]``."""

    def distance(img_a: torch.Tensor, img_b: torch.Tensor) -> torch.Tensor:
        return (embedder.embed(img_a) - embedder.embed(img_b)).square().sum(dim=1)

    distance.name = embedder.name  # type: ignore[attr-defined]
    return distance
