"""Stage 2: train the face generator on (voice embedding, face) pairs, with exact resume.

The same trainer pretrains an unconditional generator (``c_dim`` 0) on faces alone
(:class:`~voice2face.data.containers.FaceTensors`): the first step of the paper's route, a pretrained StyleGAN2 that a
voice→W+ mapper later drives. Then there is no encoder, no condition and no identity head.

Each step runs StyleGAN2's phases — Gmain, Greg (every ``pl_interval`` steps), Dmain, Dreg
(every ``r1_interval`` steps) — and updates the EMA generator. The loop
(:func:`voice2face.training.loop.run_training`, counting images: the run's length and snapshot
interval are in kimg) reports to ``stats.jsonl`` and every ``snapshot_kimg`` replaces
``RUN_DIR/model/`` atomically with: the voice encoder, the EMA
generator, the discriminator (safetensors) and ``trainer_state.pt`` (the raw generator,
optimisers, counters, path-length mean, every random stream, the data-order position). Because
one folder swap carries all of it, a kill at any moment leaves a consistent latest snapshot, and
a resumed run continues bit for bit.

Multi-process (torchrun): every rank draws the same random numbers, takes its slice of each
global batch, and gradients are averaged over ranks after each phase (no DDP wrapper: R1 and
path length need double backward, which DDP does not support).
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from voice2face.config import GANTrainingConfig, ModelConfig, to_dict
from voice2face.data.containers import FaceTensors, PairedTensors
from voice2face.errors import CheckpointError, ConfigError, DatasetError
from voice2face.storage import ModelFolder
from voice2face.training.augment import AugmentTuner, as_augmenter, make_draw
from voice2face.training.data_order import BatchOrder, rank_share
from voice2face.training.distributed import (
    DistributedContext,
    all_reduce_mean,
    average_buffers,
    average_gradients,
    per_rank_batch,
)
from voice2face.training.ema import ema_beta, update_ema
from voice2face.training.loop import Schedule
from voice2face.training.losses import GANLoss
from voice2face.training.schedule import LazyInterval
from voice2face.training.state import capture_rng, restore_rng
from voice2face.utils.images import uint8_to_float

log = logging.getLogger(__name__)


def phase_step(loss: torch.Tensor, module: nn.Module, optimiser: torch.optim.Optimizer, context) -> None:
    """One optimiser step of one phase on ``loss``: gradients averaged over ranks, non-finite ones clamped."""
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    average_gradients(module, context)
    for param in module.parameters():  # a NaN/Inf gradient would poison the weights for good
        if param.grad is not None:
            torch.nan_to_num_(param.grad, nan=0.0, posinf=1e5, neginf=-1e5)
    optimiser.step()


class GANTrainer:
    """Owns the networks, optimisers and random streams of one stage-2 run."""

    resume_command = "voice2face train"

    def __init__(
        self,
        config: GANTrainingConfig,
        model_config: ModelConfig,
        encoder: nn.Module | None,
        data: PairedTensors | FaceTensors,
        *,
        seed: int = 0,
        context: DistributedContext | None = None,
    ):
        from voice2face.models import build_discriminator, build_generator
        from voice2face.models.ops import set_ops_impl

        self.context = context or DistributedContext()
        self.config, self.data, self.seed = config, data, seed
        if model_config.discriminator is None or model_config.generator is None:
            raise ConfigError("stage 2 needs a model config with a generator and a discriminator.")
        if model_config.discriminator.num_identities not in (0, data.num_identities):
            raise ConfigError(
                f"the discriminator's identity head has {model_config.discriminator.num_identities} outputs but "
                f"the training split has {data.num_identities} identities."
            )
        if data.faces.shape[-1] != config.generator.img_resolution:
            raise DatasetError(
                f"the dataset's faces are {data.faces.shape[-1]} px but the generator makes "
                f"{config.generator.img_resolution} px; prepare the data at that resolution or pick another preset."
            )
        self.conditional = config.generator.c_dim > 0
        if self.conditional != isinstance(data, PairedTensors) or (self.conditional and encoder is None):
            raise ConfigError(
                "a conditional generator (c_dim > 0) trains on paired voices and faces with a voice encoder; an "
                "unconditional one (c_dim 0) on faces alone; pick the preset that fits the data."
            )
        if config.mismatch_weight > 0 and data.num_identities < 2:
            raise ConfigError("mismatch_weight > 0 pairs faces with other speakers' voices; it needs >= 2 identities.")
        if self.conditional and data.embeddings.shape[1] != config.generator.c_dim:
            raise ConfigError(
                f"voice embeddings have {data.embeddings.shape[1]} dimensions but the generator's c_dim is "
                f"{config.generator.c_dim}; use the matching encoder."
            )
        self.model_config = model_config
        device = self.context.device
        torch.manual_seed(seed)
        self.G = set_ops_impl(build_generator(config.generator).to(device).train(), config.ops_impl)
        self.D = set_ops_impl(build_discriminator(model_config.discriminator).to(device).train(), config.ops_impl)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        self.encoder = None if encoder is None else encoder.eval()
        self.rng = torch.Generator().manual_seed(seed)
        self.pick_rng = np.random.default_rng([seed, 1])
        self.global_batch = config.batch_size
        self.local_batch = per_rank_batch(config.batch_size, self.context.world_size)
        self.order = BatchOrder(
            data.faces.shape[0], config.batch_size, seed, self.context.rank, self.context.world_size
        )
        rank, world = self.context.rank, self.context.world_size
        adaptive = config.augment_target > 0
        self.augmenter = as_augmenter(
            config.augment, make_draw(self.rng, device, rank, world), config.augment_start(), adaptive
        )
        self.tuner = (
            AugmentTuner(config.augment_target, config.augment_kimg, config.augment_interval, config.batch_size)
            if adaptive else None
        )  # fmt: skip
        self.loss = GANLoss(
            self.G, self.D, config, self.rng, rank=rank, world_size=world,
            reduce_mean=self._mean_over_ranks, augment=self.augmenter,
        )  # fmt: skip
        styles = self.loss.styles
        self.pl = LazyInterval(config.pl_interval if styles and config.pl_weight > 0 else 0)
        self.r1 = LazyInterval(config.r1_interval if config.r1_gamma > 0 else 0)
        g_lr, g_betas = self.pl.adam_hyperparameters(config.g_lr, config.betas)
        d_lr, d_betas = self.r1.adam_hyperparameters(config.d_lr, config.betas)
        self.g_lr = g_lr
        if config.g_freeze_lr > 0:  # the held part in a group of its own, whose rate the thaw scales
            held = self._held_parameters()
            ids = {id(p) for p in held}
            groups = [[p for p in self.G.parameters() if id(p) not in ids], held]
            self.opt_G = torch.optim.Adam([{"params": group} for group in groups], lr=g_lr, betas=g_betas, eps=1e-8)
        else:
            self.opt_G = torch.optim.Adam(self.G.parameters(), lr=g_lr, betas=g_betas, eps=1e-8)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=d_lr, betas=d_betas, eps=1e-8)
        self.step = 0
        self.images_seen = 0

    def schedule(self) -> Schedule:
        """``kimg`` thousand images, a snapshot every ``snapshot_kimg``, a report every ``report_every`` steps."""
        config = self.config
        return Schedule(
            total=math.ceil(config.kimg * 1000), snapshot_every=max(1, int(config.snapshot_kimg * 1000)),
            report_every=config.report_every, unit="image", units_per_step=self.global_batch,
            images_per_step=self.global_batch, timing=True,
        )  # fmt: skip

    # ------------------------------------------------------------------ data

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
        """This rank's real faces ``[b, 3, R, R]``, conditions ``[b, D]``, identities ``[b]``, and (with
        ``mismatch_weight`` > 0) voices of other speakers ``[b, D]``, else None. Unconditional: faces
        and three Nones."""
        global_indices = self.order.next_global()
        if not self.conditional:
            share = rank_share(global_indices, self.context.rank, self.context.world_size)
            return uint8_to_float(self.data.faces[share]).to(self.context.device), None, None, None
        identities = self.data.face_identity[global_indices]
        # One utterance per face, drawn for the whole global batch so every rank agrees.
        utterances = self._pick_utterances(identities.numpy())
        rank, world = self.context.rank, self.context.world_size
        device = self.context.device
        real = uint8_to_float(self.data.faces[rank_share(global_indices, rank, world)]).to(device)
        c = self.data.embeddings[rank_share(utterances, rank, world)].to(device)
        c_other = None
        if self.config.mismatch_weight > 0:
            # Another speaker for each face: an offset of 1..K-1 identities, uniform over the others.
            count = self.data.num_identities
            others = (identities.numpy() + self.pick_rng.integers(1, count, size=len(identities))) % count
            c_other = self.data.embeddings[rank_share(self._pick_utterances(others), rank, world)].to(device)
        return real, c, rank_share(identities, rank, world).to(device), c_other

    def _pick_utterances(self, identities: np.ndarray) -> np.ndarray:
        return np.array([self.pick_rng.choice(self.data.by_identity[int(k)]) for k in identities])

    # ------------------------------------------------------------------ one step

    def train_step(self) -> dict[str, float]:
        """One iteration of every due phase; returns the phases' scalars."""
        real, c, identity, c_other = self.next_batch()
        stats: dict[str, float] = {}
        batch = real.shape[0]
        generator_trains = self.images_seen >= self.config.d_warmup_kimg * 1000
        if generator_trains:
            self._generator_trainable()
            self.D.requires_grad_(False)
            result = self.loss.g_main(c, identity, batch)
            phase_step(result.loss, self.G, self.opt_G, self.context)
            stats.update(result.stats)
            if self.pl.fires(self.step):
                result = self.loss.g_path_length(c, gain=self.pl.interval, batch=batch)
                phase_step(result.loss, self.G, self.opt_G, self.context)
                stats.update(result.stats)
        self.G.requires_grad_(False)
        self.D.requires_grad_(True)
        result = self.loss.d_main(real, c, identity, c_other)
        phase_step(result.loss, self.D, self.opt_D, self.context)
        stats.update(result.stats)
        real_sign = result.stats["scores/real_sign"]
        if self.r1.fires(self.step):
            result = self.loss.d_r1(real, c, gain=self.r1.interval)
            phase_step(result.loss, self.D, self.opt_D, self.context)
            stats.update(result.stats)
        self.D.requires_grad_(False)
        average_buffers(self.G, self.context)
        self.images_seen += self.global_batch
        if generator_trains:
            beta = ema_beta(self.global_batch, self.images_seen, self.config.ema_kimg, self.config.ema_rampup)
            update_ema(self.G_ema, self.G, beta)
        self._tune_augmentation(real_sign, stats)
        self.step += 1
        return stats

    def _tune_augmentation(self, real_sign: float, stats: dict[str, float]) -> None:
        """ADA, after the step's phases: this step's sign of D on real faces, averaged over processes
        (so the snapshot's record is every process's), and every ``augment_interval`` steps a new p.
        Logs p and the last adjustment's r_t."""
        if self.tuner is not None:
            self.tuner.observe(float(self._mean_over_ranks(torch.tensor(real_sign))))
            if self.tuner.due():
                self.augmenter.p = self.tuner.adjust(self.augmenter.p)
            if self.tuner.last_rt is not None:
                stats["augment/rt"] = self.tuner.last_rt
        if self.augmenter is not None and self.augmenter.p is not None:
            stats["augment/p"] = self.augmenter.p

    def _mean_over_ranks(self, value: torch.Tensor) -> torch.Tensor:
        return all_reduce_mean(value.to(self.context.device), self.context)

    def _held_modules(self) -> list[nn.Module]:
        """What ``g_freeze_*`` holds: the mapping and the synthesis blocks up to ``g_freeze_resolution`` px."""
        blocks = [getattr(self.G.synthesis, f"b{res}") for res in self.G.synthesis.block_resolutions
                  if res <= self.config.g_freeze_resolution]  # fmt: skip
        return [self.G.mapping, *blocks]

    def _held_parameters(self) -> list[nn.Parameter]:
        return [p for module in self._held_modules() for p in module.parameters()]

    def _generator_trainable(self) -> None:
        """Let the generator's parameters learn, except, while ``g_freeze_kimg`` lasts, its mapping and
        its synthesis blocks up to ``g_freeze_resolution`` px: frozen parameters get no gradient, so
        Adam leaves them and G_ema as they are; with ``g_freeze_lr`` they learn at that fraction of
        the rate instead."""
        self.G.requires_grad_(True)
        config = self.config
        trained_kimg = (self.images_seen / 1000) - config.d_warmup_kimg
        holding = bool(config.g_freeze_resolution) and trained_kimg < config.g_freeze_kimg
        if config.g_freeze_lr > 0:
            self.opt_G.param_groups[1]["lr"] = self.g_lr * (config.g_freeze_lr if holding else 1.0)
        elif holding:
            for module in self._held_modules():
                module.requires_grad_(False)

    def validate(self, check: Callable[[], None] = lambda: None) -> dict[str, float]:
        """No validation figures: the evaluation scores generators (``voice2face evaluate``)."""
        return {}

    # ------------------------------------------------------------------ snapshots

    def grow_from(self, model_dir: str | Path) -> None:
        """Start from a smaller pretrained unconditional model (``model_dir``, e.g. a synthface-64 run's
        model/), grown to this run's resolution (:mod:`voice2face.models.stylegan2.grow`): G and its EMA
        both start from the saved (EMA) generator, D from the saved discriminator when there is one
        (and ``d_fresh`` is off).
        A model of this run's own networks is taken as it is (a new recipe continuing a pretrained run,
        e.g. ``synthface-128-thaw``). Optimisers start fresh. Called on a new run only; a resumed run
        loads its own snapshot."""
        from voice2face.models.stylegan2.grow import grow_discriminator, grow_generator

        folder = ModelFolder(model_dir)
        config = folder.config()
        small_g, small_d = config.generator, config.discriminator
        wanted = self.model_config.generator
        if small_g is None or small_g.c_dim != 0 or self.conditional:
            raise ConfigError(
                f"{model_dir} must hold an unconditional generator to grow, and this run must pretrain one."
            )
        if small_g == wanted:
            if self.config.d_fresh:
                raise ConfigError(
                    f"{model_dir} has this run's own generator, which continues with its trained discriminator; "
                    "d_fresh applies to growing from a smaller run: leave out --set d_fresh=true."
                )
            self._continue_from(folder, small_d)
            return
        if small_g.img_resolution == wanted.img_resolution:
            raise ConfigError(
                f"{model_dir} makes {wanted.img_resolution} px faces with other network settings than this run's; "
                "to continue it, give the --set it was trained with (its training_options.json records them)."
            )
        if small_g.img_resolution >= wanted.img_resolution:
            raise ConfigError(
                f"{model_dir} makes {small_g.img_resolution} px faces; growing starts from a smaller generator than "
                f"this run's {wanted.img_resolution} px."
            )
        with_d = small_d is not None and folder.weight_path("discriminator").is_file() and not self.config.d_fresh
        components = ("generator", "discriminator") if with_d else ("generator",)
        loaded = folder.load(components, device=self.context.device)
        try:
            new = grow_generator(self.G, loaded.modules["generator"])
            if "discriminator" in loaded.modules:
                new += grow_discriminator(self.D, loaded.modules["discriminator"])
        except ValueError as exc:
            raise ConfigError(f"{model_dir} cannot grow into this preset's networks: {exc}.") from None
        self.G_ema.load_state_dict(self.G.state_dict())  # as __init__ made it: a copy of G
        fresh_d = ("" if "discriminator" in loaded.modules
                   else "; D starts fresh (d_fresh)" if self.config.d_fresh else "; D starts fresh")  # fmt: skip
        log.info("grown from %s (%d px → %d px): %d new tensors%s", model_dir, small_g.img_resolution,
                 wanted.img_resolution, len(new), fresh_d)  # fmt: skip

    def _continue_from(self, folder: ModelFolder, saved_d) -> None:
        """G, its EMA and D from a model of this run's own networks (``saved_d``: its discriminator's
        config; D must be there: a fresh one against a trained generator would pull it toward its
        random gradients)."""
        if saved_d != self.model_config.discriminator or not folder.weight_path("discriminator").is_file():
            raise ConfigError(
                f"{folder.path} has this run's generator but not its discriminator; continue from a run's model/ "
                "made by the same preset family (synthface-128 for synthface-128-thaw), with the same discriminator "
                "settings (a d_fresh run's wider D: give the --set it was trained with)."
            )
        loaded = folder.load(("generator", "discriminator"), device=self.context.device)
        self.G.load_state_dict(loaded.modules["generator"].state_dict())
        self.G_ema.load_state_dict(self.G.state_dict())
        self.D.load_state_dict(loaded.modules["discriminator"].state_dict())
        log.info("continuing from %s (its networks as saved; fresh optimisers)", folder.path)

    def trainer_state(self) -> dict:
        """Everything besides the saved networks that an exact resume needs."""
        return {
            "format": "voice2face-trainer-state",
            "stage": "gan",
            "step": self.step,
            "images_seen": self.images_seen,
            "seed": self.seed,
            "generator_training": self.G.state_dict(),
            "optimiser_G": self.opt_G.state_dict(),
            "optimiser_D": self.opt_D.state_dict(),
            "pl_mean": self.loss.pl_mean.detach().cpu().clone(),
            "augment_p": None if self.augmenter is None else self.augmenter.p,
            "augment_tuner": None if self.tuner is None else self.tuner.state_dict(),
            "rng": capture_rng({"loss": self.rng, "pick": self.pick_rng}),
            "order": self.order.state_dict(),
            "identity_names": list(self.data.identity_names),
            "config": to_dict(self.config),
        }

    def save_snapshot(self, model_dir: Path, extra_files: dict[str, str | bytes] | None = None) -> None:
        """Replace ``model_dir`` atomically with the current networks and trainer state."""
        modules = {"generator": self.G_ema, "discriminator": self.D}
        if self.encoder is not None:
            modules["voice_encoder"] = self.encoder
        ModelFolder(model_dir).save(
            modules, self.model_config, trainer_state=self.trainer_state(), extra_files=extra_files
        )

    def load_snapshot(self, model_dir: Path) -> None:
        """Continue from a snapshot written by :meth:`save_snapshot` (same config and data)."""
        folder = ModelFolder(model_dir)
        config = folder.config()
        if config.generator != self.model_config.generator or config.discriminator != self.model_config.discriminator:
            raise ConfigError(f"{model_dir} was trained with other network settings; resume with the run's own preset.")
        loaded = folder.load(("generator", "discriminator"), device=self.context.device)
        state = folder.read_trainer_state()
        if state.get("stage") != "gan":
            raise CheckpointError(f"{folder.trainer_state_path} is not a stage-2 trainer state; resume a `train` run.")
        if state["identity_names"] != list(self.data.identity_names):
            raise DatasetError(f"{model_dir} was trained on other identities; resume with the same dataset.")
        self.G_ema.load_state_dict(loaded.modules["generator"].state_dict())
        self.D.load_state_dict(loaded.modules["discriminator"].state_dict())
        self.G.load_state_dict(state["generator_training"])
        self.opt_G.load_state_dict(state["optimiser_G"])
        self.opt_D.load_state_dict(state["optimiser_D"])
        self.loss.pl_mean = state["pl_mean"].to(self.context.device)
        if self.augmenter is not None and state.get("augment_p") is not None:  # absent: a fixed p, as configured
            self.augmenter.p = float(state["augment_p"])
        if self.tuner is not None and state.get("augment_tuner") is not None:
            self.tuner.load_state_dict(state["augment_tuner"])
        self.step, self.images_seen = int(state["step"]), int(state["images_seen"])
        restore_rng(state["rng"], {"loss": self.rng, "pick": self.pick_rng})
        self.order.load_state_dict(state["order"])
