"""A small face CNN trained on a corpus's own faces: identity embedder or attribute classifier.

No pretrained face network knows the synthetic synthvox faces, so the identity metrics on that
corpus use an embedding learned from its training faces (identity classification with a
cosine-softmax head, so that cosine similarity is what the embedding is trained for). The same
network with a two-class head is the sex classifier behind attribute agreement.

Training takes plain tensors (images ``[N, 3, H, W]`` in [-1, 1], one label per image) and is
deterministic for a seed. Trained weights are cached as ``.npz`` (arrays and JSON, never
pickles) under a key that hashes the data's name, the task and the config.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from voice2face.config import FaceCNNConfig, from_dict
from voice2face.errors import MetricError
from voice2face.metrics.cache import INSTRUMENTS_REVISION, StatsCache, stats_key
from voice2face.models.face_nets import conv_trunk, resize_faces
from voice2face.utils.images import check_images

COSINE_SCALE = 16.0  # logit scale of the cosine-softmax head (NormFace); 16 trains well at 64 px
#: Threads every corpus face network trains on, whatever the machine. A multi-threaded convolution
#: backward sums in an order that depends on the thread count, and a trained instrument reads
#: out-of-distribution faces (blobs) very differently after such a change: the bundled model's sex
#: read-out was 0.69 when its instrument trained on 1 thread and 0.84 on 2, for the same seed.
#: Pinned, an instrument is the same network on any machine with the same CPU kernels.
INSTRUMENT_THREADS = 2


class FaceCNN(nn.Module):
    """Conv trunk → ``embedding_dim`` features; a cosine classifier head over ``num_classes``.

    embed: ``[B, 3, S, S]`` in [-1, 1] (S = ``config.image_size``; other sizes are resized)
    → ``[B, embedding_dim]`` L2-normalised. logits: same input → ``[B, num_classes]``.
    """

    def __init__(self, config: FaceCNNConfig, num_classes: int) -> None:
        super().__init__()
        if num_classes < 2:
            raise MetricError(f"A face CNN needs at least 2 classes to learn from, got {num_classes}.")
        self.config = config
        self.num_classes = num_classes
        self.trunk, channels = conv_trunk(config)
        self.project = nn.Linear(channels, config.embedding_dim)
        self.classes = nn.Parameter(torch.randn(num_classes, config.embedding_dim) * 0.01)

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        check_images(images, "FaceCNN input")
        features = self.trunk(resize_faces(images, self.config.image_size))  # [B, C, s, s]
        return F.normalize(self.project(features.mean(dim=(2, 3))), dim=1)  # [B, E]

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        return COSINE_SCALE * self.embed(images) @ F.normalize(self.classes, dim=1).T  # [B, num_classes]

    forward = logits


def augment_faces(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random horizontal flips and shifts of up to 1/16 of the size (reflect-padded)."""
    batch, _, height, width = images.shape
    flip = torch.rand(batch, generator=generator) < 0.5
    images = torch.where(flip[:, None, None, None], images.flip(3), images)
    pad = max(1, height // 16)
    padded = F.pad(images, (pad, pad, pad, pad), mode="reflect")
    dy, dx = torch.randint(0, 2 * pad + 1, (2,), generator=generator).tolist()
    return padded[:, :, dy : dy + height, dx : dx + width]


def random_blur(images: torch.Tensor, max_sigma: float, generator: torch.Generator) -> torch.Tensor:
    """Blur each image by a separable Gaussian of its own σ, drawn uniformly from [0, max_sigma]
    pixels (σ near 0 leaves an image as it is); reflect-padded, so the size is kept."""
    batch, channels, height, width = images.shape
    radius = max(1, math.ceil(3 * max_sigma))
    sigma = (torch.rand(batch, generator=generator) * max_sigma).clamp_min(1e-3)  # [B]
    taps = torch.arange(-radius, radius + 1, dtype=torch.float32)  # [K]
    kernel = torch.exp(-taps.square()[None] / (2 * sigma.square()[:, None]))  # [B, K]
    kernel = (kernel / kernel.sum(dim=1, keepdim=True)).repeat_interleave(channels, dim=0)  # [B*C, K]
    x = images.reshape(1, batch * channels, height, width)
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="reflect"), kernel[:, None, None, :], groups=batch * channels)
    x = F.conv2d(F.pad(x, (0, 0, radius, radius), mode="reflect"), kernel[:, None, :, None], groups=batch * channels)
    return x.reshape(batch, channels, height, width)


