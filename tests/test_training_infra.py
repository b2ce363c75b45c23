"""Training infrastructure that does not depend on a model: EMA, lazy intervals, run folders,
stats, and trainer state with every random stream."""

from __future__ import annotations

import copy
import io
import random

import numpy as np
import pytest
import torch
from torch import nn

from voice2face.errors import CheckpointError, ConfigError
from voice2face.storage import RunFolder
from voice2face.storage.trainer_state import load_trainer_state, save_trainer_state
from voice2face.training.ema import ema_beta, update_ema
from voice2face.training.schedule import LazyInterval
from voice2face.training.state import capture_rng, restore_rng
from voice2face.training.stats import StatsWriter, read_stats


def test_ema_beta_half_life_and_rampup():
    # after half_life images the old weights count one half
    beta = ema_beta(batch_size=32, images_seen=10**9, half_life_kimg=10.0, rampup=None)
    assert beta ** (10_000 / 32) == pytest.approx(0.5)
    early = ema_beta(batch_size=32, images_seen=1000, half_life_kimg=10.0, rampup=0.05)
    assert early == pytest.approx(0.5 ** (32 / 50))
    assert ema_beta(32, 0, 10.0, 0.05) == 0.0  # nothing seen yet: copy the model


def test_update_ema_blends_parameters_and_copies_buffers():
    model = nn.BatchNorm1d(3)
    ema = copy.deepcopy(model)
    with torch.no_grad():
        model.weight.fill_(3.0)
        model.running_mean.fill_(7.0)
    update_ema(ema, model, beta=0.75)
    torch.testing.assert_close(ema.weight, torch.full((3,), 0.75 * 1.0 + 0.25 * 3.0))
    torch.testing.assert_close(ema.running_mean, torch.full((3,), 7.0))
    with pytest.raises(ValueError, match="different parameters"):
        update_ema(nn.Linear(2, 2), model, 0.5)


def test_lazy_interval_fires_and_rescales_adam():
    r1 = LazyInterval(16)
    assert [s for s in range(40) if r1.fires(s)] == [0, 16, 32]
    lr, betas = r1.adam_hyperparameters(0.002, (0.0, 0.99))
    assert lr == pytest.approx(0.002 * 16 / 17)
    assert betas == (0.0, pytest.approx(0.99 ** (16 / 17)))
    off = LazyInterval(0)
    assert not any(off.fires(s) for s in range(10)) and off.adam_hyperparameters(1.0, (0.5, 0.9)) == (1.0, (0.5, 0.9))


def test_run_folders_are_numbered(tmp_path):
    first = RunFolder.create(tmp_path, "synthvox-quick").path
    second = RunFolder.create(tmp_path, "paper-stylegan2").path
    (tmp_path / "00007-old").mkdir()
    third = RunFolder.create(tmp_path, "x").path
    assert [p.name for p in (first, second, third)] == ["00000-synthvox-quick", "00001-paper-stylegan2", "00008-x"]
    with pytest.raises(ConfigError):
        RunFolder.create(tmp_path, "../escape")


def test_stats_jsonl_and_tensorboard_events(tmp_path):
    with StatsWriter(tmp_path) as stats:
        stats.write(1, 0.032, {"loss/G": 1.5, "loss/D": float("nan")})
        stats.write(2, 0.064, {"loss/G": 1.25})
    with open(tmp_path / "stats.jsonl", "a") as f:
        f.write('{"step": 3, "kim')  # a torn line from a crash
    records = read_stats(tmp_path / "stats.jsonl")
    assert [r["step"] for r in records] == [1, 2]
    assert records[0]["loss/D"] is None and records[1]["loss/G"] == 1.25
    assert list(tmp_path.glob("events.out.tfevents.*"))


