"""``voice2face report``: one self-contained HTML report of run folders."""

from __future__ import annotations

import argparse
from pathlib import Path

from voice2face.cli.options import output_folder, require_folder

NAME = "report"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``report`` sub-parser."""
    parser = sub.add_parser(
        NAME, help="write one self-contained HTML report of run folders (tables, curves, face grids)",
        description="Build a single HTML file (images embedded, no external links) with each run's metrics beside "
                    "ceiling and chance, loss and metric curves against kimg, the latest generated faces, and, for "
                    "several runs, comparison tables like the paper's Tables 2 and 3.",
    )  # fmt: skip
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run folders (after voice2face evaluate)")
    parser.add_argument("-o", "--output", default="report.html", metavar="OUT.html", help="(default: %(default)s)")
    parser.add_argument("--title", default="voice2face report", help="the page's title (default: %(default)s)")
    parser.add_argument("--no-curves", action="store_true", help="leave out the curves (no matplotlib needed)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Refuse missing run folders, create the output's folder, then write the report."""
    from voice2face.report import build_report

    for run_dir in args.runs:
        require_folder(run_dir, "Run folder", "pass folders made by voice2face train or evaluate")
    with output_folder(Path(args.output).parent, "-o"):
        out = build_report(args.runs, args.output, title=args.title, curves=not args.no_curves)
    print(f"report: {out}")
    return 0
