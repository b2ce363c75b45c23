"""The label-free voice side's trainer: the voice learns to predict its speaker's faces' embedding.

Inputs: a frozen pretrained generator, a stage-1 voice encoder (a speaker classifier: identity
labels only), the mapper (:class:`~voice2face.models.face_pool.VoiceToPool`) with its pool
already rendered and its face embedding fitted (label-free: a PCA of the generator's own faces;
:func:`voice2face.training.mapper_inputs.pool_trainer`), and each training speaker's target: the
mean embedding of their photos ``[S, E]``, and, where the data gives it, their sex ``[S]`` (NaN
where unknown). Nothing else about a person is read.

A step: random crops of training recordings → encoder (fine-tuned at ``encoder_lr``) → the
mapper's ``head`` predicts the speaker's embedding in standardised units (squared error, or
contrastively: InfoNCE among the batch's speakers, ``face_loss``) and, when
the data gives sex, its ``sex_head`` the speaker's sex (logistic loss). Validation: the same error
on the validation speakers' whole recordings beside always answering the training mean (``skill``
= 1 − ratio), their 1:2 matching in the embedding (``match_1v2``), and the share whose predicted sex
is right. Each snapshot fits the voice directions
and their calibration on the training speakers' whole recordings, then saves the model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from voice2face.audio.features import random_crop, random_crop_length
from voice2face.config import MapperTrainingConfig, ModelConfig, to_dict
from voice2face.data.containers import UtteranceFeatures
from voice2face.errors import DatasetError
from voice2face.models.face_pool import VoiceToPool
from voice2face.models.ops import assert_shape
from voice2face.models.wplus import MappedGenerator
from voice2face.training.distributed import DistributedContext
from voice2face.training.loop import Schedule
from voice2face.training.state import capture_rng, restore_rng
from voice2face.training.trainers.mapper import embed_each, restore_voice_side, save_voice_side, speaker_means

log = logging.getLogger(__name__)


def _match_1v2(predicted, targets, speaker, scale, mean) -> float:
    """Held-out 1:2 matching in the face embedding: over every pair of a validation recording's
    speaker and another validation speaker, how often the voice's prediction lies nearer (cosine,
    standardised units) its own speaker's faces than the other's. Chance 0.5, for either loss."""
    own = speaker_means(predicted, speaker.numpy(), targets.shape[0])  # [S, E]: per speaker, as at test time
    cosine = F.normalize((own - mean) / scale, dim=1) @ F.normalize((targets - mean) / scale, dim=1).T  # [S, S]
    right = cosine.diagonal()[:, None] > cosine
    others = ~torch.eye(cosine.shape[0], dtype=torch.bool)
    return float(right[others].float().mean()) if bool(others.any()) else float("nan")


class PoolTrainer:
    """Owns the voice encoder, the pool mapper's heads, their optimiser and random streams.

    targets ``[S, E]``: each training speaker's mean face embedding (``train.speaker_names`` order);
    sex ``[S]``: male 1 / female 0, NaN unknown, or None (the mapper then chooses by the embedding
    alone). validation: (utterances, their speakers' targets ``[S', E]``, their sex ``[S']`` or None).
    """

    resume_command = "voice2face train"

    def __init__(
        self,
        config: MapperTrainingConfig,
        model_config: ModelConfig,
        encoder: nn.Module,
        generator: nn.Module,
        mapper: VoiceToPool,
        train: UtteranceFeatures,
        targets: torch.Tensor,
        sex: torch.Tensor | None = None,
        *,
        validation: tuple[UtteranceFeatures, torch.Tensor, torch.Tensor | None] | None = None,
        seed: int = 0,
        context: DistributedContext | None = None,
    ) -> None:
        self.context = context or DistributedContext()
        if self.context.world_size != 1:
            raise DatasetError("the mapper stage runs in one process; start it without torchrun.")
        num_speakers = len(train.speaker_names)
        if num_speakers <= mapper.pool.rank:
            raise DatasetError(f"the voice side needs more than {mapper.pool.rank} training speakers with faces.")
        assert_shape(targets, [num_speakers, mapper.pool.face_dims], "speaker face embeddings")
        self.config, self.model_config, self.seed = config, model_config, seed
        self.train_data, self.validation = train, validation
        torch.manual_seed(seed)
        self.encoder = encoder.train().requires_grad_(config.encoder_lr > 0)
        self.generator = generator.eval().requires_grad_(False)
        self.mapper = mapper
        self.targets = targets.float()
        mapper.target_mean.copy_(self.targets.mean(dim=0))
        mapper.target_std.copy_(self.targets.std(dim=0).clamp_min(1e-6))
        self.standard = (self.targets - mapper.target_mean) / mapper.target_std  # [S, E]
        self.sex = None
        if sex is not None and bool(torch.isfinite(sex).any()) and bool(mapper.uses_sex):
            assert_shape(sex, [num_speakers], "speaker sex")
            self.sex = sex.float()
        heads = [*mapper.head.parameters(), *mapper.sex_head.parameters()]
        groups = [{"params": heads, "lr": config.lr}]
        if config.encoder_lr > 0:
            groups.append({"params": list(self.encoder.parameters()), "lr": config.encoder_lr})
        self.optimiser = torch.optim.Adam(groups, weight_decay=config.weight_decay)
        self.crop_rng = np.random.default_rng([seed, 4])
        self.step = 0

    def schedule(self) -> Schedule:
        """``steps`` steps; validation every ``validate_every`` and at the end; a snapshot every ``snapshot_every``."""
        config = self.config
        return Schedule(total=config.steps, snapshot_every=config.snapshot_every, validate_every=config.validate_every,
                        images_per_step=config.batch_size, description="voice side")  # fmt: skip

    def train_step(self) -> dict[str, float]:
        """One Adam step on a batch of random crops; returns the embedding (and sex) losses."""
        data = self.train_data
        indices = self.crop_rng.integers(0, len(data.features), self.config.batch_size)
        length = random_crop_length(self.config.crops, self.model_config.features.frames_per_second, self.crop_rng)
        crops = torch.from_numpy(np.stack([random_crop(data.features[i], length, self.crop_rng) for i in indices]))
        speakers = torch.from_numpy(data.speaker[indices]).long()
        embeddings = self.encoder(crops.to(self.context.device)).cpu()  # [B, D]
        predicted = self.mapper.head(embeddings)  # [B, E], standardised units
        if self.config.face_loss == "contrastive":
            # InfoNCE over the batch's speakers: each crop's prediction must lie nearer (cosine) its own
            # speaker's faces than any other speaker's in the batch.
            present, own = speakers.unique(return_inverse=True)
            logits = F.normalize(predicted, dim=1) @ F.normalize(self.standard[present], dim=1).T
            loss = F.cross_entropy(logits / self.config.temperature, own)
        else:
            loss = F.mse_loss(predicted, self.standard[speakers])
        out = {"loss/face": float(loss.detach())}
        if self.sex is not None:
            wanted = self.sex[speakers]
            known = torch.isfinite(wanted)
            if bool(known.any()):
                sex_loss = F.binary_cross_entropy_with_logits(self.mapper.sex_head(embeddings)[known, 0], wanted[known])
                loss = loss + self.config.attribute_weight * sex_loss
                out["loss/sex"] = float(sex_loss.detach())
        self.optimiser.zero_grad(set_to_none=True)
        loss.backward()
        self.optimiser.step()
        self.step += 1
        return out

    def _embed(self, utterances: UtteranceFeatures, check: Callable[[], None] = lambda: None) -> torch.Tensor:
        """Whole-utterance embeddings ``[U, D]``, calling ``check()`` before each utterance."""
        return embed_each(self.encoder, utterances, self.context.device, check)

    @torch.no_grad()
    def speaker_embeddings(self, utterances: UtteranceFeatures) -> torch.Tensor:
        """Whole-utterance embeddings averaged per speaker, ``[S, D]`` (as at test time)."""
        return speaker_means(self._embed(utterances), utterances.speaker, len(utterances.speaker_names))

    @torch.no_grad()
    def validate(self, check: Callable[[], None] = lambda: None) -> dict[str, float]:
        """The validation speakers' embedding error beside the training mean's, and their sex agreement."""
        if self.validation is None:
            return {}
        utterances, targets, sex = self.validation
        speaker = torch.as_tensor(utterances.speaker, dtype=torch.long)
        embeddings = self._embed(utterances, check)  # [U, D]
        predicted = self.mapper.voice_face(embeddings)  # [U, E]
        scale = self.mapper.target_std
        truth = targets.float()[speaker]
        error = float(((predicted - truth) / scale).square().mean())
        baseline = float(((self.mapper.target_mean - truth) / scale).square().mean())
        out = {
            "val/face_mse": error,
            "val/mean_face_mse": baseline,
            "val/skill": 1.0 - error / max(baseline, 1e-12),
            "val/match_1v2": _match_1v2(predicted, targets.float(), speaker, scale, self.mapper.target_mean),
        }
        if self.sex is not None and sex is not None:
            wanted = sex.float()[speaker]
            known = torch.isfinite(wanted)
            if bool(known.any()):
                logits = self.mapper.voice_sex(embeddings)[known]
                out["val/sex_agreement"] = float(((logits > 0).float() == wanted[known]).float().mean())
        return out

    # ------------------------------------------------------------------ snapshots

    def trainer_state(self) -> dict:
        """Everything besides the model weights that an exact resume needs."""
        return {
            "format": "voice2face-trainer-state", "stage": "mapper", "step": self.step, "seed": self.seed,
            "optimiser": self.optimiser.state_dict(), "rng": capture_rng({"crop": self.crop_rng}),
            "speaker_names": list(self.train_data.speaker_names), "config": to_dict(self.config),
        }  # fmt: skip

    @torch.no_grad()
    def save_snapshot(self, model_dir: Path, extra_files: dict[str, str | bytes] | None = None) -> torch.Tensor:
        """Fit the voice directions and their calibration on the training speakers' whole recordings,
        then replace ``model_dir`` atomically. Returns (and logs) the calibration."""
        was_training = self.encoder.training
        embeddings = self._embed(self.train_data)  # [U, D]: whole recordings
        speaker = torch.as_tensor(self.train_data.speaker, dtype=torch.long)
        calibration = self.mapper.fit_directions(self.mapper.voice_face(embeddings), self.targets, speaker)
        self.encoder.train(was_training)
        save_voice_side(self, model_dir, extra_files)
        log.info("snapshot at step %d; voice directions calibrated by %s", self.step,
                 ", ".join(f"{c:.2f}" for c in calibration.tolist()))  # fmt: skip
        return calibration

    def load_snapshot(self, model_dir: Path) -> None:
        """Continue from a snapshot written by :meth:`save_snapshot`."""
        state = restore_voice_side(self, model_dir)
        self.encoder.train()
        self.optimiser.load_state_dict(state["optimiser"])
        self.step = int(state["step"])
        restore_rng(state["rng"], {"crop": self.crop_rng})

    def voice_generator(self) -> MappedGenerator:
        """The generator as the saved model will sample it."""
        return MappedGenerator(self.generator, self.mapper).eval()
