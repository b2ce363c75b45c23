"""A face read-out of another family: fixed image descriptors and linear models.

The evaluation's CNN read-out (:mod:`voice2face.metrics.traits`) is a learned convolutional
network. A voice side that selects or learns against any face network can come to please that
family's quirks; this read-out shares nothing with it. Its descriptors are fixed formulas, and it
learns only linear weights on them, from the dataset's sharp real training faces:

- **HOG** (Dalal & Triggs 2005): luminance gradients, ``hog_bins`` unsigned orientation bins per
  ``hog_cell`` × ``hog_cell`` cell (each pixel's magnitude split between its two nearest bins),
  2 × 2-cell blocks normalised by L2-Hys (clip 0.2). Shape, edges, beards, glasses, wrinkles.
- **colour**: the mean and standard deviation of R, G, B in each cell of a ``grid`` × ``grid``
  layout (hair, skin, background by place), and a joint R-G-B histogram of the whole face
  (``colour_bins`` per channel, square-rooted: the Hellinger map, so a linear model compares
  histograms fairly).
- **sharpness**: the log variance of the luminance's Laplacian in each grid cell and overall.

Each descriptor column is standardised on the training faces. A regression trait gets ridge
regression, a binary trait L2-regularised logistic regression; the penalty is chosen per trait
from ``penalties`` by cross-validation over ``folds`` folds that keep each identity's faces
together, on the training faces alone. Everything is fixed here, by what it measures, before any
model is scored; nothing that trains or selects a model may use this module.

:func:`descriptor_two_sample_test` is the same family's realism check: a logistic regression on the
descriptors told to separate two sets of faces of *equal size* (the larger is subsampled), its
held-out accuracy over folds (0.5: it cannot tell them apart), the penalty chosen inside each
training fold.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from voice2face.config import DescriptorConfig, from_dict
from voice2face.errors import ConfigError, MetricError, MetricUnavailableError
from voice2face.metrics.cache import INSTRUMENTS_REVISION, StatsCache, stats_key
from voice2face.models.face_nets import TraitSpec

LUMA_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R BT.601
_HOG_CLIP = 0.2  # L2-Hys clipping (Dalal & Triggs)
_CHUNK = 256  # faces per descriptor batch


DEFAULT_DESCRIPTORS = DescriptorConfig()


# --------------------------------------------------------------------------- descriptors


def _as_unit_float(images: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 or [-1, 1] float faces ``[N, 3, H, W]`` → float64 in [0, 1] ``[N, 3, size, size]``."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] != 3:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise MetricError(f"descriptor input must be images [N, 3, H, W], got {shape}.")
    if images.dtype == torch.uint8:
        unit = images.double() / 255.0
    elif images.is_floating_point():
        unit = (images.double().clamp(-1, 1) + 1) / 2
    else:
        raise MetricError(f"descriptor input must be uint8 or float images, got dtype {images.dtype}.")
    if tuple(unit.shape[-2:]) != (size, size):
        unit = F.interpolate(unit, size=(size, size), mode="area" if unit.shape[-1] > size else "bilinear")
    return unit


def _hog(luma: torch.Tensor, cell: int, bins: int) -> torch.Tensor:
    """HOG of luminance ``[N, 1, S, S]`` → ``[N, (S/cell − 1)² · 4 · bins]``."""
    padded = F.pad(luma, (1, 1, 1, 1), mode="replicate")
    gx = padded[:, :, 1:-1, 2:] - padded[:, :, 1:-1, :-2]  # [N, 1, S, S]
    gy = padded[:, :, 2:, 1:-1] - padded[:, :, :-2, 1:-1]
    magnitude = torch.sqrt(gx**2 + gy**2)
    angle = torch.remainder(torch.atan2(gy, gx), math.pi)  # unsigned, [0, π)
    position = angle / (math.pi / bins) - 0.5  # bin centres at (k + 0.5)·π/bins
    low = torch.floor(position)
    upper_share = position - low
    low_bin = torch.remainder(low, bins).long()
    high_bin = torch.remainder(low + 1, bins).long()
    votes = torch.zeros(luma.shape[0], bins, *luma.shape[-2:], dtype=luma.dtype)  # [N, bins, S, S]
    votes.scatter_add_(1, low_bin, magnitude * (1 - upper_share))
    votes.scatter_add_(1, high_bin, magnitude * upper_share)
    cells = F.avg_pool2d(votes, cell) * cell * cell  # [N, bins, C, C]: each cell's histogram
    blocks = torch.cat(
        [cells[:, :, dy : cells.shape[2] - 1 + dy, dx : cells.shape[3] - 1 + dx] for dy in (0, 1) for dx in (0, 1)],
        dim=1,
    )  # [N, 4·bins, C−1, C−1]
    eps = 1e-3
    blocks = blocks / torch.sqrt((blocks**2).sum(1, keepdim=True) + eps**2)
    blocks = blocks.clamp(max=_HOG_CLIP)
    blocks = blocks / torch.sqrt((blocks**2).sum(1, keepdim=True) + eps**2)
    return blocks.flatten(1)


def _colour(unit: torch.Tensor, grid: int, bins: int) -> torch.Tensor:
    """Per-cell RGB mean and std ``[N, 6·grid²]`` and the whole face's joint histogram ``[N, bins³]``."""
    size = unit.shape[-1] // grid
    mean = F.avg_pool2d(unit, size)  # [N, 3, grid, grid]
    spread = (F.avg_pool2d(unit**2, size) - mean**2).clamp_min(0).sqrt()
    level = (unit * bins).long().clamp(0, bins - 1)  # [N, 3, S, S]
    index = (level[:, 0] * bins + level[:, 1]) * bins + level[:, 2]  # [N, S, S]
    histogram = torch.zeros(unit.shape[0], bins**3, dtype=unit.dtype)
    histogram.scatter_add_(1, index.flatten(1), torch.ones_like(index.flatten(1), dtype=unit.dtype))
    histogram = torch.sqrt(histogram / index[0].numel())
    return torch.cat([mean.flatten(1), spread.flatten(1), histogram], dim=1)


