"""``voice2face features``: a recording's paper MFCC or 64-band log-mel features."""

from __future__ import annotations

import argparse
from pathlib import Path

from voice2face.cli.options import add_audio_options, audio_configs, default_of, output_folder
from voice2face.config import FEATURE_KINDS, FeatureConfig
from voice2face.errors import ConfigError

NAME = "features"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``features`` sub-parser."""
    parser = sub.add_parser(
        NAME,
        help="compute paper MFCC or 64-band log-mel features of a recording",
        description="Decode AUDIO, keep its speech (VAD) and compute features; "
        "prints the shape and a summary, optionally saves a .npy.",
    )
    parser.add_argument("audio", metavar="AUDIO", help="a WAV/FLAC/OGG file (mp3/m4a with ffmpeg installed)")
    parser.add_argument(
        "--kind",
        choices=FEATURE_KINDS,
        default=default_of(FeatureConfig, "kind"),
        help="mfcc: [T, 39] MFCC+Δ+ΔΔ (paper); logmel: [64, T] normalised log-mel (default: %(default)s)",
    )
    parser.add_argument("-o", "--output", metavar="OUT.npy", help="save the features here")
    add_audio_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check the output name, create its folder, then compute and print (and save) the features."""
    out = Path(args.output) if args.output else None
    if out is not None and out.suffix != ".npy":
        raise ConfigError(f"Output {out} must end in .npy (numpy's format); e.g. -o features.npy.")
    with output_folder(out.parent if out is not None else None, "-o"):
        return _features(args, out)


def _features(args: argparse.Namespace, out: Path | None) -> int:
    import numpy as np

    from voice2face.audio.features import mfcc
    from voice2face.audio.pipeline import load_speech, speech_features
    from voice2face.audio.speechlike import check_speech_like
    from voice2face.config import LogMelConfig, MFCCConfig
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
