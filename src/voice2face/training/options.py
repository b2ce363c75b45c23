"""A run's resolved settings, before any training: what ``--dry-run`` prints and a run folder records.

:func:`resolve_options` turns a command's arguments (a preset and its overrides, or a run folder to
resume) into the :class:`~voice2face.storage.RunOptions` a run is made with; it reads no dataset
and trains nothing, so a preset can be inspected before its data or encoder exist. The stages
(:mod:`voice2face.training.stages`) train from the same options, so a dry run shows exactly what
a run would record in ``training_options.json``.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from pathlib import Path

from voice2face import __version__
from voice2face.config import TrainingPreset, to_dict
from voice2face.errors import CheckpointError, ConfigError
from voice2face.storage import RunFolder, RunOptions, resolve
from voice2face.storage.layout import OPTIONS_FILE
from voice2face.training.presets import get_preset

#: The stages a run folder can hold: ``train-encoder``, ``train`` (a generator), ``train`` (the paper's route).
STAGES = ("encoder", "gan", "mapper")


def resolve_options(
    stage: str,
    preset: str | TrainingPreset | None,
    data_dir: str | Path | None = None,
    *,
    seed: int = 0,
    resume: str | Path | None = None,
    steps: int | None = None,
    kimg: float | None = None,
    encoder: str | Path | None = None,
    generator: str | Path | None = None,
    settings: Mapping[str, str] | None = None,
) -> RunOptions:
    """The settings a ``stage`` run ("encoder", "gan" or "mapper") would be made with.

    With ``resume``, the run's own options (``preset``, ``data_dir``, ``seed`` and the model folders
    are the run's; ``kimg`` may lengthen a generator run); else ``preset``'s stage config with the
    overrides: ``steps`` (encoder, mapper), ``kimg`` (gan), and the model folders the stage starts
    from (``encoder`` for gan and mapper, a gan's not checked, as a dry run may name an encoder still
    to be trained; ``generator``: for mapper the frozen pretrained generator, for gan the smaller
    pretrained one that a pretraining run grows from); ``settings`` (``--set KEY=VALUE``) replace
    single settings of a new run's stage config (see :func:`apply_settings`)."""
    if stage not in STAGES:
        raise ConfigError(f"no training stage {stage!r}; choose one of {', '.join(STAGES)}.")
    resume_dir = Path(resume) if resume is not None else None
    saved = resumed_options(resume_dir, stage) if resume_dir is not None else None
    if saved is not None:
        if settings:
            raise ConfigError(
                f"--set changes the settings of a new run; {resume_dir} continues with its own ({OPTIONS_FILE}): "
                "drop --set."
            )
        if stage == "gan" and generator is not None:
            raise ConfigError("--generator starts a new run; a resumed run continues from its own snapshot: drop it.")
        config = saved.training_config(where=str(resume_dir / OPTIONS_FILE))
        name, data_dir, seed = saved.preset, saved.data, saved.seed
        encoder, generator = saved.encoder, saved.generator
        if stage == "gan" and kimg is not None:
            config = dataclasses.replace(config, kimg=kimg)
    else:
        chosen = mapper_preset(preset) if stage == "mapper" else _preset(preset)
        config = {"encoder": chosen.encoder, "gan": chosen.gan, "mapper": chosen.mapper}[stage]
        length = {"encoder": ("steps", steps), "gan": ("kimg", kimg), "mapper": ("steps", steps)}[stage]
        config = apply_settings(config, settings or {}, {length[0]: length[1]} if length[1] is not None else {})
        name = chosen.name
        if stage == "gan" and generator is not None and config.generator.c_dim != 0:
            raise ConfigError(f"preset {name!r} trains a conditional generator from nothing; drop --generator.")
        if stage in ("mapper", "gan"):
            generator = None if generator is None else _model_folder(Path(generator), "--generator")
        if stage == "mapper":
            encoder = None if encoder is None else _model_folder(Path(encoder), "--encoder")
    if stage == "gan":
        encoder = None if encoder is None else resolve(Path(encoder), check=False).path
    return RunOptions(
        stage=stage, preset=name, data=_optional_str(data_dir), seed=seed,
        encoder=_optional_str(encoder) if stage != "encoder" else None,
        generator=_optional_str(generator) if stage != "encoder" else None,
        config=to_dict(config), voice2face_version=__version__,
    )  # fmt: skip


_KINDS = (bool, int, float, str)


