"""Weights in and out of a model folder: the one place that writes and reads network weights.

(:class:`voice2face.storage.ModelFolder` is the folder's front door; file names are in
:mod:`voice2face.storage.layout`.) A model folder is::

    <dir>/config.json                  ModelConfig: every component's config, the feature
                                       settings, format name/version, voice2face version, and
                                       the SHA-256 and size of each weight file
    <dir>/voice_encoder.safetensors    one file per component present
    <dir>/generator.safetensors
    <dir>/discriminator.safetensors    (training only)

Weights are safetensors (a JSON header + raw tensors): nothing is ever unpickled. Every
persistent buffer is saved with the parameters (``w_avg``, ``noise_const``, BatchNorm running
statistics), so a loaded network gives bit-identical outputs. Loading rebuilds each module
from its config alone (``voice2face.models.registry.build(component, config)``, the same path
for every family) and refuses, with a CheckpointError that
names the file and what to do, a missing folder or file, an unreadable or invalid
config.json, a file whose size or digest differs from the record (truncated or modified), a
file that is not safetensors, and tensors whose names or shapes do not fit the config.

Saving is atomic for the folder as a whole: everything is written (and fsynced) into a
temporary sibling folder, which is then renamed into place; an existing model folder is first
renamed aside and deleted after the swap. A crash leaves either the old folder, the new one,
or (between the two renames) the old one under ``.<name>.old-*`` beside it — never a
half-written folder under the model's name.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn

from voice2face import __version__
from voice2face.config import MODEL_COMPONENTS, ModelConfig, WeightFile, from_dict, to_dict
from voice2face.errors import CheckpointError, ConfigError
from voice2face.storage.layout import CONFIG_NAME, weight_file_name
from voice2face.utils.files import atomic_write_bytes, atomic_write_text, fsync_dir, make_staging_dir

log = logging.getLogger(__name__)

MAX_REPORTED_KEYS = 5

__all__ = [
    "CONFIG_NAME", "LoadedModel", "bytes_to_state_dict", "load_pretrained", "load_state_into", "load_tensors",
    "load_voice_to_face", "read_model_config", "read_tensor_metadata", "read_weights", "recover_interrupted_swap",
    "save_pretrained", "save_tensors", "sha256_hex", "state_dict_to_bytes", "weight_file_name",
]  # fmt: skip


class LoadedModel(NamedTuple):
    """What :func:`load_pretrained` returns: the folder's config and the rebuilt modules (eval mode)."""

    config: ModelConfig
    modules: dict[str, nn.Module]


# --------------------------------------------------------------------------- tensors <-> bytes


def state_dict_to_bytes(state: Mapping[str, torch.Tensor], metadata: Mapping[str, str] | None = None) -> bytes:
    """Serialise a state dict (tensors only) to safetensors bytes, on CPU, contiguous."""
    from safetensors.torch import save

    tensors = {name: tensor.detach().to("cpu").contiguous() for name, tensor in state.items()}
    return _canonical_header(save(tensors, metadata=dict(metadata or {})))


