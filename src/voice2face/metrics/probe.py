"""Linear probes: how much of a speaker attribute a voice embedding carries, read linearly.

A ridge regression from the training speakers' mean embeddings (standardised with the training
statistics) to the attribute; its penalty is chosen by leave-one-out error on the training
speakers alone, from a fixed grid, so the probe is fixed before any test speaker is seen. The
score is the coefficient of determination R² on the test speakers (1 = all of the attribute,
0 = no better than the training mean; it can be negative) or, for a 0/1 attribute, the accuracy
of the prediction thresholded at 0.5.
"""

from __future__ import annotations

import numpy as np

#: The ridge penalties tried (relative to the number of training speakers).
RIDGE_GRID = tuple(10.0**k for k in range(-3, 4))


def _ridge_loo(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """(weights ``[D + 1]`` with intercept last, chosen penalty) by leave-one-out error over RIDGE_GRID."""
    n = x.shape[0]
    design = np.hstack([x, np.ones((n, 1))])
    best = (np.inf, None, None)
    for alpha in RIDGE_GRID:
        penalty = alpha * n * np.eye(design.shape[1])
        penalty[-1, -1] = 0.0  # the intercept is not shrunk
        inverse = np.linalg.pinv(design.T @ design + penalty)
        weights = inverse @ design.T @ y
        hat = np.einsum("ij,jk,ik->i", design, inverse, design)
        residual = (y - design @ weights) / np.clip(1.0 - hat, 1e-6, None)
        error = float(np.mean(residual**2))
        if error < best[0]:
            best = (error, weights, alpha)
    return best[1], best[2]


def linear_probe(
    train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, *, binary: bool = False
) -> dict[str, float]:
    """Fit on ``train_x`` ``[N, D]`` → ``train_y`` ``[N]``; score on the test pair (NaN targets dropped).

    Returns ``{"score", "alpha", "train", "test"}``: R² (or accuracy with ``binary``), the chosen
    penalty and the numbers of speakers used."""
    train_x, test_x = np.asarray(train_x, np.float64), np.asarray(test_x, np.float64)
    train_y, test_y = np.asarray(train_y, np.float64), np.asarray(test_y, np.float64)
    keep, keep_test = np.isfinite(train_y), np.isfinite(test_y)
    train_x, train_y, test_x, test_y = train_x[keep], train_y[keep], test_x[keep_test], test_y[keep_test]
    if train_x.shape[0] < 3 or test_x.shape[0] < 2:
        raise ValueError("a linear probe needs at least 3 training and 2 test speakers with the attribute")
    mean, std = train_x.mean(0), train_x.std(0) + 1e-8
    weights, alpha = _ridge_loo((train_x - mean) / std, train_y)
    predicted = np.hstack([(test_x - mean) / std, np.ones((test_x.shape[0], 1))]) @ weights
    if binary:
        score = float(np.mean((predicted > 0.5) == (test_y > 0.5)))
    else:
        spread = float(np.sum((test_y - test_y.mean()) ** 2))
        score = 1.0 - float(np.sum((predicted - test_y) ** 2)) / max(spread, 1e-12)
    return {"score": score, "alpha": float(alpha), "train": int(train_x.shape[0]), "test": int(test_x.shape[0])}
