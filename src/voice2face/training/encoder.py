"""Stage 1: train the voice encoder as a speaker classifier over the training identities.

Paper recipe (§3.2): SGD (lr 1e-3, momentum 0.9, weight decay 1e-4) with a cosine-cycle
learning rate, batch 384, random 3–8 s crops (one crop length per batch; shorter utterances
tiled). Validation: speaker-identification accuracy on held-out utterances of training
speakers (whole utterances, as at test time) and verification EER between val identities'
utterances (cosine of embeddings). Snapshots and resume work as in stage 2: the model folder
(``voice_encoder.safetensors`` + ``trainer_state.pt``) is replaced atomically.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from voice2face.audio.features import random_crop, random_crop_length
from voice2face.config import EncoderTrainingConfig, ModelConfig, to_dict
from voice2face.data.containers import UtteranceFeatures
from voice2face.errors import CheckpointError, DatasetError, TrainingInterrupted
from voice2face.models.embedding import embed_utterances
from voice2face.storage import ModelFolder, RunFolder
from voice2face.training.data_order import BatchOrder, rank_share
from voice2face.training.distributed import (
    DistributedContext,
    StopRequest,
    average_gradients,
    per_rank_batch,
    stop_reason,
)
from voice2face.training.state import capture_rng, restore_rng

log = logging.getLogger(__name__)


def equal_error_rate(scores: np.ndarray, same: np.ndarray) -> float:
    """Verification EER: the error rate where false accepts equal false rejects.

    scores ``[P]`` (higher = more alike), same ``[P]`` bool (same speaker). Linear interpolation
    between the two thresholds where the curves cross.
    """
    scores, same = np.asarray(scores, dtype=np.float64), np.asarray(same, dtype=bool)
    if same.all() or not same.any():
        raise ValueError("EER needs both same-speaker and different-speaker pairs")
    order = np.argsort(-scores, kind="stable")
    same = same[order]
    # accept the top i pairs, i = 0..P
    false_accept = np.concatenate([[0], np.cumsum(~same)]) / (~same).sum()
    false_reject = 1 - np.concatenate([[0], np.cumsum(same)]) / same.sum()
    diff = false_accept - false_reject
    i = int(np.argmax(diff >= 0))  # first point where accepting more makes FA >= FR
    if i == 0:
        return float(false_reject[0])
    t = diff[i - 1] / (diff[i - 1] - diff[i])
    return float(false_accept[i - 1] + t * (false_accept[i] - false_accept[i - 1]))


class EncoderTrainer:
    """Owns the encoder, its optimiser and random streams for one stage-1 run."""

    def __init__(
        self,
        config: EncoderTrainingConfig,
        train: UtteranceFeatures,
        *,
        holdout: UtteranceFeatures | None = None,
        verification: UtteranceFeatures | None = None,
        seed: int = 0,
        context: DistributedContext | None = None,
    ):
        from voice2face.models import build_voice_encoder

        self.context = context or DistributedContext()
        self.config, self.train_data, self.holdout, self.verification, self.seed = (
            config,
            train,
            holdout,
            verification,
            seed,
        )
        if train.dim != config.features.dim:
            raise DatasetError(
                f"the utterances have {train.dim}-dimensional features but the preset expects {config.features.dim}."
            )
        encoder_config = config.encoder
        if encoder_config.num_speakers != len(train.speaker_names):
            encoder_config = dataclasses.replace(encoder_config, num_speakers=len(train.speaker_names))
        self.model_config = ModelConfig(features=config.features, voice_encoder=encoder_config)
        torch.manual_seed(seed)
        self.encoder = build_voice_encoder(encoder_config).to(self.context.device).train()
        self.optimiser = torch.optim.SGD(
            self.encoder.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
        self.local_batch = per_rank_batch(config.batch_size, self.context.world_size)
        self.order = BatchOrder(
            len(train.features), config.batch_size, seed, self.context.rank, self.context.world_size
        )
        self.crop_rng = np.random.default_rng([seed, 2])
        self.step = 0

    def learning_rate(self, step: int) -> float:
        """Cosine-cycle schedule: ``lr_cycles`` half-cosines from lr to ~0 over the run."""
        cycle = max(1, math.ceil(self.config.steps / self.config.lr_cycles))
        return 0.5 * self.config.lr * (1 + math.cos(math.pi * (step % cycle) / cycle))

    def train_step(self) -> dict[str, float]:
        """One SGD step on a batch of random crops; returns loss and accuracy."""
        global_indices = self.order.next_global()
        length = random_crop_length(self.config.crops, self.config.features.frames_per_second, self.crop_rng)
        crops = [random_crop(self.train_data.features[i], length, self.crop_rng) for i in global_indices]
        rank, world, device = self.context.rank, self.context.world_size, self.context.device
        batch = torch.from_numpy(np.stack(rank_share(crops, rank, world))).to(device)  # [b, F, L]
        labels = torch.from_numpy(self.train_data.speaker[rank_share(global_indices, rank, world)]).long().to(device)
        for group in self.optimiser.param_groups:
            group["lr"] = self.learning_rate(self.step)
        _, logits = self.encoder.forward_with_logits(batch)
        loss = F.cross_entropy(logits, labels)
        self.optimiser.zero_grad(set_to_none=True)
        loss.backward()
        average_gradients(self.encoder, self.context)
        self.optimiser.step()
        self.step += 1
        accuracy = (logits.argmax(1) == labels).float().mean()
        return {
            "loss/speaker_ce": float(loss.detach()),
            "acc/train": float(accuracy),
            "lr": self.learning_rate(self.step - 1),
        }

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Speaker-ID accuracy on held-out utterances; EER between verification identities' utterances."""
        results: dict[str, float] = {}
        device = self.context.device
        if self.holdout is not None and self.holdout.features:
            self.encoder.eval()
            correct = 0
            for features, speaker in zip(self.holdout.features, self.holdout.speaker, strict=True):
                _, logits = self.encoder.forward_with_logits(torch.from_numpy(features)[None].to(device))
                correct += int(logits.argmax(1).item() == speaker)
            self.encoder.train()
            results["val/speaker_id_accuracy"] = correct / len(self.holdout.features)
        if self.verification is not None and len(set(self.verification.speaker.tolist())) >= 2:
            embeddings = F.normalize(embed_utterances(self.encoder, self.verification.features, device=device), dim=1)
            scores = embeddings @ embeddings.T
            upper = torch.triu_indices(len(embeddings), len(embeddings), offset=1)
            same = self.verification.speaker[upper[0].numpy()] == self.verification.speaker[upper[1].numpy()]
            if same.any():
                results["val/verification_eer"] = equal_error_rate(scores[upper[0], upper[1]].numpy(), same)
        return results

    def trainer_state(self) -> dict:
        """Everything besides the encoder weights that an exact resume needs."""
        return {
            "format": "voice2face-trainer-state",
            "stage": "encoder",
            "step": self.step,
            "seed": self.seed,
            "optimiser": self.optimiser.state_dict(),
            "rng": capture_rng({"crop": self.crop_rng}),
            "order": self.order.state_dict(),
            "speaker_names": list(self.train_data.speaker_names),
            "config": to_dict(self.config),
        }

    def save_snapshot(self, model_dir: Path, extra_files: dict[str, str | bytes] | None = None) -> None:
        """Replace ``model_dir`` atomically with the encoder and the trainer state."""
        ModelFolder(model_dir).save(
            {"voice_encoder": self.encoder}, self.model_config, trainer_state=self.trainer_state(),
            extra_files=extra_files,
        )  # fmt: skip

    def load_snapshot(self, model_dir: Path) -> None:
        """Continue from a snapshot written by :meth:`save_snapshot`."""
        folder = ModelFolder(model_dir)
        loaded = folder.load(("voice_encoder",), device=self.context.device)
        state = folder.read_trainer_state()
        if state.get("stage") != "encoder":
            raise CheckpointError(
                f"{folder.trainer_state_path} is not a stage-1 trainer state; resume a `train-encoder` run."
            )
        if state["speaker_names"] != list(self.train_data.speaker_names):
            raise DatasetError(f"{model_dir} was trained on other speakers; resume with the same dataset.")
        self.encoder.load_state_dict(loaded.modules["voice_encoder"].state_dict())
        self.encoder.train()
        self.optimiser.load_state_dict(state["optimiser"])
        self.step = int(state["step"])
        restore_rng(state["rng"], {"crop": self.crop_rng})
        self.order.load_state_dict(state["order"])


