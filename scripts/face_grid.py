"""A face grid of a model on a synthvox corpus's test speakers: one row per speaker, their real face
(a photograph of no one: synthvox faces are rendered), then the model's portraits from one of their
recordings. What the README shows of the bundled model.

    .venv/bin/python scripts/face_grid.py CORPUS [-m MODEL_DIR] [-o docs/bundled-grid.png] [--rows 8]

Rows are chosen by sex and age (youngest to oldest, alternating sexes), not by how good the
portraits look; every portrait of a row comes from the same recording with latents 0..N-1 of
``--seed``. The PNG carries the synthetic-image notice.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="a synthvox corpus (e.g. synthvox-200 seed 0)")
    parser.add_argument("-m", "--model", type=Path, default=None, help="model folder (default: the bundled model)")
    parser.add_argument("-o", "--output", type=Path, default=REPO / "docs" / "bundled-grid.png")
    parser.add_argument("--rows", type=int, default=8, help="test speakers, one per row (default 8)")
    parser.add_argument("--samples", type=int, default=4, help="portraits per speaker (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="latent seed (default 0)")
    return parser.parse_args(argv)


def choose_speakers(manifest, rows: int) -> list:
    """``rows`` test speakers spread over age, alternating female and male."""
    test = [i for i in manifest.identities if i.split == "test"]
    by_sex = {sex: sorted((i for i in test if i.attributes.get("sex") == sex), key=lambda i: i.attributes["age"])
              for sex in ("female", "male")}  # fmt: skip
    chosen = []
    for k in range(rows):
        people = by_sex["female" if k % 2 == 0 else "male"]
        if people:
            step = (len(people) - 1) / max(1, (rows + 1) // 2 - 1)
            chosen.append(people[min(len(people) - 1, round((k // 2) * step))])
    return sorted(chosen, key=lambda i: i.attributes["age"])


def main(argv: list[str] | None = None) -> int:
    import numpy as np

    from voice2face.data.datasets import read_faces
    from voice2face.data.manifest import load_manifest
    from voice2face.inference.pipeline import VoiceToFace
    from voice2face.storage.png import save_synthetic_png, synthetic_metadata
    from voice2face.utils.images import real_then_generated_grid, uint8_to_float

    args = parse_args(argv)
    manifest = load_manifest(args.corpus)
    pipe = VoiceToFace.from_pretrained(args.model)
    reals, generated = [], []
    for person in choose_speakers(manifest, args.rows):
        face = next(f for f in manifest.faces if f.identity == person.id)
        utterance = max((u for u in manifest.utterances if u.identity == person.id),
                        key=lambda u: manifest.file(u).stat().st_size)  # fmt: skip
        reals.append(uint8_to_float(read_faces(manifest, [face])))  # [1, 3, R, R]
        embedding = pipe.embed(manifest.file(utterance))
        portraits = pipe.generate_tensors(np.repeat(embedding[None], args.samples, axis=0), seed=args.seed)
        generated.append(portraits)  # [samples, 3, R, R] in [-1, 1]
        sex, age = person.attributes["sex"], person.attributes["age"]
        print(f"row: {person.id} {sex} {age:.0f} y ({manifest.file(utterance).name})")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    meta = synthetic_metadata(model=pipe.name, seed=args.seed, kind="grid: real synthvox face, then portraits")
    save_synthetic_png(real_then_generated_grid(reals, generated, columns=1 + args.samples), args.output, meta)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
