"""``voice2face evaluate``: score a model on a dataset split beside real, blurred and oracle reference rows."""

from __future__ import annotations

import argparse
from pathlib import Path

from voice2face.cli.options import add_device_option, default_of, non_negative_int, output_folder, positive_int
from voice2face.config import REFERENCE_ROWS, SPLITS, EvaluationConfig
from voice2face.utils.devices import resolve_device

NAME = "evaluate"


def metric_list(text: str) -> tuple[str, ...]:
    """An argparse type: a comma-separated list of names (``--metrics``), at least one."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise argparse.ArgumentTypeError("expected a comma-separated list of metric names")
    return names


def reference_list(text: str) -> tuple[str, ...]:
    """An argparse type: a comma-separated list of reference rows (``--references``), or 'none'."""
    return () if text.strip() == "none" else metric_list(text)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` sub-parser; its defaults and choices are :class:`EvaluationConfig`'s."""
    metrics = default_of(EvaluationConfig, "metrics")
    parser = sub.add_parser(
        NAME, help="score a model on a dataset split beside real, blurred and oracle reference rows",
        description="Embed every utterance of the split with the model's voice encoder, generate faces from "
                    "fixed latents, and score them, and by the same instruments the reference rows (the speakers' "
                    "own real faces, the same blurred by 1.2 and 2 px, and on synthvox faces re-rendered from what "
                    "the voice reveals or of a random person of the speaker's sex): realism (two-sample test, "
                    "sharpness, Fréchet distance in trait features), the face traits read by a network trained on "
                    "sharp real faces, identity matching, FD, FID/KID (only with Inception weights) and path length; "
                    "optionally LPIPS diversity (only with VGG16 weights). "
                    "Prints the table, appends the model's records to RUN_DIR/metrics.jsonl, and with --json writes "
                    "the summary.",
    )  # fmt: skip
    parser.add_argument(
        "model", metavar="MODEL", nargs="?", default=None,
        help="a `voice2face train` run folder, its model/, or a model folder (default: the bundled model)",
    )  # fmt: skip
    parser.add_argument("--data", required=True, metavar="DATA_DIR", help="a prepared dataset folder (manifest.json)")
    parser.add_argument(
        "--metrics", type=metric_list, default=metrics, metavar="LIST",
        help=f"comma-separated registered metrics (default: {','.join(metrics)}; also attributes, and lpips "
             "with --vgg16-weights); an unknown name is refused with the list",
    )  # fmt: skip
    parser.add_argument(
        "--references", type=reference_list, default=default_of(EvaluationConfig, "references"), metavar="LIST",
        help=f"reference rows scored beside the model, from {', '.join(REFERENCE_ROWS)}; 'none' for none "
             "(default: all; the oracles exist on synthvox only)",
    )  # fmt: skip
    parser.add_argument("--json", metavar="OUT.json", help="also write the summary (model and references) as JSON")
    parser.add_argument(
        "--split", choices=SPLITS, default=default_of(EvaluationConfig, "split"), help="(default: %(default)s)"
    )
    parser.add_argument(
        "--samples-per-voice", type=positive_int, default=default_of(EvaluationConfig, "samples_per_voice"),
        metavar="N", help="faces per utterance (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=non_negative_int, default=default_of(EvaluationConfig, "seed"),
        help="latents' seed (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--embedder", default=default_of(EvaluationConfig, "embedder"), metavar="NAME",
        help="face embedder: auto (synthvox data: its own face CNN; else dlib), dlib, synthvox "
             "(default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--inception-weights", metavar="PATH",
        help="FID Inception weights (pt_inception-2015-12-05-6726825d.pth; else $VOICE2FACE_INCEPTION_WEIGHTS); "
             "without them FID and KID are recorded as skipped",
    )  # fmt: skip
    parser.add_argument(
        "--vgg16-weights", metavar="PATH",
        help="VGG16 ImageNet weights for --metrics ...,lpips (torchvision's vgg16-397923af.pth; else "
             "$VOICE2FACE_VGG16_WEIGHTS); without them lpips is recorded as skipped",
    )  # fmt: skip
    parser.add_argument(
        "--lpips-weights", metavar="PATH",
        help="LPIPS v0.1 lin weights (vgg.pth; else $VOICE2FACE_LPIPS_WEIGHTS, else the copy in an installed "
             "lpips package)",
    )  # fmt: skip
    parser.add_argument(
        "--ppl-samples", type=positive_int, default=default_of(EvaluationConfig, "ppl").num_samples, metavar="N",
        help="path-length pairs (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--batch-size", type=positive_int, default=default_of(EvaluationConfig, "batch_size"), metavar="B",
        help="(default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--cache", metavar="DIR", help="cache for face networks and statistics (default: DATA_DIR/.cache)"
    )
    parser.add_argument(
        "--retrain-instruments", action="store_true",
        help="train every instrument missing from the cache, even one the package ships for this corpus (the "
        "default corpus's trait read-out: same key, same network)",
    )  # fmt: skip
    add_device_option(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check the device, create the --json folder, then evaluate and print the table."""
    json_out = Path(args.json) if args.json else None
    device = resolve_device(args.device)
    with output_folder(json_out.parent if json_out is not None else None, "--json"):
        return _evaluate(args, json_out, device)


def _evaluate(args: argparse.Namespace, json_out: Path | None, device: str) -> int:
    import dataclasses

    from voice2face.evaluation import evaluate_model, format_table, summary_json
    from voice2face.utils.files import atomic_write_text

    config = EvaluationConfig(
        metrics=args.metrics, split=args.split, samples_per_voice=args.samples_per_voice, seed=args.seed,
        batch_size=args.batch_size, embedder=args.embedder, references=args.references,
    )  # fmt: skip
    config = dataclasses.replace(config, ppl=dataclasses.replace(config.ppl, num_samples=args.ppl_samples))
    summary = evaluate_model(
        args.model, args.data, config=config, inception_weights=args.inception_weights,
        vgg16_weights=args.vgg16_weights, lpips_weights=args.lpips_weights, cache_dir=args.cache, device=device,
        progress=not args.quiet, shipped_instruments=not args.retrain_instruments,
    )  # fmt: skip
    print(format_table(summary))
    if json_out is not None:
        atomic_write_text(json_out, summary_json(summary))
        print(f"summary: {json_out}")
    return 0
