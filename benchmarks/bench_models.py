"""Network speed: forward+backward images/s of StyleGAN2 G+D at 64 px, voice-encoder
utterances/s on 6 s inputs, and peak memory.

Prints one JSON line. Each figure names its config. A "step" is what a GAN training step
costs without the optimiser: G(z, c) → D.forward_heads(image, c) → non-saturating loss +
identity cross-entropy → backward through D and G. The full-width config (the paper's 64 px
G/D: channel_base 16384, channel_max 512) is slow on a few CPU cores, so it is measured over
``--full-steps`` steps (default 1, after no warm-up: the figure includes first-call
allocation); the small config over ``--small-steps`` after one warm-up step.
Peak memory: the process's peak resident set (CPU; it only grows, so it is read after each
stage) and ``torch.cuda.max_memory_allocated`` per stage on CUDA.

    python benchmarks/bench_models.py [--device cpu|cuda] [--batch 32] [--encoder-batch 8]
                                       [--full-steps 1] [--skip-full]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

import torch
import torch.nn.functional as F

from voice2face.config import DiscriminatorConfig, GeneratorConfig, VoiceEncoderConfig, to_dict
from voice2face.models import build_discriminator, build_generator, build_voice_encoder

from timing import machine

NUM_IDENTITIES = 1000  # about the paper's 1,225 training identities


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def gan_step_rate(
    g_cfg: GeneratorConfig, d_cfg: DiscriminatorConfig, batch: int, steps: int, warmup: int, device: torch.device
) -> dict:
    """Images/s of forward+backward through G and D (no optimiser), with the configs used."""
    torch.manual_seed(0)
    G = build_generator(g_cfg).to(device).train()
    D = build_discriminator(d_cfg).to(device).train()
    z = torch.randn(batch, g_cfg.z_dim, device=device)
    c = torch.randn(batch, g_cfg.c_dim, device=device)
    labels = torch.randint(0, NUM_IDENTITIES, (batch,), device=device)

    def step() -> None:
        out = D.forward_heads(G(z, c), c)
        loss = F.softplus(-out.logits).mean() + F.cross_entropy(out.identity_logits, labels)
        loss.backward()
        G.zero_grad(set_to_none=True)
        D.zero_grad(set_to_none=True)

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    for _ in range(warmup):
        step()
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    seconds = (time.perf_counter() - start) / steps
    result = {
        "images_per_s": round(batch / seconds, 2),
        "seconds_per_step": round(seconds, 3),
        "batch": batch,
        "steps_timed": steps,
        "warmup_steps": warmup,
        "g_params": sum(p.numel() for p in G.parameters()),
        "d_params": sum(p.numel() for p in D.parameters()),
        "generator": to_dict(g_cfg),
        "discriminator": to_dict(d_cfg),
        "peak_rss_mib_so_far": peak_rss_mib(),
    }
    if device.type == "cuda":
        result["peak_cuda_mib"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return result


def encoder_rate(cfg: VoiceEncoderConfig, frames: int, batch: int, repeats: int, device: torch.device) -> dict:
    """Utterances/s of the voice encoder in inference (eval, no grad) and in training (fwd+bwd)."""
    torch.manual_seed(0)
    encoder = build_voice_encoder(cfg).to(device)
    features = torch.randn(batch, cfg.input_dim, frames, device=device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    def infer() -> None:
        with torch.inference_mode():
            encoder.eval()(features)

    def train() -> None:
        encoder.train()(features).square().mean().backward()
        encoder.zero_grad(set_to_none=True)

    rates = {}
    for name, fn in (("inference", infer), ("train_fwd_bwd", train)):
        fn()  # warm-up
        sync(device)
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        sync(device)
        rates[f"{name}_utterances_per_s"] = round(batch * repeats / (time.perf_counter() - start), 2)
    result = {
        **rates,
        "frames": frames,
        "batch": batch,
        "params": sum(p.numel() for p in encoder.parameters()),
        "encoder": to_dict(cfg),
        "peak_rss_mib_so_far": peak_rss_mib(),
    }
    if device.type == "cuda":
        result["peak_cuda_mib"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--encoder-batch", type=int, default=8)
    parser.add_argument("--full-steps", type=int, default=1)
    parser.add_argument("--small-steps", type=int, default=3)
    parser.add_argument("--skip-full", action="store_true", help="leave out the full-width G+D (slow on CPU)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    common = {"c_dim": 512, "img_resolution": 64}
    small = {"channel_base": 2048, "channel_max": 64}
    results: dict[str, dict] = {}
    results["gan_64px_small"] = gan_step_rate(
        GeneratorConfig(**common, **small),
        DiscriminatorConfig(**common, **small, num_identities=NUM_IDENTITIES),
        args.batch,
        args.small_steps,
        warmup=1,
        device=device,
    )
    if not args.skip_full:
        full = {"channel_base": 16384, "channel_max": 512}
        results["gan_64px_full"] = gan_step_rate(
            GeneratorConfig(**common, **full),
            DiscriminatorConfig(**common, **full, num_identities=NUM_IDENTITIES),
            args.batch,
            args.full_steps,
            warmup=0,
            device=device,
        )
    six_seconds = {"mfcc": 480, "logmel": 600}  # 80 and 100 frames/s
    encoders = {
        "encoder_mfcc_6s": (VoiceEncoderConfig(), six_seconds["mfcc"]),
        "encoder_logmel_6s": (VoiceEncoderConfig(input_dim=64), six_seconds["logmel"]),
        "encoder_mfcc_6s_quarter_width": (VoiceEncoderConfig(width_multiplier=0.25), six_seconds["mfcc"]),
    }
    for name, (cfg, frames) in encoders.items():
        results[name] = encoder_rate(cfg, frames, args.encoder_batch, 2, device)
    print(
        json.dumps(
            {
                "benchmark": "models",
                "device": str(device),
                "threads": args.threads,
                "results": results,
                "peak_rss_mib": peak_rss_mib(),
                "machine": machine(),
            }
        )
    )


if __name__ == "__main__":
    main()
