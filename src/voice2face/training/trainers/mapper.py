"""The paper's route, step 4: the voice side learns where voices belong in a frozen generator's W+.

Inputs: a pretrained unconditional generator (``train --preset synthface-64``, or an imported
official checkpoint), a stage-1 voice encoder, and each training speaker's face code (the mean
W+ code of their faces, from voice2face.training.projection). The encoder (fine-tuned at
``encoder_lr``) and the mapper's MLP learn to predict the code from random crops of the voice.

The error is measured in the ``target_rank`` principal directions of the training speakers'
codes: ``offset = mean + coefficients · Vᵀ``, and the network predicts the coefficients. At each
snapshot the coefficient layer is folded into the mapper's output layer (exact: both are
linear), so the saved :class:`~voice2face.models.wplus.VoiceToWPlus` is an ordinary MLP, and the
mapper's voice subspace is fitted on the training speakers' whole-utterance embeddings.

Validation: the mean squared error of the predicted codes of the validation speakers' whole
utterances, beside the error of always answering the training speakers' mean code (``skill`` =
1 − ratio: 0 means the voice told nothing, 1 a perfect code). Nothing renders here; the
evaluation renders and scores the faces.

Selection mode (``MapperConfig.selection``): there are no codes to regress. The targets are the
traits the mapper's reader reads off each training speaker's faces (``traits`` ``[S, T]``, in
selection units), and the encoder and the mapper's ``trait_head`` learn to predict them from the
voice; validation compares the validation speakers' predicted traits with their faces' readings
the same way (and, for sex, the share whose sign agrees).
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
from voice2face.errors import CheckpointError, DatasetError
from voice2face.models.embedding import embed_utterances
from voice2face.models.ops import assert_shape
from voice2face.models.registry import build_mapper
from voice2face.models.wplus import MappedGenerator, VoiceToWPlus
from voice2face.storage import ModelFolder
from voice2face.training.distributed import DistributedContext
from voice2face.training.loop import Schedule, checked
from voice2face.training.state import capture_rng, restore_rng

log = logging.getLogger(__name__)


def speaker_means(values: torch.Tensor, speaker: np.ndarray, num_speakers: int) -> torch.Tensor:
    """Mean of ``values`` ``[U, ...]`` per speaker label ``[U]`` in [0, S) → ``[S, ...]``."""
    labels = torch.as_tensor(speaker, dtype=torch.long)
    counts = torch.bincount(labels, minlength=num_speakers).clamp(min=1).to(values.dtype)
    sums = torch.zeros(num_speakers, *values.shape[1:], dtype=values.dtype).index_add_(0, labels, values)
    return sums / counts.view(-1, *([1] * (values.ndim - 1)))


def embed_each(
    encoder: nn.Module, utterances: UtteranceFeatures, device: torch.device | str, check: Callable[[], None]
) -> torch.Tensor:
    """Whole-utterance embeddings ``[U, D]``, calling ``check()`` before each utterance."""
    return embed_utterances(encoder, checked(utterances.features, check), device=device)


def save_voice_side(trainer, model_dir: Path, extra_files: dict[str, str | bytes] | None) -> None:
    """Replace ``model_dir`` atomically with a voice-side trainer's encoder, frozen generator and
    mapper (under its ``model_config``) and its trainer state."""
    ModelFolder(model_dir).save(
        {"voice_encoder": trainer.encoder, "generator": trainer.generator, "mapper": trainer.mapper},
        trainer.model_config, trainer_state=trainer.trainer_state(), extra_files=extra_files,
    )  # fmt: skip


def restore_voice_side(trainer, model_dir: Path) -> dict:
    """Load a voice-side snapshot's encoder and mapper weights into ``trainer`` (after checking that it
    is a mapper stage's, of the same training speakers) and return its trainer state."""
    folder = ModelFolder(model_dir)
    loaded = folder.load(("voice_encoder", "mapper"), device=trainer.context.device)
    state = folder.read_trainer_state()
    if state.get("stage") != "mapper":
        raise CheckpointError(f"{folder.trainer_state_path} is not a mapper trainer state; resume a mapper run.")
    if state["speaker_names"] != list(trainer.train_data.speaker_names):
        raise DatasetError(f"{model_dir} was trained on other speakers; resume with the same dataset.")
    trainer.encoder.load_state_dict(loaded.modules["voice_encoder"].state_dict())
    trainer.mapper.load_state_dict(loaded.modules["mapper"].state_dict())
    return state


