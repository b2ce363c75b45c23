"""The `voice2face` console script: parse and validate, then call a library function.

Errors raised on purpose (:class:`~voice2face.errors.Voice2FaceError`) are printed as one
line without a traceback and give a non-zero exit code; argparse's usage errors exit 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from voice2face import __version__
from voice2face.config import DEFAULT_EVALUATION_METRICS, EVALUATION_METRICS, REFERENCE_ROWS
from voice2face.errors import ConfigError, Voice2FaceError

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


def add_audio_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that reads recordings."""
    group = parser.add_argument_group("audio")
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


def audio_configs(args: argparse.Namespace):
    """Build (AudioConfig, VADConfig | None) from :func:`add_audio_options` arguments."""
    from voice2face.config import AudioConfig, VADConfig

    audio = AudioConfig(sample_rate=args.sample_rate, min_speech_seconds=args.min_speech, max_seconds=args.max_seconds)
    vad = None if args.no_vad else VADConfig(backend=args.vad_backend, aggressiveness=args.vad_aggressiveness)
    return audio, vad


def _cmd_features(args: argparse.Namespace) -> int:
    import numpy as np

    from voice2face.audio.features import mfcc
    from voice2face.audio.pipeline import load_speech, speech_features
    from voice2face.config import FeatureConfig, LogMelConfig, MFCCConfig
    from voice2face.utils.files import atomic_open

    out = Path(args.output) if args.output else None
    if out is not None:
        if out.suffix != ".npy":
            raise ConfigError(f"Output {out} must end in .npy (numpy's format); e.g. -o features.npy.")
        if not out.parent.is_dir():
            raise ConfigError(f"Output folder {out.parent} does not exist; create it or choose another -o path.")
    audio, vad = audio_configs(args)
    config = FeatureConfig(
        kind=args.kind,
        mfcc=MFCCConfig(sample_rate=audio.sample_rate),
        logmel=LogMelConfig(sample_rate=audio.sample_rate),
    )
    speech = load_speech(args.audio, audio, vad)
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
    from voice2face.config import SynthVoxConfig
    from voice2face.data.synthvox.corpus import check_destination, default_workers, generate_corpus

    out = Path(args.out_dir)
    check_destination(out, args.overwrite)
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
    from voice2face.data.synthvox.corpus import check_destination, default_workers
    from voice2face.data.synthvox.faces import generate_face_corpus

    out = Path(args.out_dir)
    check_destination(out, args.overwrite)
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
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="(default: %(default)s)")
    parser.add_argument("--dry-run", action="store_true", help="print the resolved settings and exit")


def _check_training_args(args: argparse.Namespace) -> None:
    if args.dry_run:
        return  # only prints the resolved settings; --data and --out may be left for later
    if args.resume is None and args.data is None:
        raise ConfigError("give --data DATA_DIR (a prepared dataset) or --resume RUN_DIR.")
    if args.resume is None and args.out is None:
        raise ConfigError("give --out RUNS_DIR for a new run (or --resume RUN_DIR to continue one).")


def _print_options(options: dict) -> None:
    import json

    print(json.dumps(options, indent=2, sort_keys=True))