def run_encoder_training(
    trainer: EncoderTrainer,
    run_dir: Path,
    *,
    max_steps: int | None = None,
    time_budget_s: float | None = None,
    stats=None,
    progress: bool = True,
) -> EncoderTrainer:
    """Train to ``config.steps`` (or ``max_steps`` / ``time_budget_s``), validating and snapshotting.

    On Ctrl-C the step in progress finishes, a snapshot is written and :class:`TrainingInterrupted` is raised.
    """
    config = trainer.config
    total = config.steps if max_steps is None else min(config.steps, max_steps)
    main = trainer.context.is_main
    model_dir = RunFolder(run_dir).model.path
    start = time.monotonic()
    saved_step = -1
    reason = None
    bar = tqdm(total=total, initial=trainer.step, unit="step", disable=not (progress and main))
    try:
        with StopRequest() as stop:
            while trainer.step < total:
                reason = stop_reason(start, time_budget_s, trainer.context, stop)
                if reason is not None:
                    log.info("stopping (%s) at step %d", reason, trainer.step)
                    break
                step_stats = trainer.train_step()
                bar.update(1)
                bar.set_postfix(loss=f"{step_stats['loss/speaker_ce']:.3f}", acc=f"{step_stats['acc/train']:.2f}")
                if trainer.step % config.validate_every == 0 or trainer.step == total:
                    step_stats.update(trainer.validate())
                if main and stats is not None:
                    stats.write(trainer.step, trainer.step * config.batch_size / 1000, step_stats)
                if main and trainer.step % config.snapshot_every == 0:
                    trainer.save_snapshot(model_dir)
                    saved_step = trainer.step
    finally:
        bar.close()
    if main and saved_step != trainer.step:
        trainer.save_snapshot(model_dir)
    if reason == "interrupt":
        raise TrainingInterrupted(
            f"interrupted at step {trainer.step}; {model_dir} holds a snapshot that continues exactly with: "
            f"voice2face train-encoder --resume {run_dir}"
        )
    return trainer
