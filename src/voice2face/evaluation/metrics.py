"""The built-in evaluation metrics: each ``fn(ctx) -> dict``, registered with its table labels.

Every one scores any row (the model's faces or a reference row's) in exactly the same way, with
the instruments of :class:`~voice2face.evaluation.context.Instruments`; only path length needs
the model's generator. FID, KID and LPIPS need weights the user gives, and are recorded as
skipped (with how to give them) without. Instruments are fixed by what they measure (trained on the dataset's
sharp real training faces), never by a model's scores.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from voice2face.config import EvaluationConfig
from voice2face.data.manifest import Manifest
from voice2face.errors import MetricUnavailableError
from voice2face.evaluation.context import EvalContext
from voice2face.evaluation.registry import evaluation_metric
from voice2face.metrics.cache import StatsCache


def _train_faces(ctx: EvalContext, label: str):
    """``data()`` for the corpus face networks: train-split faces ``[N, 3, R, R]`` in [-1, 1] and labels
    (an identity id, an attribute, or ``"traits"``: the ``[N, T]`` trait matrix)."""
    from voice2face.data.datasets import read_faces
    from voice2face.utils.images import uint8_to_float

    manifest = ctx.manifest

    def data() -> tuple[torch.Tensor, Any]:
        records = manifest.faces_in("train")
        if label not in ("identity", "traits"):
            records = [r for r in records if manifest.identity(r.identity).attributes.get(label) not in (None, "")]
        if not records:
            raise MetricUnavailableError(
                f"Dataset {manifest.path} has no train-split faces with {label} labels to train the face network on."
            )
        images = uint8_to_float(read_faces(manifest, records))  # [N, 3, R, R]
        if label == "identity":
            return images, [r.identity for r in records]
        if label == "traits":
            specs = trait_specs(ctx)
            rows = [_identity_trait_row(manifest.identity(r.identity), specs) for r in records]
            return images, np.array(rows, dtype=np.float64)
        return images, [manifest.identity(r.identity).attributes[label] for r in records]

    return data


def _identity_trait_row(identity: Any, specs) -> list[float]:
    from voice2face.metrics.traits import identity_traits

    values = identity_traits(identity)
    return [values.get(spec.name, float("nan")) for spec in specs]


def trait_specs(ctx: EvalContext):
    """The traits this dataset records (see :func:`voice2face.metrics.traits.specs_for`)."""
    from voice2face.metrics.traits import specs_for

    return specs_for(ctx.manifest.identities)


def trait_net(ctx: EvalContext):
    """The face-trait read-out of this dataset (trained on sharp real training faces; cached)."""
    from voice2face.metrics.traits import load_or_train_trait_net

    return ctx.instruments.get(
        "traits",
        lambda: load_or_train_trait_net(
            _train_faces(ctx, "traits"), trait_specs(ctx), dataset=f"{ctx.data_key}/train", cache_dir=ctx.cache,
            config=ctx.config.traits,
        ),
    )  # fmt: skip


def face_embedder(ctx: EvalContext):
    """The identity embedder in use (:func:`embedder_name`): dlib, or the corpus CNN trained on the
    train split; built once per evaluation."""
    from voice2face.metrics.embedders import make_embedder

    name = embedder_name(ctx.config, ctx.manifest)

    def build():
        if name == "dlib":
            return make_embedder("dlib")
        return make_embedder(
            name, data=_train_faces(ctx, "identity"), dataset=f"{ctx.data_key}/train", cache_dir=ctx.cache,
            config=ctx.config.face_cnn,
        )  # fmt: skip

    return ctx.instruments.get(f"embedder/{name}", build)


def embedder_name(config: EvaluationConfig, manifest: Manifest) -> str:
    """The identity embedder in use: the config's, or (auto) the corpus CNN on synthvox, else dlib."""
    if config.embedder != "auto":
        return config.embedder
    return "synthvox" if manifest.source == "synthvox" else "dlib"


# --------------------------------------------------------------------------- realism


def face_repeats(faces: torch.Tensor, face_ids: list[str]) -> dict[str, int]:
    """Of ``faces`` (uint8 ``[N, 3, R, R]``) and their speakers: how many differ in at least one pixel
    (``distinct_faces``), and how many are pixel-identical to a face of another speaker
    (``shared_across_speakers``: a portrait that does not move with the voice; two recordings of one
    speaker may share a face)."""
    speakers: dict[bytes, set[str]] = {}
    keys = [bytes(face.numpy().tobytes()) for face in faces]
    for key, speaker in zip(keys, face_ids, strict=True):
        speakers.setdefault(key, set()).add(speaker)
    return {"distinct_faces": len(speakers), "shared_across_speakers": sum(len(speakers[key]) > 1 for key in keys)}


