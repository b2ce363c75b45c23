"""The paper's route: a voice → W+ mapper for a frozen, pretrained (unconditional) StyleGAN2.

    mapper = VoiceToWPlus(MapperConfig(embedding_dim=128, num_ws=10, w_dim=128))
    G_voice = MappedGenerator(generator, mapper)       # duck-types Generator: G_voice(z, c) → image
    faces = G_voice(z, voice_embeddings)               # [B, 3, R, R]

A voice decides some of a face (sex, age, size and what follows from them), not all of it (hair
colour, skin tone, background). So the mapper predicts the speaker's face code from the voice,
``w_voice = w_avg + MLP(embedding)`` (``[B, num_ws, w_dim]``, trained by regression to the codes
of the speakers' projected faces), and a random code ``w_z`` from the generator's own mapping
network supplies the rest. The two meet in the voice's subspace: ``U`` ``[num_ws·w_dim, r]``, the
principal directions of the training speakers' predictions (:meth:`VoiceToWPlus.fit_basis`).
There the voice's coordinates ``y_voice = Uᵀ(w_voice − c)`` (``c``: the speakers' mean code)
replace the random code's, and everywhere else the random code stays:

    ws = w_z + E (y_voice − y_z),    y_z = R (w̄_z − w_avg) + y_0,

where ``w̄_z`` is the random code in W (its mean over layers; the mapping network's own code).

Calibration. The speakers' codes come from projecting their faces, and a projector trained by
squared error answers conservatively: a projected code moves less than the generator's code that
rendered the face (on synthvox at 64 px the projected faces spread 10 in norm around the average,
the generator's codes 27). So ``y_z`` and ``E`` are measured, not assumed: ``y_z`` is the
voice-subspace coordinates of the *projection of the rendering* of ``w_z``, a linear read-out
``R`` ``[r, w_dim]`` fitted on random codes of the generator, rendered and projected; ``E`` =
``Rᵀ(R Rᵀ)⁻¹`` ``[w_dim, r]`` is the smallest move in W that changes that read-out by one unit
along each voice direction (broadcast to every layer). The edit thus moves a random face as far
as a real difference between speakers' faces moves their projections. Until fitted, ``U``, ``R``
and ``E`` are zero and the mapper returns ``w_z`` unchanged.

``z_strength`` (``MapperConfig``, per layer; 1 by default) truncates ``w_z`` towards ``w_avg``
before the edit: values below 1 trade the variety of what a voice cannot decide for faces closer
to the average.

Selection mode (``MapperConfig.selection``). On synthvox at 64 px the edit above moves a random
face too little to change its visible sex (the projector's geometry is not a visual read-out),
and larger linear moves in W wash faces out. Selection keeps every portrait one of the
generator's own samples: from z, ``K`` candidate latents are derived (z, then fixed permutations
and sign flips of it, each again standard normal), rendered and read by a small face-trait CNN
(the *reader*, trained on the voice corpus's training faces and shipped inside the mapper); the
voice's predicted traits (``trait_head``, a linear read-out of the voice embedding trained to
predict what the reader reads off each training speaker's faces) pick the nearest candidate:

    ws = G.mapping(z_k*),   k* = argmin_k Σ_t weight_t · |read_t(G(z_k)) − voice_t|,

binary traits in ``tanh(logit / 2)`` and the others in the reader's standardised units. A binary
trait is wanted at the side the voice is heard on (``voice_t`` = ±1, :meth:`VoiceToWPlus.wanted_traits`):
the prediction's size says how sure the voice is, not how ambiguous its face should look (on the
synthvox-200 validation voices, wanting the prediction itself picked faces that the evaluation's
sharp-trained read-out took for the other sex for 6% of them; wanting ±1, for 0.3%). The
voice decides what it reveals (sex, age, face and head size); z decides the rest, since the K
candidates of one z differ in everything. Rendering and reading costs; a linear read-out of the
traits from a code in W (``shortlist_weight``, fitted on random renderings by
:meth:`VoiceToWPlus.fit_shortlist`) ranks the K candidates first, and only the ``shortlist`` (M)
nearest are rendered and read (renderings shared between voices that use the same codes).
"""

