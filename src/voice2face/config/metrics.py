"""Metric configs: FID/KID, path length, LPIPS diversity, identity matching, the corpus face CNNs and the
two-sample test."""

from __future__ import annotations

from dataclasses import dataclass

from voice2face.config.base import check

PPL_SPACES = ("z", "w")
PPL_SAMPLINGS = ("full", "end")


@dataclass(frozen=True)
class FIDConfig:
    """Fréchet Inception Distance and KID settings.

    batch_size: images per Inception forward pass.
    kid_subsets / kid_subset_size: KID averages the unbiased MMD² over this many random subsets
        of this size (stylegan2-ada: 100 × 1000); smaller feature sets use their own size.
    seed: the subsets' random generator.
    frechet_method: "sqrtm" (scipy's matrix square root: pytorch-fid's, the reference) or
        "eigh" (symmetric eigendecompositions, about 5× faster at 2048 dimensions).
    """

    batch_size: int = 32
    kid_subsets: int = 100
    kid_subset_size: int = 1000
    seed: int = 0
    frechet_method: str = "sqrtm"

    def __post_init__(self) -> None:
        check(self.batch_size >= 1, f"FID batch_size must be >= 1, got {self.batch_size}.")
        check(self.kid_subsets >= 1, f"kid_subsets must be >= 1, got {self.kid_subsets}.")
        check(self.kid_subset_size >= 2, f"kid_subset_size must be >= 2, got {self.kid_subset_size}.")
        check(
            self.frechet_method in ("sqrtm", "eigh"),
            f"frechet_method must be 'sqrtm' or 'eigh', got {self.frechet_method!r}.",
        )


@dataclass(frozen=True)
class PPLConfig:
    """StyleGAN's perceptual path length (Karras et al. 2019/2020).

    space: interpolate in "z" (slerp, then mapping) or "w" (lerp after mapping).
    sampling: "full" draws t ~ U(0, 1); "end" uses t = 0 (the path's end points).
    epsilon: the step between the two images; distances are divided by epsilon².
    num_samples: interpolation pairs; batch_size: pairs per generator call.
    crop: keep the central face region (StyleGAN's FFHQ crop) before the distance network.
    max_resolution: larger images are area-downsampled to this before the distance network.
    noise_mode: the synthesis noise; "const" so that only the latent moves.
    low_percentile / high_percentile: distances outside these percentiles are dropped.
    """

    space: str = "w"
    sampling: str = "end"
    epsilon: float = 1e-4
    num_samples: int = 10000
    batch_size: int = 16
    crop: bool = False
    max_resolution: int = 256
    noise_mode: str = "const"
    low_percentile: float = 1.0
    high_percentile: float = 99.0
    seed: int = 0

    def __post_init__(self) -> None:
        check(self.space in PPL_SPACES, f"PPL space must be one of {PPL_SPACES}, got {self.space!r}.")
        check(self.sampling in PPL_SAMPLINGS, f"PPL sampling must be one of {PPL_SAMPLINGS}, got {self.sampling!r}.")
        check(0 < self.epsilon < 0.1, f"PPL epsilon must be in (0, 0.1), got {self.epsilon}.")
        check(self.num_samples >= 2, f"PPL num_samples must be >= 2, got {self.num_samples}.")
        check(self.batch_size >= 1, f"PPL batch_size must be >= 1, got {self.batch_size}.")
        check(self.max_resolution >= 8, f"PPL max_resolution must be >= 8, got {self.max_resolution}.")
        check(self.noise_mode in ("const", "random", "none"), f"PPL noise_mode bad: {self.noise_mode!r}.")
        check(
            0 <= self.low_percentile < self.high_percentile <= 100,
            f"need 0 <= low_percentile < high_percentile <= 100, got {self.low_percentile}, {self.high_percentile}.",
        )