@evaluation_metric(
    "realism",
    labels=(
        ("c2st", "two-sample accuracy (0.5 = indistinguishable)"),
        ("c2st_std", "two-sample accuracy, fold spread"),
        ("faces_compared", "faces in the two-sample test (equal for every row)"),
        ("distinct_faces", "distinct faces in the row"),
        ("shared_across_speakers", "faces identical to another speaker's"),
        ("faces", "faces in the row"),
        ("sharpness_ratio", "sharpness / real"),
        ("fd_traits", "Fréchet distance (trait features)"),
    ),
)
def realism(ctx: EvalContext) -> dict[str, Any]:
    """How far the row's faces are from real training faces, with no pretrained weights: a
    classifier two-sample test (on the row's equal-size share, :attr:`EvalContext.two_sample_faces`),
    the Laplacian sharpness ratio, and the Fréchet distance in the trait network's features; and
    how many of the row's faces are distinct."""
    from voice2face.metrics.fid import feature_statistics, frechet_distance
    from voice2face.metrics.realism import classifier_two_sample_test, sharpness_ratio

    compared, _ = ctx.two_sample_faces
    results = dict(classifier_two_sample_test(ctx.pool, compared, ctx.config.c2st))
    results.update(faces_compared=int(compared.shape[0]), **face_repeats(ctx.faces, ctx.face_ids),
                   faces=int(ctx.faces.shape[0]))  # fmt: skip
    results["sharpness_ratio"] = sharpness_ratio(ctx.faces, ctx.pool)
    network = trait_net(ctx)
    with torch.no_grad():
        pool_stats = ctx.instruments.get("traits/pool-moments", lambda: feature_statistics(
            ctx.apply(network.features, ctx.pool).numpy()))  # fmt: skip
        features = ctx.apply(network.features, ctx.faces).numpy()  # [N, 64]
    results["fd_traits"] = frechet_distance(*feature_statistics(features), *pool_stats)
    return results


# --------------------------------------------------------------------------- trait read-out


def _trait_labels() -> tuple[tuple[str, str], ...]:
    from voice2face.metrics.traits import SYNTHVOX_TRAITS

    unit = {"binary": "accuracy", "regression": "r"}
    labels = [(s.name, f"{s.name.replace('_', ' ')} ({unit[s.kind]})") for s in SYNTHVOX_TRAITS]
    return (("voice_trait_score", "voice-revealed trait score (oracle_sex 0, oracle_voice_mode 1)"),
            ("voice_traits_mean", "voice-revealed traits, raw mean"), *labels,
            ("age_over_50", "age over 50 told right (accuracy)"),
            ("sex_consistency", "sex held across a speaker's faces"),
            ("age_group_consistency", "age group held across a speaker's faces"))  # fmt: skip


@evaluation_metric("traits", labels=_trait_labels())
def traits(ctx: EvalContext) -> dict[str, Any]:
    """Each face trait as read by the sharp-trained trait network from the row's faces, against
    the speaker's true value: accuracy or Pearson r (see :mod:`voice2face.metrics.traits`)."""
    from voice2face.metrics.traits import consistency, identity_traits, trait_scores

    network = trait_net(ctx)
    predicted = ctx.apply(network.predict, ctx.faces)
    truth_of = {i.id: identity_traits(i) for i in ctx.manifest.identities if i.split == ctx.split}
    truth = {s.name: np.array([truth_of[i].get(s.name, np.nan) for i in ctx.face_ids]) for s in network.specs}
    scores = trait_scores(predicted, truth, network.specs)
    return {**scores, **consistency(predicted, ctx.face_ids), "faces": len(ctx.face_ids)}


# --------------------------------------------------------------------------- descriptor read-out


def descriptor_readout(ctx: EvalContext):
    """The second-family trait read-out of this dataset: fixed descriptors and linear models,
    trained on the sharp real training faces (cached; see :mod:`voice2face.metrics.descriptors`)."""
    from voice2face.data.datasets import read_faces
    from voice2face.metrics.descriptors import load_or_train_descriptor_readout

    manifest, specs = ctx.manifest, trait_specs(ctx)

    def data():
        records = manifest.faces_in("train")
        if not records:
            raise MetricUnavailableError(f"Dataset {manifest.path} has no train-split faces to train the read-out on.")
        rows = [_identity_trait_row(manifest.identity(r.identity), specs) for r in records]
        return read_faces(manifest, records), np.array(rows, np.float64), [r.identity for r in records]

    return ctx.instruments.get("descriptors", lambda: load_or_train_descriptor_readout(
        data, specs, dataset=f"{ctx.data_key}/train", cache_dir=ctx.cache, config=ctx.config.descriptors,
    ))  # fmt: skip


