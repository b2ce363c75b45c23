"""Fréchet Inception Distance, Kernel Inception Distance, and Fréchet distance in other embeddings.

FID (Heusel et al. 2017) is the Fréchet distance between Gaussians fitted to Inception pool
features of real and generated images; KID (Bińkowski et al. 2018) is the unbiased MMD² with
the cubic polynomial kernel, averaged over random subsets. The same Fréchet distance over a
face-recognition embedding is reported as ``fd_<embedder name>``, never as FID.

Images arrive as an iterable of batches ``[B, 3, H, W]`` in [-1, 1] (a generator's output or
a dataset's faces); features are computed batch by batch, so nothing holds all images at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import linalg

from voice2face.config import FIDConfig
from voice2face.errors import MetricError, MetricUnavailableError
from voice2face.metrics.cache import StatsCache, stats_key
from voice2face.metrics.inception import (
    NO_WEIGHTS_MESSAGE,
    PUBLISHED_SHA256_PREFIX,
    FIDInceptionV3,
    load_fid_inception,
)

__all__ = [
    "FIDInceptionV3",
    "extract_features",
    "fd_embedding",
    "feature_statistics",
    "fid",
    "frechet_distance",
    "kernel_inception_distance",
    "kid",
    "load_fid_inception",
    "real_statistics",
]

log = logging.getLogger(__name__)
FeatureFn = Callable[[torch.Tensor], torch.Tensor]


def frechet_distance(
    mu1: np.ndarray,
    sigma1: np.ndarray,
    mu2: np.ndarray,
    sigma2: np.ndarray,
    *,
    eps: float = 1e-6,
    method: str = "sqrtm",
) -> float:
    """Fréchet distance ``|mu1 − mu2|² + Tr(Σ1 + Σ2 − 2·(Σ1Σ2)^½)`` between two Gaussians.

    mu: ``[D]``; sigma: ``[D, D]``. The matrix square root is scipy's ``sqrtm`` of Σ1Σ2; when
    that product is singular enough to give non-finite values, ``eps`` is added to both
    diagonals and it is retried. A tiny imaginary part (numerical noise) is discarded; a real
    one (diagonal imaginary part above 1e-3) is an error, as the covariances are then unusable.

    method="eigh" is a faster path (about 5× at D = 2048) for symmetric covariances:
    Tr((Σ1Σ2)^½) = Σ √λ of Σ1^½ Σ2 Σ1^½; "sqrtm" (default) is the reference that pytorch-fid
    and the published numbers use, and the test checks that the two agree.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or mu1.ndim != 1:
        raise MetricError(f"Fréchet distance needs two means of the same length, got {mu1.shape} and {mu2.shape}.")
    dim = mu1.shape[0]
    if sigma1.shape != (dim, dim) or sigma2.shape != (dim, dim):
        raise MetricError(f"Fréchet distance needs [{dim}, {dim}] covariances, got {sigma1.shape} and {sigma2.shape}.")
    diff = mu1 - mu2
    if method == "eigh":
        return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * _trace_sqrt_product(sigma1, sigma2))
    if method != "sqrtm":
        raise MetricError(f"Fréchet distance method must be 'sqrtm' or 'eigh', got {method!r}.")
    covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        log.warning("Fréchet distance: singular covariance product; adding %g to the diagonals", eps)
        offset = np.eye(dim) * eps
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            worst = float(np.max(np.abs(covmean.imag)))
            raise MetricError(
                f"Fréchet distance: the covariance square root has an imaginary part of {worst:.3g}; "
                "use more images than feature dimensions."
            )
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def _trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """Tr((Σ1Σ2)^½) from two symmetric eigendecompositions; Σ1Σ2 is similar to Σ1^½ Σ2 Σ1^½,
    which is symmetric positive semi-definite, so its eigenvalues are real and (up to rounding) ≥ 0."""
    values, vectors = linalg.eigh((sigma1 + sigma1.T) / 2)
    root = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T  # Σ1^½
    middle = root @ sigma2 @ root
    return float(np.sqrt(np.clip(linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum())


def feature_statistics(features: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``[D]`` and unbiased covariance ``[D, D]`` (float64) of features ``[N, D]``."""
    features = _as_features(features, "features")
    if features.shape[0] < 2:
        raise MetricError(f"Feature statistics need at least 2 samples, got {features.shape[0]}.")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def kernel_inception_distance(
    features1: np.ndarray | torch.Tensor,
    features2: np.ndarray | torch.Tensor,
    *,
    num_subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """KID: mean and standard deviation over subsets of the unbiased MMD² with kernel
    ``k(x, y) = (x·y / D + 1)³``. features: ``[N1, D]`` and ``[N2, D]``; each subset draws
    ``min(subset_size, N1, N2)`` rows of each without replacement."""
    x_all, y_all = _as_features(features1, "features1"), _as_features(features2, "features2")
    if x_all.shape[1] != y_all.shape[1]:
        raise MetricError(f"KID needs features of one dimension, got {x_all.shape[1]} and {y_all.shape[1]}.")
    m = min(subset_size, x_all.shape[0], y_all.shape[0])
    if m < 2:
        raise MetricError(f"KID needs at least 2 samples per set, got {x_all.shape[0]} and {y_all.shape[0]}.")
    dim = x_all.shape[1]
    rng = np.random.default_rng(seed)
    values = np.empty(num_subsets)
    for i in range(num_subsets):
        x = x_all[rng.choice(x_all.shape[0], m, replace=False)]
        y = y_all[rng.choice(y_all.shape[0], m, replace=False)]
        k_xx = (x @ x.T / dim + 1) ** 3
        k_yy = (y @ y.T / dim + 1) ** 3
        k_xy = (x @ y.T / dim + 1) ** 3
        within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
        values[i] = within - 2.0 * k_xy.mean()
    return float(values.mean()), float(values.std())


def _as_features(features: np.ndarray | torch.Tensor, name: str) -> np.ndarray:
    if isinstance(features, torch.Tensor):
        features = features.detach().cpu().numpy()
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2:
        raise MetricError(f"{name} must be a [N, D] array, got shape {features.shape}.")
    if not np.isfinite(features).all():
        raise MetricError(f"{name} contain NaN or infinite values; check the images and the network.")
    return features


@torch.no_grad()
def extract_features(
    network: FeatureFn, batches: Iterable[torch.Tensor], *, max_items: int | None = None
) -> np.ndarray:
    """Run ``network`` (images ``[B, 3, H, W]`` → ``[B, D]``) over image batches; returns ``[N, D]`` float64."""
    chunks, count = [], 0
    for images in batches:
        if max_items is not None and count >= max_items:
            break
        if max_items is not None:
            images = images[: max_items - count]
        features = network(images)  # [B, D]
        if features.ndim != 2 or features.shape[0] != images.shape[0]:
            raise MetricError(f"A feature network returned {tuple(features.shape)} for {images.shape[0]} images.")
        chunks.append(features.detach().cpu().double().numpy())
        count += images.shape[0]
    if not chunks:
        raise MetricError("No images were given to compute features of; check the image source.")
    return np.concatenate(chunks)


# --------------------------------------------------------------------------- whole records


def _inception(inception: FIDInceptionV3 | str | Path | None) -> FIDInceptionV3:
    if inception is None:
        raise MetricUnavailableError(NO_WEIGHTS_MESSAGE)
    return inception if isinstance(inception, FIDInceptionV3) else load_fid_inception(inception)


def real_statistics(
    network: FeatureFn,
    real_images: Iterable[torch.Tensor] | None,
    *,
    want: str,
    extractor: str,
    weights_id: str,
    cache: StatsCache | None = None,
    dataset: str | None = None,
    max_items: int | None = None,
) -> dict[str, np.ndarray]:
    """Real-image statistics, from ``cache`` when its key matches, else computed (and cached).

    want: "moments" → ``{"mu": [D], "sigma": [D, D]}`` (Fréchet distances); "features" →
    ``{"features": [N, D]}`` float32 (KID). Computing one kind caches both, so FID and KID
    on the same data read the real images once. The key hashes ``dataset``, the extractor's
    name and weights, and ``max_items``.
    """
    if want not in ("moments", "features"):
        raise MetricError(f"real_statistics: want must be 'moments' or 'features', got {want!r}.")
    if cache is not None and dataset is not None:
        keys = {
            kind: stats_key(dataset, extractor, weights_id, {"kind": kind, "max_items": max_items})
            for kind in ("moments", "features")
        }
        cached = cache.load(keys[want])
        if cached is not None:
            return cached
    if real_images is None:
        raise MetricError("Real images are needed for this metric; pass real_images (an iterable of batches).")
    features = extract_features(network, real_images, max_items=max_items)  # [N, D]
    mu, sigma = feature_statistics(features)
    computed = {"moments": {"mu": mu, "sigma": sigma}, "features": {"features": features.astype(np.float32)}}
    if cache is not None and dataset is not None:
        for kind, arrays in computed.items():
            cache.save(keys[kind], arrays)
    return computed[want]


def _weights_id(network: Any) -> str:
    return str(getattr(network, "weights_id", "unversioned"))


def _inception_features(
    inception: FIDInceptionV3 | str | Path | None,
    fake_images: Iterable[torch.Tensor],
    real_images: Iterable[torch.Tensor] | None,
    want: str,
    cache: StatsCache | None,
    dataset: str | None,
    num_fake: int | None,
    num_real: int | None,
) -> tuple[dict[str, np.ndarray], np.ndarray, str]:
    """(real statistics of kind ``want``, fake features ``[N, 2048]``, weights id) for FID and KID."""
    network = _inception(inception)
    weights = _weights_id(network)
    real = real_statistics(
        network,
        real_images,
        want=want,
        extractor="inception-2015-12-05",
        weights_id=weights,
        cache=cache,
        dataset=dataset,
        max_items=num_real,
    )
    return real, extract_features(network, fake_images, max_items=num_fake), weights


def fid(
    *,
    fake_images: Iterable[torch.Tensor],
    real_images: Iterable[torch.Tensor] | None = None,
    inception: FIDInceptionV3 | str | Path | None = None,
    cache: StatsCache | None = None,
    dataset: str | None = None,
    num_fake: int | None = None,
    num_real: int | None = None,
    config: FIDConfig = FIDConfig(),
) -> dict[str, Any]:
    """FID between generated and real images (iterables of batches ``[B, 3, H, W]`` in [-1, 1]).

    inception: the network or the path of its weight file; None skips the metric with the
    reason (nothing is downloaded, nothing stands in for it). Real statistics are cached in
    ``cache`` under ``dataset`` (a string naming the data, e.g. its manifest's hash and split)
    when both are given; real_images may then be None once the cache is filled.
    Returns ``{"fid", "num_fake", "inception_weights", "comparable_to_published"}``.
    """
    real, fake, weights = _inception_features(
        inception, fake_images, real_images, "moments", cache, dataset, num_fake, num_real
    )
    return {
        "fid": frechet_distance(*feature_statistics(fake), real["mu"], real["sigma"], method=config.frechet_method),
        "num_fake": int(fake.shape[0]),
        "inception_weights": weights,
        "comparable_to_published": weights.startswith(PUBLISHED_SHA256_PREFIX),
    }


def kid(
    *,
    fake_images: Iterable[torch.Tensor],
    real_images: Iterable[torch.Tensor] | None = None,
    inception: FIDInceptionV3 | str | Path | None = None,
    cache: StatsCache | None = None,
    dataset: str | None = None,
    num_fake: int | None = None,
    num_real: int | None = None,
    config: FIDConfig = FIDConfig(),
) -> dict[str, Any]:
    """KID between generated and real images, same inputs as :func:`fid`.

    Returns ``{"kid", "kid_std", "num_fake", "num_real", "inception_weights"}``.
    """
    stats, fake, weights = _inception_features(
        inception, fake_images, real_images, "features", cache, dataset, num_fake, num_real
    )
    real = stats["features"]
    mean, std = kernel_inception_distance(
        fake, real, num_subsets=config.kid_subsets, subset_size=config.kid_subset_size, seed=config.seed
    )
    return {
        "kid": mean,
        "kid_std": std,
        "num_fake": int(fake.shape[0]),
        "num_real": int(real.shape[0]),
        "inception_weights": weights,
    }


def fd_embedding(
    *,
    fake_images: Iterable[torch.Tensor],
    embedder: Any,
    real_images: Iterable[torch.Tensor] | None = None,
    cache: StatsCache | None = None,
    dataset: str | None = None,
    num_fake: int | None = None,
    num_real: int | None = None,
) -> dict[str, Any]:
    """Fréchet distance in a face embedder's space, keyed ``fd_<embedder.name>`` so that
    nobody mistakes it for FID. embedder: a :class:`~voice2face.metrics.embedders.FaceEmbedder`
    (``name``, ``weights_id``, ``embed(images) -> [B, D]``)."""
    name = str(embedder.name)
    real = real_statistics(
        embedder.embed,
        real_images,
        want="moments",
        extractor=name,
        weights_id=_weights_id(embedder),
        cache=cache,
        dataset=dataset,
        max_items=num_real,
    )
    fake = extract_features(embedder.embed, fake_images, max_items=num_fake)  # [N, D]
    return {
        f"fd_{name}": frechet_distance(*feature_statistics(fake), real["mu"], real["sigma"]),
        "num_fake": int(fake.shape[0]),
        "embedder": name,
    }
