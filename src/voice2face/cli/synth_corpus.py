"""``voice2face synth-corpus``: generate synthvox, the synthetic paired voice–face dataset."""

from __future__ import annotations

import argparse
from pathlib import Path

from voice2face.cli.options import default_of, output_folder, positive_int
from voice2face.config import SynthVoxConfig

NAME = "synth-corpus"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``synth-corpus`` sub-parser; its defaults are :class:`SynthVoxConfig`'s."""
    parser = sub.add_parser(
        NAME,
        help="generate synthvox, a synthetic paired voice–face dataset with known ground truth",
        description="Generate OUT_DIR: synthetic people whose voices (source–filter babble, 16 kHz WAV) and "
        "faces (rendered PNG) depend on shared traits (sex, age, size), with manifest.json (identity-disjoint "
        "train/val/test split in the paper's 924/112/189 proportions, traits, the best achievable matching "
        "scores and chance levels), preview.png and example voices. The same seed gives identical files. "
        "The paper's scale is --identities 1225.",
    )
    parser.add_argument("out_dir", metavar="OUT_DIR", help="folder to create (must be empty or absent)")
    parser.add_argument(
        "--identities", type=positive_int, default=default_of(SynthVoxConfig, "identities"), metavar="N",
        help="people, 3–100000 (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--utterances-per-identity",
        type=positive_int,
        default=default_of(SynthVoxConfig, "utterances_per_identity"),
        metavar="U",
        help="recordings per person, 2–10 s each (default: %(default)s)",
    )
    parser.add_argument(
        "--faces-per-identity",
        type=positive_int,
        default=default_of(SynthVoxConfig, "faces_per_identity"),
        metavar="F",
        help="images per person (default: %(default)s)",
    )
    parser.add_argument(
        "--resolution",
        type=int,
        default=default_of(SynthVoxConfig, "resolution"),
        metavar="R",
        help="face image size in pixels, 32–256 (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=default_of(SynthVoxConfig, "seed"), metavar="S",
        help="random seed (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--workers", type=positive_int, default=None, metavar="W", help="processes (default: the number of CPUs)"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace a non-empty OUT_DIR once the new corpus is done"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Refuse a used OUT_DIR, create its parent, then generate the corpus and print what it holds."""
    from voice2face.data.synthvox.corpus import check_destination

    out = Path(args.out_dir)
    check_destination(out, args.overwrite)
    with output_folder(out.parent, "OUT_DIR"):
        return _synth_corpus(args, out)


def _synth_corpus(args: argparse.Namespace, out: Path) -> int:
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
