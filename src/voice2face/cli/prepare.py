"""``voice2face prepare voxceleb``: VoxCeleb1 voices ∩ VGGFace faces → a prepared dataset (the paper's data)."""

from __future__ import annotations

import argparse
from pathlib import Path

from voice2face.cli.options import default_of, non_negative_int, output_folder, positive_int
from voice2face.config import AUDIO_FILE_MODES, PrepareConfig

NAME = "prepare"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``prepare`` sub-parser and its ``voxceleb`` source."""
    parser = sub.add_parser(
        NAME,
        help="prepare real paired data (VoxCeleb1 voices ∩ VGGFace faces) for training and evaluation",
        description="Turn datasets you hold on disk into a prepared dataset folder (manifest.json, aligned faces, "
        "stored speech features), resumably and in parallel.",
    )
    sources = parser.add_subparsers(dest="source", metavar="SOURCE", required=True)
    vox = sources.add_parser(
        "voxceleb",
        help="VoxCeleb1 ∩ VGGFace/VGGFace2, matched by name, split by first letter as Wen et al.",
        description="Match VoxCeleb1's speakers with face folders by name (case, spaces/underscores and accents "
        "ignored), split them as Wen et al. (names A–E: validation and test; F–Z: train), keep the speech of each "
        "recording and store its features, and crop every face on a 5-point template. Rerun the same command to "
        "resume after an interruption; unusable files are skipped and listed in DATA_DIR/prepare_report.json.",
    )
    vox.add_argument("--voxceleb1", required=True, metavar="DIR", help="VoxCeleb1: the folder holding wav/idXXXXX/...")
    vox.add_argument(
        "--faces",
        required=True,
        metavar="DIR",
        help="faces: one folder per person's name (VGGFace), or VGGFace2's nXXXXXX folders with --faces-meta",
    )
    vox.add_argument("--meta", required=True, metavar="CSV", help="VoxCeleb1's vox1_meta.csv (id, name, gender, ...)")
    vox.add_argument("--faces-meta", metavar="CSV", help="VGGFace2's identity_meta.csv (class id → name)")
    vox.add_argument(
        "--split-json",
        metavar="JSON",
        help="SF2F / HQ-VoxCeleb protocol: its split.json's vox1 name lists replace the first-letter split",
    )
    vox.add_argument(
        "-o", "--output", required=True, metavar="DATA_DIR", help="the dataset folder to write (or resume)"
    )
    vox.add_argument(
        "--workers",
        type=positive_int,
        default=default_of(PrepareConfig, "workers"),
        metavar="N",
        help="processes (default: %(default)s)",
    )
    vox.add_argument(
        "--face-size",
        type=positive_int,
        default=default_of(PrepareConfig, "face_size"),
        metavar="PX",
        help="aligned crops, the paper's protocol (default: %(default)s)",
    )
    vox.add_argument(
        "--hq-size",
        type=positive_int,
        default=None,
        metavar="PX",
        help="also write FFHQ-style crops of this size, for the high-resolution route (e.g. 256)",
    )
    vox.add_argument(
        "--features",
        default=",".join(default_of(PrepareConfig, "features")),
        metavar="KINDS",
        help="speech features to store: logmel, mfcc, both (comma-separated) or none (default: %(default)s)",
    )
    vox.add_argument(
        "--audio-files",
        choices=AUDIO_FILE_MODES,
        default=default_of(PrepareConfig, "audio_files"),
        help="how recordings enter DATA_DIR (default: %(default)s; the originals stay the source of truth)",
    )
    vox.add_argument(
        "--upsample",
        type=non_negative_int,
        default=default_of(PrepareConfig, "upsample"),
        metavar="K",
        help="face detector upsampling: 1 finds faces down to ~40 px, 0 is 4× faster (default: %(default)s)",
    )
    vox.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    vox.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check the options and the output's parent, then prepare."""
    from voice2face.data.prepare import prepare_voxceleb

    kinds = tuple(k.strip() for k in args.features.split(",") if k.strip() and k.strip() != "none")
    options = PrepareConfig(
        face_size=args.face_size,
        hq_size=args.hq_size,
        features=kinds,
        audio_files=args.audio_files,
        upsample=args.upsample,
        workers=args.workers,
    )
    out = Path(args.output)
    with output_folder(out.parent, "-o"):
        result = prepare_voxceleb(
            args.voxceleb1,
            args.faces,
            args.meta,
            out,
            options,
            faces_meta=args.faces_meta,
            split_json=args.split_json,
            progress=not args.quiet,
        )
    c = result.counts
    print(
        f"prepared:  {c['identities']} people (train/val/test {c['splits']['train']}/{c['splits']['val']}/"
        f"{c['splits']['test']}), {c['utterances']} recordings, {c['faces']} faces → {result.manifest}"
    )
    print(
        f"report:    {result.report} ({c['skipped_files']} files skipped, {c['voices_only']} speakers without "
        f"faces, {c['faces_only']} face folders without voices)"
    )
    return 0
