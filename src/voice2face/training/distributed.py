"""Multi-process training with PyTorch's own engine (torchrun + DistributedDataParallel).

``torchrun --nproc_per_node K -m voice2face train ...`` sets RANK/WORLD_SIZE/LOCAL_RANK; we
join the process group (gloo on CPU, nccl on GPU), and every rank works on its slice of each
global batch. Rank 0 alone logs and saves.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, field

import torch
import torch.distributed as dist

from voice2face.errors import ConfigError

log = logging.getLogger(__name__)

# Set once this process has joined a process group (see exit_process).
_joined_group = False


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands: its rank among ``world_size`` and the device it trains on."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    backend: str | None = None

    @property
    def is_main(self) -> bool:
        """True on the rank that logs and writes files."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True when more than one process trains together."""
        return self.world_size > 1


def init_distributed(device: str = "auto") -> DistributedContext:
    """Join the torchrun process group if there is one; otherwise a single-process context.

    ``device``: "auto" (CUDA when available), "cpu" or "cuda".
    """
    if device not in ("auto", "cpu", "cuda"):
        raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}.")
    use_cuda = torch.cuda.is_available() if device == "auto" else device == "cuda"
    if use_cuda and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but no CUDA GPU is available; use --device cpu.")
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistributedContext(device=torch.device("cuda" if use_cuda else "cpu"))
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    backend = "nccl" if use_cuda else "gloo"
    if use_cuda:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    global _joined_group
    _joined_group = True
    run_device = torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")
    if rank == 0:
        log.info("distributed training: %d processes, backend %s", world_size, backend)
    return DistributedContext(rank, world_size, local_rank, run_device, backend)


def shutdown(context: DistributedContext) -> None:
    """Leave the process group (no-op for a single process).

    All ranks meet at a barrier first: with gloo, a rank that tears the group down while another is
    still saving or communicating aborts the other ("terminate called without an active exception").
    """
    if context.distributed and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def per_rank_batch(global_batch: int, world_size: int) -> int:
    """Each rank's share of a global batch; the split must be even so every rank weighs the same."""
    if global_batch % world_size:
        raise ConfigError(
            f"batch size {global_batch} does not divide among {world_size} processes; use a multiple of {world_size}."
        )
    return global_batch // world_size


def all_reduce_mean(value: torch.Tensor, context: DistributedContext) -> torch.Tensor:
    """Mean of ``value`` over ranks (returns ``value`` unchanged for one process)."""
    if not context.distributed:
        return value
    value = value.detach().clone()
    dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value / context.world_size


class StopRequest:
    """Ctrl-C during training asks for a clean stop instead of killing the loop mid-step.

    Used as a context manager around a training loop (in the main thread; elsewhere it does
    nothing): the first SIGINT sets :attr:`requested`, the loop finishes its step and writes a
    final snapshot that resumes exactly; a second SIGINT raises KeyboardInterrupt at once (the
    latest snapshot on disk is still whole, as every save is atomic).
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        log.warning("interrupted: finishing this step and saving a snapshot (press Ctrl-C again to abort now)")

    def __exit__(self, *exc_info) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


def stop_reason(
    start: float, budget_s: float | None, context: DistributedContext, stop: StopRequest | None = None
) -> str | None:
    """``"budget"`` once the time since ``start`` (``time.monotonic()``) exceeds ``budget_s``,
    ``"interrupt"`` once ``stop`` was requested, else None — agreed by all ranks.

    Each process has its own clock (and gets its own SIGINT), so one could stop while another
    starts a step and waits for it forever in an all-reduce; here any rank's reason stops every
    rank at the same step.
    """
    spent = budget_s is not None and time.monotonic() - start > budget_s
    interrupted = stop is not None and stop.requested
    if context.distributed:
        flags = torch.tensor([int(spent), int(interrupted)], device=context.device)
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        spent, interrupted = bool(flags[0].item()), bool(flags[1].item())
    return "interrupt" if interrupted else "budget" if spent else None


def average_gradients(module: torch.nn.Module, context: DistributedContext) -> None:
    """Replace each gradient of ``module`` by its mean over ranks (one flat all-reduce).

    Used instead of DistributedDataParallel because R1 and path-length penalties need double
    backward, which DDP does not support; with equal per-rank batches this equals the gradient
    of the global-batch mean loss.
    """
    if not context.distributed:
        return
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.flatten() for g in grads])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat /= context.world_size
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()


def average_buffers(module: torch.nn.Module, context: DistributedContext) -> None:
    """Average floating-point buffers over ranks (e.g. the mapping network's tracked ``w_avg``).

    Each rank updates such running averages from its own share of the batch; their mean is what
    one process would have computed from the global batch.
    """
    if not context.distributed:
        return
    for buffer in module.buffers():
        if buffer.is_floating_point():
            dist.all_reduce(buffer, op=dist.ReduceOp.SUM)
            buffer /= context.world_size


def exit_process(code: int) -> int:
    """End a process that took part in a process group with ``code``, skipping C++ teardown.

    After ``destroy_process_group`` a gloo rank can still abort at interpreter exit ("terminate
    called without an active exception": a C++ thread destroyed while joinable during static
    destruction), turning a finished run into a SIGABRT under load. Every file we write is atomic
    and fsynced before this point, so such a process flushes Python's streams and leaves with
    ``os._exit``. A process that never joined a group just returns ``code``.
    """
    if not _joined_group:
        return code
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
