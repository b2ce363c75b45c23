"""Inference speed and memory: one portrait from a 10 s recording, batches of voices, CLI cold start.

Prints one JSON line:
- warm latency p50/p95 of file → face PNG (decode + VAD + features + encoder + generator +
  PNG encode and atomic write), one image at the model's resolution per call, in a process that has
  run it once;
- throughput at batch 8 and 32: voice embeddings/s (encoder on the 10 s recordings' feature
  windows) and images/s (generator only);
- cold start: wall time of a `voice2face portrait` subprocess on the 10 s file (interpreter,
  imports, model load, one image);
- `voice2face --help` wall time in a fresh process;
- peak resident memory of this process and of the CLI subprocess;
- the same run's baseline: the plain face generator (for a voice side on a pretrained generator,
  that generator alone from random z, no voice side) at batch 32, and the one-portrait stages, so
  the voice side's own cost is seen beside what drawing a face costs;
and whether issue 32's 2-core targets are met (`--help` ≤ 1 s, cold portrait ≤ 2.5 s, warm p50 ≤
150 ms, ≥ 20 images/s at batch 32, peak RSS ≤ 1 GB).

The model is ``--model DIR`` ("weights": "given" in the JSON; e.g. a bundle built but not
installed), else the bundled one ("bundled") when it exists, else the synthvox-quick preset's
networks with untrained weights ("untrained") — speed does not depend on the weights' values.

With ``--highres`` it also draws portraits at 256 px and 1024 px (issue 16) with random weights of
the official networks (stylegan2-ada's paper256, config F) behind the ``highres-*`` presets' voice
side, each in a fresh process: one portrait's warm latency (median of 3, after one) and that
process's peak RSS, under ``"highres"``.

    python benchmarks/bench_inference.py [--repeats 30] [--cold-repeats 3] [--device cpu] [--model DIR] [--highres]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

import numpy as np
import soundfile
import torch

from voice2face.audio.pipeline import speech_features
from voice2face.config import ModelConfig
from voice2face.inference.pipeline import VoiceToFace
from voice2face.models import build_generator, build_voice_encoder
from voice2face.storage import bundled_model_dir
from voice2face.storage.checkpoint import save_pretrained
from voice2face.storage.png import save_synthetic_png, synthetic_metadata
from voice2face.training.presets import get_preset

from timing import machine, peak_rss_mib, timed

#: Issue 32's targets on 2 idle cores: at most these (images/s: at least).
TARGETS = {"help_s": 1.0, "cli_cold_start_s": 2.5, "warm_p50_s": 0.150, "peak_rss_mib": 1024.0}
MIN_IMAGES_PER_S = 20.0


def cli_peak_rss_mib(argv: list[str]) -> float:
    """Peak RSS of one `voice2face` run in a fresh process, read from its own VmHWM.

    Not getrusage(RUSAGE_CHILDREN): Linux keeps a child's high-water mark across exec, so a
    child forked from this (large) process would report this process's size.
    """
    code = (
        "import sys; from voice2face.cli import main; code = main(sys.argv[1:]); "
        "hwm = [line for line in open('/proc/self/status') if line.startswith('VmHWM')][0]; "
        "print(int(hwm.split()[1]) / 1024); sys.exit(code)"
    )
    proc = subprocess.run([sys.executable, "-c", code, *argv], check=True, capture_output=True, text=True)
    return round(float(proc.stdout.split()[-1]), 1)


def model_folder(workdir: Path, model: Path | None = None) -> tuple[Path, str]:
    """``model`` (a model folder, e.g. a bundle built but not installed), else the bundled model, else
    an untrained synthvox-quick model saved into ``workdir``."""
    if model is not None:
        return model, "given"
    if (bundled_model_dir() / "config.json").is_file():
        return bundled_model_dir(), "bundled"
    preset = get_preset("synthvox-quick")
    config = ModelConfig(
        features=preset.encoder.features, voice_encoder=preset.encoder.encoder, generator=preset.gan.generator
    )
    torch.manual_seed(0)
    modules = {
        "voice_encoder": build_voice_encoder(config.voice_encoder),
        "generator": build_generator(config.generator),
    }
    save_pretrained(workdir / "synthvox-quick-untrained", modules, config)
    return workdir / "synthvox-quick-untrained", "untrained"


def ten_second_wav(path: Path) -> Path:
    """The packaged example voice (7.9 s) tiled to 10 s, 16 kHz 16-bit."""
    example = Path(str(resources.files("voice2face") / "assets" / "examples" / "example_voice.wav"))
    samples, rate = soundfile.read(str(example), dtype="float32")
    soundfile.write(str(path), np.resize(samples, 10 * rate), rate, subtype="PCM_16")
    return path


def highres_child(resolution: int, device: str) -> None:
    """In this (fresh) process: a ``highres-<resolution>`` model of random weights, one 10 s voice,
    one portrait to warm up, then three timed; prints their median and this process's peak RSS."""
    from voice2face.models.face_pool import VoiceToPool
    from voice2face.models.wplus import MappedGenerator

    preset = get_preset(f"highres-{resolution}")
    mapper_config = preset.mapper.mapper
    mapper_config = dataclasses.replace(mapper_config, pool=dataclasses.replace(mapper_config.pool, z_dim=512))
    config = ModelConfig(features=preset.encoder.features, voice_encoder=preset.encoder.encoder,
                         generator=preset.gan.generator, mapper=mapper_config)  # fmt: skip
    torch.manual_seed(0)
    generator = MappedGenerator(build_generator(config.generator), VoiceToPool(mapper_config))
    encoder = build_voice_encoder(config.voice_encoder)
    pipe = VoiceToFace(config, encoder, generator, name=f"random highres-{resolution}", device=device)
    with tempfile.TemporaryDirectory() as tmp:
        wav = ten_second_wav(Path(tmp) / "voice10s.wav")
        pipe(wav, num_samples=1, seed=0)
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            pipe(wav, num_samples=1, seed=0)[0].save(Path(tmp) / "face.png")
            runs.append(time.perf_counter() - start)
    figures = {
        "image_px": resolution,
        "portrait_s": round(statistics.median(runs), 2),
        "images_per_pass": pipe.images_per_pass,
        "peak_rss_mib": peak_rss_mib(),
    }
    print(json.dumps(figures))  # fmt: skip