@evaluation_metric(
    "descriptors",
    labels=(
        *((key, f"{label}, descriptors") for key, label in _trait_labels()),
        ("c2st", "two-sample accuracy, descriptors (0.5 = indistinguishable)"),
        ("c2st_std", "two-sample accuracy, descriptors, fold spread"),
    ),
)
def descriptors(ctx: EvalContext) -> dict[str, Any]:
    """The traits again, read by an instrument of another family (fixed descriptors and linear
    models, :mod:`voice2face.metrics.descriptors`), and that family's two-sample test against the
    real training faces on the row's equal-size share, each person's faces kept in one fold."""
    from voice2face.metrics.descriptors import descriptor_two_sample_test
    from voice2face.metrics.traits import consistency, identity_traits, trait_scores

    readout = descriptor_readout(ctx)
    predicted = readout.predict(ctx.faces)
    truth_of = {i.id: identity_traits(i) for i in ctx.manifest.identities if i.split == ctx.split}
    truth = {s.name: np.array([truth_of[i].get(s.name, np.nan) for i in ctx.face_ids]) for s in readout.specs}
    scores = trait_scores(predicted, truth, readout.specs)
    compared, compared_ids = ctx.two_sample_faces
    two_sample = descriptor_two_sample_test(
        ctx.pool, compared, ctx.config.descriptors, first_groups=ctx.pool_ids or None, second_groups=compared_ids
    )
    return {**scores, **consistency(predicted, ctx.face_ids), "faces": len(ctx.face_ids),
            "c2st": two_sample["c2st"], "c2st_std": two_sample["c2st_std"]}  # fmt: skip


# --------------------------------------------------------------------------- identity


@evaluation_metric(
    "identity",
    labels=(
        ("match_1v2", "1:2 matching"),
        ("match_1v2_same_sex", "1:2 matching, same sex"),
        ("recall@1", "recall@1"),
        ("recall@5", "recall@5"),
        ("recall@10", "recall@10"),
        ("cosine_speaker", "cosine to speaker"),
        ("cosine_others", "cosine to others"),
    ),
)
def identity(ctx: EvalContext) -> dict[str, Any]:
    """1:2 matching, recall@K and cosine in the identity embedder, against the split's gallery."""
    from voice2face.metrics.identity import identity as identity_record

    embedder = face_embedder(ctx)
    gallery = ctx.instruments.get(f"gallery/{embedder.name}", lambda: ctx.apply(embedder.embed, ctx.gallery))
    return identity_record(
        generated=ctx.apply(embedder.embed, ctx.faces), generated_ids=ctx.face_ids, real=gallery,
        real_ids=ctx.gallery_ids, embedder=embedder.name, identity_sex=ctx.sex_of, config=ctx.config.identity,
    )  # fmt: skip


@evaluation_metric("attributes", labels=(("sex_agreement", "sex agreement (face CNN)"),))
def attributes(ctx: EvalContext) -> dict[str, Any]:
    """Sex agreement through the corpus face CNN's sex classifier (``attribute_blur`` > 0 trains it on
    blurred faces too: a labelled secondary instrument, never the default)."""
    from voice2face.metrics.embedders import corpus_attribute_classifier
    from voice2face.metrics.identity import attributes as attribute_record

    name = embedder_name(ctx.config, ctx.manifest)
    classifier = ctx.instruments.get("attributes", lambda: corpus_attribute_classifier(
        _train_faces(ctx, "sex"), dataset=f"{ctx.data_key}/train", cache_dir=ctx.cache, attribute="sex",
        name=name if name != "dlib" else ctx.manifest.name, config=ctx.config.attribute_cnn,
    ))  # fmt: skip
    predicted = [p for batch in ctx.batches(ctx.faces) for p in classifier.predict(batch)]
    return attribute_record(
        predicted={"sex": predicted}, target={"sex": [ctx.sex_of.get(i) for i in ctx.face_ids]},
        classifier=classifier.name,
    )  # fmt: skip


# --------------------------------------------------------------------------- distances


@evaluation_metric("fd", labels=(("fd", "Fréchet distance (identity embedding)"),))
def fd(ctx: EvalContext) -> dict[str, Any]:
    """Fréchet distance in the identity embedder's space, against the split's gallery."""
    from voice2face.metrics.fid import fd_embedding

    embedder = face_embedder(ctx)
    result = fd_embedding(
        fake_images=ctx.batches(ctx.faces), embedder=embedder,
        real_images=ctx.batches(ctx.gallery), cache=StatsCache(ctx.cache / "stats"),
        dataset=f"{ctx.data_key}/{ctx.split}/gallery",
    )  # fmt: skip
    return {"fd": result.pop(f"fd_{embedder.name}"), **result}


