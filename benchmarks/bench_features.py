"""Feature extraction speed: paper MFCC+Δ+ΔΔ and 64-band log-mel over 10 minutes of 16 kHz audio.

Prints one JSON line with seconds per library (median of --repeats runs, after a warm-up),
the ratios peer/voice2face, and whether the targets hold: voice2face >= 2x faster than librosa
and faster than python_speech_features. torchaudio is included only when it imports.

    python benchmarks/bench_features.py [--minutes 10] [--repeats 3] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
import torch

from voice2face.audio import features as F
from voice2face.audio.torch_features import FeatureExtractor
from voice2face.config import FeatureConfig

from timing import machine, timed

SR = 16000


def babble(seconds: float, seed: int = 0) -> np.ndarray:
    """A long speech-like test signal: harmonic pulses through moving resonances, plus noise."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    f0 = 140 * (1 + 0.1 * np.sin(2 * np.pi * 0.5 * t))
    pulses = np.diff(np.floor(np.cumsum(f0 / SR)), prepend=0.0)
    from scipy.signal import lfilter

    voiced = lfilter([1.0], [1.0, -1.6, 0.9], pulses) * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2)
    signal = voiced / np.abs(voiced).max() * 0.5 + 0.003 * rng.standard_normal(n)
    return signal.astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    signal = babble(args.minutes * 60)
    tensor = torch.from_numpy(signal)
    mfcc_cfg, logmel_cfg = FeatureConfig(kind="mfcc"), FeatureConfig(kind="logmel")
    mfcc_torch, logmel_torch = FeatureExtractor(mfcc_cfg), FeatureExtractor(logmel_cfg)

    results: dict[str, dict[str, float]] = {"mfcc": {}, "logmel": {}}
    with torch.inference_mode():
        results["mfcc"]["voice2face"] = timed(lambda: mfcc_torch(tensor), args.repeats)
        results["logmel"]["voice2face"] = timed(lambda: logmel_torch(tensor), args.repeats)
    results["mfcc"]["voice2face_numpy_reference"] = timed(lambda: F.mfcc(signal), args.repeats)
    results["logmel"]["voice2face_numpy_reference"] = timed(lambda: F.log_mel(signal), args.repeats)

    skipped: dict[str, str] = {}
    try:
        import librosa

        def librosa_mfcc():
            y = librosa.effects.preemphasis(signal, coef=0.95)
            mel = librosa.feature.melspectrogram(
                y=y,
                sr=SR,
                n_fft=512,
                hop_length=200,
                win_length=400,
                window="hamming",
                center=False,
                n_mels=26,
                htk=True,
                norm=None,
            )
            ceps = librosa.feature.mfcc(S=np.log(np.maximum(mel, 1e-10)), n_mfcc=13, norm="ortho")
            return np.concatenate([ceps, librosa.feature.delta(ceps), librosa.feature.delta(ceps, order=2)])

        def librosa_logmel():
            mel = librosa.feature.melspectrogram(
                y=signal,
                sr=SR,
                n_fft=512,
                hop_length=160,
                win_length=400,
                window="hamming",
                center=False,
                n_mels=64,
                htk=True,
                norm=None,
            )
            log_mel = np.log(np.maximum(mel, 1e-10))
            return (log_mel - log_mel.mean(1, keepdims=True)) / log_mel.std(1, keepdims=True)

        results["mfcc"]["librosa"] = timed(librosa_mfcc, args.repeats)
        results["logmel"]["librosa"] = timed(librosa_logmel, args.repeats)
    except ImportError as exc:
        skipped["librosa"] = str(exc)

    try:
        import python_speech_features as psf

        def psf_mfcc():
            ceps = psf.mfcc(
                signal,
                SR,
                winlen=0.025,
                winstep=0.0125,
                numcep=13,
                nfilt=26,
                nfft=512,
                preemph=0.95,
                ceplifter=0,
                appendEnergy=False,
                winfunc=np.hamming,
            )
            delta = psf.delta(ceps, 2)
            return np.concatenate([ceps, delta, psf.delta(delta, 2)], axis=1)

        def psf_logmel():
            log_mel = psf.logfbank(signal, SR, winlen=0.025, winstep=0.01, nfilt=64, nfft=512, preemph=0.0)
            return (log_mel - log_mel.mean(0)) / log_mel.std(0)

        results["mfcc"]["python_speech_features"] = timed(psf_mfcc, args.repeats)
        results["logmel"]["python_speech_features"] = timed(psf_logmel, args.repeats)
    except ImportError as exc:
        skipped["python_speech_features"] = str(exc)

    try:
        import torchaudio

        ta_mfcc = torchaudio.transforms.MFCC(
            SR,
            n_mfcc=13,
            log_mels=True,
            melkwargs={"n_fft": 512, "win_length": 400, "hop_length": 200, "n_mels": 26, "center": False},
        )
        ta_mel = torchaudio.transforms.MelSpectrogram(SR, n_fft=512, win_length=400, hop_length=160, n_mels=64)
        with torch.inference_mode():
            results["mfcc"]["torchaudio"] = timed(lambda: ta_mfcc(tensor), args.repeats)
            results["logmel"]["torchaudio"] = timed(lambda: ta_mel(tensor).clamp_min(1e-10).log(), args.repeats)
    except Exception as exc:
        skipped["torchaudio"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"

    ratios = {
        kind: {peer: round(t / times["voice2face"], 2) for peer, t in times.items() if peer != "voice2face"}
        for kind, times in results.items()
    }
    targets = {
        kind: {
            "2x_faster_than_librosa": ratios[kind].get("librosa", 0) >= 2.0,
            "faster_than_python_speech_features": ratios[kind].get("python_speech_features", 0) > 1.0,
        }
        for kind in results
    }
    print(
        json.dumps(
            {
                "benchmark": "features",
                "audio_seconds": args.minutes * 60,
                "sample_rate": SR,
                "threads": args.threads,
                "seconds": {k: {p: round(t, 4) for p, t in v.items()} for k, v in results.items()},
                "speedup_vs_peer": ratios,
                "targets_met": targets,
                "skipped": skipped,
                "machine": machine(),
            }
        )
    )


if __name__ == "__main__":
    main()
