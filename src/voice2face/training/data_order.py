"""A deterministic, resumable order of training examples, sharded across ranks.

Each epoch is a permutation drawn from ``(seed, epoch)``; a global batch is the next
``global_batch`` indices of it, and rank r takes every world_size-th index from r on. That
strided share keeps StyleGAN's minibatch-standard-deviation groups (strided across the batch)
the same as in a single process. The state is two
integers, so a resumed run (or a run with a different number of processes but the same
global batch) sees exactly the same examples in the same global batches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voice2face.errors import ConfigError


@dataclass
class BatchOrder:
    """Yields index arrays ``[per_rank_batch]`` for this rank, epoch after epoch, forever."""

    num_items: int
    global_batch: int
    seed: int = 0
    rank: int = 0
    world_size: int = 1
    epoch: int = 0
    position: int = 0

    def __post_init__(self) -> None:
        if self.num_items <= 0:
            raise ConfigError("the training split has no examples; check the dataset's manifest.")
        if self.global_batch <= 0 or self.global_batch % self.world_size:
            raise ConfigError(
                f"batch size {self.global_batch} must be positive and divide among {self.world_size} processes."
            )
        self._permutation = self._draw(self.epoch)

    def _draw(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch]).permutation(self.num_items)

    def next_global(self) -> np.ndarray:
        """The next global batch ``[global_batch]``; an epoch boundary continues into a fresh permutation."""
        indices = []
        needed = self.global_batch
        while needed:
            take = self._permutation[self.position : self.position + needed]
            indices.append(take)
            needed -= take.size
            self.position += take.size
            if self.position >= self.num_items:
                self.epoch += 1
                self.position = 0
                self._permutation = self._draw(self.epoch)
        return np.concatenate(indices)

    def next(self) -> np.ndarray:
        """This rank's share ``[global_batch // world_size]`` of the next global batch."""
        return rank_share(self.next_global(), self.rank, self.world_size)

    def state_dict(self) -> dict[str, int]:
        """Where the order stands (for the trainer state)."""
        return {"epoch": self.epoch, "position": self.position, "seed": self.seed}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Continue from a saved position."""
        if int(state["seed"]) != self.seed:
            raise ConfigError(f"resumed data order has seed {state['seed']} but the run uses {self.seed}.")
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
        self._permutation = self._draw(self.epoch)


def rank_share(global_items, rank: int, world_size: int):
    """Rank ``rank``'s strided share of anything indexed by global-batch position (arrays, tensors)."""
    return global_items[rank::world_size]
