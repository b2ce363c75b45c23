"""Oracle rows of the evaluation: the faces an ideal voice→face model would draw for a voice.

A model that hears a voice can know no more about the face than the voice traits say, and the
voice traits say nothing about a face except through the shared latents z = (sex, age, size)
(:mod:`~voice2face.data.synthvox.traits`). The best it can do is therefore to draw from

    p(face | voice) = ∫ p(face | z) p(z | voice) dz,

which is what the ``oracle_voice`` row does with the true renderer: z from the posterior on the
grid of :mod:`~voice2face.data.synthvox.ceiling`, then every face trait from the generative
model given z (so whatever the voice cannot reveal, from skin tone to the hair parting, is drawn
anew), then a fresh pose and light. A sample of the posterior is no ceiling for a trait read-out:
its draws scatter around what the voice says. The ``oracle_voice_mode`` row is the ceiling: each
face shows the posterior's best guess, the most likely sex and, for it, the posterior mean age
and size, with every trait those decide at its most likely value (the face model's conditional
means; bald or glasses when more likely than not), and only what the voice cannot reveal drawn
anew. The ``oracle_sex`` row is a model that has learnt only the
speaker's sex: a random person of that sex, rendered the same way. Pixel metrics of a trained
model sit between these rows and mean little without them.

Every face comes from its own generator, seeded by (seed, identity index, kind, item) on random
streams that no corpus item uses, so a row never repeats a corpus image and does not depend on
the order in which faces are made.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from voice2face.data.synthvox.ceiling import latent_grid, voice_traits_log_likelihood
from voice2face.data.synthvox.face import draw_nuisance, render_face
from voice2face.data.synthvox.traits import (
    AGE_BETA,
    AGE_RANGE,
    SEXES,
    FaceTraits,
    Identity,
    Latent,
    VoiceTraits,
    draw_face_traits,
    item_rng,
)

# Stream numbers beside traits.py's STREAM_TRAITS/VOICE/FACE (0, 1, 2), so no oracle face
# shares a generator with a corpus item.
ORACLE_VOICE_STREAM = 101
ORACLE_SEX_STREAM = 102
ORACLE_VOICE_MODE_STREAM = 103
ORACLE_STREAMS = {
    "oracle_voice": ORACLE_VOICE_STREAM,
    "oracle_sex": ORACLE_SEX_STREAM,
    "oracle_voice_mode": ORACLE_VOICE_MODE_STREAM,
}
ORACLE_KINDS = tuple(ORACLE_STREAMS)


@dataclass(frozen=True)
class _Grid:
    """The ceiling's latent grid, each array ``[G]``, with the spacing of its age and size axes."""

    male: np.ndarray
    age01: np.ndarray
    size: np.ndarray
    log_prior: np.ndarray
    age01_step: float
    size_step: float


@functools.cache
def _grid() -> _Grid:
    male, age01, size, log_prior = latent_grid()
    for array in (male, age01, size, log_prior):
        array.setflags(write=False)  # shared by every caller through the cache
    return _Grid(
        male=male,
        age01=age01,
        size=size,
        log_prior=log_prior,
        age01_step=float(np.diff(np.unique(age01)).min()),
        size_step=float(np.diff(np.unique(size)).min()),
    )


def _voice_posterior(voice: VoiceTraits) -> np.ndarray:
    """p(z | voice traits) on the latent grid: probabilities ``[G]`` that sum to 1."""
    grid = _grid()
    log_posterior = voice_traits_log_likelihood([voice], grid.male, grid.age01, grid.size)[0] + grid.log_prior
    return np.exp(log_posterior - logsumexp(log_posterior))


def _sample_posterior(posterior: np.ndarray, rng: np.random.Generator, count: int) -> list[Latent]:
    grid = _grid()
    points = rng.choice(posterior.shape[0], size=count, p=posterior)  # [count]
    jitter = rng.uniform(-0.5, 0.5, size=(count, 2))  # [count, 2]: age, size, in grid cells
    # The grid's age points are cell centres inside [0, 1], so a jittered age stays in range.
    age01 = grid.age01[points] + jitter[:, 0] * grid.age01_step
    size = grid.size[points] + jitter[:, 1] * grid.size_step
    low, high = AGE_RANGE
    return [
        Latent(sex=SEXES[int(grid.male[point])], age=round(float(low + (high - low) * a), 4), size=round(float(s), 4))
        for point, a, s in zip(points, age01, size, strict=True)
    ]