def _canonical_header(data: bytes) -> bytes:
    """The same safetensors file with its metadata keys sorted, so equal weights give equal bytes.

    safetensors writes ``__metadata__`` from a hash map whose order changes from call to call; the
    tensor entries and their data offsets (relative to the end of the header) are already in a fixed
    order, so only the header text is rewritten, padded with spaces to a multiple of 8 as the format asks.
    """
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + length])
    metadata = header.pop("__metadata__", None)
    ordered = {"__metadata__": dict(sorted(metadata.items()))} if metadata else {}
    ordered.update(header)
    text = json.dumps(ordered, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + data[8 + length :]


def bytes_to_state_dict(data: bytes, path: str | Path) -> dict[str, torch.Tensor]:
    """Parse safetensors bytes read from ``path`` (named in the error) into CPU tensors."""
    from safetensors.torch import load

    try:
        return load(data)
    except Exception as exc:  # safetensors raises its own SafetensorError and others on bad headers
        raise CheckpointError(
            f"Weight file {path} is not a valid safetensors file ({exc}); re-download or re-export the model."
        ) from None


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def load_state_into(module: nn.Module, state: Mapping[str, torch.Tensor], path: str | Path) -> None:
    """Copy ``state`` into ``module`` after checking that names and shapes match exactly.

    CheckpointError names ``path`` and the first few missing, unexpected or mis-shaped tensors.
    """
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shapes = [
        f"{name} {list(state[name].shape)} != {list(expected[name].shape)}"
        for name in sorted(set(expected) & set(state))
        if state[name].shape != expected[name].shape
    ]
    problems = []
    for label, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape", shapes)):
        if items:
            more = f" and {len(items) - MAX_REPORTED_KEYS} more" if len(items) > MAX_REPORTED_KEYS else ""
            problems.append(f"{label}: {', '.join(items[:MAX_REPORTED_KEYS])}{more}")
    if problems:
        raise CheckpointError(
            f"Weight file {path} does not fit the network described in {CONFIG_NAME} ({'; '.join(problems)}); "
            "the weights belong to another config — re-export the model."
        )
    module.load_state_dict(dict(state), strict=True)


# --------------------------------------------------------------------------- save


def save_pretrained(
    directory: str | Path,
    modules: Mapping[str, nn.Module],
    config: ModelConfig,
    extra_files: Mapping[str, str | bytes] | None = None,
) -> ModelConfig:
    """Write a model folder: ``config.json`` + ``<component>.safetensors`` for each module.

    modules: ``{"voice_encoder": ..., "generator": ..., "discriminator": ...}``, exactly the
    components ``config`` describes. extra_files: other files to put in the same atomic folder,
    text or bytes (e.g. ``{"model_card.md": ...}``, or a trainer state that must never disagree
    with the weights beside it). Each module must have the state-dict layout its config builds
    (checked before anything is written). Returns the config as written (with ``weights`` and
    ``voice2face_version`` filled in). Replaces an existing model folder atomically; refuses to
    replace a non-empty folder that is not a model folder.
    """
    directory = Path(directory)
    given, described = sorted(modules), sorted(config.present)
    if given != described:
        raise ConfigError(
            f"save_pretrained got modules {given} but the config describes {described}; pass one module per component."
        )
    for name, module in modules.items():
        _check_layout(name, module, config)
    if directory.exists() and not directory.is_dir():
        raise CheckpointError(f"Cannot save a model to {directory}: it is a file; choose a folder path.")
    if directory.is_dir() and any(directory.iterdir()) and not (directory / CONFIG_NAME).is_file():
        raise CheckpointError(
            f"Cannot save a model to {directory}: the folder is not empty and is not a model folder; "
            "choose another path or empty it."
        )
    own_files = {CONFIG_NAME, *(weight_file_name(c) for c in MODEL_COMPONENTS)}
    for name in extra_files or {}:
        if name in own_files or Path(name).name != name or name.startswith("."):
            raise ConfigError(f"extra file name {name!r} must be a plain file name other than the model's own files.")

    blobs: dict[str, bytes] = {}
    records = []
    for name in MODEL_COMPONENTS:
        if name not in modules:
            continue
        file = weight_file_name(name)
        blobs[file] = state_dict_to_bytes(
            modules[name].state_dict(), {"format": "pt", "component": name, "voice2face": __version__}
        )
        records.append(WeightFile(component=name, file=file, sha256=sha256_hex(blobs[file]), size=len(blobs[file])))
    final = dataclasses.replace(config, voice2face_version=__version__, weights=tuple(records))

    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = make_staging_dir(directory.parent, f".{directory.name}.", ".tmp")
    try:
        for file, data in blobs.items():
            atomic_write_bytes(staging / file, data)
        for file, content in (extra_files or {}).items():
            if isinstance(content, bytes):
                atomic_write_bytes(staging / file, content)
            else:
                atomic_write_text(staging / file, content)
        atomic_write_text(staging / CONFIG_NAME, json.dumps(to_dict(final), indent=2, sort_keys=True) + "\n")
        fsync_dir(staging)
        _swap_into_place(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def _check_layout(name: str, module: nn.Module, config: ModelConfig) -> None:
    """Refuse to save a module whose state dict is not what its config builds (built on the meta device)."""
    from voice2face.models.registry import build

    with torch.device("meta"):
        reference = build(name, config.component(name))
    want = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    if want != got:
        differing = sorted(set(want) ^ set(got)) + sorted(k for k in set(want) & set(got) if want[k] != got[k])
        raise ConfigError(
            f"The {name} module does not match config.{name} (first differing tensors: "
            f"{', '.join(differing[:MAX_REPORTED_KEYS])}); save the module with the config it was built from."
        )


def _swap_into_place(staging: Path, directory: Path) -> None:
    if not directory.exists():
        os.rename(staging, directory)
    else:
        old = directory.parent / f".{directory.name}.old-{uuid.uuid4().hex[:8]}"
        os.rename(directory, old)
        os.rename(staging, directory)
        shutil.rmtree(old, ignore_errors=True)
    fsync_dir(directory.parent)


def recover_interrupted_swap(directory: str | Path) -> bool:
    """Put back the previous model folder if a save was killed between its two renames.

    Returns True when a folder was recovered (and logs a warning naming it); False when there
    was nothing to do. Only acts when ``directory`` is missing and exactly one set-aside copy
    exists, so it can never overwrite anything.
    """
    directory = Path(directory)
    if directory.exists():
        return False
    set_aside = sorted(directory.parent.glob(f".{directory.name}.old-*"))
    if len(set_aside) != 1 or not (set_aside[0] / CONFIG_NAME).is_file():
        return False
    os.rename(set_aside[0], directory)
    fsync_dir(directory.parent)
    log.warning(
        "%s was being replaced when a process stopped; restored the previous version from %s.",
        directory,
        set_aside[0].name,
    )
    return True


# --------------------------------------------------------------------------- load


def read_model_config(directory: str | Path) -> ModelConfig:
    """Read and validate ``<directory>/config.json`` without loading any weights."""
    directory = Path(directory)
    if not directory.exists():
        raise CheckpointError(f"Model folder {directory} does not exist; check the path.")
    if not directory.is_dir():
        raise CheckpointError(f"Model path {directory} is a file, not a model folder; give the folder.")
    path = directory / CONFIG_NAME
    if not path.is_file():
        raise CheckpointError(f"{directory} is not a model folder: {CONFIG_NAME} is missing; re-export the model.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"Model config {path} is not valid JSON ({exc}); re-export the model.") from None
    try:
        return from_dict(ModelConfig, data, where=str(path))
    except ConfigError as exc:
        raise CheckpointError(f"Model config {path} is invalid: {exc} Re-export the model or fix the file.") from None


def read_weights(directory: str | Path, record: WeightFile) -> dict[str, torch.Tensor]:
    """Read one weight file of a model folder, verifying its size and SHA-256 against ``record``."""
    path = Path(directory) / record.file
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(
            f"Weight file {path} is missing (config.json lists it); re-download or re-export the model."
        ) from None
    except OSError as exc:
        raise CheckpointError(f"Weight file {path} cannot be read ({exc}); check its permissions.") from None
    if len(data) != record.size:
        raise CheckpointError(
            f"Weight file {path} has {len(data)} bytes but config.json records {record.size}; the file is truncated "
            "or was replaced — re-download or re-export the model."
        )
    if sha256_hex(data) != record.sha256:
        raise CheckpointError(
            f"Weight file {path} does not match the checksum recorded in config.json; the file was modified or "
            "corrupted — re-download or re-export the model."
        )
    return bytes_to_state_dict(data, path)


def load_pretrained(
    directory: str | Path,
    components: Iterable[str] | None = None,
    device: str | torch.device = "cpu",
) -> LoadedModel:
    """Rebuild the modules of a model folder from its config and load their weights.

    components: which to load (default: all the folder has; e.g. ``("voice_encoder",
    "generator")`` for inference). Returns :class:`LoadedModel` ``(config, {name: module})``
    with every module in eval mode on ``device``.
    """
    from voice2face.models.registry import build

    recover_interrupted_swap(directory)
    config = read_model_config(directory)
    wanted = list(config.present if components is None else components)
    records = {record.component: record for record in config.weights}
    modules: dict[str, nn.Module] = {}
    for name in wanted:
        if name not in MODEL_COMPONENTS:
            raise ConfigError(f"component must be one of {MODEL_COMPONENTS}, got {name!r}.")
        if config.component(name) is None:
            raise CheckpointError(f"Model folder {directory} has no {name} (its config.json describes none).")
        if name not in records:
            raise CheckpointError(
                f"{Path(directory) / CONFIG_NAME} records no weight file for {name}; re-export the model."
            )
        state = read_weights(directory, records[name])
        module = build(name, config.component(name))
        load_state_into(module, state, Path(directory) / records[name].file)
        modules[name] = module.to(device).eval()
    return LoadedModel(config, modules)


def save_tensors(
    path: str | Path, tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, str] | None = None
) -> None:
    """Write named tensors (e.g. cached projection codes) to one safetensors file, atomically."""
    atomic_write_bytes(Path(path), state_dict_to_bytes({k: v.detach().cpu().contiguous() for k, v in tensors.items()},
                                                       metadata))  # fmt: skip


def load_tensors(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a file written by :func:`save_tensors`; a missing or damaged file is a CheckpointError."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CheckpointError(f"{path} cannot be read ({exc}); delete it to recompute it.") from None
    return bytes_to_state_dict(data, path)


def read_tensor_metadata(path: str | Path) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors file (written by :func:`save_tensors`); a missing or
    damaged file is a CheckpointError."""
    try:
        with open(path, "rb") as handle:
            length = int.from_bytes(handle.read(8), "little")
            header = json.loads(handle.read(length)) if 0 < length < 100_000_000 else None
    except OSError as exc:
        raise CheckpointError(f"{path} cannot be read ({exc}); delete it to recompute it.") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        header = None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path} is not a valid safetensors file; delete it to recompute it.")
    metadata = header.get("__metadata__") or {}
    return {str(key): str(value) for key, value in metadata.items()}


def load_voice_to_face(directory: str | Path, device: str | torch.device = "cpu") -> LoadedModel:
    """The two halves that turn a voice into faces: ``{"voice_encoder", "generator"}`` in eval mode.

    For a model of the paper's route (a ``mapper`` over an unconditional generator) the
    ``generator`` is the :class:`~voice2face.models.wplus.MappedGenerator` that composes them, so
    every caller samples ``generator(z, embedding)`` the same way for both kinds of model.
    """
    from voice2face.models.wplus import MappedGenerator

    config = read_model_config(directory)
    names = ("voice_encoder", "generator") + (("mapper",) if config.mapper is not None else ())
    loaded = load_pretrained(directory, names, device=device)
    modules = dict(loaded.modules)
    if "mapper" in modules:
        modules["generator"] = MappedGenerator(modules["generator"], modules.pop("mapper")).eval()
    return LoadedModel(loaded.config, modules)
