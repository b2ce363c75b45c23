"""Face-trait read-out: a face network that reads every recorded face trait off a picture.

It is the instrument behind the evaluation's trait rows and its realism distance. What makes it
an honest instrument: it is trained on the dataset's *sharp, real* training faces only (flips and
small shifts; never blur, never a generated image), and its settings are fixed here by what it
measures, before any model is scored. A generated face then shows a trait when this network,
which learned the trait from real faces, reads it off that face.

Traits (synthvox; from each identity's drawn ``FaceTraits`` and latents):

============  ==========  =================  ==============================================
trait         kind        voice-revealed     read-out score on faces of a speaker
============  ==========  =================  ==============================================
sex           binary      yes                accuracy against the speaker's sex
age           regression  yes                Pearson r with the speaker's age
wrinkles      regression  yes (age)          r with the speaker's wrinkles
greyness      regression  yes (age)          r with the speaker's greyness
bald          binary      yes (age, sex)     accuracy
glasses       binary      yes (age)          accuracy
jaw_width     regression  yes (size, sex)    r
face_length   regression  yes (size, sex)    r
head_size     regression  yes (size, sex)    r
facial_hair   binary      sex only           accuracy (any facial hair)
============  ==========  =================  ==============================================

Real datasets: sex, and age where the manifest gives it. The network's 64-d penultimate
features are also the space of the Fréchet distance ``fd_traits``. The network itself
(:class:`~voice2face.models.face_nets.TraitNet`) lives in ``models``: the mapper carries one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from voice2face.config import FaceCNNConfig, from_dict
from voice2face.errors import MetricError, MetricUnavailableError
from voice2face.metrics.cache import StatsCache, stats_key
from voice2face.metrics.face_cnn import fit_face_network, instrument_settings
from voice2face.models.face_nets import TraitNet, TraitSpec, resize_faces
from voice2face.utils.images import check_images

SYNTHVOX_TRAITS = (
    TraitSpec("sex", "binary", True),
    TraitSpec("age", "regression", True),
    TraitSpec("wrinkles", "regression", True),
    TraitSpec("greyness", "regression", True),
    TraitSpec("bald", "binary", True),
    TraitSpec("glasses", "binary", True),
    TraitSpec("jaw_width", "regression", True),
    TraitSpec("face_length", "regression", True),
    TraitSpec("head_size", "regression", True),
    TraitSpec("facial_hair", "binary", False),
)
REAL_TRAITS = (TraitSpec("sex", "binary", True), TraitSpec("age", "regression", True))


def identity_traits(identity: Any) -> dict[str, float]:
    """The trait values of a manifest identity record (NaN where unknown); sex as 1 = male."""
    values: dict[str, float] = {}
    sex = identity.attributes.get("sex")
    values["sex"] = float(sex == "male") if sex in ("female", "male") else float("nan")
    age = identity.attributes.get("age")
    values["age"] = float(age) if isinstance(age, (int, float)) else float("nan")
    face = (identity.traits or {}).get("face")
    if face:
        for name in ("wrinkles", "greyness", "jaw_width", "face_length", "head_size"):
            values[name] = float(face[name])
        values["bald"] = float(bool(face["bald"]))
        values["glasses"] = float(bool(face["glasses"]))
        values["facial_hair"] = float(face["facial_hair"] != "none")
    return values


def specs_for(identities: Sequence[Any]) -> tuple[TraitSpec, ...]:
    """The traits a dataset records: synthvox's full set when its identities carry face traits,
    else sex and (when any identity has one) age."""
    if identities and all((i.traits or {}).get("face") for i in identities):
        return SYNTHVOX_TRAITS
    with_age = any(isinstance(i.attributes.get("age"), (int, float)) for i in identities)
    return REAL_TRAITS if with_age else REAL_TRAITS[:1]


def train_trait_net(
    images: torch.Tensor,
    targets: np.ndarray,
    specs: Sequence[TraitSpec],
    config: FaceCNNConfig,
    *,
    progress: Callable[[int, float], None] | None = None,
) -> TraitNet:
    """Train a :class:`TraitNet` on images ``[N, 3, H, W]`` in [-1, 1] and targets ``[N, T]`` (NaN =
    unknown, left out of that trait's loss). Deterministic for ``config.seed``; the global random
    state is left as it was; ``progress(epoch, loss)`` is called after each epoch. ``config.blur``
    must be 0: the instrument learns from sharp faces only."""
    check_images(images, "trait training images")
    if config.blur != 0:
        raise MetricError("The trait read-out learns from sharp real faces only; use a FaceCNNConfig with blur 0.")
    targets = np.asarray(targets, dtype=np.float64)
    if targets.shape != (images.shape[0], len(specs)):
        raise MetricError(f"Trait targets have shape {targets.shape}, expected ({images.shape[0]}, {len(specs)}).")
    known = ~np.isnan(targets)
    mean = np.array([targets[known[:, k], k].mean() if spec.kind == "regression" else 0.0
                     for k, spec in enumerate(specs)])  # fmt: skip
    std = np.array([max(targets[known[:, k], k].std(), 1e-6) if spec.kind == "regression" else 1.0
                    for k, spec in enumerate(specs)])  # fmt: skip
    for k, spec in enumerate(specs):
        if known[:, k].sum() < 2 or (spec.kind == "binary" and len(set(targets[known[:, k], k])) < 2):
            raise MetricUnavailableError(f"The training faces have too few distinct {spec.name} labels to learn it.")
    scaled = torch.from_numpy(np.where(known, (targets - mean) / std, 0.0)).float()  # [N, T]
    mask = torch.from_numpy(known).float()
    binary = torch.tensor([spec.kind == "binary" for spec in specs])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        network = TraitNet(config, specs, mean.tolist(), std.tolist())

    def loss_of(x: torch.Tensor, batch: torch.Tensor) -> torch.Tensor:
        out = network(x)  # [b, T]
        y, m = scaled[batch], mask[batch]
        bce = F.binary_cross_entropy_with_logits(out, y, reduction="none")
        per_item = torch.where(binary, bce, F.mse_loss(out, y, reduction="none"))  # [b, T]
        return ((per_item * m).sum(0) / m.sum(0).clamp_min(1)).sum()  # each trait's mean loss, summed

    fit_face_network(network, resize_faces(images, config.image_size), config, loss_of, progress=progress)
    return network.eval()


#: The age (years) above which a face counts as old for ``age_over_50``.
OLD_AGE = 50.0


def trait_scores(predicted: dict[str, np.ndarray], truth: dict[str, np.ndarray], specs: Sequence[TraitSpec]) -> dict:
    """Per trait, how well the readings of faces follow their speakers' true values: accuracy
    (binary) or Pearson r (regression; None when either side is constant), and
    ``voice_traits_mean``, the mean over the voice-revealed traits (the raw voice-trait score), and
    ``age_over_50``: the share of faces whose read age and true age fall on the same side of 50."""
    scores: dict[str, Any] = {}
    for spec in specs:
        y, p = np.asarray(truth[spec.name], float), np.asarray(predicted[spec.name], float)
        keep = ~np.isnan(y)
        y, p = y[keep], p[keep]
        if y.size < 2:
            scores[spec.name] = None
        elif spec.kind == "binary":
            scores[spec.name] = float((p == y).mean())
        else:
            scores[spec.name] = None if p.std() == 0 or y.std() == 0 else float(np.corrcoef(p, y)[0, 1])
    revealed = [scores[s.name] for s in specs if s.voice_revealed and scores[s.name] is not None]
    scores["voice_traits_mean"] = float(np.mean(revealed)) if revealed else None
    if "age" in truth and "age" in predicted:
        y, p = np.asarray(truth["age"], float), np.asarray(predicted["age"], float)
        keep = ~np.isnan(y)
        scores["age_over_50"] = float(((p[keep] > OLD_AGE) == (y[keep] > OLD_AGE)).mean()) if keep.any() else None
    return scores


#: Age groups for the consistency figure: under 35, 35–54, 55 and over.
AGE_GROUP_EDGES = (35.0, 55.0)


def consistency(predicted: dict[str, np.ndarray], speakers: Sequence[str]) -> dict[str, float | None]:
    """How steady the read sex and age group are across each speaker's faces: per speaker, the
    share of their faces that agree with the speaker's most common reading, averaged over speakers
    with at least two faces. For a model these faces differ by z (and the recording), so 1 means z
    never changes what the voice decided; for the ``real`` row they are other photos of the same person."""
    groups: dict[str, list[int]] = {}
    for index, speaker in enumerate(speakers):
        groups.setdefault(speaker, []).append(index)
    members = [np.array(g) for g in groups.values() if len(g) >= 2]
    out: dict[str, float | None] = {"sex_consistency": None, "age_group_consistency": None}
    if not members:
        return out
    readings = {}
    if "sex" in predicted:
        readings["sex_consistency"] = np.asarray(predicted["sex"]).astype(int)
    if "age" in predicted:
        readings["age_group_consistency"] = np.digitize(np.asarray(predicted["age"], float), AGE_GROUP_EDGES)
    for key, values in readings.items():
        shares = [np.bincount(values[g]).max() / len(g) for g in members]
        out[key] = float(np.mean(shares))
    return out


# --------------------------------------------------------------------------- cache


def load_or_train_trait_net(
    data: Callable[[], tuple[torch.Tensor, np.ndarray]],
    specs: Sequence[TraitSpec],
    *,
    dataset: str,
    cache_dir: str | Path,
    config: FaceCNNConfig,
) -> TraitNet:
    """The trait network for (``dataset``, ``specs``, ``config``) from ``cache_dir``, trained and
    cached (npz of arrays and JSON, never pickles) on a miss; ``data()`` is only called then."""
    cache = StatsCache(cache_dir, prefix="trait-net")
    key = stats_key(dataset, "trait-net-" + ",".join(s.name for s in specs), "trained", instrument_settings(config))
    arrays = cache.load(key)
    if arrays is not None:
        try:
            meta = json.loads(str(arrays.pop("meta")))
            network = TraitNet(
                from_dict(FaceCNNConfig, meta["config"], where=str(cache.path(key))),
                [TraitSpec(**s) for s in meta["specs"]], meta["mean"], meta["std"],
            )  # fmt: skip
            network.load_state_dict({name[2:]: torch.from_numpy(a) for name, a in arrays.items()})
        except (KeyError, TypeError, ValueError, RuntimeError, json.JSONDecodeError) as exc:
            raise MetricError(
                f"Cached trait network {cache.path(key)} is damaged ({type(exc).__name__}); delete it to retrain."
            ) from None
        return network.eval()
    images, targets = data()
    network = train_trait_net(images, targets, specs, config)
    saved = {f"w.{name}": value.detach().cpu().numpy() for name, value in network.state_dict().items()}
    meta = {"config": asdict(config), "specs": [asdict(s) for s in specs],
            "mean": network.target_mean.tolist(), "std": network.target_std.tolist()}  # fmt: skip
    saved["meta"] = np.array(json.dumps(meta))
    cache.save(key, saved)
    return network
