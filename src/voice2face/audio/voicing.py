"""Voicing channels: pitch and periodicity per feature frame, appended to MFCC or log-mel rows.

Thirteen MFCCs (or 64 mel bands) over 25 ms frames keep a voice's spectral envelope and lose most
of what the glottis does from one cycle to the next: the pitch and its wobble, how periodic each
cycle is, how much breath noise fills the gaps between harmonics. Those are what a listener hears
age and vocal strain in (jitter, shimmer, harmonics-to-noise ratio and F0 are the voice-quality
measures of eGeMAPS, Eyben et al. 2016), and what speech recognisers add beside MFCCs as pitch
features (Ghahremani et al. 2014). With :attr:`FeatureConfig.voicing` the features carry five more
rows, one value per frame of the active kind, centred on that frame:

- ``log_f0``: 2·ln(F0 / 150 Hz), F0 from the 80–1000 Hz autocorrelation's first strong peak in
  60–400 Hz, interpolated through unvoiced frames;
- ``delta_log_f0``: its change per frame ×20 (vibrato, tremor and drift; cycle-level jitter blurs
  the estimate and shows here as noise);
- ``periodicity_low`` / ``_mid`` / ``_high``: log(r / (1 − r)) of the normalised autocorrelation
  r at the pitch period, in 80–1000, 1000–3000 and 3000–6000 Hz. Breath noise and jitter lower
  it, most in the upper bands, where a jittered period drifts furthest out of phase.

Each frame is a 40 ms Hann window (long enough for two periods at 60 Hz), transformed once; each
band's autocorrelation at the (sub-sample) pitch period is the cosine sum of the power spectrum
masked to the band, divided by the window's own autocorrelation there (Boersma 1993). Everything is computed from the
recording: no label goes in.
"""

from __future__ import annotations

import numpy as np

#: Names of the rows :func:`voicing_track` returns, in order.
VOICING_CHANNELS = ("log_f0", "delta_log_f0", "periodicity_low", "periodicity_mid", "periodicity_high")
WINDOW_SECONDS = 0.040
F0_RANGE_HZ = (60.0, 400.0)
BANDS_HZ = ((80.0, 1000.0), (1000.0, 3000.0), (3000.0, 6000.0))
REFINE_TOP_HZ = 4000.0
REFERENCE_F0_HZ = 150.0
VOICED_PERIODICITY = 0.5  # r in the low band at or above: voiced
LOUD_DB = 35.0  # frames more than this below the loudest are never voiced
PEAK_SHARE = 0.9  # the first local peak within this share of the highest wins (no octave-down errors)
_R_MAX = 0.999