@dataclass(frozen=True)
class LPIPSConfig:
    """LPIPS diversity: mean LPIPS-VGG16 distances over pairs of faces (voice2face.metrics.lpips).

    pairs: at most this many pairs per kind (same voice, different speakers), drawn without
        repeats; every pair when there are fewer.
    batch_size: pairs per network call.
    seed: the pairs' random generator.
    """

    pairs: int = 1000
    batch_size: int = 16
    seed: int = 0

    def __post_init__(self) -> None:
        check(self.pairs >= 1, f"LPIPS pairs must be >= 1, got {self.pairs}.")
        check(self.batch_size >= 1, f"LPIPS batch_size must be >= 1, got {self.batch_size}.")
        check(self.seed >= 0, f"LPIPS seed must be >= 0, got {self.seed}.")


@dataclass(frozen=True)
class IdentityMetricsConfig:
    """Voice-to-face identity metrics (Wen et al. 2019; SF2F, Bai et al. 2022).

    num_pairs: random 1:2 trials (voice, its speaker's face, another identity's face); 0 means
        every such triple (exact, for small sets).
    recall_ks: K values of recall@K against per-identity mean embeddings of real faces.
    gallery_size: identities per recall gallery (all of them when fewer); folds: galleries averaged.
    seed: the pairs' and galleries' random generator.
    """

    num_pairs: int = 10000
    recall_ks: tuple[int, ...] = (1, 2, 5, 10)
    gallery_size: int = 100
    folds: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        check(self.num_pairs >= 0, f"num_pairs must be >= 0 (0 = all triples), got {self.num_pairs}.")
        check(
            len(self.recall_ks) > 0 and all(k >= 1 for k in self.recall_ks),
            f"recall_ks must be positive integers, got {self.recall_ks}.",
        )
        check(self.gallery_size >= 2, f"gallery_size must be >= 2, got {self.gallery_size}.")
        check(self.folds >= 1, f"folds must be >= 1, got {self.folds}.")


@dataclass(frozen=True)
class FaceCNNConfig:
    """A small face CNN trained on a corpus's own faces: the identity embedder for synthvox
    (and the sex classifier behind attribute agreement).

    image_size: faces are resized to this square before the network (synthvox: 64).
    width: channels of the first block, doubled at each of the ``depth`` blocks.
    embedding_dim: the embedding's size (L2-normalised).
    epochs, batch_size, learning_rate, weight_decay: Adam training on identity classification.
    augment: random horizontal flips and small shifts while training.
    blur: if > 0, each training image is also blurred by a Gaussian whose σ (in pixels of
        ``image_size``) is drawn uniformly from [0, blur], so that the network also judges soft
        images such as a small generator's faces (0 = no blur, the identity embedder's default).
    seed: initialisation and shuffling; the same inputs and seed give the same weights.
    """

    image_size: int = 64
    width: int = 32
    depth: int = 4
    embedding_dim: int = 128
    epochs: int = 10
    batch_size: int = 64
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    augment: bool = True
    blur: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        check(16 <= self.image_size <= 512, f"image_size must be 16–512, got {self.image_size}.")
        check(self.image_size >> self.depth >= 1, f"image_size {self.image_size} too small for depth {self.depth}.")
        check(4 <= self.width <= 256, f"width must be 4–256, got {self.width}.")
        check(1 <= self.depth <= 6, f"depth must be 1–6, got {self.depth}.")
        check(2 <= self.embedding_dim <= 2048, f"embedding_dim must be 2–2048, got {self.embedding_dim}.")
        check(self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}.")
        check(self.batch_size >= 2, f"batch_size must be >= 2, got {self.batch_size}.")
        check(self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}.")
        check(self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}.")
        check(
            0 <= self.blur <= self.image_size / 8,
            f"blur must be 0–{self.image_size / 8:g} px for image_size {self.image_size}, got {self.blur}.",
        )


#: The face-trait read-out's network (voice2face.metrics.traits), fixed on *real* faces alone:
#: trained on synthvox-200's training faces, chosen on its validation faces (never on a model's
#: output, nor on the test faces); docs/measurements.md has the settings compared.
TRAIT_CNN = FaceCNNConfig(epochs=40, batch_size=32)


