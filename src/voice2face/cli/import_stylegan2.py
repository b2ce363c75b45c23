"""``voice2face import-stylegan2``: an official StyleGAN2 checkpoint → a model folder, nothing in it run."""

from __future__ import annotations

import argparse
from pathlib import Path

from voice2face.cli.options import output_folder
from voice2face.errors import CheckpointError, OutputError

NAME = "import-stylegan2"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``import-stylegan2`` sub-parser."""
    parser = sub.add_parser(
        NAME, help="import an official StyleGAN2 checkpoint (NVIDIA .pkl or rosinality .pt) as a model folder",
        description="Read the EMA generator (and with --discriminator the discriminator) of an official StyleGAN2 "
                    "checkpoint and write MODEL_DIR: config.json, generator.safetensors and provenance.json. Reads "
                    "NVIDIA network pickles (stylegan2-ada-pytorch; stylegan3's stylegan2-*.pkl) without running "
                    "the Python code they embed: only tensors, containers and the networks' records are read, and "
                    "a file that asks for anything else is refused, naming what it asked for. Reads rosinality "
                    "stylegan2-pytorch .pt files with PyTorch's weights-only loader. StyleGAN3's alias-free "
                    "networks and TensorFlow pickles are refused. w_avg and the constant noise buffers come along, "
                    "so truncation and noise_mode='const' give the official images.",
    )  # fmt: skip
    parser.add_argument("source", metavar="SRC", help="the checkpoint file (.pkl or .pt)")
    parser.add_argument("-o", "--output", metavar="MODEL_DIR", required=True, help="the model folder to write")
    parser.add_argument("--discriminator", action="store_true", help="also import the discriminator (D)")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing MODEL_DIR once the import is done"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Refuse a missing SRC or a used MODEL_DIR, create its parent, then import."""
    source, out = Path(args.source), Path(args.output)
    if not source.is_file():
        what = "is not a file" if source.exists() else "does not exist"
        raise CheckpointError(f"Checkpoint {source} {what}; give the .pkl or .pt file to import.")
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not args.overwrite:
        raise OutputError(f"Model folder {out} already exists; choose another -o folder or pass --overwrite.")
    with output_folder(out.parent, "-o"):
        from voice2face.models.pretrained import import_stylegan2

        imported = import_stylegan2(source, out, discriminator=args.discriminator)
    generator = imported.modules["generator"]
    params = sum(p.numel() for p in generator.parameters())
    print(f"import-stylegan2: {source} ({imported.provenance['imported_from']['format']}) → {out}: generator "
          f"{generator.img_resolution} px, W+ {generator.num_ws}×{generator.w_dim}, {params:,} parameters"
          + (", with its discriminator" if "discriminator" in imported.modules else ""))  # fmt: skip
    return 0
