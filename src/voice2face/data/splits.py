"""Identity-disjoint train/val/test splits, in given proportions, optionally stratified.

Used by every dataset preparation (synthvox, VoxCeleb/VGGFace) so that splits are made the
same way everywhere: a person's voices and faces all land in one split.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from voice2face.config import PAPER_SPLIT_SUBJECTS, SPLITS


def split_counts(n: int, weights: Sequence[float] = PAPER_SPLIT_SUBJECTS) -> tuple[int, int, int]:
    """How many of ``n`` identities go to (train, val, test): proportional to ``weights`` by
    largest remainders, with at least one in each split when ``n >= 3``."""
    if len(weights) != 3 or min(weights) <= 0:
        raise ValueError(f"weights must be three positive numbers, got {weights}")
    share = np.asarray(weights, dtype=np.float64) / float(sum(weights)) * n
    counts = np.floor(share).astype(int)
    for i in np.argsort(-(share - counts), kind="stable")[: n - counts.sum()]:
        counts[i] += 1
    if n >= 3:
        for i in range(3):
            if counts[i] == 0:
                counts[i] = 1
                counts[int(np.argmax(counts))] -= 1
    return int(counts[0]), int(counts[1]), int(counts[2])


def assign_splits(
    ids: Sequence[str],
    rng: np.random.Generator,
    weights: Sequence[float] = PAPER_SPLIT_SUBJECTS,
    strata: Sequence[str] | None = None,
) -> dict[str, str]:
    """Map each identity id to "train", "val" or "test", in the proportions of ``weights``.

    With ``strata`` (e.g. each identity's sex), every stratum is spread over the splits in the
    same proportions as far as whole identities allow; totals are exactly :func:`split_counts`.
    """
    if len(set(ids)) != len(ids):
        raise ValueError("identity ids must be unique")
    n = len(ids)
    counts = split_counts(n, weights)
    keys = rng.random(n)
    order = sorted(range(n), key=lambda i: ((strata[i] if strata is not None else ""), keys[i]))
    # Deal identities in stratum order to the split furthest behind its quota, so each stratum
    # is spread proportionally and totals come out exact.
    assigned = [0, 0, 0]
    split_of: dict[str, str] = {}
    for position, index in enumerate(order, start=1):
        deficit = [counts[k] * position / n - assigned[k] if assigned[k] < counts[k] else -np.inf for k in range(3)]
        chosen = int(np.argmax(deficit))
        assigned[chosen] += 1
        split_of[ids[index]] = SPLITS[chosen]
    return split_of
