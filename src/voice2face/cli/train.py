"""``voice2face train``: stage 2, the face generator, or the voice side of the paper's route."""

from __future__ import annotations

import argparse

from voice2face.cli.options import (
    add_training_options,
    check_training_args,
    output_folder,
    positive_float,
    positive_int,
    print_options,
    runs_folder,
    settings_of,
)
from voice2face.errors import ConfigError
from voice2face.storage import RunFolder

NAME = "train"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``train`` sub-parser."""
    parser = sub.add_parser(
        NAME, help="stage 2: train the face generator on voice embeddings",
        description="Train the conditional face generator (StyleGAN2 by default) on (voice embedding, face) pairs "
                    "with the frozen encoder of --encoder; pretrain an unconditional one on faces alone "
                    "(--preset synthface-64); or, the paper's route on the pretrained --generator: teach the voice "
                    "side of --encoder to predict a label-free embedding of each speaker's faces, so that a "
                    "voice chooses among the generator's own faces (--preset synthvox-pool-64: reads ids, "
                    "recordings, photos and sex only), to predict the traits a reader CNN sees on them "
                    "(--preset synthvox-wplus-64: needs synthvox's trait labels), or to predict the W+ codes "
                    "of the projected faces (--preset synthvox-wplus-edit-64). Writes "
                    "model/, image grids and stats to a run folder.",
    )  # fmt: skip
    add_training_options(parser)
    parser.add_argument("--encoder", metavar="RUN_OR_MODEL_DIR", help="the train-encoder run (or its model/) to use")
    parser.add_argument("--kimg", type=positive_float, help="override the preset's length in thousands of images")
    parser.add_argument(
        "--generator",
        metavar="RUN_OR_MODEL_DIR",
        help="the paper's route: the pretrained unconditional generator (e.g. a synthface-64 run); pretraining "
        "(e.g. --preset synthface-128): a smaller pretrained run to grow from, one block per doubling, or a run "
        "of the same networks to continue under this preset (--preset synthface-128-thaw)",
    )
    parser.add_argument("--steps", type=positive_int, help="the paper's route: override the voice→W+ stage's steps")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Pick the stage (generator or voice→W+ mapper) from the preset or the resumed run, then train it."""
    from voice2face.training.options import stage_of
    from voice2face.training.presets import get_preset

    check_training_args(args)
    mapper_stage = stage_of(args.resume) == "mapper" if args.resume else get_preset(args.preset).mapper is not None
    if mapper_stage and args.kimg is not None:
        raise ConfigError("--kimg applies to generator training; the voice→W+ stage takes --steps.")
    if not mapper_stage and args.steps is not None:
        raise ConfigError(f"--steps applies to the paper's route (e.g. --preset synthvox-pool-64), "
                          f"not to {'this run' if args.resume else repr(args.preset)}.")  # fmt: skip
    if args.dry_run:
        from voice2face.training.options import resolve_options

        print_options(resolve_options(
            "mapper" if mapper_stage else "gan", args.preset, args.data, seed=args.seed, resume=args.resume,
            steps=args.steps, kimg=args.kimg, encoder=args.encoder, generator=args.generator,
            settings=settings_of(args),
        ))  # fmt: skip
        return 0
    from voice2face.training.runner import train_generator, train_mapper

    budget = args.minutes * 60 if args.minutes else None
    with output_folder(runs_folder(args), "--out"):
        if mapper_stage:
            result = train_mapper(
                args.preset, args.data, args.out, generator=args.generator, encoder=args.encoder, steps=args.steps,
                seed=args.seed, resume=args.resume, cache_dir=args.cache, time_budget_s=budget, device=args.device,
                settings=settings_of(args),
            )  # fmt: skip
        else:
            result = train_generator(
                args.preset, args.data, args.out, encoder=args.encoder, generator=args.generator, kimg=args.kimg,
                seed=args.seed, resume=args.resume, cache_dir=args.cache, time_budget_s=budget, device=args.device,
                settings=settings_of(args),
            )  # fmt: skip
    model = RunFolder(result).model.path
    print(f"run:   {result}\nmodel: {model} (voice2face portrait -m {model} VOICE.wav)")
    return 0