def voicing_track(signal: np.ndarray, sample_rate: int, frame_length: int, hop_length: int, frames: int) -> np.ndarray:
    """The five voicing rows ``[5, frames]`` for feature frames ``t`` spanning
    ``[t·hop_length, t·hop_length + frame_length)`` of ``signal`` (float ``[N]``)."""
    signal = np.asarray(signal, dtype=np.float64)
    window_length = round(WINDOW_SECONDS * sample_rate)
    centres = np.arange(frames) * hop_length + frame_length // 2
    start = window_length // 2
    padded = np.pad(signal, (start, window_length))
    index = centres[:, None] + np.arange(window_length)[None, :]  # centre c sits at padded[c + start]
    window = np.hanning(window_length)
    chunk = padded[np.minimum(index, padded.shape[0] - 1)] * window  # [T, L]
    n_fft = 1 << (2 * window_length - 1).bit_length()
    power = np.abs(np.fft.rfft(chunk, n_fft, axis=1)) ** 2  # [T, K]
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    window_acf = np.fft.irfft(np.abs(np.fft.rfft(window, n_fft)) ** 2, n_fft)[:window_length]
    window_acf = window_acf / window_acf[0]
    low_lag = max(1, int(np.floor(sample_rate / F0_RANGE_HZ[1])) - 1)  # the top F0 must be an inner peak
    high_lag = min(window_length // 2, int(np.ceil(sample_rate / F0_RANGE_HZ[0])))

    masks = [(freqs >= low) & (freqs < min(high, sample_rate / 2)) for low, high in BANDS_HZ]
    low_band = np.fft.irfft(power * masks[0], n_fft, axis=1)[:, :window_length]
    low_band = low_band / np.maximum(low_band[:, :1], 1e-20) / np.maximum(window_acf, 1e-3)
    lags = _pitch_lags(low_band[:, low_lag : high_lag + 1]) + low_lag  # [T]
    # The low band's peak is broad (biased by a sample or more at 85 Hz); the period is refined on
    # the sharper 80–4000 Hz autocorrelation, at its highest point within two samples of that peak.
    wide = np.fft.irfft(power * ((freqs >= BANDS_HZ[0][0]) & (freqs < REFINE_TOP_HZ)), n_fft, axis=1)[:, :window_length]
    wide = wide / np.maximum(wide[:, :1], 1e-20) / np.maximum(window_acf, 1e-3)
    near = np.clip(lags[:, None] + np.arange(-2, 3)[None, :], 1, window_length - 2)
    lags = np.take_along_axis(near, np.argmax(np.take_along_axis(wide, near, axis=1), axis=1)[:, None], axis=1)[:, 0]
    period = _refine(wide, lags)  # fractional samples
    # Each band's autocorrelation at the fractional period, as the cosine sum of its power spectrum
    # (an integer lag would put a 3–6 kHz band's fast oscillation out of phase).
    cosines = np.cos(2.0 * np.pi * freqs[None, :] * period[:, None] / sample_rate)  # [T, K]
    window_at_period = np.maximum(np.interp(period, np.arange(window_length), window_acf), 1e-3)
    periodicity = []
    for mask in masks:
        banded = power * mask
        r = (banded * cosines).sum(axis=1) / np.maximum(banded.sum(axis=1), 1e-20) / window_at_period
        periodicity.append(np.clip(r, 1e-3, _R_MAX))
    energy = power.sum(axis=1)
    loud = energy >= energy.max() * 10.0 ** (-LOUD_DB / 10.0) if frames else energy > 0
    voiced = loud & (periodicity[0] >= VOICED_PERIODICITY)
    rows = np.arange(frames)
    log_f0 = np.log(sample_rate / period)
    if voiced.any():
        log_f0 = np.interp(rows, rows[voiced], log_f0[voiced])
    else:
        log_f0 = np.full(frames, np.log(REFERENCE_F0_HZ))
    relative = 2.0 * (log_f0 - np.log(REFERENCE_F0_HZ))
    delta = 20.0 * np.gradient(log_f0) if frames > 1 else np.zeros(frames)
    logits = [np.log(r / (1.0 - r)) for r in periodicity]
    return np.stack([relative, delta, *logits]).astype(np.float32)


def _pitch_lags(acf: np.ndarray) -> np.ndarray:
    """Per row, the first local maximum within :data:`PEAK_SHARE` of the row's highest (index into ``acf``)."""
    if acf.shape[1] < 3:
        return np.zeros(acf.shape[0], dtype=np.int64)
    inner = acf[:, 1:-1]
    peaks = (inner >= acf[:, :-2]) & (inner >= acf[:, 2:])
    best = np.where(peaks, inner, -np.inf).max(axis=1, keepdims=True)
    strong = peaks & (inner >= PEAK_SHARE * best) & np.isfinite(best)
    first = np.argmax(strong, axis=1) + 1
    return np.where(strong.any(axis=1), first, np.argmax(acf, axis=1))


def _refine(acf: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Sub-sample lag by a parabola through the peak and its neighbours."""
    rows = np.arange(acf.shape[0])
    left = acf[rows, np.maximum(lags - 1, 0)]
    mid = acf[rows, lags]
    right = acf[rows, np.minimum(lags + 1, acf.shape[1] - 1)]
    curvature = left - 2.0 * mid + right
    offset = np.where(curvature < -1e-12, 0.5 * (left - right) / np.where(curvature < -1e-12, curvature, -1.0), 0.0)
    return np.maximum(lags + np.clip(offset, -0.5, 0.5), 1.0)
