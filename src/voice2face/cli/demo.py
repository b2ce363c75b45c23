"""``voice2face demo``: the method learning on a synthvox corpus it makes, within a time budget."""

from __future__ import annotations

import argparse
from pathlib import Path

from voice2face.cli.options import non_negative_int, output_folder, positive_float, positive_int
from voice2face.config import SynthVoxConfig
from voice2face.errors import OutputError
from voice2face.recipes.routes import DEFAULT_ROUTE, DEMO_MINUTES, ROUTES
from voice2face.storage import RunFolder

NAME = "demo"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``demo`` sub-parser."""
    parser = sub.add_parser(
        NAME, help="the method learning on a synthvox corpus it makes, within a time budget",
        description="Generate a synthvox corpus; train the voice side of the paper's route (a voice encoder from "
                    "nothing, then a voice→W+ mapper on the bundled model's pretrained face generator) or, with "
                    "--route conditional, both stages of the conditional GAN from nothing; evaluate beside the "
                    "reference rows; write an HTML report and portraits of the corpus's example voices.",
    )  # fmt: skip
    parser.add_argument(
        "--out", default="demo", metavar="DIR", help="a new folder for everything (default: %(default)s)"
    )
    corpus = SynthVoxConfig()
    parser.add_argument(
        "--minutes", type=positive_float, default=DEMO_MINUTES, help="time budget (default: %(default)s)"
    )
    parser.add_argument(
        "--identities", type=positive_int, default=corpus.identities, help="corpus size (default: %(default)s)"
    )
    parser.add_argument("--seed", type=non_negative_int, default=corpus.seed, help="(default: %(default)s)")
    parser.add_argument(
        "--route", choices=ROUTES, default=DEFAULT_ROUTE,
        help="wplus: the paper's route, the voice side trained on the bundled model's pretrained generator; "
        "conditional: the conditional GAN of Wen et al.'s protocol trained from nothing (default: %(default)s)",
    )  # fmt: skip
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Refuse a used --out folder, create it, then run the demo and print where everything went."""
    out = Path(args.out)
    if out.is_dir() and any(out.iterdir()):
        raise OutputError(f"Demo folder {out} is not empty; choose a new --out folder or remove it.")
    with output_folder(out, "--out"):
        return _demo(args)


def _demo(args: argparse.Namespace) -> int:
    from voice2face.recipes.demo import run_demo

    result = run_demo(args.out, minutes=args.minutes, identities=args.identities, seed=args.seed, route=args.route)
    print(result.evaluation)
    for note in result.notes:
        print(f"note: {note}")
    print(f"corpus:    {result.corpus}")
    print(f"model:     {RunFolder(result.run).model.path}")
    print(f"report:    {result.report}")
    print(f"portraits: {result.portraits[0].parent if result.portraits else '(none)'} ({len(result.portraits)} images)")
    print("Generated faces are synthetic images, not photographs of anyone.")
    return 0
