"""Stage-2 losses, one method per training phase (StyleGAN2's Gmain/Greg/Dmain/Dreg).

- Gmain: non-saturating logistic loss ``softplus(−D(G(z, c), c))`` plus identity
  cross-entropy of the generated face through D's identity head (Wen et al. 2019: the face
  generated from a voice should be recognised as that speaker).
- Greg: path-length regularisation (Karras et al. 2020): the Jacobian of the image w.r.t. w,
  probed with random image-space directions, should have a constant norm ``a`` (a running mean).
- Dmain: logistic loss ``softplus(D(fake)) + softplus(−D(real))`` plus identity cross-entropy of
  real faces, which is what trains the identity head; with ``mismatch_weight`` > 0, also
  ``softplus(D(real, c_other))`` for real faces paired with another speaker's voice (GAN-CLS).
- Dreg: R1, ``γ/2 · ‖∇_x D(x)‖²`` on real images.

An unconditional generator (``c_dim`` 0, the pretraining of the paper's route) takes ``c=None``
and no identities: the phases then take the batch size from their ``batch`` argument or the real
images. With an ``augment`` function (DiffAugment), every image D sees, real or generated, in
every phase, is augmented first.

Each lazily applied penalty is multiplied by its interval (``gain``) so that its strength per
image is the same as if it ran every step. Randomness (z, style mixing, noise inputs, path-length
directions) comes from one ``torch.Generator`` so a run is reproducible and resumable. In a
multi-process run every rank draws the numbers of the whole global batch and keeps its strided
share (the generator's noise inputs too, through a noise-source callable), so K processes see
the random inputs one process would.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from voice2face.config import GANTrainingConfig


@dataclass(frozen=True)
class PhaseResult:
    """A phase's total loss (to backpropagate) and the scalars worth logging."""

    loss: torch.Tensor
    stats: dict[str, float]


def _scalar(value: torch.Tensor) -> float:
    return float(value.detach())


def _has_styles(generator: nn.Module) -> bool:
    return hasattr(generator, "mapping") and hasattr(generator, "synthesis")


