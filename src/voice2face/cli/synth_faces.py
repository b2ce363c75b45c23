"""``voice2face synth-faces``: an unpaired synthvox face corpus (faces only) for pretraining a generator."""

from __future__ import annotations

import argparse
from pathlib import Path

from voice2face.cli.options import non_negative_int, output_folder, positive_int
from voice2face.config import FACE_CORPUS_SEED

NAME = "synth-faces"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``synth-faces`` sub-parser."""
    parser = sub.add_parser(
        NAME,
        help="generate an unpaired synthvox face corpus (faces only) for pretraining a generator",
        description="Generate OUT_DIR: COUNT synthvox people drawn from the paired corpus's population, one rendered "
        "face each, no voices: the stand-in for FFHQ in the paper's route (voice2face train --preset synthface-64). "
        "Keep --seed different from the paired corpus's, so no paired test face is among them.",
    )
    parser.add_argument("out_dir", metavar="OUT_DIR", help="folder to create (must be empty or absent)")
    parser.add_argument("--count", type=positive_int, default=20000, metavar="N", help="faces (default: %(default)s)")
    parser.add_argument(
        "--resolution", type=positive_int, default=64, metavar="R", help="pixels, 32–1024 (default: %(default)s)"
    )
    parser.add_argument(
        "--seed", type=non_negative_int, default=FACE_CORPUS_SEED, metavar="S",
        help="random seed (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--workers", type=positive_int, default=None, metavar="W", help="processes (default: the number of CPUs)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty OUT_DIR once the new one is done")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Refuse a used OUT_DIR, create its parent, then render the faces."""
    from voice2face.data.synthvox.corpus import check_destination

    out = Path(args.out_dir)
    check_destination(out, args.overwrite)
    with output_folder(out.parent, "OUT_DIR"):
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