def _sharpness(luma: torch.Tensor, grid: int) -> torch.Tensor:
    """log variance of the Laplacian, per grid cell and overall ``[N, grid² + 1]``."""
    kernel = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]], dtype=luma.dtype).view(1, 1, 3, 3)
    laplacian = F.conv2d(luma, kernel)  # [N, 1, S−2, S−2]
    size = laplacian.shape[-1] // grid
    cells = laplacian[:, :, : size * grid, : size * grid]
    variance = F.avg_pool2d(cells**2, size) - F.avg_pool2d(cells, size) ** 2  # [N, 1, grid, grid]
    overall = laplacian.flatten(1).var(dim=1, keepdim=True)
    return torch.log(torch.cat([variance.flatten(1), overall], dim=1).clamp_min(0) + 1e-6)


def face_descriptors(images: torch.Tensor, config: DescriptorConfig = DEFAULT_DESCRIPTORS) -> np.ndarray:
    """Faces ``[N, 3, H, W]`` (uint8, or float in [-1, 1]) → descriptors ``[N, D]`` float64
    (HOG, colour, sharpness; D = 1941 at the default settings)."""
    parts = []
    for start in range(0, images.shape[0], _CHUNK):
        unit = _as_unit_float(images[start : start + _CHUNK], config.image_size)  # [n, 3, S, S]
        luma = sum(w * unit[:, c : c + 1] for c, w in enumerate(LUMA_WEIGHTS))  # [n, 1, S, S]
        parts.append(torch.cat([
            _hog(luma, config.hog_cell, config.hog_bins),
            _colour(unit, config.grid, config.colour_bins),
            _sharpness(luma, config.grid),
        ], dim=1))  # fmt: skip
    if not parts:
        raise MetricError("descriptor input holds no faces.")
    return torch.cat(parts).numpy()


# --------------------------------------------------------------------------- linear models


