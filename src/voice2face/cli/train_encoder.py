"""``voice2face train-encoder``: stage 1, the voice encoder trained as a speaker classifier."""

from __future__ import annotations

import argparse

from voice2face.cli.options import (
    add_training_options,
    check_training_args,
    output_folder,
    positive_int,
    print_options,
    runs_folder,
    settings_of,
)
from voice2face.storage import RunFolder

NAME = "train-encoder"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``train-encoder`` sub-parser."""
    parser = sub.add_parser(
        NAME, help="stage 1: train the voice encoder as a speaker classifier",
        description="Train the SE-ResNet18 voice encoder on the train split's speakers (random crops, SGD with "
                    "cosine cycles). Writes a numbered run folder with model/, stats.jsonl and TensorBoard events.",
    )  # fmt: skip
    add_training_options(parser)
    parser.add_argument("--steps", type=positive_int, help="override the preset's number of steps")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check the options, create the runs folder, then train (or print the settings with --dry-run)."""
    check_training_args(args)
    if args.dry_run:
        from voice2face.training.options import resolve_options

        options = resolve_options("encoder", args.preset, args.data, steps=args.steps, seed=args.seed,
                                  resume=args.resume, settings=settings_of(args))  # fmt: skip
        print_options(options)
        return 0
    from voice2face.training.runner import train_encoder

    with output_folder(runs_folder(args), "--out"):
        result = train_encoder(
            args.preset, args.data, args.out, steps=args.steps, seed=args.seed, resume=args.resume,
            cache_dir=args.cache, time_budget_s=args.minutes * 60 if args.minutes else None, device=args.device,
            settings=settings_of(args),
        )  # fmt: skip
    print(f"encoder run: {result}\nmodel:       {RunFolder(result).model.path}")
    return 0
