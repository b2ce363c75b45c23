"""The best identity matching any voice→face model can reach on a synthvox corpus.

**Definition.** The *trait oracle* knows, for every test identity, its voice traits exactly
(:class:`~voice2face.data.synthvox.traits.VoiceTraits`: everything the synthesiser used) and its
face traits exactly (:class:`~voice2face.data.synthvox.traits.FaceTraits`: everything the
renderer used), and it knows the generative model of :mod:`~voice2face.data.synthvox.traits`.
It scores a voice ``v`` against a face ``f`` by the likelihood ratio

    s(v, f) = p(f | v) / p(f),   p(f | v) = ∫ p(f | z) p(z | v) dz,

over the shared latents z = (sex, age, size), integrated numerically on a grid (both sexes ×
125 ages × 91 sizes). Only the face traits that depend on z enter (sex, head size, jaw width,
face length, wrinkles, greyness, baldness, glasses); the rest cancel in the ratio.

- **1:2 matching**: for a test voice, pick its own identity's face over another test
  identity's face; the oracle picks the higher score. It is evaluated exhaustively over all
  ordered pairs (own face, other identity) in the test split (ties count ½), which is the
  expectation of the usual random-pair protocol.
- **recall@K**: rank the faces of all N test identities by score; a hit when the true identity
  is among the top K (ties broken at random, in expectation).

Why it is a ceiling: a recording is a function of the voice traits plus per-recording noise,
an image of the face traits plus per-image noise, and the two sides share nothing but z.
The likelihood ratio is the Bayes-optimal decision for 1:2 matching given the traits
(Neyman–Pearson), and a model that sees only audio and pixels has no more information than
the traits, so in expectation it cannot beat the oracle. (On one finite test split a lucky
model can exceed it by sampling noise.) The *latent oracle* reported beside it knows z of
each voice exactly (a looser bound); the *sex-only* reference knows nothing but the sex of both
sides, which a model that has learnt only sex would reach. Chance: 0.5 for 1:2, K/N for
recall@K.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import logsumexp
from scipy.stats import beta as beta_distribution

from voice2face.data.synthvox.traits import (
    AGE_BETA,
    FACE_SD,
    VOICE_SD,
    Identity,
    VoiceTraits,
    age_to_unit,
    bald_probability,
    face_means,
    glasses_probability,
    voice_means,
)

RECALL_KS = (1, 5, 10)


def latent_grid() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Quadrature grid over (male, age01, size) and its log prior weights, each ``[G]``."""
    age01 = (np.arange(125) + 0.5) / 125.0
    size = np.linspace(-4.5, 4.5, 91)
    male, age01, size = (a.reshape(-1) for a in np.meshgrid([0.0, 1.0], age01, size, indexing="ij"))
    log_prior = (
        np.log(0.5)
        + beta_distribution.logpdf(age01, *AGE_BETA)
        + np.log(1.0 / 125.0)
        - 0.5 * size**2
        - 0.5 * np.log(2.0 * np.pi)
        + np.log(0.1)
    )
    return male, age01, size, log_prior


def _gaussian_logpdf(x: np.ndarray, mean: np.ndarray, sd: float) -> np.ndarray:
    return -0.5 * ((x - mean) / sd) ** 2 - np.log(sd) - 0.5 * np.log(2.0 * np.pi)


def voice_log_likelihood(identities: Sequence[Identity], male, age01, size) -> np.ndarray:
    """log p(voice traits | z) for each identity at each latent point: ``[N, G]``."""
    return voice_traits_log_likelihood([identity.voice for identity in identities], male, age01, size)


def voice_traits_log_likelihood(voices: Sequence[VoiceTraits], male, age01, size) -> np.ndarray:
    """log p(voice traits | z) for voice traits without a person around them: ``[N, G]``."""
    means = voice_means(male, age01, size)  # each [G]
    out = np.zeros((len(voices), np.broadcast(male, age01, size).shape[0]))
    for name, sd in VOICE_SD.items():
        values = np.array([voice.observables()[name] for voice in voices])  # [N]
        out += _gaussian_logpdf(values[:, None], means[name][None, :], sd)
    return out


def face_log_likelihood(identities: Sequence[Identity], male, age01, size) -> np.ndarray:
    """log p(z-dependent face traits | z) for each identity at each latent point: ``[N, G]``.

    Latent points of the other sex get −inf: a face shows its sex.
    """
    male, age01, size = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (male, age01, size)))
    means = face_means(male, age01, size)
    faces = [identity.face for identity in identities]
    out = np.zeros((len(faces), male.shape[0]))
    for name, sd in FACE_SD.items():
        values = np.array([getattr(face, name) for face in faces])
        out += _gaussian_logpdf(values[:, None], means[name][None, :], sd)
    p_bald = np.clip(bald_probability(male, age01), 1e-12, 1.0 - 1e-12)
    bald = np.array([face.bald for face in faces])[:, None]
    out += np.where(bald, np.log(p_bald), np.log1p(-p_bald))
    p_glasses = glasses_probability(age01)
    glasses = np.array([face.glasses for face in faces])[:, None]
    out += np.where(glasses, np.log(p_glasses), np.log1p(-p_glasses))
    face_male = np.array([face.sex == "male" for face in faces])[:, None]
    return np.where(face_male == (male[None, :] > 0.5), out, -np.inf)


