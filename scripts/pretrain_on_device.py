"""Continue a pretraining snapshot for a fixed time on another machine (a lent GPU), and bring the
next snapshot back: issue 31's "take a snapshot in, bring the next one back".

    python scripts/pretrain_on_device.py SNAPSHOT --out OUT --minutes M [--kimg K]
        [--faces "--count 30000 --resolution 64"] [--device cuda] [--work DIR]

SNAPSHOT is a run folder as the repository keeps one (``snapshots/synthface-64``: ``model/`` with its
trainer state, ``training_options.json``, ``stats.jsonl``). It is copied to ``--work`` (the
snapshot itself is never written), the faces it trained on are regenerated where its options name
them when they are absent (``--faces``: the ``voice2face synth-faces`` arguments that made them, as
the snapshot's README gives them; the corpus is the same byte for byte), and ``voice2face train
--resume`` continues it on ``--device`` for ``--minutes`` (``--kimg`` lengthens the run past its
recorded length, and the options record it). What comes back in OUT, flat, is what continues it
exactly: the four files of ``model/``, ``training_options.json``, ``stats.jsonl``, the last image
grid and the last kept generator (``history/``, for the realism curve); copy them over the snapshot's
(``model/`` files into ``model/``) and commit. Training that stops with an error after a newer
snapshot still brings that snapshot back (and exits 1). The last line printed is a JSON record: kimg
before and after, seconds, s/kimg, the device.

On the lent machine (python3 there holds PyTorch with CUDA, numpy, scipy, pillow, safetensors, tqdm,
protobuf and packaging; the project's other needs travel as wheels, fetched here once by
``scripts/device_wheels.sh`` into the git-ignored ``.whl/``, which the device call must name in its
``carry``). A command there runs for at most 10 minutes and is killed, with nothing brought back,
past that: leave room for the faces (about a minute) and the loading.

    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl && \\
    PYTHONPATH=/tmp/site:src python3 scripts/pretrain_on_device.py snapshots/synthface-64 \\
        --out $OUT --minutes 6 --kimg 2000 --faces "--count 30000"

The same command with ``--device cpu`` runs here (the tests do, on a tiny run). The device tool
brings back at most 8 files of 16 MiB each: synthface-64's trainer state is 15.9 MiB, synthface-128's
10.2 MiB (12.6 with a fresh D of channel_base 2048).
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from voice2face.data.manifest import MANIFEST_NAME
from voice2face.errors import ConfigError
from voice2face.storage import ModelFolder, RunFolder, layout

MODEL_FILES = (layout.CONFIG_NAME, layout.weight_file_name("generator"), layout.weight_file_name("discriminator"),
               layout.TRAINER_STATE)  # fmt: skip
RUN_FILES = (layout.OPTIONS_FILE, layout.STATS_FILE)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("snapshot", type=Path, help="a run folder with model/ and training_options.json")
    parser.add_argument("--out", type=Path, required=True, help="where the next snapshot's files land (flat)")
    parser.add_argument("--minutes", type=float, required=True, help="training time, then a snapshot")
    parser.add_argument("--kimg", type=float, default=None, help="lengthen the run to this many kimg")
    parser.add_argument("--faces", default=None, help="voice2face synth-faces arguments that remake the run's faces")
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    parser.add_argument("--work", type=Path, default=Path("/tmp/pretrain-on-device"), help="scratch folder")
    return parser.parse_args(argv)


def fail(message: str) -> int:
    print(f"pretrain_on_device: error: {message}", file=sys.stderr)
    return 2


def kimg_of(model: Path) -> float:
    kimg = ModelFolder(model).snapshot()["kimg"]
    if kimg is None:
        raise ValueError(f"{model} has no trainer state: it is a finished model, not a snapshot to continue")
    return float(kimg)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.minutes <= 0:
        return fail(f"--minutes must be positive, got {args.minutes}.")
    snapshot = RunFolder(args.snapshot)
    missing = [name for name in MODEL_FILES if not (snapshot.model.path / name).is_file()]
    missing += [] if snapshot.options_path.is_file() else [snapshot.options_path.name]
    if missing:
        return fail(f"{args.snapshot} is not a resumable snapshot: {', '.join(missing)} missing; give a run folder "
                    "as the repository keeps one (e.g. snapshots/synthface-64).")  # fmt: skip
    try:
        data = snapshot.read_options().data
    except ConfigError as exc:
        return fail(f"{exc} Take the snapshot again from git.")
    if not data:
        return fail(f"{snapshot.options_path} names no faces; the snapshot is damaged: take it again from git.")
    data = Path(data)
    if not (data / MANIFEST_NAME).is_file():
        if args.faces is None:
            return fail(f"the snapshot's faces ({data}) are not here; pass --faces with the synth-faces arguments "
                        "that made them (its README gives them), e.g. --faces \"--count 30000\".")  # fmt: skip
        remake = [sys.executable, "-m", "voice2face", "synth-faces", str(data), *shlex.split(args.faces), "-q"]
        print("faces:", shlex.join(remake), flush=True)
        if subprocess.run(remake).returncode != 0:
            return fail(f"remaking the faces with --faces {args.faces!r} failed (above).")
    run = args.work / args.snapshot.resolve().name
    if run.resolve() == args.snapshot.resolve() or args.snapshot.resolve() in run.resolve().parents:
        return fail(f"--work {args.work} would put the copy in place of {args.snapshot}; give another folder.")
    if run.exists():
        shutil.rmtree(run)
    copy = RunFolder(run)
    copy.model.path.mkdir(parents=True)
    for name in MODEL_FILES:
        shutil.copy2(snapshot.model.path / name, copy.model.path / name)
    for name in RUN_FILES:
        if (snapshot.path / name).is_file():
            shutil.copy2(snapshot.path / name, copy.path / name)
    try:
        before = kimg_of(copy.model.path)
    except ValueError as exc:
        return fail(str(exc))
    command = [sys.executable, "-m", "voice2face", "train", "--resume", str(run), "--device", args.device,
               "--minutes", str(args.minutes)]  # fmt: skip
    if args.kimg is not None:
        command += ["--kimg", str(args.kimg)]
    print("train:", shlex.join(command), flush=True)
    start = time.monotonic()
    failed = subprocess.run(command).returncode != 0
    seconds = time.monotonic() - start
    after = kimg_of(copy.model.path)
    if failed and after <= before:
        return fail(f"training stopped with an error (above) before a newer snapshot; {args.snapshot} is unchanged "
                    f"and nothing was written to {args.out}.")  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    for name in MODEL_FILES:
        shutil.copy2(copy.model.path / name, args.out / name)
    for name in RUN_FILES:
        shutil.copy2(copy.path / name, args.out / name)
    for last in (sorted(copy.path.glob(layout.FAKES_GRIDS))[-1:], copy.history_generators()[-1:]):
        for path in last:
            shutil.copy2(path, args.out / path.name)
    device = args.device
    if args.device == "cuda":
        import torch

        device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cuda (none found)"
    # Wall time of the train command, loading included: a short run's s/kimg is an upper bound.
    record = {"snapshot": str(args.snapshot), "kimg_before": round(before, 3), "kimg_after": round(after, 3),
              "seconds": round(seconds, 1), "device": device,
              "s_per_kimg": round(seconds / (after - before), 2) if after > before else None}  # fmt: skip
    print(json.dumps(record))
    if failed:
        return fail(f"training stopped with an error (above) after the snapshot at {after:.3f} kimg, which is in "
                    f"{args.out}.")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
