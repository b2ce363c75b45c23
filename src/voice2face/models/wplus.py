"""The paper's route: a voice → W+ mapper for a frozen, pretrained (unconditional) StyleGAN2.

    mapper = VoiceToWPlus(MapperConfig(embedding_dim=128, num_ws=10, w_dim=128))
    G_voice = MappedGenerator(generator, mapper)       # duck-types Generator: G_voice(z, c) → image
    faces = G_voice(z, voice_embeddings)               # [B, 3, R, R]

A voice decides some of a face (sex, age, size and what follows from them), not all of it (hair
colour, skin tone, background). So the mapper predicts the speaker's face code from the voice,
``w_voice = w_avg + MLP(embedding)`` (``[B, num_ws, w_dim]``), and a random code ``w_z`` from
the generator's own mapping network supplies the rest: per synthesis layer l, with ``U_l``
``[w_dim, rank]`` an orthonormal basis of the directions in which voices move the prediction,

    ws_l = w_z,l + U_l U_lᵀ (w_voice,l − w_z,l)

i.e. inside the voice's subspace the code is the voice's, outside it is the random one's.
``U`` is fitted after training (:meth:`VoiceToWPlus.fit_basis`, PCA of the training speakers'
predictions); until then it is zero and the mapper returns ``w_z`` unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

from voice2face.config import MapperConfig
from voice2face.models.ops import assert_shape


class VoiceToWPlus(nn.Module):
    """Voice embedding ``[B, D]`` (+ a random W+ code) → W+ codes ``[B, num_ws, w_dim]``.

    Buffers: ``w_avg`` ``[w_dim]`` (the generator's, copied when training starts) and ``basis``
    ``[num_ws, w_dim, rank]`` (the voice subspace per layer; zero until fitted).
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

    def predict(self, embedding: torch.Tensor) -> torch.Tensor:
        """The voice's face code: embedding ``[B, D]`` → ``w_avg + MLP`` ``[B, num_ws, w_dim]``."""
        assert_shape(embedding, [None, self.embedding_dim], "voice embedding")
        offset = self.net(embedding.to(torch.float32)).view(-1, self.num_ws, self.w_dim)
        return self.w_avg + offset

    def forward(self, embedding: torch.Tensor, w_random: torch.Tensor) -> torch.Tensor:
        """embedding ``[B, D]``, w_random ``[B, num_ws, w_dim]`` (the generator's mapping of z) → ws, same shape."""
        assert_shape(w_random, [embedding.shape[0], self.num_ws, self.w_dim], "random W+ code")
        difference = self.predict(embedding) - w_random  # [B, L, C]
        inside = torch.einsum("blc,lck->blk", difference, self.basis)  # [B, L, rank]
        return w_random + torch.einsum("blk,lck->blc", inside, self.basis)

    @torch.no_grad()
    def fit_basis(self, embeddings: torch.Tensor, variance: float = 0.99) -> list[int]:
        """Set ``basis`` to the principal directions of the predictions for ``embeddings`` ``[S, D]``.

        Per layer, the smallest number of directions (at most ``rank`` and S − 1) that explain
        ``variance`` of the predictions' spread; the rest of the basis is zero. Returns the
        number kept per layer.
        """
        assert_shape(embeddings, [None, self.embedding_dim], "voice embeddings")
        if embeddings.shape[0] < 2:
            raise ValueError("fitting the voice subspace needs the embeddings of at least two speakers")
        predictions = self.predict(embeddings).double()  # [S, L, C]
        centred = predictions - predictions.mean(dim=0)
        basis = torch.zeros_like(self.basis, dtype=torch.float64)
        kept = []
        for layer in range(self.num_ws):
            _, singular, vh = torch.linalg.svd(centred[:, layer], full_matrices=False)  # vh [k, C]
            energy = singular.square()
            if float(energy.sum()) == 0.0:
                kept.append(0)
                continue
            share = torch.cumsum(energy, 0) / energy.sum()
            count = min(int(torch.searchsorted(share, torch.tensor(variance, dtype=share.dtype))) + 1,
                        self.config.rank, embeddings.shape[0] - 1)  # fmt: skip
            basis[layer, :, :count] = vh[:count].T
            kept.append(count)
        self.basis.copy_(basis.to(self.basis.dtype))
        return kept

    def extra_repr(self) -> str:
        return f"embedding_dim={self.embedding_dim}, num_ws={self.num_ws}, w_dim={self.w_dim}, rank={self.config.rank}"


class MappedGenerator(nn.Module):
    """A frozen unconditional generator driven by a voice mapper; it duck-types ``Generator``.

    ``mapping(z, c)`` → ``mapper(c, generator.mapping(z))`` ``[B, num_ws, w_dim]`` and
    ``synthesis`` is the generator's, so sampling, path length and the evaluation treat it as a
    conditional generator whose condition is the voice embedding.
    """

    def __init__(self, generator: nn.Module, mapper: VoiceToWPlus) -> None:
        super().__init__()
        if getattr(generator, "c_dim", None) != 0 or not hasattr(generator, "synthesis"):
            raise ValueError("the voice mapper needs an unconditional StyleGAN2 generator (c_dim 0)")
        if (generator.num_ws, generator.w_dim) != (mapper.num_ws, mapper.w_dim):
            raise ValueError(
                f"mapper W+ {mapper.num_ws}×{mapper.w_dim} does not fit the generator's "
                f"{generator.num_ws}×{generator.w_dim}"
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
        """z ``[B, z_dim]``, c (voice embeddings) ``[B, D]`` → ws ``[B, num_ws, w_dim]``; truncation acts on z."""
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