def _cmd_train_encoder(args: argparse.Namespace) -> int:
    from voice2face.training.runner import train_encoder

    _check_training_args(args)
    result = train_encoder(
        args.preset, args.data, args.out, steps=args.steps, seed=args.seed, resume=args.resume, cache_dir=args.cache,
        time_budget_s=args.minutes * 60 if args.minutes else None, device=args.device, dry_run=args.dry_run,
    )  # fmt: skip
    if args.dry_run:
        _print_options(result)
    else:
        print(f"encoder run: {result}\nmodel:       {result / 'model'}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from voice2face.training.runner import train_generator

    _check_training_args(args)
    result = train_generator(
        args.preset, args.data, args.out, encoder=args.encoder, kimg=args.kimg, seed=args.seed, resume=args.resume,
        cache_dir=args.cache, time_budget_s=args.minutes * 60 if args.minutes else None, device=args.device,
        dry_run=args.dry_run,
    )  # fmt: skip
    if args.dry_run:
        _print_options(result)
    else:
        print(f"run:   {result}\nmodel: {result / 'model'} (voice2face portrait -m {result / 'model'} VOICE.wav)")
    return 0


def _cmd_portrait(args: argparse.Namespace) -> int:
    from voice2face.inference.pipeline import VoiceToFace
    from voice2face.inference.portrait import write_portraits

    if not 0.0 <= args.truncation <= 1.0:
        raise ConfigError(f"--truncation must be between 0 and 1 (1 = none), got {args.truncation:g}.")
    audio, vad = audio_configs(args)
    pipe = VoiceToFace.from_pretrained(args.model, device=args.device, audio=audio, vad=vad)
    if args.sample_rate != pipe.audio.sample_rate:
        log.warning("decoding at %d Hz, the rate model %s was trained at", pipe.audio.sample_rate, pipe.name)

    def report(path: Path, message: str) -> None:
        print(f"voice2face: error: {message}", file=sys.stderr)

    result = write_portraits(
        pipe, args.audio, args.output, num_samples=args.samples, seed=args.seed, truncation_psi=args.truncation,
        as_grid=args.grid, progress=not args.quiet, on_error=report,
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
    import dataclasses

    from voice2face.config import EvaluationConfig
    from voice2face.evaluation import evaluate_model, format_table, summary_json
    from voice2face.utils.files import atomic_write_text

    json_out = Path(args.json) if args.json else None
    if json_out is not None and not json_out.parent.is_dir():
        raise ConfigError(f"--json {json_out}: the folder {json_out.parent} does not exist; create it first.")
    config = EvaluationConfig(
        metrics=args.metrics, split=args.split, samples_per_voice=args.samples_per_voice, seed=args.seed,
        batch_size=args.batch_size, embedder=args.embedder, references=args.references,
    )  # fmt: skip
    config = dataclasses.replace(config, ppl=dataclasses.replace(config.ppl, num_samples=args.ppl_samples))
    summary = evaluate_model(
        args.model, args.data, config=config, inception_weights=args.inception_weights, cache_dir=args.cache,
        device=args.device, progress=not args.quiet,
    )  # fmt: skip
    print(format_table(summary))
    if json_out is not None:
        atomic_write_text(json_out, summary_json(summary))
        print(f"summary: {json_out}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from voice2face.report import build_report

    out = build_report(args.runs, args.output, title=args.title, curves=not args.no_curves)
    print(f"report: {out}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from voice2face.demo import run_demo

    result = run_demo(args.out, minutes=args.minutes, identities=args.identities, seed=args.seed)
    print(result.evaluation)
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
                    "with the frozen encoder of --encoder. Writes model/, image grids and stats to a run folder.",
    )  # fmt: skip
    _add_training_options(train)
    train.add_argument("--encoder", metavar="RUN_OR_MODEL_DIR", help="the train-encoder run (or its model/) to use")
    train.add_argument("--kimg", type=_positive_float, help="override the preset's length in thousands of images")
    train.set_defaults(handler=_cmd_train)

    portrait = sub.add_parser(
        "portrait", help="generate face portraits from voice recordings (synthetic images)",
        description="For each recording (or every audio file in a folder), keep its speech, compute its voice "
                    "embedding and draw --samples faces from it. Writes NAME_0.png … (or one NAME.png grid with "
                    "--grid) into OUT; each PNG says it is a synthetic image generated from a voice, with the "
                    "model, seed and source file. The same seed gives byte-identical files.",
    )  # fmt: skip
    portrait.add_argument("audio", metavar="AUDIO", nargs="+", help="audio files and/or folders of them")
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
    portrait.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda (default: %(default)s)")
    portrait.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_audio_options(portrait)
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
    evaluate.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="(default: %(default)s)")
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
        "demo", help="the whole pipeline from nothing on synthvox, within a time budget",
        description="Generate a synthvox corpus, train both stages (synthvox-quick), evaluate against the corpus "
                    "ceiling and chance, write an HTML report and portraits of the example voices.",
    )  # fmt: skip
    demo.add_argument("--out", default="demo", metavar="DIR", help="a new folder for everything (default: %(default)s)")
    demo.add_argument("--minutes", type=_positive_float, default=10.0, help="time budget (default: %(default)s)")
    demo.add_argument("--identities", type=_positive_int, default=200, help="corpus size (default: %(default)s)")
    demo.add_argument("--seed", type=_non_negative_int, default=0, help="(default: %(default)s)")
    demo.set_defaults(handler=_cmd_demo)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=(logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)],
        format="voice2face: %(levelname)s: %(message)s",
    )
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
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