from __future__ import annotations

import torch
from torch import nn

from voice2face.config import MapperConfig
from voice2face.models.face_nets import TraitNet, TraitSpec
from voice2face.models.face_pool import VoiceToPool
from voice2face.models.ops import assert_shape


class VoiceToWPlus(nn.Module):
    """Voice embedding ``[B, D]`` (+ a random W+ code) → W+ codes ``[B, num_ws, w_dim]``.

    Buffers (see the module): ``w_avg`` ``[w_dim]`` (the generator's, copied when training starts);
    ``basis`` ``[num_ws, w_dim, rank]`` (``U``, columns orthonormal over layers and channels);
    ``center`` ``[num_ws, w_dim]`` (``c``); ``readout`` ``[w_dim, rank]`` (``Rᵀ``), ``readout_offset``
    ``[rank]`` (``y_0``) and ``edit`` ``[w_dim, rank]`` (``E``). All zero until :meth:`fit_basis`.
    """

    def __init__(self, config: MapperConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding_dim, self.num_ws, self.w_dim = config.embedding_dim, config.num_ws, config.w_dim
        layers: list[nn.Module] = []
        width = config.embedding_dim
        for _ in range(config.hidden_layers):
            layers += [nn.Linear(width, config.hidden_dim), nn.LeakyReLU(0.2)]
            width = config.hidden_dim
        out = nn.Linear(width, config.num_ws * config.w_dim)
        nn.init.zeros_(out.weight)  # starts at w_avg: the generator's average face
        nn.init.zeros_(out.bias)
        self.net = nn.Sequential(*layers, out)
        self.register_buffer("w_avg", torch.zeros(config.w_dim))
        self.register_buffer("basis", torch.zeros(config.num_ws, config.w_dim, config.rank))
        self.register_buffer("center", torch.zeros(config.num_ws, config.w_dim))
        self.register_buffer("readout", torch.zeros(config.w_dim, config.rank))
        self.register_buffer("readout_offset", torch.zeros(config.rank))
        self.register_buffer("edit", torch.zeros(config.w_dim, config.rank))
        self.selection = config.selection
        if self.selection is not None:
            self._build_selection(config)

    # ------------------------------------------------------------------ selection mode

    def _build_selection(self, config: MapperConfig) -> None:
        selection = self.selection
        count = len(selection.traits)
        specs = [TraitSpec(name, "binary" if name in selection.binary else "regression", True)
                 for name in selection.traits]  # fmt: skip
        # The reader's target mean and std are buffers: the trained reader's values load with it.
        self.reader = TraitNet(selection.reader, specs, [0.0] * count, [1.0] * count).eval().requires_grad_(False)
        self.trait_head = nn.Linear(config.embedding_dim, count)
        nn.init.zeros_(self.trait_head.weight)
        nn.init.zeros_(self.trait_head.bias)
        draw = torch.Generator().manual_seed(selection.seed)
        size = selection.z_dim
        order = [torch.arange(size)] + [torch.randperm(size, generator=draw) for _ in range(selection.candidates - 1)]
        sign = [torch.ones(size)] + [
            torch.randint(0, 2, (size,), generator=draw).float() * 2 - 1 for _ in range(selection.candidates - 1)
        ]
        self.register_buffer("candidate_order", torch.stack(order))  # [K, z_dim]
        self.register_buffer("candidate_sign", torch.stack(sign))  # [K, z_dim]
        self.register_buffer("selection_weights", torch.tensor(selection.weights, dtype=torch.float32))  # [T]
        self.register_buffer("binary_traits", torch.tensor([name in selection.binary for name in selection.traits]))
        # The shortlist's linear read-out of the traits from a code in W (zero until fit_shortlist).
        self.register_buffer("shortlist_weight", torch.zeros(config.w_dim, count))  # [C, T]
        self.register_buffer("shortlist_bias", torch.zeros(count))  # [T]

    @torch.no_grad()
    def fit_shortlist(self, generator: nn.Module, count: int = 2048, seed: int = 0, ridge: float = 1e-3) -> float:
        """Fit the shortlist's read-out: ``count`` random codes of ``generator`` in W are rendered and read,
        and the readings (selection units) are ridge-regressed on the codes. Returns the read-out's R²
        averaged over the traits (on the fitting codes)."""
        z = torch.randn(count, generator.z_dim, generator=torch.Generator().manual_seed(seed))
        device = self.w_avg.device
        w = generator.mapping(z.to(device), None, skip_w_avg_update=True)  # [N, L, C]
        read = self.read_codes(generator.synthesis, w).double()  # [N, T]
        x = w.mean(dim=1).double()
        mean_x, mean_y = x.mean(dim=0), read.mean(dim=0)
        xc, yc = x - mean_x, read - mean_y
        gram = xc.T @ xc
        gram += ridge * torch.trace(gram) / gram.shape[0] * torch.eye(gram.shape[0], dtype=gram.dtype, device=device)
        weight = torch.linalg.solve(gram, xc.T @ yc)  # [C, T]
        self.shortlist_weight.copy_(weight.to(self.shortlist_weight.dtype))
        self.shortlist_bias.copy_((mean_y - mean_x @ weight).to(self.shortlist_bias.dtype))
        r2 = 1 - (xc @ weight - yc).var(dim=0) / yc.var(dim=0).clamp_min(1e-12)
        return float(r2.mean())

    def shortlisting(self) -> bool:
        """Whether a fitted shortlist narrows the candidates rendered."""
        selection = self.selection
        return 0 < selection.shortlist < selection.candidates and bool(self.shortlist_weight.any())

    @property
    def selecting(self) -> bool:
        """Whether this mapper selects among the generator's samples (rather than editing one)."""
        return self.selection is not None

    def train(self, mode: bool = True) -> VoiceToWPlus:
        super().train(mode)
        if self.selecting:
            self.reader.eval()  # a frozen instrument of the mapper: its BatchNorm statistics stay
        return self

    def selection_units(self, raw: torch.Tensor) -> torch.Tensor:
        """Reader outputs ``[..., T]`` (logits, standardised values) → selection units (``tanh(logit / 2)``)."""
        return torch.where(self.binary_traits, torch.tanh(raw / 2), raw)

    def read_codes(self, synthesis: nn.Module, ws: torch.Tensor) -> torch.Tensor:
        """The reader's selection units ``[N, T]`` of the faces that ``synthesis`` renders from codes
        ``ws`` ``[N, L, C]`` (constant noise), rendered and read a chunk at a time."""
        return torch.cat([
            self.read_traits(synthesis(ws[start : start + _READ_CHUNK], noise_mode="const").clamp(-1, 1))
            for start in range(0, ws.shape[0], _READ_CHUNK)
        ])  # fmt: skip

    def read_traits(self, images: torch.Tensor) -> torch.Tensor:
        """Images ``[B, 3, R, R]`` in [-1, 1] → the reader's traits ``[B, T]`` in selection units."""
        return self.selection_units(self.reader(images))

    def voice_traits(self, embedding: torch.Tensor) -> torch.Tensor:
        """Voice embeddings ``[B, D]`` → the traits their faces should show ``[B, T]`` (selection units)."""
        assert_shape(embedding, [None, self.embedding_dim], "voice embedding")
        return self.trait_head(embedding.to(torch.float32))

    def wanted_traits(self, embedding: torch.Tensor) -> torch.Tensor:
        """What a portrait of this voice should show ``[B, T]`` (selection units): the voice's traits,
        binary ones at the side the voice is heard on (``sign``: ±1). A voice heard as a man's asks
        for the face that reads most clearly as a man's, not for one as ambiguous as its prediction."""
        wanted = self.voice_traits(embedding)
        return torch.where(self.binary_traits, torch.sign(wanted), wanted)

    def candidate_latents(self, z: torch.Tensor) -> torch.Tensor:
        """z ``[B, z_dim]`` → the K candidate latents ``[B, K, z_dim]`` (candidate 0 is z itself)."""
        assert_shape(z, [None, self.candidate_order.shape[1]], "latent z")
        return z[:, self.candidate_order] * self.candidate_sign

    def choose(self, wanted: torch.Tensor, read: torch.Tensor) -> torch.Tensor:
        """wanted ``[B, T]``, read ``[B, K, T]`` (selection units) → the nearest candidate of each ``[B]``."""
        return ((read - wanted[:, None]).abs() * self.selection_weights).sum(dim=-1).argmin(dim=1)

    def predict(self, embedding: torch.Tensor) -> torch.Tensor:
        """The voice's face code: embedding ``[B, D]`` → ``w_avg + MLP`` ``[B, num_ws, w_dim]``."""
        assert_shape(embedding, [None, self.embedding_dim], "voice embedding")
        offset = self.net(embedding.to(torch.float32)).view(-1, self.num_ws, self.w_dim)
        return self.w_avg + offset

    def voice_coordinates(self, embedding: torch.Tensor) -> torch.Tensor:
        """``y_voice`` ``[B, rank]``: the voice's prediction in the voice subspace."""
        return torch.einsum("blc,lck->bk", self.predict(embedding) - self.center, self.basis)

    def random_coordinates(self, w_random: torch.Tensor) -> torch.Tensor:
        """``y_z`` ``[B, rank]``: where the rendering of a random code lies in the voice subspace."""
        return (w_random.mean(dim=1) - self.w_avg) @ self.readout + self.readout_offset

    def forward(self, embedding: torch.Tensor, w_random: torch.Tensor) -> torch.Tensor:
        """embedding ``[B, D]``, w_random ``[B, num_ws, w_dim]`` (the generator's mapping of z) → ws, same shape."""
        assert_shape(w_random, [embedding.shape[0], self.num_ws, self.w_dim], "random W+ code")
        if self.config.z_strength:
            strength = torch.tensor(self.config.z_strength, dtype=w_random.dtype, device=w_random.device)
            w_random = self.w_avg + strength[:, None] * (w_random - self.w_avg)
        move = (self.voice_coordinates(embedding) - self.random_coordinates(w_random)) @ self.edit.T  # [B, C]
        return w_random + move[:, None, :]

    @torch.no_grad()
    def fit_basis(
        self,
        embeddings: torch.Tensor,
        speaker_codes: torch.Tensor,
        random_codes: torch.Tensor,
        random_projected: torch.Tensor,
        variance: float = 0.99,
        ridge: float = 1e-3,
    ) -> int:
        """Fit the voice subspace and its calibration; returns the number of voice directions kept.

        embeddings ``[S, D]``: the training speakers' voices; ``U`` is the smallest set of
        principal directions (at most ``rank`` and S − 1) of their predictions that explains
        ``variance`` of the predictions' spread. speaker_codes ``[S', L, C]``: the training
        speakers' (projected) face codes, whose mean is ``c``. random_codes ``[N, C]``: codes of the
        generator in W; random_projected ``[N, L, C]``: the projections of their renderings. ``R``
        is the ridge regression (``ridge`` relative to the codes' variance) of the projections'
        voice coordinates on the random codes.
        """
        assert_shape(embeddings, [None, self.embedding_dim], "voice embeddings")
        assert_shape(speaker_codes, [None, self.num_ws, self.w_dim], "speaker codes")
        assert_shape(random_codes, [None, self.w_dim], "random codes")
        assert_shape(random_projected, [random_codes.shape[0], self.num_ws, self.w_dim], "projected random codes")
        if embeddings.shape[0] < 2 or random_codes.shape[0] < 2:
            raise ValueError("fitting the voice subspace needs at least two speakers and two random codes")
        predictions = self.predict(embeddings).double().flatten(1)  # [S, L·C]
        _, singular, vh = torch.linalg.svd(predictions - predictions.mean(dim=0), full_matrices=False)
        energy = singular.square()
        rank = 0
        if float(energy.sum()) > 0:
            share = torch.cumsum(energy, 0) / energy.sum()
            rank = int(torch.searchsorted(share, torch.tensor(variance, dtype=share.dtype))) + 1
            rank = min(rank, self.config.rank, embeddings.shape[0] - 1)
        basis = torch.zeros(self.num_ws * self.w_dim, self.config.rank, dtype=torch.float64)
        basis[:, :rank] = vh[:rank].T
        center = speaker_codes.double().mean(dim=0)  # [L, C]
        # R: the voice coordinates of the projected renderings, regressed on the random codes.
        targets = (random_projected.double() - center).flatten(1) @ basis  # [N, r]
        inputs = random_codes.double() - self.w_avg.double()  # [N, C]
        mean_in, mean_out = inputs.mean(dim=0), targets.mean(dim=0)
        x, y = inputs - mean_in, targets - mean_out
        gram = x.T @ x
        gram += ridge * torch.trace(gram) / gram.shape[0] * torch.eye(gram.shape[0], dtype=gram.dtype)
        readout = torch.linalg.solve(gram, x.T @ y)  # [C, r]: y ≈ x·readout
        offset = mean_out - mean_in @ readout
        edit = torch.zeros_like(readout)
        if rank:
            kept = readout[:, :rank]  # [C, k]
            small = kept.T @ kept  # R Rᵀ; a voice direction that renderings barely reach would make E huge
            small += 1e-6 * torch.trace(small) / rank * torch.eye(rank, dtype=small.dtype)
            edit[:, :rank] = torch.linalg.solve(small, kept.T).T  # E ≈ Rᵀ(R Rᵀ)⁻¹
        self.basis.copy_(basis.view(self.num_ws, self.w_dim, -1).to(self.basis.dtype))
        self.center.copy_(center.to(self.center.dtype))
        self.readout.copy_(readout.to(self.readout.dtype))
        self.readout_offset.copy_(offset.to(self.readout_offset.dtype))
        self.edit.copy_(edit.to(self.edit.dtype))
        return rank

    def extra_repr(self) -> str:
        return f"embedding_dim={self.embedding_dim}, num_ws={self.num_ws}, w_dim={self.w_dim}, rank={self.config.rank}"


class MappedGenerator(nn.Module):
    """A frozen unconditional generator driven by a voice mapper; it duck-types ``Generator``.

    ``mapping(z, c)`` → ``mapper(c, generator.mapping(z))`` ``[B, num_ws, w_dim]`` and
    ``synthesis`` is the generator's, so sampling, path length and the evaluation treat it as a
    conditional generator whose condition is the voice embedding.
    """

    def __init__(self, generator: nn.Module, mapper: VoiceToWPlus | VoiceToPool) -> None:
        super().__init__()
        if getattr(generator, "c_dim", None) != 0 or not hasattr(generator, "synthesis"):
            raise ValueError("the voice mapper needs an unconditional StyleGAN2 generator (c_dim 0)")
        if (generator.num_ws, generator.w_dim) != (mapper.num_ws, mapper.w_dim):
            raise ValueError(
                f"mapper W+ {mapper.num_ws}×{mapper.w_dim} does not fit the generator's "
                f"{generator.num_ws}×{generator.w_dim}"
            )
        if isinstance(mapper, VoiceToPool) and mapper.pool.z_dim != generator.z_dim:
            raise ValueError(
                f"the mapper's pool keys have {mapper.pool.z_dim} values but the generator's z has {generator.z_dim}"
            )
        if getattr(mapper, "selecting", False) and mapper.selection.z_dim != generator.z_dim:
            raise ValueError(
                f"the mapper selects among latents of {mapper.selection.z_dim} values but the generator's z has "
                f"{generator.z_dim}"
            )
        self.generator, self.mapper = generator, mapper
        self.synthesis = generator.synthesis
        self.z_dim, self.c_dim, self.w_dim = generator.z_dim, mapper.embedding_dim, generator.w_dim
        self.num_ws, self.img_resolution, self.img_channels = (
            generator.num_ws,
            generator.img_resolution,
            generator.img_channels,
        )

    def mapping(
        self,
        z: torch.Tensor,
        c: torch.Tensor,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        skip_w_avg_update: bool = True,
    ) -> torch.Tensor:
        """z ``[B, z_dim]``, c (voice embeddings) ``[B, D]`` → ws ``[B, num_ws, w_dim]``; truncation acts on z.

        The frozen generator's ``w_avg`` is never updated here (``skip_w_avg_update`` is accepted
        for the ``Generator`` interface only)."""
        if isinstance(self.mapper, VoiceToPool):  # the label-free voice side: a code from its pool
            return self.mapper.codes(z, c, truncation_psi=truncation_psi)
        if self.mapper.selecting:
            return self._select(z, c, truncation_psi, truncation_cutoff)
        w_random = self.generator.mapping(
            z, None, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff, skip_w_avg_update=True
        )
        return self.mapper(c, w_random)

    def forward(
        self,
        z: torch.Tensor,
        c: torch.Tensor,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        noise_mode: str = "const",
        fused_modconv: bool | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """z ``[B, z_dim]``, c ``[B, D]`` → image ``[B, img_channels, R, R]`` (as ``Generator.forward``)."""
        ws = self.mapping(z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
        return self.synthesis(ws, noise_mode=noise_mode, fused_modconv=fused_modconv, generator=generator)

    @torch.no_grad()
    def _select(
        self, z: torch.Tensor, c: torch.Tensor, truncation_psi: float, truncation_cutoff: int | None
    ) -> torch.Tensor:
        """Selection mode: render the K candidates of each z once, keep the nearest to each voice."""
        mapper = self.mapper
        assert_shape(c, [z.shape[0], mapper.embedding_dim], "voice embeddings")
        candidates = mapper.candidate_latents(z)  # [B, K, z_dim]
        batch, count = candidates.shape[:2]
        wanted = mapper.wanted_traits(c)  # [B, T]
        ws = self.generator.mapping(
            candidates.flatten(0, 1),
            None,
            truncation_psi=truncation_psi,
            truncation_cutoff=truncation_cutoff,
            skip_w_avg_update=True,
        ).view(batch, count, self.num_ws, self.w_dim)  # mapping is cheap; rendering is what costs
        rows = torch.arange(batch, device=ws.device)
        if mapper.shortlisting():  # keep the M candidates whose linear read-out is nearest the voice
            guess = ws.mean(dim=2) @ mapper.shortlist_weight + mapper.shortlist_bias  # [B, K, T]
            distance = ((guess - wanted[:, None]).abs() * mapper.selection_weights).sum(dim=-1)  # [B, K]
            keep = distance.topk(mapper.selection.shortlist, dim=1, largest=False).indices  # [B, M]
            ws = ws[rows[:, None], keep]  # [B, M, L, C]
        unique, inverse = torch.unique(ws.flatten(0, 1), dim=0, return_inverse=True)  # [U, L, C], [B·M]
        read = mapper.read_codes(self.synthesis, unique)  # [U, T]
        best = mapper.choose(wanted, read[inverse.view(batch, -1)])  # [B]
        return ws[rows, best]


_READ_CHUNK = 128  # candidate renderings read at a time
