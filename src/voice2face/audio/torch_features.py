"""Batched torch path for the features of :mod:`voice2face.audio.features`.

Same conventions and the same filterbank/DCT matrices as the numpy reference (tests hold
them equal to 1e-4); runs on CPU or GPU, on a batch of equal-length waveforms at once.

It is a short-time Fourier transform written out (frames → window → ``torch.fft.rfft``)
rather than one ``torch.stft`` call, for two reasons: the paper's frames are zero-padded at
their end to ``n_fft`` (``torch.stft`` centres a short window inside ``n_fft``), and on CPU
the work is done a block of frames at a time so that the spectrum of a block stays in cache
through power, filterbank and log — 5× faster than transforming a long recording at once,
where the [T, n_fft/2+1] spectrum goes through main memory several times.
"""

from __future__ import annotations

import torch
from torch import nn

from voice2face.audio.features import dct_matrix, lifter_weights, mel_filterbank, num_frames
from voice2face.audio.features import window as make_window
from voice2face.config import FeatureConfig
from voice2face.errors import ConfigError


class FeatureExtractor(nn.Module):
    """Waveforms ``[B, N]`` (float, [-1, 1], at the config's rate) → features ``[B, F, T]``.

    F is 3·n_ceps for MFCC (static, Δ, ΔΔ) or n_mels for log-mel; T as in the reference.
    ``lengths`` ([B] valid samples per row) restricts per-utterance normalisation to the
    valid frames of padded rows; frames past a row's end are then zero.
    """

    def __init__(self, config: FeatureConfig | None = None, dtype: torch.dtype = torch.float32):
        super().__init__()
        self.config = config or FeatureConfig()
        if self.config.voicing:
            raise ConfigError(
                "the batched torch features have no voicing rows; use voice2face.audio.features.compute_features "
                "for a FeatureConfig with voicing=True."
            )
        active = self.config.active
        self.kind = self.config.kind
        self.frame_length = active.frame_length
        self.hop_length = active.hop_length
        self.n_fft = active.fft_size
        self.preemphasis = active.preemphasis
        self.log_floor = active.log_floor
        self.normalize = active.normalize
        self.variance = getattr(active, "normalize_variance", True)  # log-mel: mean and variance (paper)
        window_name = "hamming" if self.kind == "mfcc" else self.config.logmel.window
        filters = mel_filterbank(active.sample_rate, self.n_fft, active.n_mels, active.fmin, active.fmax)
        self.register_buffer(
            "window", torch.tensor(make_window(window_name, self.frame_length), dtype=dtype), persistent=False
        )
        self.register_buffer("mel_filters", torch.tensor(filters, dtype=dtype), persistent=False)
        if self.kind == "mfcc":
            mfcc = self.config.mfcc
            lifted_dct = dct_matrix(mfcc.n_mels, mfcc.n_ceps) * lifter_weights(mfcc.n_ceps, mfcc.lifter)[:, None]
            self.register_buffer("dct", torch.tensor(lifted_dct, dtype=dtype), persistent=False)
            self.delta_width = mfcc.delta_width

    @property
    def dim(self) -> int:
        """Features per frame (F)."""
        return self.config.dim

    def num_frames(self, num_samples: int) -> int:
        """Frames T produced from ``num_samples`` samples."""
        return num_frames(num_samples, self.frame_length, self.hop_length)

    def forward(self, waveforms: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """``[B, N]`` or ``[N]`` → ``[B, F, T]`` (a 1-D input gives B = 1)."""
        if waveforms.ndim == 1:
            waveforms = waveforms[None]
        if waveforms.ndim != 2:
            raise ValueError(f"FeatureExtractor expects waveforms [B, N], got {tuple(waveforms.shape)}")
        x = waveforms.to(self.window.dtype)
        if x.shape[1] < self.frame_length:
            x = nn.functional.pad(x, (0, self.frame_length - x.shape[1]))
        log_mel = self._log_mel_frames(x).transpose(1, 2)  # [B, M, T]
        valid = None
        if lengths is not None:
            valid = torch.tensor([self.num_frames(int(n)) for n in lengths], device=log_mel.device)  # [B]
        if self.kind == "mfcc":
            ceps = _repeat_last_valid(torch.matmul(self.dct, log_mel), valid)  # [B, C, T]
            delta = _repeat_last_valid(_deltas(ceps, self.delta_width), valid)
            features = torch.cat([ceps, delta, _deltas(delta, self.delta_width)], dim=1)  # [B, 3C, T]
        else:
            features = log_mel
        if valid is None:
            if self.normalize:
                features = _normalise(features, None, self.variance)
            return features
        mask = torch.arange(features.shape[-1], device=features.device)[None, :] < valid[:, None]  # [B, T]
        if self.normalize:
            features = _normalise(features, mask, self.variance)
        return features * mask[:, None, :]

    def _log_mel_frames(self, x: torch.Tensor) -> torch.Tensor:
        """Natural-log Mel energies of every frame: ``[B, N] → [B, T, M]`` (N ≥ frame_length)."""
        batch, samples = x.shape
        count = self.num_frames(samples)
        # Frames per block: about 1024 spectra (~1 MB) at a time on CPU; one block on a GPU.
        block = count if x.is_cuda else max(1, 1024 // batch)
        filters = self.mel_filters.T  # [K, M]
        blocks = []
        for first in range(0, count, block):
            last = min(count, first + block)  # frames [first, last)
            begin, end = first * self.hop_length, (last - 1) * self.hop_length + self.frame_length
            segment = x[:, begin:end]
            if self.preemphasis:
                previous = x[:, begin - 1 : end - 1] if begin > 0 else nn.functional.pad(x[:, : end - 1], (1, 0))
                segment = segment - self.preemphasis * previous
                if begin == 0:
                    segment[:, 0] = x[:, 0]  # s'(0) = s(0)
            frames = segment.unfold(-1, self.frame_length, self.hop_length) * self.window  # [B, t, L]
            spectrum = torch.fft.rfft(frames, n=self.n_fft)  # [B, t, K]
            power = spectrum.real.square() + spectrum.imag.square()
            blocks.append(torch.matmul(power, filters).clamp_min(self.log_floor).log())  # [B, t, M]
        return torch.cat(blocks, dim=1) if len(blocks) > 1 else blocks[0]


def _repeat_last_valid(features: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
    """Repeat each row's last valid frame over its padding: ``[B, D, T] → [B, D, T]``.

    Deltas pad a sequence's edges by repetition, so a padded row must look as if it ended at
    its last valid frame for its deltas to equal those of the unpadded utterance.
    """
    if valid is None:
        return features
    frame = torch.arange(features.shape[-1], device=features.device)[None]  # [1, T]
    index = torch.minimum(frame, valid[:, None] - 1)  # [B, T]
    return torch.gather(features, 2, index[:, None, :].expand(-1, features.shape[1], -1))


def _deltas(features: torch.Tensor, width: int) -> torch.Tensor:
    """Regression deltas along the last axis with edge repetition: ``[B, D, T] → [B, D, T]``."""
    count = features.shape[-1]
    padded = nn.functional.pad(features, (width, width), mode="replicate")
    out = torch.zeros_like(features)
    for k in range(1, width + 1):
        out = out + k * (padded[..., width + k : width + k + count] - padded[..., width - k : width - k + count])
    return out / (2.0 * sum(k * k for k in range(1, width + 1)))


def _normalise(features: torch.Tensor, mask: torch.Tensor | None, variance: bool = True) -> torch.Tensor:
    """Per-row, per-feature mean (and, with ``variance``, std) normalisation over (valid) frames of ``[B, F, T]``."""
    if mask is None:
        centred = features - features.mean(dim=-1, keepdim=True)
        if not variance:
            return centred
        std = features.std(dim=-1, unbiased=False, keepdim=True)
    else:
        weights = mask[:, None, :].to(features.dtype)
        count = weights.sum(dim=-1, keepdim=True).clamp_min(1.0)
        centred = features - (features * weights).sum(dim=-1, keepdim=True) / count
        if not variance:
            return centred
        std = ((centred * weights).square().sum(dim=-1, keepdim=True) / count).sqrt()
    return centred / std.clamp_min(1e-5)