def label_classes(labels: Sequence[Any] | np.ndarray | torch.Tensor) -> tuple[list[Any], torch.Tensor]:
    """Sorted distinct labels and each label's index in them (``[N]`` long)."""
    values = labels.tolist() if isinstance(labels, (np.ndarray, torch.Tensor)) else list(labels)
    classes = sorted(set(values), key=lambda v: (str(type(v)), v))
    index = {label: i for i, label in enumerate(classes)}
    return classes, torch.tensor([index[v] for v in values], dtype=torch.long)


def train_face_cnn(
    images: torch.Tensor,
    labels: Sequence[Any] | np.ndarray | torch.Tensor,
    config: FaceCNNConfig = FaceCNNConfig(),
    *,
    progress: Callable[[int, float], None] | None = None,
) -> tuple[FaceCNN, list[Any]]:
    """Train a :class:`FaceCNN` to classify ``labels`` (identities, or sexes) from ``images``.

    images: ``[N, 3, H, W]`` in [-1, 1]; labels: ``[N]``, any sortable values.
    Returns the network (eval mode) and its classes (label of each output). Deterministic for
    ``config.seed`` on one machine; the global random state is left as it was.
    """
    check_images(images, "training images")
    classes, targets = label_classes(labels)
    if targets.shape[0] != images.shape[0]:
        raise MetricError(f"Got {images.shape[0]} training images but {targets.shape[0]} labels; give one per image.")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        network = FaceCNN(config, len(classes))
    images = resize_faces(images, config.image_size)
    fit_face_network(
        network, images, config, lambda x, batch: F.cross_entropy(network.logits(x), targets[batch]), progress=progress
    )
    return network.eval(), classes


def fit_face_network(
    network: nn.Module,
    images: torch.Tensor,
    config: FaceCNNConfig,
    loss_of: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    *,
    progress: Callable[[int, float], None] | None = None,
) -> None:
    """Train a face network the way every corpus face network is trained, then recalibrate its
    BatchNorm: Adam (``config.learning_rate``, ``weight_decay``) on a one-cycle schedule over
    ``config.epochs`` of shuffled batches, augmented (flips, shifts) when ``config.augment`` and
    blurred when ``config.blur``. ``loss_of(x, batch)`` gives the loss of the batch's images ``x``
    ``[b, 3, S, S]`` (indices ``batch`` ``[b]`` into ``images``). Deterministic for ``config.seed``
    on any machine: it trains on :data:`INSTRUMENT_THREADS` threads."""
    with instrument_threads():
        _fit(network, images, config, loss_of, progress)


def instrument_settings(config: FaceCNNConfig) -> dict[str, Any]:
    """What a trained corpus face network depends on besides its data: its config and the thread
    count it trains on, and the revision of the code that trains it (part of every instrument cache key)."""
    return {**asdict(config), "threads": INSTRUMENT_THREADS, "revision": INSTRUMENTS_REVISION}