def posterior_latents(voice: VoiceTraits, rng: np.random.Generator, count: int) -> list[Latent]:
    """Draw ``count`` shared latents z = (sex, age, size) from p(z | voice traits).

    The posterior is computed on :func:`~voice2face.data.synthvox.ceiling.latent_grid` (prior
    times the voice likelihood); a drawn grid point is jittered uniformly within its cell in
    age and size so that draws are continuous. Ages are in years and sizes z-scores, both
    rounded to 4 decimals as :func:`~voice2face.data.synthvox.traits.draw_identity` does.
    """
    if count < 0:
        raise ValueError(f"count must be 0 or more, got {count}.")
    return _sample_posterior(_voice_posterior(voice), rng, count)


def posterior_mode_latent(voice: VoiceTraits) -> Latent:
    """The posterior's best guess of z = (sex, age, size) from voice traits: the more probable
    sex and, given it, the posterior mean age (years) and size (z-score), rounded to 4 decimals."""
    grid, posterior = _grid(), _voice_posterior(voice)
    male = float(posterior[grid.male == 1].sum()) > 0.5
    weights = np.where(grid.male == int(male), posterior, 0.0)
    weights = weights / weights.sum()
    low, high = AGE_RANGE
    age = low + (high - low) * float(weights @ grid.age01)
    return Latent(sex=SEXES[int(male)], age=round(age, 4), size=round(float(weights @ grid.size), 4))


def prior_latent_of_sex(sex: str, rng: np.random.Generator) -> Latent:
    """Draw a fresh person's latents of the given sex: age and size from the prior of traits.py."""
    if sex not in SEXES:
        raise ValueError(f"sex must be one of {SEXES}, got {sex!r}.")
    low, high = AGE_RANGE
    age = low + (high - low) * rng.beta(*AGE_BETA)
    size = rng.standard_normal()
    return Latent(sex=sex, age=round(float(age), 4), size=round(float(size), 4))


def _check_kind(kind: str) -> None:
    if kind not in ORACLE_STREAMS:
        raise ValueError(f"unknown oracle kind {kind!r}; the kinds are {', '.join(ORACLE_KINDS)}.")


def _oracle_rng(identity: Identity, kind: str, item: int, seed: int) -> np.random.Generator:
    return item_rng(seed, identity.index, ORACLE_STREAMS[kind], item)


def _draw_oracle_face(
    identity: Identity, kind: str, rng: np.random.Generator, posterior: np.ndarray | None
) -> FaceTraits:
    """Face traits of one oracle face; ``posterior`` (``[G]``) is needed for ``oracle_voice`` only."""
    if kind == "oracle_voice":
        (latent,) = _sample_posterior(posterior, rng, 1)
    elif kind == "oracle_voice_mode":
        return draw_face_traits(rng, posterior_mode_latent(identity.voice), typical=True)
    else:
        latent = prior_latent_of_sex(identity.latent.sex, rng)
    return draw_face_traits(rng, latent)


def oracle_face_traits(identity: Identity, kind: str, item: int, seed: int) -> FaceTraits:
    """The face traits behind face ``item`` of ``identity`` in the oracle row ``kind``.

    Exactly the traits :func:`oracle_faces` renders for that face (same seed), so rows can be
    checked without pixels.
    """
    _check_kind(kind)
    posterior = _voice_posterior(identity.voice) if kind == "oracle_voice" else None
    return _draw_oracle_face(identity, kind, _oracle_rng(identity, kind, item, seed), posterior)


def oracle_faces(
    identities: Sequence[Identity], kind: str, *, per_identity: int, resolution: int, seed: int
) -> np.ndarray:
    """Render the oracle row ``kind`` (one of :data:`ORACLE_KINDS`) for ``identities``.

    Returns uint8 ``[len(identities) * per_identity, 3, resolution, resolution]``, identity-major
    (the ``per_identity`` faces of the first identity come first).

    - ``oracle_voice``: for each face, z ~ p(z | the identity's voice traits), face traits
      drawn from the model given z, a fresh pose and light;
    - ``oracle_voice_mode``: for each face, the posterior's best guess of z and the most likely
      value of every trait it decides (:func:`posterior_mode_latent`), the rest drawn anew;
    - ``oracle_sex``: for each face, a random person of the identity's sex.

    Face ``item`` of an identity depends on (seed, identity index, kind, item) only.
    """
    _check_kind(kind)
    if per_identity < 1:
        raise ValueError(f"per_identity must be at least 1, got {per_identity}.")
    images = np.empty((len(identities) * per_identity, 3, resolution, resolution), dtype=np.uint8)
    for row, identity in enumerate(identities):
        # One posterior per identity, shared by its faces; each face has its own generator.
        posterior = _voice_posterior(identity.voice) if kind == "oracle_voice" else None
        for item in range(per_identity):
            rng = _oracle_rng(identity, kind, item, seed)
            face = _draw_oracle_face(identity, kind, rng, posterior)
            image = render_face(face, rng, resolution, draw_nuisance(rng))  # [R, R, 3]
            images[row * per_identity + item] = image.transpose(2, 0, 1)  # [3, R, R]
    return images
