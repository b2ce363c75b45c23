"""StyleGAN2 mapping network: z (and the condition c) → w, broadcast to every layer; style mixing."""

from __future__ import annotations

import torch
from torch import nn

from voice2face.models.ops import (
    FullyConnectedLayer,
    assert_shape,
    check_condition,
    normalize_2nd_moment,
)

# --------------------------------------------------------------------------- mapping


class MappingNetwork(nn.Module):
    """z (and condition c) → intermediate latent w, broadcast to ``[B, num_ws, w_dim]``.

    z ``[B, z_dim]`` and the embedded condition ``embed(c)`` ``[B, embed_features]`` are each
    normalised to unit second moment and concatenated, then pass ``num_layers`` leaky-ReLU FC
    layers whose learning rate is scaled by ``lr_multiplier`` (0.01). During training the
    running mean ``w_avg`` (buffer ``[w_dim]``) is tracked; truncation pulls w towards it:
    ``w_avg + ψ·(w − w_avg)`` for the first ``truncation_cutoff`` ws (all when None).
    With ``num_ws=None`` the output is ``[B, w_dim]`` (the discriminator's condition mapping).
    """

    def __init__(
        self,
        z_dim: int,
        c_dim: int,
        w_dim: int,
        num_ws: int | None,
        num_layers: int = 8,
        embed_features: int | None = None,
        layer_features: int | None = None,
        activation: str = "lrelu",
        lr_multiplier: float = 0.01,
        w_avg_beta: float | None = 0.995,
    ):
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim, self.num_ws = z_dim, c_dim, w_dim, num_ws
        self.num_layers, self.w_avg_beta = num_layers, w_avg_beta
        embed_features = (w_dim if embed_features is None else embed_features) if c_dim > 0 else 0
        layer_features = w_dim if layer_features is None else layer_features
        features = [z_dim + embed_features] + [layer_features] * (num_layers - 1) + [w_dim]
        if c_dim > 0:
            self.embed = FullyConnectedLayer(c_dim, embed_features)
        for idx in range(num_layers):
            layer = FullyConnectedLayer(
                features[idx], features[idx + 1], activation=activation, lr_multiplier=lr_multiplier
            )
            setattr(self, f"fc{idx}", layer)
        if num_ws is not None and w_avg_beta is not None:
            self.register_buffer("w_avg", torch.zeros([w_dim]))

    def forward(
        self,
        z: torch.Tensor | None,
        c: torch.Tensor | None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        skip_w_avg_update: bool = False,
    ) -> torch.Tensor:
        """z ``[B, z_dim]``, c ``[B, c_dim]`` → ws ``[B, num_ws, w_dim]`` (``[B, w_dim]`` if num_ws is None)."""
        batch = (z if z is not None else c).shape[0]
        x = None
        if self.z_dim > 0:
            assert_shape(z, [batch, self.z_dim], "z")
            x = normalize_2nd_moment(z.to(torch.float32))
        c = check_condition(c, batch, self.c_dim)
        if c is not None:
            y = normalize_2nd_moment(self.embed(c.to(torch.float32)))
            x = y if x is None else torch.cat([x, y], dim=1)
        for idx in range(self.num_layers):
            x = getattr(self, f"fc{idx}")(x)  # [B, features]
        if self.w_avg_beta is not None and self.training and not skip_w_avg_update and hasattr(self, "w_avg"):
            self.w_avg.copy_(x.detach().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))
        if self.num_ws is None:
            return x  # [B, w_dim]
        x = x.unsqueeze(1).repeat([1, self.num_ws, 1])  # [B, num_ws, w_dim]
        if truncation_psi != 1:
            cutoff = self.num_ws if truncation_cutoff is None else truncation_cutoff
            x[:, :cutoff] = self.w_avg.lerp(x[:, :cutoff], truncation_psi)
        return x

    def extra_repr(self) -> str:
        return f"z_dim={self.z_dim}, c_dim={self.c_dim}, w_dim={self.w_dim}, num_ws={self.num_ws}"


def mix_styles(
    mapping: MappingNetwork,
    ws: torch.Tensor,
    c: torch.Tensor | None,
    probability: float = 0.9,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Style-mixing regularisation: from a random layer on, use the ws of a second random z.

    ws: ``[B, num_ws, w_dim]`` → same shape. With ``probability`` a cutoff in
    ``[1, num_ws)`` is drawn for the whole batch (as the official loss does); otherwise ws
    is returned unchanged. The second mapping does not update ``w_avg``.
    """
    num_ws = ws.shape[1]
    if probability <= 0 or num_ws < 2:
        return ws
    device = ws.device
    draw = torch.rand([], generator=generator, device=device if generator is None else generator.device)
    if float(draw) >= probability:
        return ws
    cutoff = int(torch.randint(1, num_ws, [], generator=generator, device=draw.device))
    z2 = torch.randn([ws.shape[0], mapping.z_dim], generator=generator, device=draw.device).to(device)
    ws2 = mapping(z2, c, skip_w_avg_update=True)
    return torch.cat([ws[:, :cutoff], ws2[:, cutoff:]], dim=1)