def highres_figures(device: str) -> list[dict]:
    """:func:`highres_child` at 256 and 1024 px, each in its own process (a clean peak RSS)."""
    out = []
    for resolution in (256, 1024):
        command = [sys.executable, __file__, "--highres-child", str(resolution), "--device", device]
        proc = subprocess.run(command, check=True, capture_output=True, text=True)
        out.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return out


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--cold-repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--model", type=Path, help="a model folder to time (default: the bundled model)")
    parser.add_argument("--highres", action="store_true", help="also 256 and 1024 px portraits (random weights)")
    parser.add_argument("--highres-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.highres_child:
        highres_child(args.highres_child, args.device)
        return

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model, weights = model_folder(work, args.model)
        wav = ten_second_wav(work / "voice10s.wav")
        pipe = VoiceToFace.from_pretrained(model, device=args.device)

        def portrait() -> None:
            image = pipe(wav, num_samples=1, seed=0)[0]
            save_synthetic_png(image, work / "face.png", synthetic_metadata(model=pipe.name, seed=0, source=wav.name))

        portrait()  # warm-up: allocations, lazy imports
        latencies = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            portrait()
            latencies.append(time.perf_counter() - start)

        windows = pipe.windows(pipe.speech(wav))  # [S, F, L] for one 10 s voice
        speech = pipe.speech(wav)
        embedding = pipe.encode(windows).mean(0).numpy()  # [D]
        face = pipe.generate(embedding)[0]
        stages_ms = {
            name: round(1000 * timed(fn, max(3, args.repeats // 3)), 1)
            for name, fn in (
                ("decode_vad", lambda: pipe.speech(wav)),
                ("features", lambda: speech_features(speech, pipe.config.features)),
                ("encoder", lambda: pipe.encode(windows)),
                ("generator", lambda: pipe.generate_tensors(embedding)),
                ("png", lambda: save_synthetic_png(face, work / "stage.png", synthetic_metadata(seed=0))),
            )
        }
        throughput = {}
        for batch in (8, 32):
            voices = np.concatenate([windows] * batch)  # [batch·S, F, L]
            embeddings = np.random.default_rng(0).standard_normal((batch, pipe.embedding_dim)).astype(np.float32)
            pipe.encode(voices), pipe.generate_tensors(embeddings)  # warm-up
            start = time.perf_counter()
            pipe.encode(voices)
            encode_s = time.perf_counter() - start
            start = time.perf_counter()
            pipe.generate_tensors(embeddings)
            generate_s = time.perf_counter() - start
            throughput[f"batch_{batch}"] = {
                "embeddings_per_s": round(batch / encode_s, 1),
                "images_per_s": round(batch / generate_s, 1),
            }
        plain = getattr(pipe.generator, "generator", pipe.generator)  # the face generator without a voice side
        plain_z = torch.randn(32, plain.z_dim, generator=torch.Generator().manual_seed(0))
        plain_c = None if plain.c_dim == 0 else torch.randn(32, plain.c_dim, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            plain_s = timed(lambda: plain(plain_z, plain_c, noise_mode="const"), 3)
        baseline = {"plain_generator_images_per_s_batch_32": round(32 / plain_s, 1)}
        warm_rss = peak_rss_mib()

        help_runs = []
        for _ in range(args.cold_repeats):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "voice2face", "--help"], check=True, capture_output=True)
            help_runs.append(time.perf_counter() - start)
        cold = []
        command = [sys.executable, "-m", "voice2face", "portrait", str(wav), "-m", str(model), "--samples", "1", "-q"]
        for i in range(args.cold_repeats):
            start = time.perf_counter()
            subprocess.run([*command, "-o", str(work / f"cold{i}")], check=True, capture_output=True)
            cold.append(time.perf_counter() - start)
        cli_rss = cli_peak_rss_mib([*command[3:], "-o", str(work / "rss")])

    figures = {
        "help_s": round(statistics.median(help_runs), 3),
        "warm_p50_s": round(statistics.median(latencies), 4),
        "warm_p95_s": round(percentile(latencies, 95), 4),
        "cli_cold_start_s": round(statistics.median(cold), 3),
        "peak_rss_mib": max(warm_rss, cli_rss),
    }
    record = {
        "benchmark": "inference",
        "model": {"bundled": pipe.name, "given": str(model)}.get(weights, "synthvox-quick preset networks"),
        "weights": weights,
        "image_px": pipe.config.generator.img_resolution,
        "recording_s": 10.0,
        "windows_per_recording": int(windows.shape[0]),
        **figures,
        "warm_stages_median_ms": stages_ms,
        "cli_cold_start_runs_s": [round(c, 3) for c in cold],
        "peak_rss_warm_mib": warm_rss,
        "peak_rss_cli_mib": cli_rss,
        "throughput": throughput,
        "baseline": baseline,
        "torch_threads": torch.get_num_threads(),
        "targets": {**TARGETS, "min_images_per_s_batch_32": MIN_IMAGES_PER_S},
        "targets_met": {
            **{name: figures[name] <= limit for name, limit in TARGETS.items()},
            "images_per_s_batch_32": throughput["batch_32"]["images_per_s"] >= MIN_IMAGES_PER_S,
        },
        "machine": machine(),
        "load_average_1m": round(os.getloadavg()[0], 2),  # other processes on these cores inflate every figure
        "device": args.device,
    }
    if args.highres:
        record["highres"] = highres_figures(args.device)
    print(json.dumps(record))


if __name__ == "__main__":
    main()
