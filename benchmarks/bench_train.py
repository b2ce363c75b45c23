"""Stage-2 training speed, and (with --quality) what 10 CPU minutes of synthvox-quick achieve.

Speed: images/s of a full stage-2 step (Gmain, Dmain, and the lazy R1/path-length phases
amortised over their intervals) at 64 px on random data, for the synthvox-quick networks (and,
with --full, the paper's full-width networks: minutes per step on CPU), plus s/kimg.

Quality (--quality): generate a synthvox corpus, train stage 1 and stage 2 with the
synthvox-quick preset (both stages within --minutes: stage 2 gets what stage 1 left), then ask
a sex classifier trained on the corpus's real training faces what sex the generated faces of
each test speaker's voice look; report agreement with the speaker's sex (target: >= 85%). No
peer library trains this model.

    python benchmarks/bench_train.py [--steps 16] [--full] [--quality --minutes 10 --identities 200]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from voice2face.config import ModelConfig, to_dict
from voice2face.data.containers import PairedTensors
from voice2face.models import build_voice_encoder
from voice2face.training.presets import get_preset
from voice2face.training.trainers.gan import GANTrainer

from timing import machine


def speed(preset_name: str, steps: int, full: bool) -> dict:
    """Images/s of full stage-2 steps on random 64 px data with random voice embeddings."""
    preset = get_preset(preset_name)
    gan = preset.gan
    if full:
        preset = get_preset("paper-stylegan2")
        gan = preset.gan
    identities = 100
    faces = torch.randint(0, 256, (512, 3, 64, 64), dtype=torch.uint8)
    embeddings = torch.randn(512, gan.generator.c_dim)
    labels = torch.arange(512) % identities
    data = PairedTensors(faces, labels, embeddings, labels.clone(), [f"id{i}" for i in range(identities)])
    encoder_config = dataclasses.replace(preset.encoder.encoder, embedding_dim=gan.generator.c_dim)
    model = ModelConfig(
        features=preset.encoder.features, voice_encoder=encoder_config, generator=gan.generator,
        discriminator=dataclasses.replace(gan.discriminator, num_identities=identities),
    )  # fmt: skip
    trainer = GANTrainer(gan, model, build_voice_encoder(encoder_config), data)
    trainer.train_step()  # warm-up (allocations); fires every lazy phase once
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step()
    seconds = (time.perf_counter() - start) / steps
    return {
        "config": "paper-stylegan2 (full width)" if full else preset_name,
        "batch": gan.batch_size, "resolution": gan.generator.img_resolution, "steps_timed": steps,
        "images_per_second": round(gan.batch_size / seconds, 2),
        "seconds_per_kimg": round(seconds * 1000 / gan.batch_size, 1),
        "generator": to_dict(gan.generator), "lazy": {"r1_interval": gan.r1_interval, "pl_interval": gan.pl_interval},
    }  # fmt: skip


def quality(minutes: float, identities: int, seed: int) -> dict:
    """Corpus → stage 1 → stage 2 (time-capped) → sex agreement of generated faces on test voices."""
    from voice2face.config import SynthVoxConfig
    from voice2face.data.datasets import VoiceFeatures, read_faces
    from voice2face.data.manifest import load_manifest
    from voice2face.data.synthvox import generate_corpus
    from voice2face.metrics.embedders import corpus_attribute_classifier
    from voice2face.models.embedding import embed_utterances
    from voice2face.models.generation import generate_faces
    from voice2face.storage import RunFolder
    from voice2face.training.runner import train_encoder, train_generator
    from voice2face.utils.images import uint8_to_float

    work = Path(tempfile.mkdtemp(prefix="bench_train_"))
    timings = {}
    start = time.perf_counter()
    generate_corpus(work / "corpus", SynthVoxConfig(identities=identities, seed=seed))
    timings["corpus_s"] = time.perf_counter() - start
    start = time.perf_counter()
    encoder_run = train_encoder("synthvox-quick", work / "corpus", work / "runs", seed=seed, cache_dir=work / "cache")
    timings["stage1_s"] = time.perf_counter() - start
    start = time.perf_counter()
    # --minutes covers both stages' training: stage 2 gets what stage 1 left.
    run = train_generator(
        "synthvox-quick", work / "corpus", work / "runs", encoder=encoder_run, seed=seed, cache_dir=work / "cache",
        time_budget_s=max(60.0, minutes * 60 - timings["stage1_s"]),
    )  # fmt: skip
    timings["stage2_s"] = time.perf_counter() - start
    manifest = load_manifest(work / "corpus")
    sex_of = {i.id: i.attributes["sex"] for i in manifest.identities}

    def train_faces():
        records = manifest.faces_in("train")
        images = uint8_to_float(read_faces(manifest, records))  # [N, 3, R, R]
        return images, [sex_of[r.identity] for r in records]

    classifier = corpus_attribute_classifier(
        train_faces, dataset=f"synthvox-{identities}-{seed}", cache_dir=work / "cache"
    )
    config, modules = RunFolder(run).model.load(("voice_encoder", "generator"))
    voices = VoiceFeatures(manifest, config.features)
    per_speaker: dict[str, list[bool]] = {}
    for record in manifest.utterances_in("test"):
        embedding = embed_utterances(modules["voice_encoder"], [voices(record)])  # [1, D]
        faces = generate_faces(
            modules["generator"], embedding, seed=seed, samples_per_condition=4, latent_rule="per_sample", batch_size=4
        )  # [4, 3, R, R]
        predicted = classifier.predict(faces)
        per_speaker.setdefault(record.identity, []).extend(p == sex_of[record.identity] for p in predicted)
    per_image = float(np.mean([v for values in per_speaker.values() for v in values]))
    per_voice_majority = float(np.mean([np.mean(values) > 0.5 for values in per_speaker.values()]))
    real_check = classifier.predict(uint8_to_float(read_faces(manifest, manifest.faces_in("test"))))
    real_accuracy = float(
        np.mean([p == sex_of[r.identity] for p, r in zip(real_check, manifest.faces_in("test"), strict=True)])
    )
    stats = [json.loads(line) for line in RunFolder(run).stats_path.read_text().splitlines() if line.strip()]
    return {
        "identities": identities, "test_speakers": len(per_speaker), "training_minutes_cap": minutes,
        "kimg_trained": stats[-1]["kimg"] if stats else 0.0,
        "sex_agreement_generated": round(per_image, 3),
        "sex_agreement_by_speaker_majority": round(per_voice_majority, 3),
        "classifier_accuracy_on_real_test_faces": round(real_accuracy, 3), "target": 0.85,
        "target_met": per_image >= 0.85, "seconds": {k: round(v, 1) for k, v in timings.items()}, "run": str(run),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--full", action="store_true", help="also time the paper's full-width networks (slow on CPU)")
    parser.add_argument("--quality", action="store_true", help="train synthvox-quick and measure sex agreement")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--identities", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    result: dict = {"benchmark": "train", "peer": "none: no other library trains this model", "machine": machine()}
    result["speed"] = [speed("synthvox-quick", args.steps, full=False)]
    if args.full:
        result["speed"].append(speed("synthvox-quick", 1, full=True))
    if args.quality:
        result["quality"] = quality(args.minutes, args.identities, args.seed)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
