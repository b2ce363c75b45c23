"""Evaluation config: what `voice2face evaluate` scores, beside which reference rows, with which instruments."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from voice2face.config.base import check
from voice2face.config.data import SPLITS
from voice2face.config.metrics import (
    TRAIT_CNN,
    C2STConfig,
    DescriptorConfig,
    FaceCNNConfig,
    FIDConfig,
    IdentityMetricsConfig,
    LPIPSConfig,
    PPLConfig,
)
from voice2face.errors import ConfigError

#: What `voice2face evaluate` computes unless told otherwise: registered metrics
#: (voice2face.evaluation.registry, the one list of names). Not here: ``attributes``, the older,
#: secondary sex read-out (``traits`` reads sex with the other traits; ``descriptors`` reads them again
#: with an instrument of another family), and ``lpips``, which needs VGG16 weights the user gives.
DEFAULT_EVALUATION_METRICS = ("realism", "traits", "descriptors", "identity", "fd", "fid", "kid", "ppl")
#: Reference rows scored beside the model (see voice2face.evaluation.rows).
REFERENCE_ROWS = ("real", "blurred_real_1.2", "blurred_real_2.0", "oracle_voice_mode", "oracle_voice", "oracle_sex")


@dataclass(frozen=True)
class EvaluationConfig:
    """How `voice2face evaluate` scores a model folder on one split of a prepared dataset.

    metrics: which registered evaluation metrics to compute (voice2face.evaluation.metrics; an
        unknown name is refused when evaluate starts): realism (two-sample test, sharpness,
        Fréchet distance in trait features), traits (the sharp trait read-out, a CNN), descriptors
        (the same traits and a two-sample test by fixed descriptors and linear models: another
        instrument family), identity, attributes (secondary sex classifier), fd (Fréchet distance
        in the identity embedder), fid, kid, ppl, lpips (diversity, with VGG16 weights). Every
        two-sample test compares each row at the same size: the ``real`` row's number of faces.
    references: the reference rows scored beside the model, by the same instruments.
    split: the identities whose whole utterances are the probes and whose faces are the reals.
    samples_per_voice: faces generated per utterance, from the same fixed latents for every voice.
    seed: the latents' random generator (and the metrics' pairs and galleries).
    batch_size: faces per generator / embedder call.
    embedder: the face embedder; "auto" is the dataset's own trained CNN for synthvox data and
        dlib's face-recognition ResNet otherwise.
    identity, ppl, fid, lpips, face_cnn: the settings of those metrics and of the corpus identity CNN
        (path length and LPIPS draw with ``seed`` instead of their own).
    traits: the face-trait read-out's network (trained on sharp real training faces; blur must be 0).
    c2st: the two-sample test's classifier and folds.
    descriptors: the descriptor read-out's settings (voice2face.metrics.descriptors).
    realism_pool: real training-split faces the realism measures compare every row with.
    oracle_per_identity: faces rendered per speaker for each oracle row.
    attribute_blur: the ``blur`` of the secondary sex classifier's training (0 by default; see
        :data:`ATTRIBUTE_BLUR` for why a blurred instrument is never the default).
    voice_probe: fit the linear probe of the voice embedding (age R², sex; it embeds every
        training utterance, minutes on a CPU); False records it as skipped.
    """

    metrics: tuple[str, ...] = DEFAULT_EVALUATION_METRICS
    references: tuple[str, ...] = REFERENCE_ROWS
    split: str = "test"
    samples_per_voice: int = 1
    seed: int = 0
    batch_size: int = 32
    embedder: str = "auto"
    identity: IdentityMetricsConfig = field(default_factory=IdentityMetricsConfig)
    ppl: PPLConfig = field(default_factory=lambda: PPLConfig(num_samples=2000))
    fid: FIDConfig = field(default_factory=FIDConfig)
    lpips: LPIPSConfig = field(default_factory=LPIPSConfig)
    face_cnn: FaceCNNConfig = field(default_factory=FaceCNNConfig)
    traits: FaceCNNConfig = field(default_factory=lambda: TRAIT_CNN)
    c2st: C2STConfig = field(default_factory=C2STConfig)
    descriptors: DescriptorConfig = field(default_factory=DescriptorConfig)
    realism_pool: int = 1000
    oracle_per_identity: int = 4
    attribute_blur: float = 0.0
    voice_probe: bool = True

    @property
    def attribute_cnn(self) -> FaceCNNConfig:
        """The corpus sex classifier's settings: ``face_cnn`` trained with ``attribute_blur``."""
        return dataclasses.replace(self.face_cnn, blur=self.attribute_blur)

    def __post_init__(self) -> None:
        # The names themselves are the registry's to check (voice2face.evaluation.registry), when
        # evaluate runs: a config does not import the metrics it names.
        check(len(self.metrics) > 0, "metrics must name at least one metric.")
        check(self.split in SPLITS, f"split must be train, val or test, got {self.split!r}.")
        unknown = [row for row in self.references if row not in REFERENCE_ROWS]
        check(not unknown, f"unknown reference row {unknown[:1]}; choose from {', '.join(REFERENCE_ROWS)}.")
        check(self.traits.blur == 0, "traits: the trait read-out learns from sharp real faces; its blur must be 0.")
        check(self.realism_pool >= 20, f"realism_pool must be >= 20 faces, got {self.realism_pool}.")
        check(
            1 <= self.oracle_per_identity <= 100, f"oracle_per_identity must be 1–100, got {self.oracle_per_identity}."
        )
        try:
            self.attribute_cnn  # noqa: B018 — FaceCNNConfig checks the blur against its image size
        except ConfigError as error:
            raise ConfigError(f"attribute_blur: {error}") from None
        check(1 <= self.samples_per_voice <= 100, f"samples_per_voice must be 1–100, got {self.samples_per_voice}.")
        check(self.seed >= 0, f"seed must be >= 0, got {self.seed}.")
        check(self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}.")
        check(bool(self.embedder), "embedder must be 'auto', 'dlib' or a corpus name such as 'synthvox'.")
