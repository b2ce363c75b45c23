"""Argument helpers the commands share: config defaults, number parsers, audio, device, training and
output-folder options.

Defaults and choices come from the config dataclasses (:func:`default_of`), never retyped here,
so ``--help`` shows what a library call without the option would use. Nothing here imports
torch, training, evaluation or the synthetic corpus: ``voice2face --help`` builds every parser.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voice2face.config import PRESET_NAMES, VAD_AGGRESSIVENESS, VAD_BACKENDS, AudioConfig, VADConfig
from voice2face.errors import CheckpointError, ConfigError
from voice2face.utils.devices import DEVICE_CHOICES, resolve_device
from voice2face.utils.files import output_dir

if TYPE_CHECKING:
    from voice2face.storage import RunOptions

#: The preset a training command uses without ``--preset``.
DEFAULT_PRESET = "synthvox-quick"


def default_of(config_class: type, name: str) -> Any:
    """The default of field ``name`` of config dataclass ``config_class`` (its factory's value for a
    ``default_factory`` field): the one place a CLI default comes from."""
    for item in dataclasses.fields(config_class):
        if item.name == name:
            if item.default is not dataclasses.MISSING:
                return item.default
            if item.default_factory is not dataclasses.MISSING:
                return item.default_factory()
            raise TypeError(f"{config_class.__name__}.{name} has no default")
    raise AttributeError(f"{config_class.__name__} has no field {name!r}")


def number(kind: type, minimum: float, *, strict: bool, expected: str):
    """An argparse type: parse ``kind`` and require ``value > minimum`` (strict) or ``>= minimum``."""
    noun = "a whole number" if kind is int else "a number"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
        if value < minimum or (strict and value == minimum):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


positive_float = number(float, 0, strict=True, expected="a positive number")
non_negative_float = number(float, 0, strict=False, expected="a number >= 0")
positive_int = number(int, 1, strict=False, expected="a whole number >= 1")
non_negative_int = number(int, 0, strict=False, expected="a number >= 0")


def add_audio_options(parser: argparse.ArgumentParser, *, sample_rate: bool = True) -> None:
    """Options shared by every command that reads recordings.

    ``sample_rate``: offer ``--sample-rate``; a command whose model fixes the rate leaves it out.
    """
    group = parser.add_argument_group("audio")
    if sample_rate:
        group.add_argument(
            "--sample-rate", type=int, default=default_of(AudioConfig, "sample_rate"), metavar="HZ",
            help="decode at this rate (default: %(default)s)",
        )  # fmt: skip
    group.add_argument(
        "--min-speech",
        type=non_negative_float,
        default=default_of(AudioConfig, "min_speech_seconds"),
        metavar="S",
        help="refuse recordings with less speech than this, in seconds (default: %(default)s)",
    )
    group.add_argument(
        "--max-seconds",
        type=positive_float,
        default=default_of(AudioConfig, "max_seconds"),
        metavar="S",
        help="refuse recordings longer than this, in seconds (default: %(default)s)",
    )
    group.add_argument("--no-vad", action="store_true", help="keep the whole recording instead of detected speech")
    group.add_argument(
        "--vad-backend",
        choices=VAD_BACKENDS,
        default=default_of(VADConfig, "backend"),
        help="voice-activity detector (default: %(default)s)",
    )
    group.add_argument(
        "--vad-aggressiveness",
        type=int,
        choices=VAD_AGGRESSIVENESS,
        default=default_of(VADConfig, "aggressiveness"),
        metavar=f"{VAD_AGGRESSIVENESS[0]}-{VAD_AGGRESSIVENESS[-1]}",
        help=f"{VAD_AGGRESSIVENESS[0]} keeps most audio, {VAD_AGGRESSIVENESS[-1]} least (default: %(default)s)",
    )
    group.add_argument(
        "--allow-non-speech",
        action="store_true",
        help="use a recording that does not sound like speech (noise, a tone, music) with a warning, "
        "instead of refusing it",
    )


def audio_configs(args: argparse.Namespace, sample_rate: int | None = None) -> tuple[AudioConfig, VADConfig | None]:
    """Build (AudioConfig, VADConfig | None) from :func:`add_audio_options` arguments.

    ``sample_rate``: the rate to decode at where the command has no ``--sample-rate``.
    """
    rate = getattr(args, "sample_rate", None) or sample_rate or AudioConfig().sample_rate
    audio = AudioConfig(sample_rate=rate, min_speech_seconds=args.min_speech, max_seconds=args.max_seconds)
    vad = None if args.no_vad else VADConfig(backend=args.vad_backend, aggressiveness=args.vad_aggressiveness)
    return audio, vad


def add_device_option(parser: argparse.ArgumentParser) -> None:
    """``--device auto|cpu|cuda``, the same in every command that runs a network."""
    parser.add_argument(
        "--device", choices=DEVICE_CHOICES, default="auto",
        help="auto: a CUDA GPU when there is one, else the CPU (default: %(default)s)",
    )  # fmt: skip


@contextlib.contextmanager
def output_folder(folder: str | Path | None, option: str) -> Iterator[None]:
    """Create and try ``folder`` now, before any slow work (nothing for None); remove it on leaving if unused."""
    if folder is None:
        yield
        return
    with output_dir(folder, option):
        yield


def require_folder(path: str | Path | None, what: str, fix: str) -> None:
    """Refuse an input folder that does not exist, as every command does (a file problem: exit 1)."""
    if path is not None and not Path(path).is_dir():
        raise CheckpointError(f"{what} {path} does not exist; {fix}.")


def setting(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` → (KEY, VALUE) for ``--set`` (the stage checks the key and parses the value; an
    empty VALUE is a setting's empty word, e.g. ``augment=`` for no augmentation)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value.strip()


def settings_of(args: argparse.Namespace) -> dict[str, str]:
    """The ``--set`` pairs as a dict; a key given twice is a ConfigError (which one was meant?)."""
    settings: dict[str, str] = {}
    for key, value in args.settings:
        if key in settings:
            raise ConfigError(f"--set {key}= is given twice ({settings[key]!r} and {value!r}); keep one.")
        settings[key] = value
    return settings


def add_training_options(parser: argparse.ArgumentParser) -> None:
    """The options ``train-encoder`` and ``train`` share: preset, data, run folders, budget, device."""
    parser.add_argument(
        "--preset",
        default=DEFAULT_PRESET,
        metavar="NAME",
        help=f"training recipe: {', '.join(PRESET_NAMES)} (default: %(default)s)",
    )
    parser.add_argument("--data", metavar="DATA_DIR", help="a prepared dataset folder (manifest.json)")
    parser.add_argument("--out", metavar="RUNS_DIR", help="where numbered run folders are created")
    parser.add_argument("--resume", metavar="RUN_DIR", help="continue this run folder exactly where it stopped")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default: %(default)s)")
    parser.add_argument("--minutes", type=positive_float, metavar="M", help="stop (with a snapshot) after M minutes")
    parser.add_argument("--cache", metavar="DIR", help="cache utterance features here between runs")
    add_device_option(parser)
    parser.add_argument(
        "--set", action="append", type=setting, default=[], metavar="KEY=VALUE", dest="settings",
        help="change one setting of the preset's stage for a new run (repeatable; a number, flag or word, nested "
        "ones dotted, none where a setting allows it; e.g. --set r1_gamma=0.1); --dry-run shows the result, "
        "which the run records",
    )  # fmt: skip
    parser.add_argument("--dry-run", action="store_true", help="print the resolved settings and exit")


def check_training_args(args: argparse.Namespace) -> None:
    """Refuse a training command's missing or inconsistent options before any work."""
    if args.dry_run:
        return  # only prints the resolved settings; --data and --out may be left for later
    if args.resume is None and args.data is None:
        raise ConfigError("give --data DATA_DIR (a prepared dataset) or --resume RUN_DIR.")
    if args.resume is None and args.out is None:
        raise ConfigError("give --out RUNS_DIR for a new run (or --resume RUN_DIR to continue one).")
    require_folder(args.resume, "Run folder", "pass the folder printed when the run started")
    if getattr(args, "encoder", None) is not None and not Path(args.encoder).exists():
        raise CheckpointError(
            f"Encoder run or model folder {args.encoder} does not exist; pass the run folder train-encoder printed."
        )
    resolve_device(args.device)  # a missing GPU is a usage error before any work


def runs_folder(args: argparse.Namespace) -> str | None:
    """The folder a new run is created in (checked up front), or None for --dry-run and --resume."""
    return None if args.dry_run or args.resume is not None else args.out


def print_options(options: RunOptions) -> None:
    """Print a run's resolved settings (``--dry-run``) as sorted, indented JSON."""
    print(json.dumps(options.to_dict(), indent=2, sort_keys=True))
