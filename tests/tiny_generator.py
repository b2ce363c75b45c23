"""A tiny generator with StyleGAN2's call signatures, for path-length tests."""

from __future__ import annotations

import torch


class TinyGenerator(torch.nn.Module):
    """mapping(z, c) → [B, num_ws, w_dim]; synthesis(ws, noise_mode) → [B, 3, R, R] (linear in ws)."""

    def __init__(self, z_dim: int = 6, c_dim: int = 3, w_dim: int = 5, num_ws: int = 2, resolution: int = 8):
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim, self.num_ws, self.resolution = z_dim, c_dim, w_dim, num_ws, resolution
        generator = torch.Generator().manual_seed(0)
        self.map_z = torch.nn.Parameter(torch.randn(z_dim, w_dim, generator=generator))
        self.map_c = torch.nn.Parameter(torch.randn(max(c_dim, 1), w_dim, generator=generator))
        self.synth = torch.nn.Parameter(torch.randn(num_ws * w_dim, 3 * resolution**2, generator=generator) * 0.1)
        self.mapped: list[torch.Tensor] = []
        self.noise_modes: list[str] = []

    def mapping(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        w = torch.tanh(z @ self.map_z + (c @ self.map_c[: self.c_dim] if self.c_dim else 0))  # [B, w_dim]
        ws = w[:, None, :].repeat(1, self.num_ws, 1)  # [B, num_ws, w_dim]
        self.mapped.append(ws.detach().clone())
        return ws

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "random") -> torch.Tensor:
        self.noise_modes.append(noise_mode)
        return (ws.flatten(1) @ self.synth).view(-1, 3, self.resolution, self.resolution)
