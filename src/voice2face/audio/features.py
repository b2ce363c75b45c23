"""Time–frequency features: the paper's MFCC+Δ+ΔΔ and Wen et al.'s 64-band log-mel.

This module is the float64 numpy *reference*; :mod:`voice2face.audio.torch_features` is the
batched torch path used in training and checked against this one.

Conventions (chosen to match the paper; where peers differ, see ENVIRONMENT.md):
- frames are not centred: ``T = 1 + (N - frame_length) // hop`` (a short signal is
  zero-padded to one frame); each frame is windowed and zero-padded at its end to ``n_fft``;
- power spectrum ``|X(k)|²`` (no division by ``n_fft``);
- Mel scale of HTK, ``mel(f) = 2595·log10(1 + f/700)``. The paper prints ``2595·ln(1 + f/700)``
  (eq. 6), which is a typo: with ln the constant would be 1127. Every toolkit uses the log10
  form, and so do we. Triangles are built on continuous frequency, peak 1, not area-normalised;
- natural log of filter energies, floored at ``log_floor``;
- orthonormal DCT-II; no lifter unless asked for;
- Δ by the regression formula ``Δc_t = Σ_k k (c_{t+k} − c_{t−k}) / (2 Σ_k k²)``, k = 1..K, with
  the edges padded by repeating the first/last frame; ΔΔ is the same formula applied to Δ.
"""

from __future__ import annotations

import math

import numpy as np

from voice2face.audio.voicing import voicing_track
from voice2face.config import CropConfig, FeatureConfig, LogMelConfig, MFCCConfig

#: Raise when a change here or in :mod:`voice2face.audio.voicing` changes the numbers for the same
#: settings: feature caches are keyed by it (2: the voicing rows).
FEATURES_REVISION = 2


def num_frames(num_samples: int, frame_length: int, hop_length: int) -> int:
    """Frames produced from ``num_samples`` without centring (at least one)."""
    if num_samples <= frame_length:
        return 1
    return 1 + (num_samples - frame_length) // hop_length


def preemphasis(signal: np.ndarray, coefficient: float) -> np.ndarray:
    """``s'(n) = s(n) − α·s(n−1)`` (paper eq. 4), with ``s'(0) = s(0)``. ``[N] -> [N]``."""
    if coefficient == 0.0:
        return signal
    out = np.empty_like(signal)
    out[0] = signal[0]
    out[1:] = signal[1:] - coefficient * signal[:-1]
    return out


def frame_signal(signal: np.ndarray, frame_length: int, hop_length: int) -> np.ndarray:
    """Overlapping frames ``[N] -> [T, frame_length]`` (a view where possible)."""
    if signal.shape[0] < frame_length:
        signal = np.pad(signal, (0, frame_length - signal.shape[0]))
    count = num_frames(signal.shape[0], frame_length, hop_length)
    windows = np.lib.stride_tricks.sliding_window_view(signal, frame_length)  # [N-L+1, L]
    return windows[: (count - 1) * hop_length + 1 : hop_length]


def window(name: str, length: int) -> np.ndarray:
    """Symmetric analysis window: Hamming ``0.54 − 0.46·cos(2πn/(L−1))`` (paper eq. 5) or Hann."""
    if name == "hamming":
        return np.hamming(length)
    if name == "hann":
        return np.hanning(length)
    raise ValueError(f"unknown window {name!r}")


