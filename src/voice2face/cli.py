"""The `voice2face` console script: parse and validate, then call a library function.

Errors raised on purpose (:class:`~voice2face.errors.Voice2FaceError`) are printed as one
line without a traceback. Exit codes mean the same in every command:

- 0: done;
- 1: a file problem: an input that is missing, unreadable or unusable (a recording, dataset,
  model or run folder), or an output that cannot be created or written or would replace
  something (see ``--overwrite``); ``portrait`` also when any one recording failed;
- 2: a usage problem: an option that is missing, out of range or inconsistent (argparse's
  usage errors too), or a ``--device`` this machine does not have;
- 130: interrupted (Ctrl-C); 141: the reader of the output went away.

Output locations are created and tried before any slow work, so a bad ``-o`` fails at once; a
folder made for a command that then wrote nothing is removed again. Log lines read as
sentences: ``voice2face: warning: ...``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from voice2face import __version__
from voice2face.config import DEFAULT_EVALUATION_METRICS, EVALUATION_METRICS, REFERENCE_ROWS
from voice2face.errors import CheckpointError, ConfigError, OutputError, Voice2FaceError
from voice2face.utils.devices import DEVICE_CHOICES, resolve_device
from voice2face.utils.files import output_dir

log = logging.getLogger("voice2face")


def _number(kind: type, minimum: float, *, strict: bool, expected: str):
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


_positive_float = _number(float, 0, strict=True, expected="a positive number")
_non_negative_float = _number(float, 0, strict=False, expected="a number >= 0")
_positive_int = _number(int, 1, strict=False, expected="a whole number >= 1")
_non_negative_int = _number(int, 0, strict=False, expected="a number >= 0")


def add_audio_options(parser: argparse.ArgumentParser, *, sample_rate: bool = True) -> None:
    """Options shared by every command that reads recordings.

    ``sample_rate``: offer ``--sample-rate``; a command whose model fixes the rate leaves it out.
    """
    group = parser.add_argument_group("audio")
    if sample_rate:
        group.add_argument(
            "--sample-rate", type=int, default=16000, metavar="HZ", help="decode at this rate (default: %(default)s)"
        )
    group.add_argument(
        "--min-speech",
        type=_non_negative_float,
        default=0.5,
        metavar="S",
        help="refuse recordings with less speech than this, in seconds (default: %(default)s)",
    )
    group.add_argument(
        "--max-seconds",
        type=_positive_float,
        default=600.0,
        metavar="S",
        help="refuse recordings longer than this, in seconds (default: %(default)s)",
    )
    group.add_argument("--no-vad", action="store_true", help="keep the whole recording instead of detected speech")
    group.add_argument(
        "--vad-backend",
        choices=("auto", "webrtc", "energy"),
        default="auto",
        help="voice-activity detector (default: %(default)s)",
    )
    group.add_argument(
        "--vad-aggressiveness",
        type=int,
        choices=range(4),
        default=2,
        metavar="0-3",
        help="0 keeps most audio, 3 least (default: %(default)s)",
    )
    group.add_argument(
        "--allow-non-speech",
        action="store_true",
        help="use a recording that does not sound like speech (noise, a tone, music) with a warning, "
        "instead of refusing it",
    )


def audio_configs(args: argparse.Namespace, sample_rate: int | None = None):
    """Build (AudioConfig, VADConfig | None) from :func:`add_audio_options` arguments.

    ``sample_rate``: the rate to decode at where the command has no ``--sample-rate``.
    """
    from voice2face.config import AudioConfig, VADConfig

    rate = getattr(args, "sample_rate", None) or sample_rate or AudioConfig().sample_rate
    audio = AudioConfig(sample_rate=rate, min_speech_seconds=args.min_speech, max_seconds=args.max_seconds)
    vad = None if args.no_vad else VADConfig(backend=args.vad_backend, aggressiveness=args.vad_aggressiveness)
    return audio, vad


def _add_device_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device", choices=DEVICE_CHOICES, default="auto",
        help="auto: a CUDA GPU when there is one, else the CPU (default: %(default)s)",
    )  # fmt: skip


@contextlib.contextmanager
def _output_folder(folder: str | Path | None, option: str) -> Iterator[None]:
    """Create and try ``folder`` now, before any slow work (nothing for None); remove it on leaving if unused."""
    if folder is None:
        yield
        return
    with output_dir(folder, option):
        yield


def _require_folder(path: str | Path | None, what: str, fix: str) -> None:
    """Refuse an input folder that does not exist, as every command does (a file problem: exit 1)."""
    if path is not None and not Path(path).is_dir():
        raise CheckpointError(f"{what} {path} does not exist; {fix}.")


def _cmd_features(args: argparse.Namespace) -> int:
    out = Path(args.output) if args.output else None
    if out is not None and out.suffix != ".npy":
        raise ConfigError(f"Output {out} must end in .npy (numpy's format); e.g. -o features.npy.")
    with _output_folder(out.parent if out is not None else None, "-o"):
        return _features(args, out)


def _features(args: argparse.Namespace, out: Path | None) -> int:
    import numpy as np

    from voice2face.audio.features import mfcc
    from voice2face.audio.pipeline import load_speech, speech_features
    from voice2face.audio.speechlike import check_speech_like
    from voice2face.config import FeatureConfig, LogMelConfig, MFCCConfig
    from voice2face.utils.files import atomic_open

    audio, vad = audio_configs(args)
    config = FeatureConfig(
        kind=args.kind,
        mfcc=MFCCConfig(sample_rate=audio.sample_rate),
        logmel=LogMelConfig(sample_rate=audio.sample_rate),
    )
    speech = load_speech(args.audio, audio, vad)
    check_speech_like(speech.speech, speech.sample_rate, speech.source, allow=args.allow_non_speech)
    if args.kind == "mfcc":
        features = mfcc(speech.speech, config.mfcc)  # [T, 3C]
        layout = f"[T={features.shape[0]}, {features.shape[1]}] (frames × MFCC+Δ+ΔΔ)"
    else:
        features = speech_features(speech, config)  # [M, T]
        layout = f"[{features.shape[0]}, T={features.shape[1]}] (mel bands × frames)"
    print(f"file:      {args.audio}")
    print(
        f"audio:     {speech.duration_seconds:.2f} s at {speech.sample_rate} Hz; "
        f"speech kept {speech.speech_seconds:.2f} s in {len(speech.segments)} segment(s) (VAD: {speech.vad_backend})"
    )
    print(f"features:  {args.kind} {layout}, {config.frames_per_second:g} frames/s")
    print(
        f"values:    mean {features.mean():.3f}, std {features.std():.3f}, "
        f"min {features.min():.3f}, max {features.max():.3f}"
    )
    if out is not None:
        with atomic_open(out, "wb") as handle:
            np.save(handle, features)
        print(f"wrote:     {out}")
    return 0


def _cmd_synth_corpus(args: argparse.Namespace) -> int:
    from voice2face.data.synthvox.corpus import check_destination

    out = Path(args.out_dir)
    check_destination(out, args.overwrite)
    with _output_folder(out.parent, "OUT_DIR"):
        return _synth_corpus(args, out)


def _synth_corpus(args: argparse.Namespace, out: Path) -> int:
    from voice2face.config import SynthVoxConfig
    from voice2face.data.synthvox.corpus import default_workers, generate_corpus

    config = SynthVoxConfig(
        identities=args.identities,
        utterances_per_identity=args.utterances_per_identity,
        faces_per_identity=args.faces_per_identity,
        resolution=args.resolution,
        seed=args.seed,
    )
    workers = args.workers or default_workers()
    print(
        f"synthvox: {config.identities} identities × ({config.utterances_per_identity} voices, "
        f"{config.faces_per_identity} faces at {config.resolution}px), seed {config.seed}, {workers} worker(s) → {out}"
    )
    manifest = generate_corpus(out, config, workers=workers, overwrite=args.overwrite, progress=not args.quiet)
    hours = sum(u.seconds for u in manifest.utterances) / 3600.0
    splits = manifest.splits
    print(f"wrote:     {manifest.path}")
    print(
        f"contents:  {len(manifest.utterances)} recordings ({hours:.2f} h), {len(manifest.faces)} face images; "
        f"identities train/val/test {splits['train']}/{splits['val']}/{splits['test']}"
    )
    if manifest.ceiling is not None:
        ceiling, chance = manifest.ceiling, manifest.chance or {}
        print(
            "ceiling:   test 1:2 matching {:.3f} (chance {:.3f}); recall@1/5/10 {:.3f}/{:.3f}/{:.3f} "
            "(chance {:.3f}/{:.3f}/{:.3f})".format(
                ceiling["matching_1v2"],
                chance["matching_1v2"],
                *(ceiling[f"recall_at_{k}"] for k in (1, 5, 10)),
                *(chance[f"recall_at_{k}"] for k in (1, 5, 10)),
            )
        )
    if config.preview_identities:
        print(f"preview:   {out / 'preview.png'}; example voices in {out / 'examples'}")
    return 0


def _cmd_synth_faces(args: argparse.Namespace) -> int:
    from voice2face.data.synthvox.corpus import check_destination

    out = Path(args.out_dir)
    check_destination(out, args.overwrite)
    with _output_folder(out.parent, "OUT_DIR"):
        return _synth_faces(args, out)


def _synth_faces(args: argparse.Namespace, out: Path) -> int:
    from voice2face.data.synthvox.corpus import default_workers
    from voice2face.data.synthvox.faces import generate_face_corpus

    workers = args.workers or default_workers()
    print(f"synth-faces: {args.count} people, one face each at {args.resolution}px, seed {args.seed}, "
          f"{workers} worker(s) → {out}")  # fmt: skip
    manifest = generate_face_corpus(
        out, count=args.count, resolution=args.resolution, seed=args.seed, workers=workers, overwrite=args.overwrite,
        progress=not args.quiet,
    )  # fmt: skip
    print(f"wrote:     {manifest.path} ({len(manifest.faces)} faces, no voices); preview: {out / 'preview.png'}")
    return 0


def _add_training_options(parser: argparse.ArgumentParser) -> None:
    from voice2face.training.presets import PRESETS

    parser.add_argument(
        "--preset",
        default="synthvox-quick",
        metavar="NAME",
        help=f"training recipe: {', '.join(PRESETS)} (default: %(default)s)",
    )
    parser.add_argument("--data", metavar="DATA_DIR", help="a prepared dataset folder (manifest.json)")
    parser.add_argument("--out", metavar="RUNS_DIR", help="where numbered run folders are created")
    parser.add_argument("--resume", metavar="RUN_DIR", help="continue this run folder exactly where it stopped")
    parser.add_argument("--seed", type=_non_negative_int, default=0, help="random seed (default: %(default)s)")
    parser.add_argument("--minutes", type=_positive_float, metavar="M", help="stop (with a snapshot) after M minutes")
    parser.add_argument("--cache", metavar="DIR", help="cache utterance features here between runs")
    _add_device_option(parser)
    parser.add_argument("--dry-run", action="store_true", help="print the resolved settings and exit")


def _check_training_args(args: argparse.Namespace) -> None:
    if args.dry_run:
        return  # only prints the resolved settings; --data and --out may be left for later
    if args.resume is None and args.data is None:
        raise ConfigError("give --data DATA_DIR (a prepared dataset) or --resume RUN_DIR.")
    if args.resume is None and args.out is None:
        raise ConfigError("give --out RUNS_DIR for a new run (or --resume RUN_DIR to continue one).")
    _require_folder(args.resume, "Run folder", "pass the folder printed when the run started")
    if getattr(args, "encoder", None) is not None and not Path(args.encoder).exists():
        raise CheckpointError(
            f"Encoder run or model folder {args.encoder} does not exist; pass the run folder train-encoder printed."
        )
    resolve_device(args.device)  # a missing GPU is a usage error before any work


def _runs_folder(args: argparse.Namespace) -> str | None:
    """The folder a new run is created in (checked up front), or None for --dry-run and --resume."""
    return None if args.dry_run or args.resume is not None else args.out


def _print_options(options: dict) -> None:
    import json

    print(json.dumps(options, indent=2, sort_keys=True))


def _cmd_train_encoder(args: argparse.Namespace) -> int:
    from voice2face.training.runner import train_encoder

    _check_training_args(args)
    with _output_folder(_runs_folder(args), "--out"):
        result = train_encoder(
            args.preset, args.data, args.out, steps=args.steps, seed=args.seed, resume=args.resume,
            cache_dir=args.cache, time_budget_s=args.minutes * 60 if args.minutes else None, device=args.device,
            dry_run=args.dry_run,
        )  # fmt: skip
    if args.dry_run:
        _print_options(result)
    else:
        print(f"encoder run: {result}\nmodel:       {result / 'model'}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from voice2face.training.presets import get_preset
    from voice2face.training.runner import run_stage, train_generator, train_mapper

    _check_training_args(args)
    mapper_stage = run_stage(args.resume) == "mapper" if args.resume else get_preset(args.preset).mapper is not None
    if mapper_stage and args.kimg is not None:
        raise ConfigError("--kimg applies to generator training; the voice→W+ stage takes --steps.")
    if not mapper_stage and (args.steps is not None or args.generator is not None):
        raise ConfigError(f"--steps and --generator apply to the paper's route (e.g. --preset synthvox-wplus-64), "
                          f"not to {'this run' if args.resume else repr(args.preset)}.")  # fmt: skip
    budget = args.minutes * 60 if args.minutes else None
    with _output_folder(_runs_folder(args), "--out"):
        if mapper_stage:
            result = train_mapper(
                args.preset, args.data, args.out, generator=args.generator, encoder=args.encoder, steps=args.steps,
                seed=args.seed, resume=args.resume, cache_dir=args.cache, time_budget_s=budget, device=args.device,
                dry_run=args.dry_run,
            )  # fmt: skip
        else:
            result = train_generator(
                args.preset, args.data, args.out, encoder=args.encoder, kimg=args.kimg, seed=args.seed,
                resume=args.resume, cache_dir=args.cache, time_budget_s=budget, device=args.device,
                dry_run=args.dry_run,
            )  # fmt: skip
    if args.dry_run:
        _print_options(result)
    else:
        print(f"run:   {result}\nmodel: {result / 'model'} (voice2face portrait -m {result / 'model'} VOICE.wav)")
    return 0


def _cmd_portrait(args: argparse.Namespace) -> int:
    if not 0.0 <= args.truncation <= 1.0:
        raise ConfigError(f"--truncation must be between 0 and 1 (1 = none), got {args.truncation:g}.")
    device = resolve_device(args.device)
    with _output_folder(args.output, "-o"):
        return _portrait(args, device)


def _portrait(args: argparse.Namespace, device: str) -> int:
    from voice2face.config import InferenceConfig
    from voice2face.inference.pipeline import VoiceToFace
    from voice2face.inference.portrait import write_portraits

    audio, vad = audio_configs(args)  # decoded at the model's own rate: VoiceToFace sets it
    inference = InferenceConfig(allow_non_speech=args.allow_non_speech)
    pipe = VoiceToFace.from_pretrained(args.model, device=device, audio=audio, vad=vad, inference=inference)

    def report(path: Path, message: str) -> None:
        print(f"voice2face: error: {message}", file=sys.stderr)

    result = write_portraits(
        pipe, args.audio, args.output, num_samples=args.samples, seed=args.seed, truncation_psi=args.truncation,
        as_grid=args.grid, recursive=args.recursive, progress=not args.quiet, on_error=report,
    )  # fmt: skip
    for path in result.written:
        print(path)
    if len(result.failed) + result.recordings > 1:
        print(
            f"{result.recordings} recording(s) → {len(result.written)} image(s) in {args.output}; "
            f"{len(result.failed)} failed"
        )
    return 1 if result.failed else 0


def _metric_list(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise argparse.ArgumentTypeError("expected a comma-separated list of metric names")
    return names


def _reference_list(text: str) -> tuple[str, ...]:
    return () if text.strip() == "none" else _metric_list(text)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    json_out = Path(args.json) if args.json else None
    device = resolve_device(args.device)
    with _output_folder(json_out.parent if json_out is not None else None, "--json"):
        return _evaluate(args, json_out, device)


def _evaluate(args: argparse.Namespace, json_out: Path | None, device: str) -> int:
    import dataclasses

    from voice2face.config import EvaluationConfig
    from voice2face.evaluation import evaluate_model, format_table, summary_json
    from voice2face.utils.files import atomic_write_text

    config = EvaluationConfig(
        metrics=args.metrics, split=args.split, samples_per_voice=args.samples_per_voice, seed=args.seed,
        batch_size=args.batch_size, embedder=args.embedder, references=args.references,
    )  # fmt: skip
    config = dataclasses.replace(config, ppl=dataclasses.replace(config.ppl, num_samples=args.ppl_samples))
    summary = evaluate_model(
        args.model, args.data, config=config, inception_weights=args.inception_weights, cache_dir=args.cache,
        device=device, progress=not args.quiet,
    )  # fmt: skip
    print(format_table(summary))
    if json_out is not None:
        atomic_write_text(json_out, summary_json(summary))
        print(f"summary: {json_out}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from voice2face.report import build_report

    for run in args.runs:
        _require_folder(run, "Run folder", "pass folders made by voice2face train or evaluate")
    with _output_folder(Path(args.output).parent, "-o"):
        out = build_report(args.runs, args.output, title=args.title, curves=not args.no_curves)
    print(f"report: {out}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.is_dir() and any(out.iterdir()):
        raise OutputError(f"Demo folder {out} is not empty; choose a new --out folder or remove it.")
    with _output_folder(out, "--out"):
        return _demo(args)


def _demo(args: argparse.Namespace) -> int:
    from voice2face.demo import run_demo

    result = run_demo(args.out, minutes=args.minutes, identities=args.identities, seed=args.seed, route=args.route)
    print(result.evaluation)
    for note in result.notes:
        print(f"note: {note}")
    print(f"corpus:    {result.corpus}")
    print(f"model:     {result.run / 'model'}")
    print(f"report:    {result.report}")
    print(f"portraits: {result.portraits[0].parent if result.portraits else '(none)'} ({len(result.portraits)} images)")
    print("Generated faces are synthetic images, not photographs of anyone.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(
        prog="voice2face",
        description="Generate a face portrait from a voice recording (synthetic images, not photographs).",
    )
    parser.add_argument("--version", action="version", version=f"voice2face {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    features = sub.add_parser(
        "features",
        help="compute paper MFCC or 64-band log-mel features of a recording",
        description="Decode AUDIO, keep its speech (VAD) and compute features; "
        "prints the shape and a summary, optionally saves a .npy.",
    )
    features.add_argument("audio", metavar="AUDIO", help="a WAV/FLAC/OGG file (mp3/m4a with ffmpeg installed)")
    features.add_argument(
        "--kind",
        choices=("mfcc", "logmel"),
        default="mfcc",
        help="mfcc: [T, 39] MFCC+Δ+ΔΔ (paper); logmel: [64, T] normalised log-mel (default: %(default)s)",
    )
    features.add_argument("-o", "--output", metavar="OUT.npy", help="save the features here")
    add_audio_options(features)
    features.set_defaults(handler=_cmd_features)

    synth = sub.add_parser(
        "synth-corpus",
        help="generate synthvox, a synthetic paired voice–face dataset with known ground truth",
        description="Generate OUT_DIR: synthetic people whose voices (source–filter babble, 16 kHz WAV) and "
        "faces (rendered PNG) depend on shared traits (sex, age, size), with manifest.json (identity-disjoint "
        "train/val/test split in the paper's 924/112/189 proportions, traits, the best achievable matching "
        "scores and chance levels), preview.png and example voices. The same seed gives identical files. "
        "The paper's scale is --identities 1225.",
    )
    synth.add_argument("out_dir", metavar="OUT_DIR", help="folder to create (must be empty or absent)")
    synth.add_argument(
        "--identities", type=_positive_int, default=200, metavar="N", help="people, 3–100000 (default: %(default)s)"
    )
    synth.add_argument(
        "--utterances-per-identity",
        type=_positive_int,
        default=8,
        metavar="U",
        help="recordings per person, 2–10 s each (default: %(default)s)",
    )
    synth.add_argument(
        "--faces-per-identity",
        type=_positive_int,
        default=6,
        metavar="F",
        help="images per person (default: %(default)s)",
    )
    synth.add_argument(
        "--resolution",
        type=int,
        default=64,
        metavar="R",
        help="face image size in pixels, 32–256 (default: %(default)s)",
    )
    synth.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default: %(default)s)")
    synth.add_argument(
        "--workers", type=_positive_int, default=None, metavar="W", help="processes (default: the number of CPUs)"
    )
    synth.add_argument(
        "--overwrite", action="store_true", help="replace a non-empty OUT_DIR once the new corpus is done"
    )
    synth.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    synth.set_defaults(handler=_cmd_synth_corpus)

    from voice2face.data.synthvox.faces import DEFAULT_SEED as FACES_SEED

    faces = sub.add_parser(
        "synth-faces",
        help="generate an unpaired synthvox face corpus (faces only) for pretraining a generator",
        description="Generate OUT_DIR: COUNT synthvox people drawn from the paired corpus's population, one rendered "
        "face each, no voices: the stand-in for FFHQ in the paper's route (voice2face train --preset synthface-64). "
        "Keep --seed different from the paired corpus's, so no paired test face is among them.",
    )
    faces.add_argument("out_dir", metavar="OUT_DIR", help="folder to create (must be empty or absent)")
    faces.add_argument("--count", type=_positive_int, default=20000, metavar="N", help="faces (default: %(default)s)")
    faces.add_argument(
        "--resolution", type=_positive_int, default=64, metavar="R", help="pixels, 32–1024 (default: %(default)s)"
    )
    faces.add_argument(
        "--seed", type=_non_negative_int, default=FACES_SEED, metavar="S", help="random seed (default: %(default)s)"
    )
    faces.add_argument(
        "--workers", type=_positive_int, default=None, metavar="W", help="processes (default: the number of CPUs)"
    )
    faces.add_argument("--overwrite", action="store_true", help="replace a non-empty OUT_DIR once the new one is done")
    faces.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    faces.set_defaults(handler=_cmd_synth_faces)

    train_encoder = sub.add_parser(
        "train-encoder", help="stage 1: train the voice encoder as a speaker classifier",
        description="Train the SE-ResNet18 voice encoder on the train split's speakers (random crops, SGD with "
                    "cosine cycles). Writes a numbered run folder with model/, stats.jsonl and TensorBoard events.",
    )  # fmt: skip
    _add_training_options(train_encoder)
    train_encoder.add_argument("--steps", type=_positive_int, help="override the preset's number of steps")
    train_encoder.set_defaults(handler=_cmd_train_encoder)

    train = sub.add_parser(
        "train", help="stage 2: train the face generator on voice embeddings",
        description="Train the conditional face generator (StyleGAN2 by default) on (voice embedding, face) pairs "
                    "with the frozen encoder of --encoder; pretrain an unconditional one on faces alone "
                    "(--preset synthface-64); or, the paper's route on the pretrained --generator: teach the voice "
                    "side of --encoder to predict the traits a reader CNN sees on each speaker's faces, so that "
                    "a voice selects among the generator's own faces (--preset synthvox-wplus-64), or to "
                    "predict the W+ codes of the projected faces (--preset synthvox-wplus-edit-64). Writes "
                    "model/, image grids and stats to a run folder.",
    )  # fmt: skip
    _add_training_options(train)
    train.add_argument("--encoder", metavar="RUN_OR_MODEL_DIR", help="the train-encoder run (or its model/) to use")
    train.add_argument("--kimg", type=_positive_float, help="override the preset's length in thousands of images")
    train.add_argument(
        "--generator",
        metavar="RUN_OR_MODEL_DIR",
        help="the paper's route: the pretrained unconditional generator (e.g. a synthface-64 run)",
    )
    train.add_argument("--steps", type=_positive_int, help="the paper's route: override the voice→W+ stage's steps")
    train.set_defaults(handler=_cmd_train)

    portrait = sub.add_parser(
        "portrait", help="generate face portraits from voice recordings (synthetic images)",
        description="For each recording (or every audio file in a folder), keep its speech, compute its voice "
                    "embedding and draw --samples faces from it. Writes NAME_0.png … (or one NAME.png grid with "
                    "--grid) into OUT; each PNG says it is a synthetic image generated from a voice, with the "
                    "model, seed and source file. The same seed gives byte-identical files. A file given twice "
                    "is done once; inputs that would write the same names get their folder (or extension) "
                    "added to them. Recordings are decoded at the rate the model was trained at.",
    )  # fmt: skip
    portrait.add_argument("audio", metavar="AUDIO", nargs="+", help="audio files and/or folders of them")
    portrait.add_argument(
        "-r", "--recursive", action="store_true", help="also take the audio files in the folders' sub-folders"
    )
    portrait.add_argument(
        "-m", "--model", metavar="MODEL_DIR", help="a model folder or a run folder (default: the bundled model)"
    )
    portrait.add_argument(
        "-o", "--output", metavar="OUT", default="portraits", help="folder for the PNGs (default: %(default)s)"
    )
    portrait.add_argument(
        "--samples", type=_positive_int, default=4, metavar="N", help="faces per recording (default: %(default)s)"
    )
    portrait.add_argument("--seed", type=_non_negative_int, default=0, metavar="S", help="(default: %(default)s)")
    portrait.add_argument(
        "--truncation", type=_non_negative_float, default=1.0, metavar="PSI",
        help="0–1; lower gives more typical, less varied faces (default: %(default)s)",
    )  # fmt: skip
    portrait.add_argument("--grid", action="store_true", help="one grid image per recording instead of N files")
    _add_device_option(portrait)
    portrait.add_argument(
        "-q", "--quiet", action="store_true",
        help="no progress (a bar on a terminal, otherwise one line per finished recording on stderr)",
    )  # fmt: skip
    add_audio_options(portrait, sample_rate=False)
    portrait.set_defaults(handler=_cmd_portrait)

    evaluate = sub.add_parser(
        "evaluate", help="score a model on a dataset split beside real, blurred and oracle reference rows",
        description="Embed every utterance of the split with the model's voice encoder, generate faces from "
                    "fixed latents, and score them, and by the same instruments the reference rows (the speakers' "
                    "own real faces, the same blurred by 1.2 and 2 px, and on synthvox faces re-rendered from what "
                    "the voice reveals or of a random person of the speaker's sex): realism (two-sample test, "
                    "sharpness, Fréchet distance in trait features), the face traits read by a network trained on "
                    "sharp real faces, identity matching, FD, FID/KID (only with Inception weights) and path length. "
                    "Prints the table, appends the model's records to RUN_DIR/metrics.jsonl, and with --json writes "
                    "the summary.",
    )  # fmt: skip
    evaluate.add_argument(
        "model", metavar="MODEL", nargs="?", default=None,
        help="a `voice2face train` run folder, its model/, or a model folder (default: the bundled model)",
    )  # fmt: skip
    evaluate.add_argument("--data", required=True, metavar="DATA_DIR", help="a prepared dataset folder (manifest.json)")
    evaluate.add_argument(
        "--metrics", type=_metric_list, default=DEFAULT_EVALUATION_METRICS, metavar="LIST",
        help=f"comma-separated, from {', '.join(EVALUATION_METRICS)} "
             f"(default: {','.join(DEFAULT_EVALUATION_METRICS)})",
    )  # fmt: skip
    evaluate.add_argument(
        "--references", type=_reference_list, default=REFERENCE_ROWS, metavar="LIST",
        help=f"reference rows scored beside the model, from {', '.join(REFERENCE_ROWS)}; 'none' for none "
             "(default: all; the oracles exist on synthvox only)",
    )  # fmt: skip
    evaluate.add_argument("--json", metavar="OUT.json", help="also write the summary (model and references) as JSON")
    evaluate.add_argument("--split", choices=("train", "val", "test"), default="test", help="(default: %(default)s)")
    evaluate.add_argument(
        "--samples-per-voice", type=_positive_int, default=1, metavar="N", help="faces per utterance (default: 1)"
    )
    evaluate.add_argument("--seed", type=_non_negative_int, default=0, help="latents' seed (default: %(default)s)")
    evaluate.add_argument(
        "--embedder", default="auto", metavar="NAME",
        help="face embedder: auto (synthvox data: its own face CNN; else dlib), dlib, synthvox (default: auto)",
    )  # fmt: skip
    evaluate.add_argument(
        "--inception-weights", metavar="PATH",
        help="FID Inception weights (pt_inception-2015-12-05-6726825d.pth; else $VOICE2FACE_INCEPTION_WEIGHTS); "
             "without them FID and KID are recorded as skipped",
    )  # fmt: skip
    evaluate.add_argument(
        "--ppl-samples", type=_positive_int, default=2000, metavar="N", help="path-length pairs (default: 2000)"
    )
    evaluate.add_argument("--batch-size", type=_positive_int, default=32, metavar="B", help="(default: %(default)s)")
    evaluate.add_argument(
        "--cache", metavar="DIR", help="cache for face networks and statistics (default: DATA_DIR/.cache)"
    )
    _add_device_option(evaluate)
    evaluate.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    evaluate.set_defaults(handler=_cmd_evaluate)

    report = sub.add_parser(
        "report", help="write one self-contained HTML report of run folders (tables, curves, face grids)",
        description="Build a single HTML file (images embedded, no external links) with each run's metrics beside "
                    "ceiling and chance, loss and metric curves against kimg, the latest generated faces, and, for "
                    "several runs, comparison tables like the paper's Tables 2 and 3.",
    )  # fmt: skip
    report.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run folders (after voice2face evaluate)")
    report.add_argument("-o", "--output", default="report.html", metavar="OUT.html", help="(default: %(default)s)")
    report.add_argument("--title", default="voice2face report", help="the page's title (default: %(default)s)")
    report.add_argument("--no-curves", action="store_true", help="leave out the curves (no matplotlib needed)")
    report.set_defaults(handler=_cmd_report)
    demo = sub.add_parser(
        "demo", help="the method learning on a synthvox corpus it makes, within a time budget",
        description="Generate a synthvox corpus; train the voice side of the paper's route (a voice encoder from "
                    "nothing, then a voice→W+ mapper on the bundled model's pretrained face generator) or, with "
                    "--route conditional, both stages of the conditional GAN from nothing; evaluate beside the "
                    "reference rows; write an HTML report and portraits of the corpus's example voices.",
    )  # fmt: skip
    demo.add_argument("--out", default="demo", metavar="DIR", help="a new folder for everything (default: %(default)s)")
    demo.add_argument("--minutes", type=_positive_float, default=10.0, help="time budget (default: %(default)s)")
    demo.add_argument("--identities", type=_positive_int, default=200, help="corpus size (default: %(default)s)")
    demo.add_argument("--seed", type=_non_negative_int, default=0, help="(default: %(default)s)")
    demo.add_argument(
        "--route", choices=("wplus", "conditional"), default="wplus",
        help="wplus: the paper's route, the voice side trained on the bundled model's pretrained generator; "
        "conditional: the conditional GAN of Wen et al.'s protocol trained from nothing (default: %(default)s)",
    )  # fmt: skip
    demo.set_defaults(handler=_cmd_demo)

    for command in sub.choices.values():  # -v after the command too: `voice2face portrait -v ...`
        command.add_argument(
            "-v", "--verbose", action="count", default=0, dest="command_verbose",
            help="more log output (-vv for debug)",
        )  # fmt: skip
    return parser


class SentenceFormatter(logging.Formatter):
    """Log lines as the CLI's errors read: ``voice2face: warning: A sentence.``

    The level is in lower case; a message starting with a lower-case word gets a capital and
    one without closing punctuation a full stop, whoever wrote it.
    """

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage().strip()
        first = message.split(maxsplit=1)[0].rstrip(".,;:!?") if message else ""
        if first.isalpha() and first.islower():
            message = message[0].upper() + message[1:]
        if message and message[-1] not in ".!?":
            message += "."
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        return f"voice2face: {record.levelname.lower()}: {message}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = logging.StreamHandler()
    handler.setFormatter(SentenceFormatter())
    verbose = args.verbose + getattr(args, "command_verbose", 0)
    logging.basicConfig(level=(logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)], handlers=[handler])
    if not getattr(args, "handler", None):
        parser.print_help()  # asked for nothing: the help is the answer
        return 0
    try:
        code = int(args.handler(args) or 0)
        sys.stdout.flush()  # a closed pipe shows up here, not at interpreter exit
    except Voice2FaceError as exc:
        print(f"voice2face: error: {exc}", file=sys.stderr)
        code = exc.exit_code
    except KeyboardInterrupt as exc:
        print(f"voice2face: {exc or 'interrupted'}", file=sys.stderr)
        code = 130
    except BrokenPipeError:
        # The reader went away (`voice2face ... | head`): stop quietly, as other tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 141
    if "torch.distributed" in sys.modules and args.command in ("train", "train-encoder"):
        from voice2face.training.distributed import exit_process

        return exit_process(code)
    return code
