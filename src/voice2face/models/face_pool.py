"""The label-free voice side: the voice chooses among a pool of the frozen generator's own faces.

It learns from what the paper's data has, voices and face photos paired by identity (and, where
the data gives it, each person's sex), through a face embedding that needs no labels at all:

- :class:`FaceEmbedding`: faces at a small size (``face_size`` px) → ``[B, 3, R, R]`` in [-1, 1] →
  ``[B, E]``, either a PCA fitted on the generator's own renderings (whitened when asked), or
  (``embedding="identity"``) a linear discriminant of identity fitted on the training speakers'
  photos, which needs only who is in each photo.
- :class:`VoiceToPool`: the voice embedding ``[B, D]`` → the predicted embedding of the speaker's
  faces ``[B, E]`` (a linear head, trained with the encoder to predict the mean embedding of each
  training speaker's photos) and, optionally, the speaker's sex (a logit).

A portrait is drawn from a pool of ``pool_size`` renderings of random codes, made when the model
is built and kept in it (codes ``[P, w_dim]``, their embeddings ``[P, E]``, and the sex each reads
as). For a latent z the candidates are the ``candidates`` pool faces whose fixed random keys lie
nearest z (z decides what a voice cannot: hair colour, skin, background); among them the voice
chooses by its predicted embedding, compared in the ``rank`` directions where the training
speakers' predictions differ most, each coordinate rescaled so that the predictions of single
recordings spread as far as the speakers' real faces do (a regression answers conservatively:
uncalibrated, every voice asks for the average face; calibrated on speaker means, the noise of a
single recording is stretched too). The ``blend`` nearest candidates are mixed in W with softmax weights, so
nearby voices get nearby but distinct faces, and a portrait costs one generator pass:

    ws = Σ_k softmax_k(−(d_k − d_min)/τ) · w_k,    d_k = |C (P_kᵀ − ŷ)|²  over the m nearest,

(with ``keep_norm``, the blend's offset from ``w_avg`` rescaled to the weighted mean of the w_k's),

where P_k is candidate k's embedding and ŷ the voice's prediction, both projected on the voice
directions, and C the calibration. With a sex prediction, candidates of the other sex (as a logistic
read-out of 32 px pixels fitted on the training photos reads the pool) are passed over while any of the voice's
sex remain (with ``sex_confidence``, of those that read as it with at least that probability).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from voice2face.config import MapperConfig
from voice2face.models.ops import assert_shape

_RENDER_CHUNK = 256  # pool renderings per generator call when the pool is fitted, at most
#: L2 strength of the pool's sex read-out (logistic on 32 px pixels), chosen on the synthvox-1225 seed 1
#: voice corpus's validation photos (accuracy 0.985; 1e-3 0.979, 1e-2 0.970, 1e-1 0.945). A linear
#: direction in the 32-component face embedding, the read-out before, reached 0.85.
SEX_PENALTY = 1e-4
#: and at most this many output values per call (2 MB of float32): large calls are slower on CPU, not
#: faster (the activations outgrow the caches and every call faults in fresh pages). 256 renderings on
#: 2 threads: at 128 px 4.2 s in calls of 10, 19.3 s in calls of 256 (the 4,096-face pool of the
#: voice side took 6 minutes, the whole share of a 10-minute demo); at 64 px 0.9 s in calls of 42,
#: 2.2 s in calls of 256.
_RENDER_VALUES = 1 << 19
#: The identity embedding (FaceEmbedding.fit_identity): a PCA of this many components first, and the
#: within-person covariance shrunk this far toward its mean variance (it is estimated from a few photos
#: per person). Fixed on the synthvox-1225 seed 1 voice corpus's validation photos before any portrait
#: was scored: a photo lies nearer the mean of its person's other photos than another same-sex
#: person's for 0.995 of pairs with 16 directions (32: 0.993; shrink 0.2: 0.984; 64: 0.989).
IDENTITY_PCA = 200
IDENTITY_SHRINK = 0.05


class FaceEmbedding(nn.Module):
    """A linear embedding of faces at ``size`` px: ``[B, 3, R, R]`` in [-1, 1] → ``[B, dims]``.

    Buffers: ``mean`` ``[3·size²]``, ``components`` ``[dims, 3·size²]`` and ``scale`` ``[dims]``.
    Fitted by :meth:`fit` (a PCA: orthonormal rows; ``scale`` each component's spread over the
    fitting faces when whitened, else the first component's, so distances keep the components'
    proportions) or by :meth:`fit_identity` (the directions along which people differ most, in
    units of how far one person's photos spread; ``scale`` 1). Zero until fitted.
    """

    def __init__(self, size: int, dims: int, whiten: bool) -> None:
        super().__init__()
        self.size, self.dims, self.whiten = size, dims, whiten
        self.register_buffer("mean", torch.zeros(3 * size * size))
        self.register_buffer("components", torch.zeros(dims, 3 * size * size))
        self.register_buffer("scale", torch.ones(dims))

    def pixels(self, images: torch.Tensor) -> torch.Tensor:
        """Faces ``[B, 3, R, R]`` in [-1, 1] → ``[B, 3·size²]`` at ``size`` px (area average)."""
        assert_shape(images, [None, 3, None, None], "faces")
        if images.shape[-1] != self.size:
            images = F.interpolate(images.float(), size=(self.size, self.size), mode="area")
        return images.float().flatten(1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.embed_pixels(self.pixels(images))  # [B, dims]

    def embed_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        """Faces already at ``size`` px, ``[B, 3·size²]`` (:meth:`pixels`) → ``[B, dims]``."""
        return (pixels - self.mean) @ self.components.T / self.scale

    @torch.no_grad()
    def fit(self, images: torch.Tensor) -> float:
        """Fit the PCA on faces ``[N, 3, R, R]`` in [-1, 1]; returns the share of their variance kept."""
        return self.fit_pixels(self.pixels(images))

    @torch.no_grad()
    def fit_pixels(self, pixels: torch.Tensor) -> float:
        """:meth:`fit` on faces already at ``size`` px, ``[N, 3·size²]``."""
        if pixels.shape[0] <= self.dims:
            raise ValueError(f"a {self.dims}-component face embedding needs more than {self.dims} faces")
        x = pixels.double()
        mean = x.mean(dim=0)
        _, singular, vh = torch.linalg.svd(x - mean, full_matrices=False)
        spread = singular[: self.dims] / (x.shape[0] - 1) ** 0.5
        self.mean.copy_(mean.float())
        self.components.copy_(vh[: self.dims].float())
        self.scale.copy_((spread if self.whiten else spread[:1].expand(self.dims)).float().clamp_min(1e-8))
        return float(singular[: self.dims].square().sum() / singular.square().sum())

    @torch.no_grad()
    def fit_identity(self, images: torch.Tensor, identity: torch.Tensor) -> float:
        """Fit on photos ``[N, 3, R, R]`` in [-1, 1] of known people (``identity`` ``[N]``, any integer
        ids) a linear discriminant of who they show: a PCA of :data:`IDENTITY_PCA` components; those
        whitened by the within-person covariance (each photo minus its person's mean photo, shrunk by
        :data:`IDENTITY_SHRINK`); the ``dims`` directions along which the people's means then spread
        most. Distances count in units of one person's spread, so what changes between one person's
        photos (light, pose, background) weighs little. Returns the share of the photos' variance that
        the first PCA keeps."""
        x = self.pixels(images).double()
        assert_shape(identity, [x.shape[0]], "photo identities")
        people, person = torch.unique(identity, return_inverse=True)
        if len(people) <= self.dims:
            raise ValueError(f"a {self.dims}-direction identity embedding needs photos of more than {self.dims} people")
        if x.shape[0] - len(people) < 1:
            raise ValueError("an identity embedding needs at least one person with two or more photos")
        mean = x.mean(dim=0)
        _, singular, vh = torch.linalg.svd(x - mean, full_matrices=False)
        basis = vh[: min(IDENTITY_PCA, vh.shape[0])].T  # [3·s², p]
        y = (x - mean) @ basis  # [N, p]
        counts = torch.bincount(person, minlength=len(people)).double()
        means = torch.zeros(len(people), y.shape[1], dtype=y.dtype).index_add_(0, person, y) / counts[:, None]
        residual = y - means[person]
        within = residual.T @ residual / (x.shape[0] - len(people))  # [p, p]
        eye = torch.eye(within.shape[0], dtype=within.dtype)
        within = (1 - IDENTITY_SHRINK) * within + IDENTITY_SHRINK * within.diagonal().mean() * eye
        values, vectors = torch.linalg.eigh(within)
        whitening = vectors @ torch.diag(values.clamp_min(1e-12).rsqrt()) @ vectors.T  # [p, p]
        spread = (means - means.mean(dim=0)) @ whitening
        _, _, between = torch.linalg.svd(spread, full_matrices=False)
        if between.shape[0] < self.dims:
            raise ValueError(f"the photos span fewer than {self.dims} directions; fit a smaller identity embedding")
        self.mean.copy_(mean.float())
        self.components.copy_((basis @ whitening @ between[: self.dims].T).T.float())
        self.scale.fill_(1.0)
        return float(singular[: basis.shape[1]].square().sum() / singular.square().sum())


class VoiceToPool(nn.Module):
    """Voice embedding ``[B, D]`` (+ latent z) → W+ codes ``[B, num_ws, w_dim]`` from the face pool.

    Learned: ``head`` (D → E, the speaker's face embedding in standardised units) and ``sex_head``
    (D → 1, a logit; trained only when the data gives sex). Fitted buffers (see the module):
    ``target_mean``/``target_std`` ``[E]``; ``directions`` ``[E, r]``, ``center`` ``[E]``,
    ``calibration`` ``[r]``; the pool's ``pool_w`` ``[P, w_dim]``, ``pool_face`` ``[P, E]``,
    ``pool_sex`` ``[P]`` (logits; zero without sex); ``face_sex`` ``[3·s² + 1]`` (the sex read-out:
    weights on the standardised ``face_size`` px pixels, ``sex_mean``/``sex_scale``, and a bias);
    ``w_avg`` ``[w_dim]`` (the generator's, for truncation); ``uses_sex``.
    """

    def __init__(self, config: MapperConfig) -> None:
        super().__init__()
        if config.pool is None:
            raise ValueError("VoiceToPool needs a mapper config of family 'pool' (with pool settings)")
        self.config, self.pool = config, config.pool
        pool = config.pool
        self.embedding_dim, self.num_ws, self.w_dim = config.embedding_dim, config.num_ws, config.w_dim
        self.face_embedding = FaceEmbedding(pool.face_size, pool.face_dims, pool.whiten)
        self.head = nn.Linear(config.embedding_dim, pool.face_dims)
        self.sex_head = nn.Linear(config.embedding_dim, 1)
        for layer in (self.head, self.sex_head):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
        dims, rank, size = pool.face_dims, pool.rank, pool.pool_size
        self.register_buffer("target_mean", torch.zeros(dims))
        self.register_buffer("target_std", torch.ones(dims))
        self.register_buffer("directions", torch.zeros(dims, rank))
        self.register_buffer("center", torch.zeros(dims))
        self.register_buffer("calibration", torch.ones(rank))
        self.register_buffer("pool_w", torch.zeros(size, config.w_dim))
        self.register_buffer("pool_face", torch.zeros(size, dims))
        self.register_buffer("pool_sex", torch.zeros(size))
        pixels = 3 * pool.face_size**2
        self.register_buffer("sex_mean", torch.zeros(pixels))
        self.register_buffer("sex_scale", torch.ones(pixels))
        self.register_buffer("face_sex", torch.zeros(pixels + 1))
        self.register_buffer("w_avg", torch.zeros(config.w_dim))
        self.register_buffer("uses_sex", torch.zeros((), dtype=torch.bool))
        # The candidates' keys: fixed random directions, one per pool face; not state (the seed makes them).
        self.keys = torch.randn(size, max(pool.z_dim, 1), generator=torch.Generator().manual_seed(pool.seed))
        self._edit_cache: tuple[tuple, tuple[torch.Tensor, ...]] | None = None  # see edit_maps

    # ------------------------------------------------------------------ the voice's side

    def voice_face(self, embedding: torch.Tensor) -> torch.Tensor:
        """The predicted embedding of the speaker's faces ``[B, E]`` (in the embedding's units)."""
        assert_shape(embedding, [None, self.embedding_dim], "voice embedding")
        return self.head(embedding.float()) * self.target_std + self.target_mean

    def voice_sex(self, embedding: torch.Tensor) -> torch.Tensor:
        """The logit that the speaker is a man ``[B]`` (meaningful only when ``uses_sex``)."""
        assert_shape(embedding, [None, self.embedding_dim], "voice embedding")
        return self.sex_head(embedding.float())[:, 0]

    def voice_coordinates(self, faces: torch.Tensor) -> torch.Tensor:
        """Face embeddings ``[N, E]`` → their coordinates along the voice directions ``[N, r]``."""
        return (faces - self.center) @ self.directions

    def wanted(self, embedding: torch.Tensor) -> torch.Tensor:
        """Where a portrait of this voice should lie along the voice directions ``[B, r]`` (calibrated)."""
        return self.voice_coordinates(self.voice_face(embedding)) * self.calibration

    # ------------------------------------------------------------------ choosing from the pool

    def candidates(self, z: torch.Tensor) -> torch.Tensor:
        """z ``[B, z_dim]`` → the indices ``[B, K]`` of the pool faces whose keys lie nearest z."""
        assert_shape(z, [None, self.keys.shape[1]], "latent z")
        return (z.float() @ self.keys.to(z.device).T).topk(self.pool.candidates, dim=1).indices

    def codes(self, z: torch.Tensor, embedding: torch.Tensor, truncation_psi: float = 1.0) -> torch.Tensor:
        """z ``[B, z_dim]``, voice embeddings ``[B, D]`` → W+ codes ``[B, num_ws, w_dim]`` (no rendering)."""
        assert_shape(embedding, [z.shape[0], self.embedding_dim], "voice embeddings")
        chosen = self.candidates(z)  # [B, K]
        wanted = self.wanted(embedding)  # [B, r]
        distance = (self.voice_coordinates(self.pool_face[chosen]) - wanted[:, None]).square()
        distance = distance.sum(dim=-1)  # [B, K]
        if bool(self.uses_sex):
            # A candidate is wrong when the pool's read-out does not give it the voice's sex with at
            # least sex_confidence (0.5: when it reads as the other sex).
            male = (self.voice_sex(embedding) > 0)[:, None]  # [B, 1]
            margin = math.log(self.pool.sex_confidence / (1 - self.pool.sex_confidence))
            if margin > 0:
                wrong = self.pool_sex[chosen] * torch.where(male, 1.0, -1.0) <= margin  # [B, K]
            else:
                wrong = (self.pool_sex[chosen] > 0) != male
            # Wrong candidates go last, unless every candidate is wrong.
            distance = distance + wrong.float() * (distance.max() + 1.0) * (~wrong).any(dim=1, keepdim=True).float()
        nearest = distance.topk(self.pool.blend, dim=1, largest=False)  # [B, m]
        weights = torch.softmax(-(nearest.values - nearest.values[:, :1]) / self.pool.temperature, dim=1)
        offsets = self.pool_w[chosen.gather(1, nearest.indices)] - self.w_avg  # [B, m, w_dim]
        w = (offsets * weights[..., None]).sum(dim=1)  # [B, w_dim]
        if self.pool.keep_norm:
            length = (offsets.norm(dim=-1) * weights).sum(dim=1, keepdim=True)  # [B, 1]
            w = w * length / w.norm(dim=-1, keepdim=True).clamp_min(1e-8)
        if self.pool.edit > 0:
            mean_code, mean_coordinates, read, step = self.edit_maps()
            reading = (self.w_avg + w - mean_code) @ read + mean_coordinates  # [B, r]
            missing = wanted - reading
            w = w + self.pool.edit * missing @ step.T
        w = self.w_avg + truncation_psi * w
        return w[:, None].expand(-1, self.num_ws, -1)

    def edit_maps(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """For ``edit``: the pool's mean code ``[w_dim]`` and mean voice coordinates ``[r]``; the linear
        read-out of the coordinates from a code, ``[w_dim, r]`` (least squares over the pool, a 1e-3
        ridge on the codes' covariance); and the least-norm step in W per unit of read-out
        ``[w_dim, r]``. Derived from the pool's buffers (a model stores nothing new for it) and kept
        until one of them changes (moved, refitted or loaded), so a portrait does not pay for it."""
        sources = (self.pool_w, self.pool_face, self.center, self.directions)
        key = tuple((t.data_ptr(), t._version, t.device) for t in sources)
        if self._edit_cache is not None and self._edit_cache[0] == key:
            return self._edit_cache[1]
        codes = self.pool_w.double()
        coordinates = self.voice_coordinates(self.pool_face).double()
        x, y = codes - codes.mean(dim=0), coordinates - coordinates.mean(dim=0)
        covariance = x.T @ x / len(x)
        ridge = 1e-3 * torch.eye(len(covariance), dtype=x.dtype, device=x.device)
        read = torch.linalg.solve(covariance + ridge, x.T @ y / len(x))
        # pinv: a pool whose directions are not fitted yet (all zero) reads nothing, and gets no step.
        step = read @ torch.linalg.pinv(read.T @ read)
        maps = (codes.mean(dim=0).float(), coordinates.mean(dim=0).float(), read.float(), step.float())
        self._edit_cache = (key, maps)
        return maps

    # ------------------------------------------------------------------ fitting (when the model is built)

    @torch.no_grad()
    def fit_pool(
        self,
        generator: nn.Module,
        *,
        sex_faces: tuple[torch.Tensor, torch.Tensor] | None = None,
        identity_faces: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> float:
        """Render the pool with ``generator`` (codes from the pool's seed), fit the face embedding (a
        PCA of the pool; with ``embedding="identity"``, on ``identity_faces``: photos ``[N, 3, R, R]`` in
        [-1, 1] and who is in each ``[N]``), embed the pool; with ``sex_faces`` (faces, male 0/1 ``[N]``)
        fit the sex read-out on them and read the pool's sex. Returns the embedding's variance share."""
        pool = self.pool
        if pool.embedding == "identity" and identity_faces is None:
            raise ValueError("an identity face embedding is fitted on photos of known people: pass identity_faces")
        z = torch.randn(pool.pool_size, generator.z_dim, generator=torch.Generator().manual_seed(pool.seed + 1))
        device = self.pool_w.device
        w = generator.mapping(z.to(device), None, skip_w_avg_update=True)[:, 0]  # [P, w_dim]
        ws = w[:, None].expand(-1, self.num_ws, -1)  # [P, L, w_dim]
        # Each chunk is downsampled to the embedding's size at once: 4096 renderings at 1024 px would
        # take 51 GB, their 64 px copies 200 MB.
        chunk = max(1, min(_RENDER_CHUNK, _RENDER_VALUES // (3 * generator.img_resolution**2)))
        pixels = torch.cat([
            self.face_embedding.pixels(generator.synthesis(ws[i : i + chunk], noise_mode="const").clamp(-1, 1))
            for i in range(0, w.shape[0], chunk)
        ])  # fmt: skip  # [P, 3·s²]
        if pool.embedding == "identity":
            kept = self.face_embedding.fit_identity(*identity_faces)
        else:
            kept = self.face_embedding.fit_pixels(pixels)
        self.pool_w.copy_(w)
        self.pool_face.copy_(self.face_embedding.embed_pixels(pixels))
        self.w_avg.copy_(generator.mapping.w_avg)
        if sex_faces is not None:
            self.fit_sex(*sex_faces, pool_pixels=pixels)
        return kept

    @torch.no_grad()
    def fit_sex(
        self, faces: torch.Tensor, male: torch.Tensor, penalty: float = SEX_PENALTY, *, pool_pixels: torch.Tensor
    ) -> float:
        """Fit the sex read-out on faces ``[N, 3, R, R]`` (male ``[N]`` 0/1, NaN unknown): L2-regularised
        logistic regression on their standardised pixels at ``face_size`` px; read the pool's sex from
        its renderings' pixels ``[P, 3·s²]``. Returns the read-out's accuracy on the fitting faces."""
        known = torch.isfinite(male)
        pixels = self.face_embedding.pixels(faces[known]).double()
        y = male[known].double()
        if y.numel() < 2 or y.min() == y.max():
            raise ValueError("fitting the pool's sex read-out needs faces of both sexes")
        mean, scale = pixels.mean(dim=0), pixels.std(dim=0).clamp_min(1e-6)
        x = (pixels - mean) / scale
        weights = torch.zeros(x.shape[1] + 1, dtype=torch.float64, requires_grad=True)
        optimiser = torch.optim.LBFGS([weights], max_iter=300, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            optimiser.zero_grad()
            logits = x @ weights[:-1] + weights[-1]
            loss = F.binary_cross_entropy_with_logits(logits, y) + penalty * weights[:-1].square().sum()
            loss.backward()
            return loss

        with torch.enable_grad():
            optimiser.step(closure)
        direction = weights.detach()
        self.sex_mean.copy_(mean.float())
        self.sex_scale.copy_(scale.float())
        self.face_sex.copy_(direction.float())
        self.pool_sex.copy_(self.read_sex(pool_pixels))
        self.uses_sex.fill_(True)
        return float(((x @ direction[:-1] + direction[-1] > 0).double() == y).double().mean())

    def read_sex(self, pixels: torch.Tensor) -> torch.Tensor:
        """The sex read-out's logits (man > 0) of faces at ``face_size`` px, ``[N, 3·s²]`` → ``[N]``."""
        return ((pixels.float() - self.sex_mean) / self.sex_scale) @ self.face_sex[:-1] + self.face_sex[-1]

    @torch.no_grad()
    def fit_directions(
        self, predictions: torch.Tensor, targets: torch.Tensor, speaker: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Fit the voice directions and their calibration from the training speakers' recordings:
        the predicted face embedding of each whole recording ``[U, E]``, the speaker of each ``[U]``
        (indices into ``targets``; None: one recording per speaker, in order) and each speaker's
        faces' mean embedding ``[S, E]``. Returns the calibration ``[r]``.

        The directions are those in which the speakers' mean predictions differ most. The
        calibration rescales each so that predictions of single recordings spread as far as the
        speakers' faces do, since a portrait is drawn from one recording: fitted on speaker means
        (whose noise averages out over a speaker's recordings), it stretched the noise of single
        recordings too, and a briefly trained voice side asked for faces beyond any the pool holds."""
        if speaker is None:
            speaker = torch.arange(predictions.shape[0])
        speaker = torch.as_tensor(speaker, dtype=torch.long)
        assert_shape(speaker, [predictions.shape[0]], "speaker of each prediction")
        assert_shape(targets, [None, predictions.shape[1]], "speaker face embeddings")
        count = targets.shape[0]
        if count <= self.pool.rank:
            raise ValueError(f"fitting {self.pool.rank} voice directions needs more than {self.pool.rank} speakers")
        if bool((speaker < 0).any()) or bool((speaker >= count).any()):
            raise ValueError(f"speaker indices must lie in [0, {count}) (one row of targets per speaker)")
        recordings = predictions.double()
        per_speaker = torch.bincount(speaker, minlength=count).clamp(min=1).to(recordings.dtype)[:, None]
        means = torch.zeros(count, recordings.shape[1], dtype=recordings.dtype).index_add_(0, speaker, recordings)
        means = means / per_speaker  # [S, E]
        center = means.mean(dim=0)
        _, _, vh = torch.linalg.svd(means - center, full_matrices=False)
        directions = vh[: self.pool.rank].T  # [E, r]
        predicted = (recordings - center) @ directions  # [U, r]: single recordings
        actual = (targets.double() - center) @ directions  # [S, r]
        calibration = actual.std(dim=0) / predicted.std(dim=0).clamp_min(1e-8)
        self.center.copy_(center.float())
        self.directions.copy_(directions.float())
        self.calibration.copy_(calibration.float())
        return self.calibration.clone()

    def extra_repr(self) -> str:
        pool = self.pool
        return (f"embedding_dim={self.embedding_dim}, face_dims={pool.face_dims}, rank={pool.rank}, "
                f"pool_size={pool.pool_size}, candidates={pool.candidates}, blend={pool.blend}")  # fmt: skip