def power_spectrum(frames: np.ndarray, analysis_window: np.ndarray, n_fft: int) -> np.ndarray:
    """``|FFT(frame·window)|²`` of each frame: ``[T, L] -> [T, n_fft//2 + 1]``."""
    spectrum = np.fft.rfft(frames * analysis_window, n=n_fft, axis=-1)
    return spectrum.real**2 + spectrum.imag**2


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """HTK Mel scale, ``2595·log10(1 + f/700)``."""
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    """Inverse of :func:`hz_to_mel`."""
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(
    sample_rate: int, n_fft: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None
) -> np.ndarray:
    """Triangular filters equally spaced on the Mel scale: ``[n_mels, n_fft//2 + 1]``.

    Filter i rises linearly from edge i to a peak of 1 at edge i+1 and falls to 0 at edge i+2,
    with the n_mels + 2 edges equally spaced in Mel between ``fmin`` and ``fmax``.
    """
    fmax = sample_rate / 2.0 if fmax is None else fmax
    edges_hz = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))  # [M+2]
    bin_hz = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)  # [K]
    left, centre, right = edges_hz[:-2, None], edges_hz[1:-1, None], edges_hz[2:, None]
    rising = (bin_hz[None, :] - left) / (centre - left)
    falling = (right - bin_hz[None, :]) / (right - centre)
    return np.maximum(0.0, np.minimum(rising, falling))  # [M, K]


def dct_matrix(n_inputs: int, n_outputs: int) -> np.ndarray:
    """Orthonormal DCT-II as a matrix ``[n_outputs, n_inputs]`` (paper eq. 8, normalised)."""
    n = np.arange(n_inputs)
    k = np.arange(n_outputs)[:, None]
    basis = np.cos(np.pi * k * (2 * n + 1) / (2 * n_inputs)) * np.sqrt(2.0 / n_inputs)
    basis[0] /= np.sqrt(2.0)
    return basis


def lifter_weights(n_ceps: int, lifter: int) -> np.ndarray:
    """Sinusoidal lifter ``1 + (L/2)·sin(πn/L)``; all ones when ``lifter`` is 0. ``[n_ceps]``."""
    if lifter <= 0:
        return np.ones(n_ceps)
    n = np.arange(n_ceps)
    return 1.0 + (lifter / 2.0) * np.sin(np.pi * n / lifter)


def deltas(features: np.ndarray, width: int = 2) -> np.ndarray:
    """Regression deltas along time (paper eq. 9, K = ``width``): ``[T, D] -> [T, D]``.

    Edges are padded by repeating the first and last frames.
    """
    count = features.shape[0]
    padded = np.pad(features, ((width, width), (0, 0)), mode="edge")
    out = np.zeros_like(features, dtype=np.float64)
    for k in range(1, width + 1):
        out += k * (padded[width + k : width + k + count] - padded[width - k : width - k + count])
    return out / (2.0 * sum(k * k for k in range(1, width + 1)))


def _normalise(features: np.ndarray, axis: int, variance: bool = True) -> np.ndarray:
    centred = features - features.mean(axis=axis, keepdims=True)
    return centred / np.maximum(features.std(axis=axis, keepdims=True), 1e-5) if variance else centred


def log_mel_energies(signal: np.ndarray, config: MFCCConfig | LogMelConfig, window_name: str) -> np.ndarray:
    """The shared front half of both features: ``[N] -> [T, n_mels]`` natural-log Mel energies.

    ``config`` supplies rate, framing, FFT size, filterbank, pre-emphasis and log floor.
    """
    signal = preemphasis(np.asarray(signal, dtype=np.float64), config.preemphasis)
    frames = frame_signal(signal, config.frame_length, config.hop_length)  # [T, L]
    power = power_spectrum(frames, window(window_name, config.frame_length), config.fft_size)  # [T, K]
    bank = mel_filterbank(config.sample_rate, config.fft_size, config.n_mels, config.fmin, config.fmax)  # [M, K]
    return np.log(np.maximum(power @ bank.T, config.log_floor))  # [T, M]