@dataclass(frozen=True)
class C2STConfig:
    """The classifier two-sample test (Lopez-Paz & Oquab 2017) behind the ``realism`` metric.

    A fixed small CNN (three blocks, ``width`` channels doubling per block) is trained afresh in
    each of ``folds`` cross-validation folds, for ``epochs`` passes (Adam, ``learning_rate``,
    ``batch_size``; random flips only), to tell real from generated faces; its held-out accuracy
    is the score (0.5 = indistinguishable). Each class is subsampled to the same size, at most
    ``max_per_class``; ``seed`` fixes the subsample, the folds and the training.
    """

    folds: int = 5
    epochs: int = 6
    batch_size: int = 64
    learning_rate: float = 2e-3
    width: int = 16
    max_per_class: int = 1000
    seed: int = 0

    def __post_init__(self) -> None:
        check(2 <= self.folds <= 20, f"c2st folds must be 2–20, got {self.folds}.")
        check(self.epochs >= 1, f"c2st epochs must be >= 1, got {self.epochs}.")
        check(self.batch_size >= 2, f"c2st batch_size must be >= 2, got {self.batch_size}.")
        check(self.learning_rate > 0, f"c2st learning_rate must be > 0, got {self.learning_rate}.")
        check(4 <= self.width <= 256, f"c2st width must be 4–256, got {self.width}.")
        check(self.max_per_class >= 2 * self.folds, f"c2st max_per_class must be >= 2·folds, got {self.max_per_class}.")
        check(self.seed >= 0, f"c2st seed must be >= 0, got {self.seed}.")


@dataclass(frozen=True)
class DescriptorConfig:
    """The descriptor read-out (voice2face.metrics.descriptors): a second instrument family, fixed
    image descriptors with linear models, fixed by what it measures, never by a model's score.

    image_size: faces are resized (area) to this size first. hog_cell / hog_bins: HOG cell size in
    pixels and orientation bins. grid: the colour and sharpness layout (grid × grid cells).
    colour_bins: joint-histogram bins per channel. penalties: the L2 strengths tried (ridge: λ on
    the standardised columns; logistic: λ on the mean loss). folds: cross-validation folds (each
    person's faces kept in one). seed: fold assignment and subsampling.
    """

    image_size: int = 64
    hog_cell: int = 8
    hog_bins: int = 9
    grid: int = 4
    colour_bins: int = 4
    penalties: tuple[float, ...] = (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0)
    folds: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "penalties", tuple(float(p) for p in self.penalties))
        check(
            self.hog_cell >= 2 and self.image_size % self.hog_cell == 0 and self.image_size // self.hog_cell >= 2,
            f"descriptors image_size {self.image_size} must be a multiple of hog_cell {self.hog_cell}, "
            "at least 2 cells.",
        )
        check(self.hog_bins >= 2, f"descriptors hog_bins must be >= 2, got {self.hog_bins}.")
        check(
            self.grid >= 1 and self.image_size % self.grid == 0,
            f"descriptors image_size {self.image_size} must be a multiple of grid {self.grid}.",
        )
        check(2 <= self.colour_bins <= 16, f"descriptors colour_bins must be 2–16, got {self.colour_bins}.")
        check(
            bool(self.penalties) and min(self.penalties) > 0,
            "descriptors penalties must be a non-empty list of positive L2 strengths.",
        )
        check(2 <= self.folds <= 20, f"descriptors folds must be 2–20, got {self.folds}.")
        check(self.seed >= 0, f"descriptors seed must be >= 0, got {self.seed}.")


#: The blur (max σ, px at 64 px) of a *secondary* sex classifier, labelled as such, never the
#: default: an instrument that must be trained on blurred faces to see a sex in a model's output
#: measures what the model's blur allows, not faces, so ``EvaluationConfig.attribute_blur`` is 0 and
#: the sharp trait read-out (``traits``) is the instrument of record (docs/measurements.md: how the
#: blurred classifier once scored a small generator's soft faces).
ATTRIBUTE_BLUR = 2.0
