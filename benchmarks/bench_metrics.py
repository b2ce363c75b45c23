"""Evaluation speed: FID Inception forward, Fréchet distance at 2048-d, identity metrics for 1000 voices.

Prints one JSON line: Inception images/s at --batch (ours vs pytorch-fid's network with the
same random weights; the published weights cannot be downloaded here and do not change speed),
seconds for one 2048-d Fréchet distance (ours with scipy's sqrtm, ours with the eigh path,
pytorch-fid's calculate_frechet_distance), and seconds for the full identity record (1:2
matching with 10000 pairs and its same-sex stratum, recall@1/2/5/10 over 3 folds, cosine) of
1000 generated faces against 5 real faces for each of 250 identities, 128-d embeddings.

    python benchmarks/bench_metrics.py [--batch 32] [--repeats 2] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

from voice2face.config import IdentityMetricsConfig
from voice2face.metrics.fid import FIDInceptionV3, feature_statistics, frechet_distance
from voice2face.metrics.identity import identity

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from peers import import_peer  # the tests' torchvision shim, for the peer only
from timing import machine, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    skipped: dict[str, str] = {}
    results: dict[str, dict[str, float]] = {"inception_images_per_second": {}, "frechet_2048_seconds": {}}

    ours = FIDInceptionV3()
    images = torch.rand(args.batch, 3, 64, 64, generator=torch.Generator().manual_seed(0))  # [0, 1]
    with torch.inference_mode():
        seconds = timed(lambda: ours(images * 2 - 1), args.repeats)
    results["inception_images_per_second"]["voice2face"] = args.batch / seconds
    inception_module, why = import_peer("pytorch_fid.inception")
    if inception_module is None:
        skipped["pytorch_fid"] = why
    else:
        state = {k: v.clone() for k, v in ours.state_dict().items()}
        inception_module.load_state_dict_from_url = lambda *a, **k: state  # no download: same random weights
        theirs = inception_module.InceptionV3([3]).eval()
        with torch.inference_mode():
            seconds = timed(lambda: theirs(images), args.repeats)
        results["inception_images_per_second"]["pytorch_fid"] = args.batch / seconds

    rng = np.random.default_rng(0)
    mu1, sigma1 = feature_statistics(rng.standard_normal((3000, 2048)))
    mu2, sigma2 = feature_statistics(rng.standard_normal((3000, 2048)) * 1.1 + 0.05)
    fd = results["frechet_2048_seconds"]
    # Seconds-long LAPACK calls gain nothing from a warm-up; skipping it halves the benchmark's time.
    fd["voice2face_sqrtm"] = timed(lambda: frechet_distance(mu1, sigma1, mu2, sigma2), args.repeats, warm_up=False)
    fd["voice2face_eigh"] = timed(
        lambda: frechet_distance(mu1, sigma1, mu2, sigma2, method="eigh"), args.repeats, warm_up=False
    )
    agreement = abs(
        frechet_distance(mu1, sigma1, mu2, sigma2) - frechet_distance(mu1, sigma1, mu2, sigma2, method="eigh")
    )
    score_module, why = import_peer("pytorch_fid.fid_score")
    if score_module is None:
        skipped["pytorch_fid_score"] = why
    else:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # pytorch-fid passes scipy's deprecated disp=
            fd["pytorch_fid"] = timed(
                lambda: score_module.calculate_frechet_distance(mu1, sigma1, mu2, sigma2), args.repeats, warm_up=False
            )

    identities, faces_per_identity, voices = 250, 5, 1000
    centres = rng.standard_normal((identities, 128))
    real = np.repeat(centres, faces_per_identity, axis=0) + 0.5 * rng.standard_normal((identities * 5, 128))
    real_ids = np.repeat(np.arange(identities), faces_per_identity)
    voice_ids = rng.integers(identities, size=voices)
    generated = centres[voice_ids] + 4.0 * rng.standard_normal((voices, 128))  # a weak generator
    sex = {i: i % 2 for i in range(identities)}
    record: dict[str, float] = {}

    def identity_record() -> None:
        record.update(
            identity(
                generated=generated,
                generated_ids=voice_ids,
                real=real,
                real_ids=real_ids,
                embedder="bench",
                identity_sex=sex,
                config=IdentityMetricsConfig(),
            )
        )

    identity_seconds = timed(identity_record, args.repeats)

    inception = results["inception_images_per_second"]
    print(
        json.dumps(
            {
                "benchmark": "metrics",
                "threads": args.threads,
                "inception_batch": args.batch,
                "inception_images_per_second": {k: round(v, 2) for k, v in inception.items()},
                "inception_speed_vs_pytorch_fid": round(inception["voice2face"] / inception["pytorch_fid"], 2)
                if "pytorch_fid" in inception
                else None,
                "frechet_2048_seconds": {k: round(v, 3) for k, v in fd.items()},
                "frechet_eigh_minus_sqrtm": agreement,
                "identity_1000_voices_seconds": round(identity_seconds, 3),
                "identity_example": {k: round(v, 3) for k, v in record.items() if isinstance(v, float)},
                "skipped": skipped,
                "machine": machine(),
            }
        )
    )


if __name__ == "__main__":
    main()
