"""``voice2face portrait``: face portraits from voice recordings (synthetic images)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from voice2face.cli.options import (
    add_audio_options,
    add_device_option,
    audio_configs,
    non_negative_float,
    non_negative_int,
    output_folder,
    positive_int,
)
from voice2face.errors import ConfigError
from voice2face.utils.devices import resolve_device

NAME = "portrait"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``portrait`` sub-parser."""
    parser = sub.add_parser(
        NAME, help="generate face portraits from voice recordings (synthetic images)",
        description="For each recording (or every audio file in a folder), keep its speech, compute its voice "
                    "embedding and draw --samples faces from it. Writes NAME_0.png … (or one NAME.png grid with "
                    "--grid) into OUT; each PNG says it is a synthetic image generated from a voice, with the "
                    "model, seed and source file. The same seed gives byte-identical files. A file given twice "
                    "is done once; inputs that would write the same names get their folder (or extension) "
                    "added to them. Recordings are decoded at the rate the model was trained at.",
    )  # fmt: skip
    parser.add_argument("audio", metavar="AUDIO", nargs="+", help="audio files and/or folders of them")
    parser.add_argument(
        "-r", "--recursive", action="store_true", help="also take the audio files in the folders' sub-folders"
    )
    parser.add_argument(
        "-m", "--model", metavar="MODEL_DIR", help="a model folder or a run folder (default: the bundled model)"
    )
    parser.add_argument(
        "-o", "--output", metavar="OUT", default="portraits", help="folder for the PNGs (default: %(default)s)"
    )
    parser.add_argument(
        "--samples", type=positive_int, default=4, metavar="N", help="faces per recording (default: %(default)s)"
    )
    parser.add_argument("--seed", type=non_negative_int, default=0, metavar="S", help="(default: %(default)s)")
    parser.add_argument(
        "--truncation", type=non_negative_float, default=1.0, metavar="PSI",
        help="0–1; lower gives more typical, less varied faces (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument("--grid", action="store_true", help="one grid image per recording instead of N files")
    parser.add_argument(
        "--size", type=positive_int, metavar="PX",
        help="write the portraits resampled to PX px (Lanczos) instead of at the model's native resolution (128 px "
        "for the bundled model, 256 or 1024 px for an imported one; each PNG's metadata names it); resampling "
        "adds pixels, not detail",
    )  # fmt: skip
    parser.add_argument(
        "--thumbnail", type=positive_int, metavar="PX",
        help="also write a copy downscaled to PX px beside each (NAME_0.PXpx.png); portraits are drawn at the "
        "model's resolution (128 px for the bundled model, 256 or 1024 px for an imported one)",
    )  # fmt: skip
    add_device_option(parser)
    parser.add_argument(
        "-q", "--quiet", action="store_true",
        help="no progress (a bar on a terminal, otherwise one line per finished recording on stderr)",
    )  # fmt: skip
    add_audio_options(parser, sample_rate=False)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check the options and the device, create OUT, then write the portraits."""
    if not 0.0 <= args.truncation <= 1.0:
        raise ConfigError(f"--truncation must be between 0 and 1 (1 = none), got {args.truncation:g}.")
    device = resolve_device(args.device)
    with output_folder(args.output, "-o"):
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
        as_grid=args.grid, recursive=args.recursive, thumbnail=args.thumbnail, resize=args.size,
        progress=not args.quiet, on_error=report,
    )  # fmt: skip
    for path in result.written:
        print(path)
    if len(result.failed) + result.recordings > 1:
        print(
            f"{result.recordings} recording(s) → {len(result.written)} image(s) in {args.output}; "
            f"{len(result.failed)} failed"
        )
    return 1 if result.failed else 0
