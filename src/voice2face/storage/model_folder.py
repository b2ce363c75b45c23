"""ModelFolder: a model folder on disk, from its path to its config, weights and trainer state.

    model = ModelFolder("runs/00003-synthvox-quick/model")      # or ModelFolder.bundled(), or resolve(path)
    config = model.config()                                     # ModelConfig, no weights read
    encoder = model.load(("voice_encoder",)).modules["voice_encoder"]
    model.save({"voice_encoder": encoder}, config, trainer_state={...})   # one atomic swap for both

The weights themselves go through :mod:`voice2face.storage.checkpoint` (safetensors, checked
against the SHA-256 recorded in ``config.json``), the trainer state through
:mod:`voice2face.storage.trainer_state` (``torch.load(weights_only=True)``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voice2face.errors import CheckpointError, ConfigError
from voice2face.storage import layout

if TYPE_CHECKING:  # torch is imported when weights are read or written, not to name a folder
    import torch
    from torch import nn

    from voice2face.config import ModelConfig
    from voice2face.storage.checkpoint import LoadedModel
    from voice2face.storage.run_folder import RunFolder

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ModelFolder:
    """A model folder: ``config.json`` + ``<component>.safetensors`` (+ trainer state, projector, card).

    path: the folder. run: the run folder it is the ``model/`` of, when it is one (set by
    :attr:`RunFolder.model` and :func:`~voice2face.storage.resolve`; not part of equality).
    """

    path: Path
    run: RunFolder | None = dataclasses.field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    @classmethod
    def bundled(cls) -> ModelFolder:
        """The model bundled with the package (``voice2face/assets/model``; it may be absent)."""
        return cls(layout.bundled_model_dir())

    # ------------------------------------------------------------------ names

    @property
    def exists(self) -> bool:
        """Whether the folder holds a ``config.json`` (it is a model folder, or a snapshot of one)."""
        return self.config_path.is_file()

    @property
    def config_path(self) -> Path:
        """``<folder>/config.json``."""
        return self.path / layout.CONFIG_NAME

    @property
    def trainer_state_path(self) -> Path:
        """``<folder>/trainer_state.pt`` (training snapshots only)."""
        return self.path / layout.TRAINER_STATE

    @property
    def projector_path(self) -> Path:
        """``<folder>/projector.safetensors``: a projector trained on this folder's generator, if shipped."""
        return self.path / layout.PROJECTOR_FILE

    @property
    def model_card_path(self) -> Path:
        """``<folder>/model_card.md``."""
        return self.path / layout.MODEL_CARD

    @property
    def provenance_path(self) -> Path:
        """``<folder>/provenance.json`` (a bundled model's record of how it was made)."""
        return self.path / layout.PROVENANCE

    def weight_path(self, component: str) -> Path:
        """``<folder>/<component>.safetensors``."""
        return self.path / layout.weight_file_name(component)

    def is_packaged(self) -> bool:
        """Whether the folder is inside the installed voice2face package (never written to)."""
        import voice2face

        return Path(voice2face.__file__).parent.resolve() in self.path.resolve().parents

    # ------------------------------------------------------------------ weights

    def config(self) -> ModelConfig:
        """The folder's validated ``config.json``, without reading any weights."""
        from voice2face.storage.checkpoint import read_model_config

        return read_model_config(self.path)

    def load(self, components: Iterable[str] | None = None, device: str | torch.device = "cpu") -> LoadedModel:
        """Rebuild ``components`` (default: all present) from the config and load their weights (eval mode)."""
        from voice2face.storage.checkpoint import load_pretrained

        return load_pretrained(self.path, components, device=device)

    def load_voice_to_face(self, device: str | torch.device = "cpu") -> LoadedModel:
        """The voice encoder and the generator (composed with the mapper on the paper's route)."""
        from voice2face.storage.checkpoint import load_voice_to_face

        return load_voice_to_face(self.path, device=device)

    def save(
        self,
        modules: Mapping[str, nn.Module],
        config: ModelConfig,
        *,
        trainer_state: Mapping[str, Any] | None = None,
        extra_files: Mapping[str, str | bytes] | None = None,
    ) -> ModelConfig:
        """Replace the folder atomically with ``modules``' weights, ``config`` and, for a training
        snapshot, ``trainer_state`` (in the same swap, so the two never disagree) and ``extra_files``.
        Returns the config as written (checksums filled in)."""
        from voice2face.storage.checkpoint import save_pretrained
        from voice2face.storage.trainer_state import trainer_state_bytes

        files = dict(extra_files or {})
        if trainer_state is not None:
            if layout.TRAINER_STATE in files:
                raise ConfigError(f"give the trainer state once: as trainer_state, not also as {layout.TRAINER_STATE}.")
            files[layout.TRAINER_STATE] = trainer_state_bytes(dict(trainer_state))
        return save_pretrained(self.path, modules, config, extra_files=files)

    def recover(self) -> bool:
        """Put back the previous folder if a save was killed between its two renames (see
        :func:`~voice2face.storage.checkpoint.recover_interrupted_swap`)."""
        if self.path.exists() or not any(self.path.parent.glob(f".{self.path.name}.old-*")):
            return False  # the usual case, decided without importing torch
        from voice2face.storage.checkpoint import recover_interrupted_swap

        return recover_interrupted_swap(self.path)

    # ------------------------------------------------------------------ trainer state

    @property
    def has_trainer_state(self) -> bool:
        """Whether the folder holds a trainer state (it is a training snapshot)."""
        return self.trainer_state_path.is_file()

    def read_trainer_state(self) -> dict[str, Any]:
        """The trainer state, loaded with ``torch.load(weights_only=True)``; CheckpointError if missing or corrupt."""
        from voice2face.storage.trainer_state import load_trainer_state

        return load_trainer_state(self.trainer_state_path)

    def snapshot(self) -> dict[str, Any]:
        """Which snapshot the folder holds: ``{"snapshot", "kimg", "step"}`` from its trainer state
        when present (an unreadable one is logged and ignored), else its config's voice2face version."""
        kimg = step = None
        if self.has_trainer_state:
            try:
                state = self.read_trainer_state()
            except CheckpointError as exc:
                log.warning("%s; the snapshot is labelled by the model's config", exc)
                state = {}
            if "images_seen" in state:
                kimg = int(state["images_seen"]) / 1000
            if "step" in state:
                step = int(state["step"])
        if kimg is not None:
            label = f"kimg {kimg:.3f}"
        elif step is not None:
            label = f"step {step}"
        else:
            label = f"voice2face {self.config().voice2face_version or 'unknown'}"
        return {"snapshot": label, "kimg": kimg, "step": step}
