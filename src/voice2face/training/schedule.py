"""Lazy regularisation: R1 and path-length penalties run every k steps, not every step.

Running a penalty every ``interval`` steps (scaled by ``interval`` to keep its strength) costs
a fraction of the compute. The optimiser then sees ``interval + 1`` updates per ``interval``
main steps, so its learning rate and betas are rescaled by ``interval / (interval + 1)``
(Karras et al. 2020, appendix B).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LazyInterval:
    """A penalty applied every ``interval`` steps of its phase; 0 disables it."""

    interval: int

    def fires(self, phase_step: int) -> bool:
        """True when the penalty runs at this step (steps count from 0; step 0 fires)."""
        return self.interval > 0 and phase_step % self.interval == 0

    @property
    def ratio(self) -> float:
        """``interval / (interval + 1)``; 1 when disabled."""
        return 1.0 if self.interval <= 0 else self.interval / (self.interval + 1)

    def adam_hyperparameters(self, lr: float, betas: tuple[float, float]) -> tuple[float, tuple[float, float]]:
        """Learning rate and betas to use for a lazily regularised network's optimiser."""
        return lr * self.ratio, (betas[0] ** self.ratio, betas[1] ** self.ratio)
