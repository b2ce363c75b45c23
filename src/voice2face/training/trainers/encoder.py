"""Stage 1: train the voice encoder as a speaker classifier over the training identities.

Paper recipe (§3.2): SGD (lr 1e-3, momentum 0.9, weight decay 1e-4) with a cosine-cycle
learning rate, batch 384, random 3–8 s crops (one crop length per batch; shorter utterances
tiled). Validation: speaker-identification accuracy on held-out utterances of training
speakers (whole utterances, as at test time) and verification EER between val identities'
utterances (cosine of embeddings). Each is measured on at most ``validation_utterances``
(default :data:`VALIDATION_UTTERANCES`) of its utterances: a fixed sample, drawn once with
:data:`VALIDATION_SEED` whatever the training seed, so every check of every run of a dataset
scores the same recordings. Below the cap (the default 200-identity synthvox corpus) the figures
are those of the whole sets, as before; above it they estimate them: each utterance is one forward
pass of its own (lengths differ), and a check on thousands held a run for minutes. The loop's
stop check runs between utterances, and the holdout is scored in inference mode (same numbers).
Snapshots and resume work as in stage 2: the model folder (``voice_encoder.safetensors`` +
``trainer_state.pt``) is replaced atomically. The loop is :func:`voice2face.training.loop.run_training`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from voice2face.audio.features import random_crop, random_crop_length
from voice2face.config import EncoderTrainingConfig, ModelConfig, to_dict
from voice2face.data.containers import UtteranceFeatures
from voice2face.errors import CheckpointError, DatasetError
from voice2face.models.embedding import embed_utterances
from voice2face.storage import ModelFolder
from voice2face.training.data_order import BatchOrder, rank_share
from voice2face.training.distributed import DistributedContext, average_gradients, per_rank_batch
from voice2face.training.loop import Schedule, checked
from voice2face.training.state import capture_rng, restore_rng

log = logging.getLogger(__name__)


#: At most this many utterances of each validation set are scored per check (see the module docstring).
VALIDATION_UTTERANCES = 256
#: The seed of the validation sample: fixed, so runs of any seed are scored on the same recordings.
VALIDATION_SEED = 2024


def validation_sample(utterances: UtteranceFeatures | None, cap: int | None) -> UtteranceFeatures | None:
    """``utterances`` itself when it has at most ``cap`` (None: no cap), else a fixed sample of ``cap``
    of them (drawn with :data:`VALIDATION_SEED`, kept in their order)."""
    if utterances is None or cap is None or len(utterances.features) <= cap:
        return utterances
    keep = np.sort(np.random.default_rng(VALIDATION_SEED).choice(len(utterances.features), cap, replace=False))
    return UtteranceFeatures(
        [utterances.features[i] for i in keep], utterances.speaker[keep], list(utterances.speaker_names)
    )


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
    """Owns the encoder, its optimiser and random streams for one stage-1 run.

    holdout / verification: the validation sets (see the module docstring); at most
    ``validation_utterances`` of each are scored (None: all of them)."""

    resume_command = "voice2face train-encoder"

    def __init__(
        self,
        config: EncoderTrainingConfig,
        train: UtteranceFeatures,
        *,
        holdout: UtteranceFeatures | None = None,
        verification: UtteranceFeatures | None = None,
        seed: int = 0,
        context: DistributedContext | None = None,
        validation_utterances: int | None = VALIDATION_UTTERANCES,
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
        self.holdout_sample = validation_sample(holdout, validation_utterances)
        self.verification_sample = validation_sample(verification, validation_utterances)
        for name, whole, sample in (("held-out", holdout, self.holdout_sample),
                                    ("verification", verification, self.verification_sample)):  # fmt: skip
            if sample is not whole:
                log.info("validating on a fixed sample of %d of the %d %s utterances",
                         len(sample.features), len(whole.features), name)  # fmt: skip

    def schedule(self) -> Schedule:
        """``steps`` steps; validation every ``validate_every`` and at the end; a snapshot every ``snapshot_every``."""
        config = self.config
        return Schedule(total=config.steps, snapshot_every=config.snapshot_every,
                        validate_every=config.validate_every, images_per_step=config.batch_size)  # fmt: skip

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

    @torch.inference_mode()
    def validate(self, check: Callable[[], None] = lambda: None) -> dict[str, float]:
        """Speaker-ID accuracy on held-out utterances; EER between verification identities' utterances.

        ``check()`` is called before each utterance (the loop's: it raises to stop for the budget or Ctrl-C)."""
        results: dict[str, float] = {}
        device = self.context.device
        holdout, verification = self.holdout_sample, self.verification_sample
        if holdout is not None and holdout.features:
            self.encoder.eval()
            try:
                correct = 0
                for features, speaker in checked(zip(holdout.features, holdout.speaker, strict=True), check):
                    _, logits = self.encoder.forward_with_logits(torch.from_numpy(features)[None].to(device))
                    correct += int(logits.argmax(1).item() == speaker)
            finally:
                self.encoder.train()
            results["val/speaker_id_accuracy"] = correct / len(holdout.features)
        if verification is not None and len(set(verification.speaker.tolist())) >= 2:
            embeddings = embed_utterances(self.encoder, checked(verification.features, check), device=device)
            embeddings = F.normalize(embeddings, dim=1)  # [U, D]
            scores = embeddings @ embeddings.T
            upper = torch.triu_indices(len(embeddings), len(embeddings), offset=1)
            same = verification.speaker[upper[0].numpy()] == verification.speaker[upper[1].numpy()]
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