def oracle_scores(identities: Sequence[Identity]) -> np.ndarray:
    """log s(v_i, f_j) of the trait oracle for every voice i and face j: ``[N, N]``."""
    male, age01, size, log_prior = latent_grid()
    voice = voice_log_likelihood(identities, male, age01, size) + log_prior  # [N, G]
    voice -= logsumexp(voice, axis=1, keepdims=True)  # log p(z | v)
    face = face_log_likelihood(identities, male, age01, size)  # [N, G]
    face_marginal = logsumexp(face + log_prior, axis=1)  # log p(f), [N]
    scores = np.full((len(identities), len(identities)), -np.inf)
    for sex in (0.0, 1.0):
        block = male == sex
        faces = np.flatnonzero(np.isfinite(face[:, block]).any(axis=1))
        if faces.size == 0:
            continue
        v, f = voice[:, block], face[faces][:, block]  # [N, Gs], [Nf, Gs]
        v_max, f_max = v.max(axis=1, keepdims=True), f.max(axis=1, keepdims=True)
        with np.errstate(divide="ignore"):
            joint = np.log(np.exp(v - v_max) @ np.exp(f - f_max).T) + v_max + f_max.T  # [N, Nf]
        # Underflow (posteriors far apart) is rare; fall back to the exact sum there.
        for i, j in zip(*np.nonzero(~np.isfinite(joint)), strict=True):
            joint[i, j] = logsumexp(v[i] + f[j])
        scores[:, faces] = joint
    return scores - face_marginal[None, :]


def latent_oracle_scores(identities: Sequence[Identity]) -> np.ndarray:
    """log p(f_j | z_i) / p(f_j) when each voice's latents z_i are known exactly: ``[N, N]``."""
    male = np.array([identity.latent.male for identity in identities])
    age01 = age_to_unit([identity.latent.age for identity in identities])
    size = np.array([identity.latent.size for identity in identities])
    face_at_truth = face_log_likelihood(identities, male, age01, size).T  # [N voices, N faces]
    grid_male, grid_age, grid_size, log_prior = latent_grid()
    face_marginal = logsumexp(face_log_likelihood(identities, grid_male, grid_age, grid_size) + log_prior, axis=1)
    return face_at_truth - face_marginal[None, :]


def sex_only_scores(identities: Sequence[Identity]) -> np.ndarray:
    """1 where a voice's and a face's sex agree, else 0: ``[N, N]``."""
    male = np.array([identity.latent.male for identity in identities])
    return (male[:, None] == male[None, :]).astype(np.float64)


def matching_metrics(scores: np.ndarray, ks: Sequence[int] = RECALL_KS) -> dict[str, float]:
    """1:2 matching accuracy and recall@K of a voice×face score matrix ``[N, N]`` (true pairs on
    the diagonal); ties count ½ in 1:2 and are broken at random (in expectation) for recall."""
    n = scores.shape[0]
    own = np.diag(scores)[:, None]  # [N, 1]
    others = ~np.eye(n, dtype=bool)
    greater = ((scores > own) & others).sum(axis=1)  # [N]
    ties = ((scores == own) & others).sum(axis=1)
    result = {"matching_1v2": float(np.mean((n - 1 - greater - ties + 0.5 * ties) / max(1, n - 1)))}
    for k in ks:
        hit = np.clip((k - greater) / (ties + 1.0), 0.0, 1.0)
        result[f"recall_at_{k}"] = float(np.mean(hit))
    return result


def chance_levels(n_identities: int, ks: Sequence[int] = RECALL_KS) -> dict[str, float]:
    """What guessing reaches: 0.5 for 1:2 matching, K/N for recall@K over N identities."""
    chance = {"matching_1v2": 0.5}
    for k in ks:
        chance[f"recall_at_{k}"] = min(1.0, k / n_identities)
    return chance


def identity_ceiling(identities: Sequence[Identity], ks: Sequence[int] = RECALL_KS) -> dict:
    """The ceiling record stored in a manifest, computed over ``identities`` (the test split)."""
    if len(identities) < 2:
        raise ValueError("the ceiling needs at least two identities")
    ceiling = {k: round(v, 6) for k, v in matching_metrics(oracle_scores(identities), ks).items()}
    references = {
        "latent_oracle": matching_metrics(latent_oracle_scores(identities), ks),
        "sex_only": matching_metrics(sex_only_scores(identities), ks),
    }
    return {
        **ceiling,
        "identities": len(identities),
        "oracle": "trait oracle: likelihood ratio p(face traits | voice traits) / p(face traits) under the "
        "synthvox generative model (voice2face.data.synthvox.ceiling)",
        "references": {name: {k: round(v, 6) for k, v in metrics.items()} for name, metrics in references.items()},
    }