def mfcc(signal: np.ndarray, config: MFCCConfig | None = None) -> np.ndarray:
    """The paper's MFCC with Δ and ΔΔ: float ``[N]`` at ``config.sample_rate`` → ``[T, 3·n_ceps]``.

    Columns are ``[c0..c{n-1}, Δc0.., ΔΔc0..]``; with defaults T = 1 + (N − 400) // 200
    (25 ms frames, 50% overlap at 16 kHz) and 39 columns.
    """
    config = config or MFCCConfig()
    log_energies = log_mel_energies(signal, config, "hamming")  # [T, M]
    ceps = log_energies @ dct_matrix(config.n_mels, config.n_ceps).T  # [T, C]
    ceps = ceps * lifter_weights(config.n_ceps, config.lifter)
    delta = deltas(ceps, config.delta_width)
    features = np.concatenate([ceps, delta, deltas(delta, config.delta_width)], axis=1)  # [T, 3C]
    if config.normalize:
        features = _normalise(features, axis=0, variance=config.normalize_variance)
    return features.astype(np.float32)


def log_mel(signal: np.ndarray, config: LogMelConfig | None = None) -> np.ndarray:
    """64-band log-mel spectrogram, per-band mean/variance normalised: ``[N] → [n_mels, T]``.

    With defaults (25 ms window, 10 ms hop at 16 kHz) T = 1 + (N − 400) // 160.
    """
    config = config or LogMelConfig()
    log_energies = log_mel_energies(signal, config, config.window).T  # [M, T]
    if config.normalize:
        log_energies = _normalise(log_energies, axis=1)
    return log_energies.astype(np.float32)


def compute_features(signal: np.ndarray, config: FeatureConfig | None = None) -> np.ndarray:
    """Features in the voice encoder's layout ``[F, T]`` for the configured kind (and the voicing
    rows of :mod:`voice2face.audio.voicing` last, when ``config.voicing``)."""
    config = config or FeatureConfig()
    if config.kind == "mfcc":
        features = np.ascontiguousarray(mfcc(signal, config.mfcc).T)  # [3C, T]
    else:
        features = log_mel(signal, config.logmel)  # [M, T]
    if not config.voicing:
        return features
    active = config.active
    rows = voicing_track(signal, active.sample_rate, active.frame_length, active.hop_length, features.shape[1])
    return np.concatenate([features, rows], axis=0)  # [F + 5, T]


# ----------------------------------------------------------------------------- crops


def crop_bounds(config: CropConfig, frames_per_second: float) -> tuple[int, int]:
    """Minimum and maximum crop length in frames (3–8 s → 300–800 log-mel frames, 240–640 MFCC)."""
    return (
        max(1, round(config.min_seconds * frames_per_second)),
        max(1, round(config.max_seconds * frames_per_second)),
    )


def tile_to_length(features: np.ndarray, length: int) -> np.ndarray:
    """Repeat ``[F, T]`` along time until it has at least ``length`` frames, then cut: ``[F, length]``."""
    frames = features.shape[-1]
    if frames >= length:
        return features[..., :length]
    repeats = -(-length // frames)
    return np.concatenate([features] * repeats, axis=-1)[..., :length]


def feature_windows(features: np.ndarray, min_frames: int, max_frames: int) -> np.ndarray:
    """An utterance's features ``[F, T]`` as equal-length windows ``[S, F, L]`` for inference: tiled
    to ``min_frames`` when shorter (S = 1), else cut into the fewest near-equal windows of at most
    ``max_frames`` (at most S − 1 trailing frames unused)."""
    frames = features.shape[1]
    if frames < min_frames:
        return tile_to_length(features, min_frames)[None]  # [1, F, min_frames]
    count = math.ceil(frames / max_frames)
    length = frames // count
    return np.stack([features[:, i * length : (i + 1) * length] for i in range(count)])  # [S, F, L]


def random_crop(features: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    """A random window of ``length`` frames from ``[F, T]`` (tiled first if shorter): ``[F, length]``."""
    frames = features.shape[-1]
    if frames <= length:
        return tile_to_length(features, length)
    start = int(rng.integers(0, frames - length + 1))
    return features[..., start : start + length]


def random_crop_length(config: CropConfig, frames_per_second: float, rng: np.random.Generator) -> int:
    """Draw a crop length in frames, uniform between the configured bounds."""
    low, high = crop_bounds(config, frames_per_second)
    return int(rng.integers(low, high + 1))