def test_trainer_state_round_trip_restores_every_stream(tmp_path):
    data_rng = np.random.default_rng(5)
    noise = torch.Generator().manual_seed(9)
    streams = {"data": data_rng, "noise": noise}
    torch.manual_seed(1)
    random.seed(2)
    saved_rng = capture_rng(streams)
    expected = (torch.rand(3), random.random(), data_rng.integers(0, 10**9, 4), torch.rand(2, generator=noise))
    optimiser = torch.optim.Adam([nn.Parameter(torch.ones(2))], lr=0.1)
    optimiser.param_groups[0]["params"][0].grad = torch.ones(2)
    optimiser.step()
    path = tmp_path / "trainer_state.pt"
    save_trainer_state(
        path, {"step": 7, "optimiser": optimiser.state_dict(), "rng": saved_rng, "pl_mean": torch.tensor(0.3)}
    )
    loaded = load_trainer_state(path)
    restore_rng(loaded["rng"], streams)
    again = (torch.rand(3), random.random(), data_rng.integers(0, 10**9, 4), torch.rand(2, generator=noise))
    torch.testing.assert_close(again[0], expected[0])
    assert again[1] == expected[1]
    np.testing.assert_array_equal(again[2], expected[2])
    torch.testing.assert_close(again[3], expected[3])
    assert loaded["step"] == 7 and loaded["optimiser"]["state"][0]["step"] == 1


class _Payload:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_trainer_state_never_unpickles_code_and_names_corrupt_files(tmp_path):
    evil = tmp_path / "evil.pt"
    buffer = io.BytesIO()
    torch.save({"x": _Payload()}, buffer)
    evil.write_bytes(buffer.getvalue())
    with pytest.raises(CheckpointError, match=r"evil\.pt cannot be read"):
        load_trainer_state(evil)
    torn = tmp_path / "torn.pt"
    save_trainer_state(torn, {"w": torch.ones(1000)})
    torn.write_bytes(torn.read_bytes()[:300])
    with pytest.raises(CheckpointError, match=r"torn\.pt cannot be read"):
        load_trainer_state(torn)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_trainer_state(tmp_path / "none.pt")


def test_batch_order_is_resumable_and_shards_the_same_global_batches():
    from voice2face.training.data_order import BatchOrder

    straight = BatchOrder(num_items=10, global_batch=4, seed=3)
    batches = [straight.next() for _ in range(6)]  # crosses two epoch boundaries
    seen = np.concatenate(batches[:5])[:20]
    assert sorted(seen[:10]) == list(range(10)) and sorted(seen[10:20]) == list(range(10))

    first = BatchOrder(num_items=10, global_batch=4, seed=3)
    for _ in range(3):
        first.next()
    resumed = BatchOrder(num_items=10, global_batch=4, seed=3)
    resumed.load_state_dict(first.state_dict())
    assert all(np.array_equal(resumed.next(), b) for b in batches[3:])

    ranks = [BatchOrder(num_items=10, global_batch=4, seed=3, rank=r, world_size=2) for r in range(2)]
    for expected in batches:
        rebuilt = np.empty_like(expected)
        for r, order in enumerate(ranks):
            rebuilt[r::2] = order.next()  # strided shares, so minibatch-std groups match one process
        np.testing.assert_array_equal(rebuilt, expected)
    with pytest.raises(ConfigError, match="divide among 3"):
        BatchOrder(num_items=10, global_batch=4, world_size=3)
    with pytest.raises(ConfigError, match="no examples"):
        BatchOrder(num_items=0, global_batch=4)


def test_single_process_context_and_batch_split():
    from voice2face.training.distributed import init_distributed, per_rank_batch

    context = init_distributed("cpu")
    assert context.is_main and not context.distributed and context.device.type == "cpu"
    assert per_rank_batch(32, 4) == 8
    with pytest.raises(ConfigError, match="multiple of 3"):
        per_rank_batch(32, 3)


def test_a_time_budget_counts_the_set_up_of_its_call():
    """`train --minutes M` and the demo's stage budgets are for the whole call: what the set-up spent
    (features, reading faces) is taken off what the training loop gets, never below nothing."""
    from voice2face.training.stages import time_left

    assert time_left(None, 100.0, now=130.0) is None  # no budget: no limit
    assert time_left(100.0, 100.0, now=130.0) == 70.0
    assert time_left(10.0, 100.0, now=130.0) == 0.0