class GANLoss:
    """Computes each phase's loss for generator ``G`` and discriminator ``D`` (bare modules)."""

    def __init__(
        self,
        G: nn.Module,
        D: nn.Module,
        config: GANTrainingConfig,
        rng: torch.Generator,
        *,
        rank: int = 0,
        world_size: int = 1,
        reduce_mean: Callable[[torch.Tensor], torch.Tensor] | None = None,
        augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ):
        self.G, self.D, self.config, self.rng = G, D, config, rng
        self.augment = augment
        self.rank, self.world_size = rank, world_size
        self.reduce_mean = reduce_mean or (lambda value: value)
        self.pl_mean = torch.zeros([])
        self.styles = _has_styles(G)

    # ------------------------------------------------------------------ helpers

    def _randn(self, shape: list[int]) -> torch.Tensor:
        """Normal draws ``shape`` (first axis: this rank's batch), drawn for the global batch and sliced."""
        full = torch.randn([shape[0] * self.world_size, *shape[1:]], generator=self.rng)
        return full[self.rank :: self.world_size].to(self._device)

    def sample_z(self, batch: int) -> torch.Tensor:
        """Latent codes ``[batch, z_dim]`` from the loss's own random stream."""
        return self._randn([batch, self.G.z_dim])

    @property
    def _device(self) -> torch.device:
        return next(self.G.parameters()).device

    def generate(
        self, z: torch.Tensor, c: torch.Tensor, mixing: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``G(z, c)`` for training: images ``[B, 3, R, R]`` and ws ``[B, num_ws, w_dim]`` (None for DCGAN)."""
        if not self.styles:
            return self.G(z, c, noise_mode="random", generator=self._randn), None
        ws = self.G.mapping(z, c)  # [B, num_ws, w_dim]
        if mixing and self.config.style_mixing > 0 and ws.shape[1] > 1:
            # Style mixing: from a random layer on, the ws of a second z (one decision per global batch).
            if float(torch.rand([], generator=self.rng)) < self.config.style_mixing:
                cutoff = int(torch.randint(1, ws.shape[1], [], generator=self.rng))
                ws2 = self.G.mapping(self.sample_z(z.shape[0]), c, skip_w_avg_update=True)
                ws = torch.cat([ws[:, :cutoff], ws2[:, cutoff:]], dim=1)
        return self.G.synthesis(ws, noise_mode="random", generator=self._randn), ws

    def _identity_loss(self, logits: torch.Tensor | None, identity: torch.Tensor | None) -> torch.Tensor:
        if logits is None or identity is None or self.config.identity_weight == 0:
            return torch.zeros([], device=self._device)
        return F.cross_entropy(logits, identity)

    def _discriminate(self, images: torch.Tensor, c: torch.Tensor | None):
        """D's heads on ``images`` ``[B, 3, R, R]`` (augmented first when the loss has ``augment``)."""
        return self.D.forward_heads(images if self.augment is None else self.augment(images), c)

    @staticmethod
    def _batch(c: torch.Tensor | None, batch: int | None) -> int:
        if c is not None:
            return c.shape[0]
        if batch is None:
            raise ValueError("an unconditional phase (c=None) needs its batch size")
        return batch

    # ------------------------------------------------------------------ phases

    def g_main(self, c: torch.Tensor | None, identity: torch.Tensor | None, batch: int | None = None) -> PhaseResult:
        """Generator adversarial + identity loss for conditions c ``[B, c_dim]``, identities ``[B]``
        (both None, with ``batch``, for an unconditional generator)."""
        images, _ = self.generate(self.sample_z(self._batch(c, batch)), c)
        out = self._discriminate(images, c)
        adversarial = F.softplus(-out.logits).mean()
        identity_ce = self._identity_loss(out.identity_logits, identity)
        loss = adversarial + self.config.identity_weight * identity_ce
        stats = {"loss/G/adv": _scalar(adversarial), "loss/G/identity": _scalar(identity_ce)}
        if out.identity_logits is not None and identity is not None:
            stats["acc/G/identity"] = _scalar((out.identity_logits.argmax(1) == identity).float().mean())
        return PhaseResult(loss, stats)

    def g_path_length(self, c: torch.Tensor | None, gain: float, batch: int | None = None) -> PhaseResult:
        """Path-length penalty on a batch shrunk by ``pl_batch_shrink``; scaled by ``gain`` (the interval)."""
        batch = max(1, self._batch(c, batch) // self.config.pl_batch_shrink)
        c = None if c is None else c[:batch]
        images, ws = self.generate(self.sample_z(batch), c)
        if ws is None:
            raise ValueError("path-length regularisation needs a style-based generator (mapping + synthesis)")
        directions = self._randn(list(images.shape)) / math.sqrt(images.shape[2] * images.shape[3])
        (grad_ws,) = torch.autograd.grad((images * directions).sum(), ws, create_graph=True)
        lengths = grad_ws.square().sum(dim=2).mean(dim=1).sqrt()  # [batch]
        self.pl_mean = self.pl_mean.to(lengths.device)
        pl_mean = self.pl_mean.lerp(self.reduce_mean(lengths.mean().detach()), self.config.pl_decay)
        self.pl_mean.copy_(pl_mean)
        penalty = (lengths - pl_mean).square().mean()
        # The image term (times 0) keeps every synthesis parameter in the graph.
        loss = penalty * self.config.pl_weight * gain + images[:, 0, 0, 0].mean() * 0
        return PhaseResult(loss, {"loss/G/pl_penalty": _scalar(penalty), "pl_mean": _scalar(pl_mean)})

    def d_main(
        self,
        real: torch.Tensor,
        c: torch.Tensor | None,
        identity: torch.Tensor | None,
        c_other: torch.Tensor | None = None,
    ) -> PhaseResult:
        """Discriminator logistic loss on real ``[B,3,R,R]`` and freshly generated faces, plus identity CE on real.

        ``c_other`` ``[B, c_dim]``: voices of other speakers, for the matching-aware term (needed when
        ``mismatch_weight`` > 0).
        """
        with torch.no_grad():
            fake, _ = self.generate(self.sample_z(real.shape[0]), c)
        fake_out = self._discriminate(fake, c)
        real_out = self._discriminate(real, c)
        loss_fake = F.softplus(fake_out.logits).mean()
        loss_real = F.softplus(-real_out.logits).mean()
        identity_ce = self._identity_loss(real_out.identity_logits, identity)
        loss = loss_fake + loss_real + self.config.identity_weight * identity_ce
        stats = {
            "loss/D/fake": _scalar(loss_fake),
            "loss/D/real": _scalar(loss_real),
            "loss/D/identity": _scalar(identity_ce),
            "scores/real": _scalar(real_out.logits.mean()),
            "scores/real_sign": _scalar(real_out.logits.detach().sign().mean()),  # ADA's r_t, one step's share
            "scores/fake": _scalar(fake_out.logits.mean()),
        }
        if real_out.identity_logits is not None and identity is not None:
            stats["acc/D/identity_real"] = _scalar((real_out.identity_logits.argmax(1) == identity).float().mean())
        if self.config.mismatch_weight > 0:
            if c_other is None:
                raise ValueError("mismatch_weight > 0 needs c_other, voices of other speakers for the real faces")
            mismatch_out = self._discriminate(real, c_other)
            loss_mismatch = F.softplus(mismatch_out.logits).mean()
            loss = loss + self.config.mismatch_weight * loss_mismatch
            stats["loss/D/mismatch"] = _scalar(loss_mismatch)
            stats["scores/mismatch"] = _scalar(mismatch_out.logits.mean())
        return PhaseResult(loss, stats)

    def d_r1(self, real: torch.Tensor, c: torch.Tensor | None, gain: float) -> PhaseResult:
        """R1 gradient penalty on real images; scaled by ``gain`` (the interval)."""
        real = real.detach().requires_grad_(True)
        logits = self._discriminate(real, c).logits
        (grad,) = torch.autograd.grad(logits.sum(), real, create_graph=True)
        penalty = grad.square().sum(dim=[1, 2, 3]).mean()
        loss = penalty * (self.config.r1_gamma / 2) * gain + logits.mean() * 0
        return PhaseResult(loss, {"loss/D/r1_penalty": _scalar(penalty)})