def _inception_metric(ctx: EvalContext, distance: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    from voice2face.metrics.inception import load_fid_inception, resolve_inception_weights

    path = resolve_inception_weights(ctx.inception_weights)  # MetricUnavailableError → skipped
    inception = ctx.instruments.get(f"inception/{path}", lambda: load_fid_inception(path))
    return distance(
        fake_images=ctx.batches(ctx.faces), real_images=ctx.batches(ctx.gallery), inception=inception,
        cache=StatsCache(ctx.cache / "stats"), dataset=f"{ctx.data_key}/{ctx.split}/gallery", config=ctx.config.fid,
    )  # fmt: skip


@evaluation_metric("fid", labels=(("fid", "FID"),))
def fid(ctx: EvalContext) -> dict[str, Any]:
    """FID against the split's gallery, with the user's Inception weights (skipped without them)."""
    from voice2face.metrics.fid import fid as frechet_inception_distance

    return _inception_metric(ctx, frechet_inception_distance)


@evaluation_metric("kid", labels=(("kid", "KID"),))
def kid(ctx: EvalContext) -> dict[str, Any]:
    """KID against the split's gallery, with the user's Inception weights (skipped without them)."""
    from voice2face.metrics.fid import kid as kernel_inception_distance

    return _inception_metric(ctx, kernel_inception_distance)


@evaluation_metric(
    "ppl",
    labels=tuple((f"ppl_{space}_{sampling}", f"path length ({space}, {sampling})")
                 for space in ("w", "z") for sampling in ("end", "full")),
    needs_generator=True,
)  # fmt: skip
def ppl(ctx: EvalContext) -> dict[str, Any]:
    """Perceptual path length in the identity embedder's distance, conditioned on the split's voices."""
    from voice2face.metrics.embedders import embedding_distance
    from voice2face.metrics.ppl import ppl as path_length

    generator = ctx.generator
    if not (hasattr(generator, "mapping") and hasattr(generator, "synthesis")):
        raise MetricUnavailableError(
            f"Path length needs a generator with a mapping network; the {type(generator).__name__} has none."
        )
    config = dataclasses.replace(ctx.config.ppl, seed=ctx.config.seed)
    distance = embedding_distance(face_embedder(ctx))
    return path_length(generator=generator, distance=distance, conditions=ctx.embeddings, config=config)


@evaluation_metric(
    "lpips",
    labels=(
        ("lpips_same_voice", "LPIPS, one voice at other latents (diversity)"),
        ("lpips_other_speakers", "LPIPS, faces of different speakers"),
    ),
)
def lpips(ctx: EvalContext) -> dict[str, Any]:
    """Diversity in LPIPS-VGG16, as conditional GANs report it (BicycleGAN, Zhu et al. 2017; MSGAN,
    Mao et al. 2019): the mean distance between two portraits of one voice at different latents
    (``lpips_same_voice``; it needs ``samples_per_voice`` >= 2; on a reference row, two faces of one
    speaker: how much one person's own faces differ), and between faces of two different speakers
    (``lpips_other_speakers``: near 0 when every voice gets the same face).

    Not a default metric: it needs torchvision's ImageNet VGG16 weights (``--vgg16-weights`` or
    ``$VOICE2FACE_VGG16_WEIGHTS``) and LPIPS's lin weights (``--lpips-weights`` or
    ``$VOICE2FACE_LPIPS_WEIGHTS``, else the copy in an installed ``lpips`` package); without them it
    is recorded as skipped with that reason. Nothing is downloaded.
    """
    from voice2face.metrics.lpips import load_lpips_vgg16, lpips_diversity, resolve_lpips_weights

    vgg, lin = resolve_lpips_weights(ctx.vgg16_weights, ctx.lpips_weights)  # MetricUnavailableError → skipped
    network = ctx.instruments.get(f"lpips/{vgg}/{lin}", lambda: load_lpips_vgg16(vgg, lin))
    voices = ctx.face_voices if ctx.face_voices is not None else ctx.face_ids
    config = dataclasses.replace(ctx.config.lpips, seed=ctx.config.seed)
    return lpips_diversity(network, ctx.faces, voices, ctx.face_ids, config)


__all__ = ["embedder_name", "face_embedder", "trait_net", "trait_specs"]