def _standardise(train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = train.mean(axis=0)
    scale = train.std(axis=0)
    return mean, np.where(scale > 1e-8, scale, 1.0)


def _ridge(x: np.ndarray, y: np.ndarray, penalty: float) -> tuple[np.ndarray, float]:
    """Ridge on standardised ``x`` ``[n, d]``: weights ``[d]`` and intercept (the mean of y)."""
    offset = float(y.mean())
    gram = x @ x.T  # dual form: d is larger than n here
    alpha = np.linalg.solve(gram + penalty * len(y) * np.eye(len(y)), y - offset)
    return x.T @ alpha, offset


def _logistic(x: np.ndarray, y: np.ndarray, penalty: float) -> tuple[np.ndarray, float]:
    """L2 logistic regression on standardised ``x`` by L-BFGS: weights ``[d]`` and bias (unpenalised)."""
    features = torch.from_numpy(x)
    target = torch.from_numpy(y.astype(np.float64))
    weights = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    prior = float(np.clip(y.mean(), 1e-3, 1 - 1e-3))
    bias = torch.tensor(math.log(prior / (1 - prior)), dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([weights, bias], lr=1.0, max_iter=200, tolerance_grad=1e-7,
                                  line_search_fn="strong_wolfe")  # fmt: skip

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = F.binary_cross_entropy_with_logits(features @ weights + bias, target)
        loss = loss + 0.5 * penalty * (weights**2).sum()
        loss.backward()
        return loss

    optimiser.step(closure)
    return weights.detach().numpy(), float(bias.detach())


def _fit(kind: str, x: np.ndarray, y: np.ndarray, penalty: float) -> tuple[np.ndarray, float]:
    """``binary``: logistic regression on 0/1; ``regression``, and ``sign`` (a ridge classifier on ±1): ridge."""
    return _logistic(x, y, penalty) if kind == "binary" else _ridge(x, y, penalty)


def _score(kind: str, y: np.ndarray, output: np.ndarray) -> float:
    """Higher is better: accuracy (``binary``: output a logit, y 0/1; ``sign``: y ±1) or minus the
    mean squared error (``regression``)."""
    if kind == "binary":
        return float(((output > 0) == (y > 0.5)).mean())
    if kind == "sign":
        return float(((output > 0) == (y > 0)).mean())
    return -float(((output - y) ** 2).mean())


def _fold_of(groups: Sequence[str], folds: int, seed: int) -> np.ndarray:
    """Each item's fold, identities kept together, folds assigned in a seeded order."""
    names = sorted(set(groups))
    order = np.random.default_rng(seed).permutation(len(names))
    fold_of_name = {names[i]: rank % folds for rank, i in enumerate(order)}
    return np.array([fold_of_name[g] for g in groups])


def _choose_penalty(kind: str, x: np.ndarray, y: np.ndarray, fold: np.ndarray, penalties: Sequence[float]) -> float:
    """The penalty of best mean held-out score over the folds (ties: the strongest)."""
    best, best_score = max(penalties), -math.inf
    for penalty in sorted(penalties, reverse=True):
        scores = []
        for k in np.unique(fold):
            train, held = fold != k, fold == k
            if kind != "regression" and len(np.unique(y[train])) < 2:
                continue
            mean, scale = _standardise(x[train])
            weights, bias = _fit(kind, (x[train] - mean) / scale, y[train], penalty)
            scores.append(_score(kind, y[held], ((x[held] - mean) / scale) @ weights + bias))
        if scores and np.mean(scores) > best_score + 1e-12:
            best, best_score = penalty, float(np.mean(scores))
    return best


class DescriptorReadout:
    """Linear read-outs of face traits from :func:`face_descriptors` (see the module).

    :meth:`predict` gives each trait's reading of faces ``[N, 3, H, W]``: binary 0/1, regression
    in the trait's units. ``penalties`` records the L2 strength each trait's cross-validation chose.
    """

    def __init__(self, config: DescriptorConfig, specs: Sequence[TraitSpec], mean: np.ndarray, scale: np.ndarray,
                 weights: np.ndarray, biases: np.ndarray, penalties: Sequence[float]) -> None:  # fmt: skip
        self.config, self.specs = config, tuple(specs)
        self.mean, self.scale = np.asarray(mean, np.float64), np.asarray(scale, np.float64)  # [D]
        self.weights, self.biases = np.asarray(weights, np.float64), np.asarray(biases, np.float64)  # [T, D], [T]
        self.penalties = tuple(float(p) for p in penalties)
        if self.weights.shape != (len(self.specs), self.mean.shape[0]):
            raise MetricError(f"descriptor read-out weights {self.weights.shape} do not fit {len(self.specs)} traits.")

    def outputs(self, images: torch.Tensor) -> np.ndarray:
        """The linear outputs ``[N, T]`` (binary: logits; regression: values in the trait's units)."""
        descriptors = face_descriptors(images, self.config)
        if descriptors.shape[1] != self.mean.shape[0]:
            raise MetricError(
                f"faces give {descriptors.shape[1]} descriptors; the read-out expects {self.mean.shape[0]}."
            )
        return ((descriptors - self.mean) / self.scale) @ self.weights.T + self.biases

    def predict(self, images: torch.Tensor) -> dict[str, np.ndarray]:
        """Each trait's reading: binary 0/1, regression in its units."""
        out = self.outputs(images)
        return {spec.name: ((out[:, k] > 0).astype(np.float64) if spec.kind == "binary" else out[:, k])
                for k, spec in enumerate(self.specs)}  # fmt: skip

    def arrays(self) -> dict[str, np.ndarray]:
        """Everything the read-out is, as arrays and a JSON string (for the npz cache)."""
        meta = {"config": asdict(self.config), "specs": [asdict(s) for s in self.specs], "penalties": self.penalties}
        return {"mean": self.mean, "scale": self.scale, "weights": self.weights, "biases": self.biases,
                "meta": np.array(json.dumps(meta))}  # fmt: skip

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], where: str) -> DescriptorReadout:
        try:
            meta = json.loads(str(arrays["meta"]))
            config = from_dict(DescriptorConfig, meta["config"], where=where)
            specs = [TraitSpec(**s) for s in meta["specs"]]
            return cls(config, specs, arrays["mean"], arrays["scale"], arrays["weights"], arrays["biases"],
                       meta["penalties"])  # fmt: skip
        except (KeyError, TypeError, ValueError, ConfigError, json.JSONDecodeError) as exc:
            raise MetricError(
                f"Cached descriptor read-out {where} is damaged ({type(exc).__name__}); delete it to retrain."
            ) from None


