"""Throughput of ``voice2face prepare voxceleb`` with 1 and 2 workers, on a fake VoxCeleb1 + VGGFace tree.

The tree is the tests' (tests/fake_voxceleb.py) made from a synthvox corpus generated here: synthvox
recordings (2–8 s, 16 kHz) and faces upscaled to 192 px JPEGs, plus scikit-image's astronaut photo.
For each worker count it prepares a fresh folder (faces at 64 px, FFHQ-style 256 px copies, log-mel
and MFCC features) and reports utterances/s and faces/s per worker (files per second of a worker's
busy time) and files of both kinds per wall-clock second. The peer, on the same images in the same run: dlib's
own aligner (``dlib.get_face_chip`` on its 5 landmarks, after the same detection), faces/s.

    python benchmarks/bench_prepare.py [--people 24] [--faces 30] [--utterances 8] [--workers 1 2]

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from voice2face.config import SynthVoxConfig
from voice2face.data.manifest import load_manifest
from voice2face.data.prepare import PrepareConfig, prepare_voxceleb
from voice2face.data.synthvox import generate_corpus

from timing import machine

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from fake_voxceleb import build_fake_tree


def dlib_peer(images: list[Path], size: int) -> float:
    """Faces per second of dlib's detector + 5 landmarks + ``get_face_chip`` over ``images``."""
    import dlib
    import face_recognition_models as models

    detector = dlib.get_frontal_face_detector()
    five = dlib.shape_predictor(models.pose_predictor_five_point_model_location())
    start, done = time.perf_counter(), 0
    for path in images:
        with Image.open(path) as picture:
            pixels = np.asarray(picture.convert("RGB"))
        found = detector(pixels, 1)
        if found:
            dlib.get_face_chip(pixels, five(pixels, max(found, key=lambda r: r.area())), size=size)
            done += 1
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=24, help="synthvox people to draw (≥ 12)")
    parser.add_argument("--faces", type=int, default=30, help="faces per person")
    parser.add_argument("--utterances", type=int, default=8, help="recordings per person")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        corpus = SynthVoxConfig(identities=args.people, utterances_per_identity=args.utterances,
                                faces_per_identity=args.faces, max_utterance_seconds=8.0, preview_identities=4,
                                example_voices=1)  # fmt: skip
        generate_corpus(root / "synthvox", corpus, workers=1)
        tree = build_fake_tree(
            root / "tree",
            load_manifest(root / "synthvox"),
            faces_per_person=args.faces,
            utterances_per_person=args.utterances,
        )
        figures: dict[str, object] = {"machine": machine(), "people": len(tree.ids)}
        for workers in args.workers:
            options = PrepareConfig(hq_size=256, workers=workers)
            result = prepare_voxceleb(tree.voxceleb1, tree.faces, tree.meta, root / f"out{workers}", options,
                                      progress=False)  # fmt: skip
            run = json.loads(result.report.read_text())["this_run"]
            figures[f"workers_{workers}"] = {
                "utterances": run["utterances_processed"], "faces": run["faces_processed"],
                "utterances_per_second_per_worker": run["utterances_per_second_per_worker"],
                "faces_per_second_per_worker": run["faces_per_second_per_worker"],
                "files_per_second": run["files_per_second"],
                "wall_seconds": run["wall_seconds"],
            }  # fmt: skip
        unusable = set(tree.corrupt)
        images = sorted(p for p in tree.faces.rglob("*") if p.suffix in (".jpg", ".png") and p not in unusable)
        figures["peer_dlib_get_face_chip_faces_per_second"] = round(dlib_peer(images, 64), 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