class MapperTrainer:
    """Owns the voice encoder, the mapper, their optimiser and random streams for one mapper run.

    model_config: features, voice_encoder, generator (unconditional) and mapper of the model to
    write. targets ``[S, num_ws, w_dim]``: the face code of each training speaker, in the order of
    ``train.speaker_names``. calibration: (random codes of the generator in W ``[N, w_dim]``, the
    projections of their renderings ``[N, num_ws, w_dim]``; :func:`voice2face.training.projection.
    calibration_codes`). validation: (utterances, their speakers' codes) or None.
    attributes ``[S, 2]``: each training speaker's (male 0/1, age in years), NaN where unknown;
    used when ``config.attribute_weight`` > 0 (see
    :func:`voice2face.training.mapper_inputs.identity_attributes`).
    In selection mode ``targets`` and ``calibration`` are None, ``traits`` ``[S, T]`` holds the
    reader's reading of each training speaker's faces, the mapper's reader comes trained in
    ``reader_state``, and validation pairs utterances with their speakers' readings.
    """

    resume_command = "voice2face train"

    def __init__(
        self,
        config: MapperTrainingConfig,
        model_config: ModelConfig,
        encoder: nn.Module,
        generator: nn.Module,
        train: UtteranceFeatures,
        targets: torch.Tensor | None,
        calibration: tuple[torch.Tensor, torch.Tensor] | None,
        *,
        validation: tuple[UtteranceFeatures, torch.Tensor] | None = None,
        attributes: torch.Tensor | None = None,
        traits: torch.Tensor | None = None,
        reader_state: dict[str, torch.Tensor] | None = None,
        seed: int = 0,
        context: DistributedContext | None = None,
    ) -> None:
        self.context = context or DistributedContext()
        if self.context.world_size != 1:
            raise DatasetError("the mapper stage runs in one process; start it without torchrun.")
        self.config, self.model_config, self.seed = config, model_config, seed
        self.train_data, self.validation = train, validation
        mapper_config = model_config.mapper
        num_speakers = len(train.speaker_names)
        if num_speakers < 2:
            raise DatasetError("the mapper needs at least two training speakers with faces.")
        torch.manual_seed(seed)
        self.encoder = encoder.train().requires_grad_(config.encoder_lr > 0)
        self.generator = generator.eval().requires_grad_(False)
        self.mapper = build_mapper(mapper_config)
        self.mapper.w_avg.copy_(generator.mapping.w_avg)
        self.selecting = self.mapper.selecting
        if self.selecting:
            if traits is None or reader_state is None:
                raise ValueError("a selecting mapper trains on its reader and the readings of the speakers' faces")
            assert_shape(traits, [num_speakers, len(mapper_config.selection.traits)], "speaker traits")
            self.mapper.reader.load_state_dict(reader_state)
            self.traits = traits.float()
            self.targets = self.calibration = self.head = self.directions = None
        else:
            assert_shape(targets, [num_speakers, mapper_config.num_ws, mapper_config.w_dim], "speaker codes")
            self.targets = targets.float()
            self.calibration = (calibration[0].float(), calibration[1].float())
            self._code_targets(config, num_speakers)
        self.hidden = self.mapper.net[:-1]
        self.attributes = None
        self.attribute_head = nn.Linear(mapper_config.embedding_dim, 2)
        if config.attribute_weight > 0:
            if attributes is None or not bool(torch.isfinite(attributes).any()):
                raise DatasetError("attribute_weight > 0 needs the sex or age of training speakers in the manifest.")
            assert_shape(attributes, [num_speakers, 2], "speaker attributes")
            age = attributes[:, 1]
            known = age[torch.isfinite(age)]
            scale = (known.mean(), known.std().clamp(min=1e-6)) if known.numel() > 1 else (0.0, 1.0)
            self.attributes = torch.stack([attributes[:, 0], (age - scale[0]) / scale[1]], dim=1).float()
        heads = [*self.attribute_head.parameters()]
        heads += (
            [*self.mapper.trait_head.parameters()]
            if self.selecting
            else [*self.hidden.parameters(), *self.head.parameters()]
        )
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
                        images_per_step=config.batch_size, description="voice→W+")  # fmt: skip

    def _code_targets(self, config: MapperTrainingConfig, num_speakers: int) -> None:
        """The codes' principal directions and each speaker's coefficients; the coefficient head."""
        offsets = (self.targets - self.mapper.w_avg).flatten(1)  # [S, L·C]
        self.offset_mean = offsets.mean(dim=0)
        centred = offsets - self.offset_mean
        rank = min(config.target_rank, num_speakers - 1) if config.target_rank else 0
        if rank:
            _, _, vh = torch.linalg.svd(centred, full_matrices=False)
            self.directions = vh[:rank].T.contiguous()  # [L·C, k], orthonormal columns
            self.coefficients = centred @ self.directions  # [S, k]
        else:
            self.directions, self.coefficients = None, centred
        self.head = nn.Linear(self.mapper.net[-1].in_features, self.coefficients.shape[1])
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    # ------------------------------------------------------------------ prediction

    def predict_offsets(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Voice embeddings ``[B, D]`` → predicted code offsets from ``w_avg``, ``[B, L·C]``."""
        coefficients = self.head(self.hidden(embeddings))  # [B, k]
        spread = coefficients if self.directions is None else coefficients @ self.directions.T
        return self.offset_mean + spread

    @torch.no_grad()
    def fold(self) -> VoiceToWPlus:
        """Write the coefficient layer into the mapper's output layer; returns the mapper."""
        out = self.mapper.net[-1]
        if self.selecting:
            return self.mapper
        if self.directions is None:
            out.weight.copy_(self.head.weight)
            out.bias.copy_(self.offset_mean + self.head.bias)
        else:
            out.weight.copy_(self.directions @ self.head.weight)
            out.bias.copy_(self.offset_mean + self.directions @ self.head.bias)
        return self.mapper

    # ------------------------------------------------------------------ training

    def train_step(self) -> dict[str, float]:
        """One Adam step on a batch of random crops; returns the loss in the target directions."""
        data = self.train_data
        indices = self.crop_rng.integers(0, len(data.features), self.config.batch_size)
        length = random_crop_length(self.config.crops, self.model_config.features.frames_per_second, self.crop_rng)
        crops = torch.from_numpy(np.stack([random_crop(data.features[i], length, self.crop_rng) for i in indices]))
        speakers = torch.from_numpy(data.speaker[indices]).long()
        embeddings = self.encoder(crops.to(self.context.device)).cpu()  # [B, D]
        if self.selecting:
            loss = F.mse_loss(self.mapper.voice_traits(embeddings), self.traits[speakers])
            out = {"loss/traits": float(loss.detach())}
            loss = self.config.trait_weight * loss
        else:
            loss = F.mse_loss(self.head(self.hidden(embeddings)), self.coefficients[speakers])
            out = {"loss/code": float(loss.detach())}
        if self.attributes is not None:
            attribute_loss = self._attribute_loss(self.attribute_head(embeddings), self.attributes[speakers])
            loss = loss + self.config.attribute_weight * attribute_loss
            out["loss/attributes"] = float(attribute_loss.detach())
        self.optimiser.zero_grad(set_to_none=True)
        loss.backward()
        self.optimiser.step()
        self.step += 1
        return out

    @staticmethod
    def _attribute_loss(predicted: torch.Tensor, wanted: torch.Tensor) -> torch.Tensor:
        """Logistic loss on sex (column 0, 0/1) plus squared error on standardised age (column 1); NaN skipped."""
        loss = predicted.new_zeros(())
        sex, age = torch.isfinite(wanted[:, 0]), torch.isfinite(wanted[:, 1])
        if bool(sex.any()):
            loss = loss + F.binary_cross_entropy_with_logits(predicted[sex, 0], wanted[sex, 0])
        if bool(age.any()):
            loss = loss + F.mse_loss(predicted[age, 1], wanted[age, 1])
        return loss

    @torch.no_grad()
    def speaker_embeddings(self, utterances: UtteranceFeatures) -> torch.Tensor:
        """Whole-utterance embeddings averaged per speaker, ``[S, D]`` (as at test time)."""
        embeddings = embed_utterances(self.encoder, utterances.features, device=self.context.device)  # [U, D]
        return speaker_means(embeddings, utterances.speaker, len(utterances.speaker_names))

    @torch.no_grad()
    def validate(self, check: Callable[[], None] = lambda: None) -> dict[str, float]:
        """Code error of the validation utterances beside the mean-code answer's; empty without validation.

        ``check()`` is called before each utterance (the loop's: it raises to stop for the budget or Ctrl-C)."""
        if self.validation is None:
            return {}
        utterances, codes = self.validation
        embeddings = embed_each(self.encoder, utterances, self.context.device, check)  # [U, D]
        if self.selecting:
            return self._validate_traits(embeddings, utterances, codes)
        was_training = self.hidden.training
        self.hidden.eval()
        predicted = self.predict_offsets(embeddings)  # [U, L·C]
        self.hidden.train(was_training)
        truth = (codes.float() - self.mapper.w_avg).flatten(1)[torch.as_tensor(utterances.speaker, dtype=torch.long)]
        error = float(F.mse_loss(predicted, truth))
        baseline = float(F.mse_loss(self.offset_mean.expand_as(truth), truth))
        return {"val/code_mse": error, "val/mean_code_mse": baseline, "val/skill": 1.0 - error / max(baseline, 1e-12)}

    def _validate_traits(
        self, embeddings: torch.Tensor, utterances: UtteranceFeatures, traits: torch.Tensor
    ) -> dict[str, float]:
        """Selection mode: predicted traits of the validation utterances (embeddings ``[U, D]``) against
        their faces' readings."""
        predicted = self.mapper.voice_traits(embeddings)  # [U, T]
        truth = traits.float()[torch.as_tensor(utterances.speaker, dtype=torch.long)]  # [U, T]
        error = float(F.mse_loss(predicted, truth))
        baseline = float(F.mse_loss(self.traits.mean(dim=0).expand_as(truth), truth))
        out = {"val/trait_mse": error, "val/mean_trait_mse": baseline,
               "val/skill": 1.0 - error / max(baseline, 1e-12)}  # fmt: skip
        names = self.model_config.mapper.selection.traits
        if "sex" in names:
            k = names.index("sex")
            out["val/sex_agreement"] = float(((predicted[:, k] > 0) == (truth[:, k] > 0)).float().mean())
        return out

    # ------------------------------------------------------------------ snapshots

    def trainer_state(self) -> dict:
        """Everything besides the model weights that an exact resume needs."""
        return {
            "format": "voice2face-trainer-state",
            "stage": "mapper",
            "step": self.step,
            "seed": self.seed,
            "optimiser": self.optimiser.state_dict(),
            "head": None if self.head is None else self.head.state_dict(),
            "attribute_head": self.attribute_head.state_dict(),
            "rng": capture_rng({"crop": self.crop_rng}),
            "speaker_names": list(self.train_data.speaker_names),
            "config": to_dict(self.config),
        }

    def save_snapshot(self, model_dir: Path, extra_files: dict[str, str | bytes] | None = None) -> int:
        """Fold, fit the mapper's voice subspace and its calibration, and replace ``model_dir``
        atomically. Returns (and logs) the number of voice directions kept."""
        self.fold()
        was_training = self.encoder.training
        kept = 0
        if not self.selecting:
            kept = self.mapper.fit_basis(self.speaker_embeddings(self.train_data), self.targets, *self.calibration)
        elif not bool(self.mapper.shortlist_weight.any()):  # depends only on the frozen generator and the reader
            r2 = self.mapper.fit_shortlist(self.generator, seed=self.seed)
            log.info("selection shortlist: linear read-out of the traits from W, R² %.2f", r2)
        self.encoder.train(was_training)
        save_voice_side(self, model_dir, extra_files)
        log.info("snapshot at step %d; voice directions kept: %d", self.step, kept)
        return kept

    def load_snapshot(self, model_dir: Path) -> None:
        """Continue from a snapshot written by :meth:`save_snapshot`."""
        state = restore_voice_side(self, model_dir)
        if self.head is not None:
            self.head.load_state_dict(state["head"])
        self.attribute_head.load_state_dict(state["attribute_head"])
        self.encoder.train()
        self.optimiser.load_state_dict(state["optimiser"])
        self.step = int(state["step"])
        restore_rng(state["rng"], {"crop": self.crop_rng})

    def voice_generator(self) -> MappedGenerator:
        """The generator as the saved model will sample it (call after :meth:`save_snapshot`)."""
        return MappedGenerator(self.generator, self.mapper).eval()