def train_descriptor_readout(
    images: torch.Tensor,
    targets: np.ndarray,
    groups: Sequence[str],
    specs: Sequence[TraitSpec],
    config: DescriptorConfig = DEFAULT_DESCRIPTORS,
) -> DescriptorReadout:
    """Fit the read-out on faces ``[N, 3, H, W]``, targets ``[N, T]`` (NaN = unknown, left out of that
    trait) and each face's identity ``groups`` (cross-validation keeps an identity's faces together)."""
    targets = np.asarray(targets, np.float64)
    if targets.shape != (images.shape[0], len(specs)) or len(groups) != images.shape[0]:
        raise MetricError(f"descriptor read-out targets {targets.shape} / groups {len(groups)} do not fit "
                          f"{images.shape[0]} faces and {len(specs)} traits.")  # fmt: skip
    descriptors = face_descriptors(images, config)
    mean, scale = _standardise(descriptors)
    standard = (descriptors - mean) / scale
    fold = _fold_of(groups, config.folds, config.seed)
    weights, biases, chosen = [], [], []
    for k, spec in enumerate(specs):
        known = ~np.isnan(targets[:, k])
        y = targets[known, k]
        if known.sum() < 2 * config.folds or (spec.kind == "binary" and len(np.unique(y)) < 2):
            raise MetricUnavailableError(f"The training faces have too few {spec.name} labels to learn it.")
        penalty = _choose_penalty(spec.kind, descriptors[known], y, fold[known], config.penalties)
        w, b = _fit(spec.kind, standard[known], y, penalty)
        weights.append(w)
        biases.append(b)
        chosen.append(penalty)
    return DescriptorReadout(config, specs, mean, scale, np.stack(weights), np.array(biases), chosen)