@contextmanager
def instrument_threads() -> Iterator[None]:
    """Run the block on :data:`INSTRUMENT_THREADS` torch threads, then restore the caller's count."""
    before = torch.get_num_threads()
    torch.set_num_threads(INSTRUMENT_THREADS)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _fit(network, images, config, loss_of, progress) -> None:
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = torch.optim.Adam(network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    steps_per_epoch = max(1, -(-images.shape[0] // config.batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.learning_rate, total_steps=config.epochs * steps_per_epoch
    )
    network.train()
    for epoch in range(config.epochs):
        order = torch.randperm(images.shape[0], generator=generator)
        total = 0.0
        for start in range(0, images.shape[0], config.batch_size):
            batch = order[start : start + config.batch_size]
            if batch.numel() < 2:  # BatchNorm cannot learn from a batch of one
                continue
            x = images[batch].float()
            if config.augment:
                x = augment_faces(x, generator)
            if config.blur > 0:
                x = random_blur(x, config.blur, generator)
            loss = loss_of(x, batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * batch.numel()
        if progress is not None:
            progress(epoch, total / images.shape[0])
    recalibrate_batchnorm(network, images, config.batch_size)


@torch.no_grad()
def recalibrate_batchnorm(
    network: nn.Module, images: torch.Tensor, batch_size: int, forward: Callable[[torch.Tensor], Any] | None = None
) -> None:
    """Replace BatchNorm's running statistics by exact averages over the (unaugmented) training
    images: short trainings leave the moving averages lagging behind the final weights, and
    eval-mode outputs then differ from what was trained. ``forward`` runs a batch of ``images``
    through the layers that hold the BatchNorms (default: ``network.trunk`` on float images)."""
    forward = forward or (lambda batch: network.trunk(batch.float()))
    norms = [m for m in network.modules() if isinstance(m, nn.BatchNorm2d)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over the batches below
    network.train()
    for start in range(0, images.shape[0], batch_size):
        forward(images[start : start + batch_size])
    for norm in norms:
        norm.momentum = 0.1


# --------------------------------------------------------------------------- cache


def save_face_cnn(cache: StatsCache, key: str, network: FaceCNN, classes: Sequence[Any]) -> Path:
    """Store a trained network in ``cache`` under ``key``: its tensors, config and classes as arrays."""
    arrays = {f"w.{name}": value.detach().cpu().numpy() for name, value in network.state_dict().items()}
    meta = {"config": asdict(network.config), "classes": list(classes), "num_classes": network.num_classes}
    arrays["meta"] = np.array(json.dumps(meta))
    return cache.save(key, arrays)


def load_face_cnn(cache: StatsCache, key: str) -> tuple[FaceCNN, list[Any]] | None:
    """The network cached under ``key`` with its classes, or None when there is none."""
    arrays = cache.load(key)
    if arrays is None:
        return None
    try:
        meta = json.loads(str(arrays.pop("meta")))
        config = from_dict(FaceCNNConfig, meta["config"], where=str(cache.path(key)))
        network = FaceCNN(config, int(meta["num_classes"]))
        network.load_state_dict({name[2:]: torch.from_numpy(a) for name, a in arrays.items()})
    except (KeyError, ValueError, RuntimeError, json.JSONDecodeError) as exc:
        raise MetricError(
            f"Cached face network {cache.path(key)} is damaged ({type(exc).__name__}); delete it to retrain."
        ) from None
    return network.eval(), list(meta["classes"])


def load_or_train_face_cnn(
    data: Callable[[], tuple[torch.Tensor, Sequence[Any]]],
    *,
    dataset: str,
    task: str,
    cache_dir: str | Path,
    config: FaceCNNConfig = FaceCNNConfig(),
) -> tuple[FaceCNN, list[Any], str]:
    """The network for (``dataset``, ``task``, ``config``) from ``cache_dir``, trained and cached
    on a miss. ``data()`` returns (images ``[N, 3, H, W]`` in [-1, 1], labels ``[N]``) and is
    only called on a miss. Returns (network, classes, cache key)."""
    cache = StatsCache(cache_dir, prefix="face-cnn")
    key = stats_key(dataset, f"face-cnn-{task}", "trained", instrument_settings(config))
    cached = load_face_cnn(cache, key)
    if cached is not None:
        return (*cached, key)
    images, labels = data()
    network, classes = train_face_cnn(images, labels, config)
    save_face_cnn(cache, key, network, classes)
    return network, classes, key
