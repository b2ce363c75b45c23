"""Does a face generated from a voice look like that speaker? The field's identity metrics.

All functions take plain embeddings and labels, so they can be checked by hand:

- generated: ``[N, D]`` face-embedding of the face generated from each test voice, with
  ``generated_ids [N]``, the speaker of that voice;
- real: ``[M, D]`` embeddings of real faces, with ``real_ids [M]``;
- ``identity_sex``: optional mapping identity → sex label (for the same-sex 1:2 stratum).

Embeddings need not be normalised; similarity is always cosine. Metrics follow Wen et al.
(NeurIPS 2019) and SF2F (Bai et al. 2022): 1:2 matching, recall@K against per-identity mean
embeddings of real faces over random galleries, mean cosine to the speaker's faces, and
agreement of a predicted attribute (sex; age bins) with the speaker's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import torch

from voice2face.config import IdentityMetricsConfig
from voice2face.errors import MetricError

Array = np.ndarray | torch.Tensor


def _matrix(x: Array, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise MetricError(f"{name} must be a non-empty [N, D] array of embeddings, got shape {x.shape}.")
    if not np.isfinite(x).all():
        raise MetricError(f"{name} contain NaN or infinite values; check the embedder's input.")
    return x


def _labels(x: Array | Iterable[Any], n: int, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.asarray(list(x) if not isinstance(x, np.ndarray) else x)
    if x.shape != (n,):
        raise MetricError(f"{name} must hold one label per embedding ({n}), got shape {x.shape}.")
    return x


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero). ``[N, D] → [N, D]``."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


class _Inputs:
    """Validated, normalised embeddings and the real faces grouped by identity."""

    def __init__(self, generated: Array, generated_ids: Any, real: Array, real_ids: Any) -> None:
        self.gen = l2_normalise(_matrix(generated, "generated embeddings"))  # [N, D]
        self.real = l2_normalise(_matrix(real, "real embeddings"))  # [M, D]
        if self.gen.shape[1] != self.real.shape[1]:
            raise MetricError(
                f"Generated and real embeddings differ in size ({self.gen.shape[1]} vs {self.real.shape[1]}); "
                "embed both with the same embedder."
            )
        self.gen_ids = _labels(generated_ids, self.gen.shape[0], "generated_ids")
        real_ids = _labels(real_ids, self.real.shape[0], "real_ids")
        self.identities, self.real_group = np.unique(real_ids, return_inverse=True)  # [K], [M] in 0..K-1
        lookup = {label: k for k, label in enumerate(self.identities.tolist())}
        missing = sorted({label for label in self.gen_ids.tolist() if label not in lookup}, key=str)
        if missing:
            shown = ", ".join(map(str, missing[:5]))
            raise MetricError(f"Speaker(s) {shown} of generated faces have no real faces; give real faces of each.")
        self.gen_group = np.array([lookup[label] for label in self.gen_ids.tolist()])  # [N] in 0..K-1
        self.faces_of = [np.flatnonzero(self.real_group == k) for k in range(len(self.identities))]
        self.counts = np.array([len(f) for f in self.faces_of])  # [K]
        sums = np.zeros((len(self.identities), self.real.shape[1]))
        np.add.at(sums, self.real_group, self.real)
        self.sums = sums  # [K, D]: sum of each identity's normalised face embeddings

    def sex_groups(self, identity_sex: Mapping[Any, Any] | None) -> np.ndarray | None:
        """Per identity (``[K]``) an integer sex group, −1 where unknown; None without labels."""
        if identity_sex is None:
            return None
        codes: dict[Any, int] = {}
        groups = np.full(len(self.identities), -1)
        for k, label in enumerate(self.identities.tolist()):
            sex = identity_sex.get(label)
            if sex is not None and sex == sex and sex != "":  # None, NaN and "" mean unknown
                groups[k] = codes.setdefault(sex, len(codes))
        return groups


def _candidates(inputs: _Inputs, sex_groups: np.ndarray | None) -> list[np.ndarray]:
    """For each identity, the identities its 1:2 negatives are drawn from."""
    everyone = np.arange(len(inputs.identities))
    out = []
    for k in everyone:
        if sex_groups is None:
            out.append(everyone[everyone != k])
        elif sex_groups[k] < 0:
            out.append(everyone[:0])
        else:
            out.append(everyone[(sex_groups == sex_groups[k]) & (everyone != k)])
    return out


def _exact_1v2(inputs: _Inputs, candidates: list[np.ndarray]) -> tuple[float, int]:
    """Expected accuracy of the random protocol, computed exactly: for each voice, the mean over
    negative identities of P(cos to a random own face > cos to a random face of that identity)."""
    scores = []
    for g in range(inputs.gen.shape[0]):
        own, negatives = inputs.gen_group[g], candidates[inputs.gen_group[g]]
        if len(negatives) == 0:
            continue
        sims = inputs.real @ inputs.gen[g]  # [M]
        positive = np.sort(sims[inputs.faces_of[own]])
        per_identity = []
        for j in negatives:
            negative = sims[inputs.faces_of[j]]
            below = np.searchsorted(positive, negative, side="left")  # positives < negative
            upto = np.searchsorted(positive, negative, side="right")  # positives <= negative
            wins = (len(positive) - upto) + 0.5 * (upto - below)  # ties count half
            per_identity.append(wins.sum() / (len(positive) * len(negative)))
        scores.append(np.mean(per_identity))
    return (float(np.mean(scores)) if scores else float("nan")), len(scores)


def _random_1v2(inputs: _Inputs, candidates: list[np.ndarray], num_pairs: int, rng: np.random.Generator) -> float:
    """Accuracy over ``num_pairs`` random (voice, own face, other identity's face) triples."""
    usable = np.flatnonzero([len(candidates[k]) > 0 for k in inputs.gen_group])
    if usable.size == 0:
        return float("nan")
    voices = usable[rng.integers(usable.size, size=num_pairs)]  # [P]
    own = inputs.gen_group[voices]
    positives = np.array([inputs.faces_of[k][rng.integers(inputs.counts[k])] for k in own])
    other = np.array([candidates[k][rng.integers(len(candidates[k]))] for k in own])
    negatives = np.array([inputs.faces_of[k][rng.integers(inputs.counts[k])] for k in other])
    pos = np.einsum("pd,pd->p", inputs.gen[voices], inputs.real[positives])
    neg = np.einsum("pd,pd->p", inputs.gen[voices], inputs.real[negatives])
    return float(np.mean((pos > neg) + 0.5 * (pos == neg)))


def match_1v2(
    generated: Array,
    generated_ids: Any,
    real: Array,
    real_ids: Any,
    *,
    num_pairs: int = 10000,
    seed: int = 0,
    identity_sex: Mapping[Any, Any] | None = None,
) -> dict[str, float | int]:
    """1:2 matching: for a test voice, is its generated face closer (cosine) to a face of its
    speaker than to a face of another identity? Chance is 0.5; ties count half.

    num_pairs: random triples (seeded); 0 gives the exact expectation of that random protocol.
    identity_sex: also report ``match_1v2_same_sex``, where the other identity shares the
    speaker's sex (so sex alone cannot decide), over identities of known sex.
    Returns ``{"match_1v2", "match_1v2_voices"[, "match_1v2_same_sex", "match_1v2_same_sex_voices"]}``.
    """
    inputs = _Inputs(generated, generated_ids, real, real_ids)
    if len(inputs.identities) < 2:
        raise MetricError("1:2 matching needs real faces of at least 2 identities.")
    results: dict[str, float | int] = {}
    strata = {"match_1v2": None}
    if identity_sex is not None:
        strata["match_1v2_same_sex"] = inputs.sex_groups(identity_sex)
    for offset, (key, groups) in enumerate(strata.items()):
        candidates = _candidates(inputs, groups)
        if num_pairs == 0:
            results[key], results[f"{key}_voices"] = _exact_1v2(inputs, candidates)
        else:
            rng = np.random.default_rng([seed, offset])
            results[key] = _random_1v2(inputs, candidates, num_pairs, rng)
            results[f"{key}_voices"] = int(sum(len(candidates[k]) > 0 for k in inputs.gen_group))
    return results


def recall_at_k(
    generated: Array,
    generated_ids: Any,
    real: Array,
    real_ids: Any,
    *,
    ks: Iterable[int] = (1, 2, 5, 10),
    gallery_size: int = 100,
    folds: int = 3,
    seed: int = 0,
) -> dict[str, float | int]:
    """Recall@K: the share of generated faces whose speaker is among the K gallery identities
    whose mean real-face embedding is most similar (cosine). Each fold draws a gallery of
    ``gallery_size`` identities (all when there are fewer) and probes it with every generated
    face of those identities; results are averaged over folds. A tie with the true identity
    counts against it (rank = 1 + number of others scoring at least as high).
    Returns ``{"recall@K" for each K, "recall_gallery", "recall_folds"}``.
    """
    inputs = _Inputs(generated, generated_ids, real, real_ids)
    means = l2_normalise(inputs.sums / inputs.counts[:, None])  # [K, D]
    present = np.unique(inputs.gen_group)
    size = min(gallery_size, present.size)
    if size < 2:
        raise MetricError("Recall@K needs generated faces of at least 2 identities.")
    ks = sorted(set(int(k) for k in ks))
    rng = np.random.default_rng(seed)
    hits = np.zeros((folds, len(ks)))
    for fold in range(folds):
        gallery = present if size == present.size else rng.choice(present, size=size, replace=False)
        probes = np.flatnonzero(np.isin(inputs.gen_group, gallery))
        scores = inputs.gen[probes] @ means[gallery].T  # [P, G]
        truth = np.searchsorted(np.sort(gallery), inputs.gen_group[probes])
        scores = scores[:, np.argsort(gallery)]  # columns in sorted-identity order, as ``truth``
        true_score = scores[np.arange(probes.size), truth][:, None]
        rank = (scores >= true_score).sum(axis=1)  # 1 + others at least as similar
        hits[fold] = [(rank <= k).mean() for k in ks]
    results: dict[str, float | int] = {f"recall@{k}": float(v) for k, v in zip(ks, hits.mean(axis=0), strict=True)}
    results["recall_gallery"] = int(size)
    results["recall_folds"] = int(folds)
    return results


def cosine_to_speaker(generated: Array, generated_ids: Any, real: Array, real_ids: Any) -> dict[str, float]:
    """Mean cosine similarity of each generated face to its speaker's real faces, and, as the
    baseline it must beat, to every other identity's faces.
    Returns ``{"cosine_speaker", "cosine_others"}``."""
    inputs = _Inputs(generated, generated_ids, real, real_ids)
    own = inputs.gen_group
    to_sums = inputs.gen @ inputs.sums.T  # [N, K]: sum of cosines to each identity's faces
    rows = np.arange(own.size)
    same = to_sums[rows, own] / inputs.counts[own]
    others_count = inputs.counts.sum() - inputs.counts[own]
    others = (to_sums.sum(axis=1) - to_sums[rows, own]) / np.maximum(others_count, 1)
    return {"cosine_speaker": float(same.mean()), "cosine_others": float(others[others_count > 0].mean())}


def attribute_agreement(predicted: Any, target: Any, *, name: str = "sex") -> dict[str, float | int]:
    """Share of generated faces whose predicted attribute equals the speaker's known one.

    predicted, target: ``[N]`` labels (sex; age as bins); a target of None, NaN, −1 or "" is
    unknown and left out. Returns ``{"<name>_agreement", "<name>_count"}``.
    """
    predicted = np.asarray(predicted.cpu() if isinstance(predicted, torch.Tensor) else predicted, dtype=object)
    target = np.asarray(target.cpu() if isinstance(target, torch.Tensor) else target, dtype=object)
    if predicted.shape != target.shape or predicted.ndim != 1:
        raise MetricError(
            f"{name} predictions and targets must be two [N] arrays, got {predicted.shape} and {target.shape}."
        )
    known = np.array([t is not None and t == t and t != -1 and t != "" for t in target.tolist()], dtype=bool)
    count = int(known.sum())
    agree = float(np.mean(predicted[known] == target[known])) if count else float("nan")
    return {f"{name}_agreement": agree, f"{name}_count": count}


# --------------------------------------------------------------------------- whole records


def identity(
    *,
    generated: Array,
    generated_ids: Any,
    real: Array,
    real_ids: Any,
    embedder: str,
    identity_sex: Mapping[Any, Any] | None = None,
    config: IdentityMetricsConfig = IdentityMetricsConfig(),
) -> dict[str, Any]:
    """1:2 matching (all and same-sex), recall@K and cosine to the speaker, in one record.

    generated / real: face embeddings ``[N, D]`` / ``[M, D]`` by the embedder named ``embedder``
    (reported as ``"embedder"`` so results from different embedders are never mixed).
    """
    results: dict[str, Any] = {"embedder": embedder}
    results.update(
        match_1v2(
            generated,
            generated_ids,
            real,
            real_ids,
            num_pairs=config.num_pairs,
            seed=config.seed,
            identity_sex=identity_sex,
        )
    )
    results.update(
        recall_at_k(
            generated,
            generated_ids,
            real,
            real_ids,
            ks=config.recall_ks,
            gallery_size=config.gallery_size,
            folds=config.folds,
            seed=config.seed,
        )
    )
    results.update(cosine_to_speaker(generated, generated_ids, real, real_ids))
    return results


def attributes(*, predicted: Mapping[str, Any], target: Mapping[str, Any], classifier: str) -> dict[str, Any]:
    """Attribute agreement for each named attribute (e.g. ``{"sex": ...}``), labelled with the classifier's name."""
    results: dict[str, Any] = {"classifier": classifier}
    for name in sorted(predicted):
        if name not in target:
            raise MetricError(f"Attribute {name!r} was predicted but has no target labels; pass both.")
        results.update(attribute_agreement(predicted[name], target[name], name=name))
    return results