def load_or_train_descriptor_readout(
    data: Callable[[], tuple[torch.Tensor, np.ndarray, Sequence[str]]],
    specs: Sequence[TraitSpec],
    *,
    dataset: str,
    cache_dir: str | Path,
    config: DescriptorConfig = DEFAULT_DESCRIPTORS,
) -> DescriptorReadout:
    """The read-out for (``dataset``, ``specs``, ``config``) from ``cache_dir`` (npz, never pickles),
    trained on a miss from ``data()`` → (faces, targets ``[N, T]``, identity of each face)."""
    cache = StatsCache(cache_dir, prefix="descriptor-readout")
    key = stats_key(dataset, "descriptor-readout-" + ",".join(s.name for s in specs), "linear",
                    {**asdict(config), "revision": INSTRUMENTS_REVISION})  # fmt: skip
    arrays = cache.load(key)
    if arrays is not None:
        return DescriptorReadout.from_arrays(arrays, str(cache.path(key)))
    images, targets, groups = data()
    readout = train_descriptor_readout(images, targets, groups, specs, config)
    cache.save(key, readout.arrays())
    return readout


# --------------------------------------------------------------------------- two-sample test


def descriptor_two_sample_test(
    first: torch.Tensor,
    second: torch.Tensor,
    config: DescriptorConfig = DEFAULT_DESCRIPTORS,
    *,
    first_groups: Sequence[str] | None = None,
    second_groups: Sequence[str] | None = None,
) -> dict[str, Any]:
    """How well a linear model on the descriptors tells two face sets apart, at equal sizes.

    The larger set is subsampled (seeded) to the smaller's size. The model is a ridge classifier
    (least squares on ±1 labels: closed form, so the test stays cheap), its penalty chosen inside
    each training fold. ``*_groups`` name each face's person: a person's faces then stay in one fold,
    so the test cannot win by recognising the few people of a small set (without groups, two
    disjoint sets of real people are told apart well above 0.5). Returns ``c2st`` (mean held-out
    accuracy), ``c2st_std`` (its spread over folds) and ``per_side`` (faces used from each set).
    """
    size = min(first.shape[0], second.shape[0])
    if size < config.folds:
        raise MetricError(f"the two-sample test needs at least {config.folds} faces per side, got {size}.")
    draw = np.random.default_rng(config.seed)
    x_parts, folds = [], []
    for side, (faces, groups) in enumerate(((first, first_groups), (second, second_groups))):
        pick = np.sort(draw.choice(len(faces), size, replace=False)) if len(faces) > size else np.arange(size)
        x_parts.append(face_descriptors(faces[torch.from_numpy(pick)], config))
        names = [f"{side}/{groups[i]}" for i in pick] if groups is not None else [f"{side}/{i}" for i in pick]
        folds.append(_fold_of(names, config.folds, config.seed + side))
    x = np.concatenate(x_parts)
    y = np.concatenate([-np.ones(size), np.ones(size)])
    fold = np.concatenate(folds)
    accuracies = []
    for k in range(config.folds):
        train, held = fold != k, fold == k
        if not held.any():
            continue
        inner = fold[train]
        inner = np.where(inner > k, inner - 1, inner)  # the other folds, renumbered 0..folds−2
        penalty = _choose_penalty("sign", x[train], y[train], inner, config.penalties)
        mean, scale = _standardise(x[train])
        weights, bias = _ridge((x[train] - mean) / scale, y[train], penalty)
        accuracies.append(_score("sign", y[held], ((x[held] - mean) / scale) @ weights + bias))
    return {"c2st": float(np.mean(accuracies)), "c2st_std": float(np.std(accuracies)), "per_side": int(size)}