def _kind(hint: object) -> tuple[type, bool] | None:
    """(scalar type, may be None) of a field's annotation, or None when it is not a settable scalar."""
    if hint in _KINDS:
        return hint, False  # type: ignore[return-value]
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (types.UnionType, typing.Union) and len(args) == 2 and type(None) in args:
        (inner,) = [arg for arg in args if arg is not type(None)]
        if inner in _KINDS:
            return inner, True
    return None


def settable(config: object, prefix: str = "") -> dict[str, tuple[type, bool]]:
    """The settings ``--set`` can change in a stage config, by their declared types: the fields that
    hold a number, a flag or a word (or None where the field allows it), and those of its nested
    configs as ``outer.inner`` (``generator.top_channels``); each maps to (type, may be None)."""
    hints = typing.get_type_hints(type(config))
    found: dict[str, tuple[type, bool]] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        kind = _kind(hints[f.name])
        if kind is not None:
            found[prefix + f.name] = kind
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            found.update(settable(value, f"{prefix}{f.name}."))
    return found


def _parsed(key: str, text: str, kind: type, optional: bool) -> object:
    if optional and text.lower() == "none":
        return None
    try:
        if kind is bool:
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return text.lower() in ("true", "1")
        value = kind(text)
        if kind is float and not math.isfinite(value):
            raise ValueError
        return value
    except ValueError:
        wanted = {bool: "true or false", int: "a whole number", float: "a finite number", str: "a word"}[kind]
        raise ConfigError(f"--set {key}={text}: {key} takes {wanted}{' or none' if optional else ''}.") from None


def _replaced(config, values: Mapping[str, object]):
    """``config`` with dotted ``values`` replaced, nested configs rebuilt (so each checks itself)."""
    direct = {key: value for key, value in values.items() if "." not in key}
    nested: dict[str, dict[str, object]] = {}
    for key, value in values.items():
        if "." in key:
            outer, inner = key.split(".", 1)
            nested.setdefault(outer, {})[inner] = value
    for outer, inner_values in nested.items():
        direct[outer] = _replaced(getattr(config, outer), inner_values)
    return dataclasses.replace(config, **direct)


def apply_settings(config, settings: Mapping[str, str], values: Mapping[str, object] | None = None):
    """``config`` with each ``KEY=VALUE`` of ``settings`` replacing one of its settable fields (parsed
    as that field's declared type; ``none`` where it may be None) and ``values`` (already typed, e.g.
    ``--kimg``) at once, so the config checks them together. An unknown key, a key given twice, a
    value of the wrong kind or one the config refuses is a ConfigError naming it."""
    values = dict(values or {})
    fields = settable(config) if settings else {}
    for key in settings:
        if key not in fields:
            raise ConfigError(f"--set {key}=…: no such setting in this stage; it takes {', '.join(sorted(fields))}.")
        if key in values:
            raise ConfigError(f"--set {key}=… and --{key} both set {key}; give one of them.")
    parsed = {key: _parsed(key, text, *fields[key]) for key, text in settings.items()}
    return _replaced(config, {**values, **parsed})


def resumed_options(run_dir: Path, stage: str) -> RunOptions:
    """The options of ``run_dir``, which must be a ``stage`` run with a recorded seed."""
    options = RunFolder(run_dir).read_options()
    if options.stage != stage:
        command = "train-encoder" if options.stage == "encoder" else "train"
        raise ConfigError(f"{run_dir} is a {options.stage!r} run; resume it with `voice2face {command}`.")
    if options.seed is None:
        raise ConfigError(f"{run_dir / OPTIONS_FILE} records no seed; the run folder is damaged.")
    return options


def stage_of(run_dir: str | Path) -> str:
    """The stage a run folder belongs to ("encoder", "gan" or "mapper"), read from its options."""
    return str(RunFolder(run_dir).read_options().stage)


def mapper_preset(preset: str | TrainingPreset | None) -> TrainingPreset:
    """The preset, which must have a voice→W+ stage (the paper's route)."""
    chosen = _preset(preset)
    if chosen.mapper is None:
        raise ConfigError(f"preset {chosen.name!r} has no voice→W+ stage; choose a preset of the paper's route.")
    return chosen


def _preset(preset: str | TrainingPreset | None) -> TrainingPreset:
    return get_preset(preset) if isinstance(preset, str) or preset is None else preset


def _model_folder(path: Path, flag: str) -> Path:
    """The model folder an option names (a run folder's model/), or a ConfigError naming the option."""
    try:
        return resolve(path, flag=flag).path
    except CheckpointError as exc:
        raise ConfigError(str(exc)) from None


def _optional_str(path: str | Path | None) -> str | None:
    return None if path is None else str(path)
