"""Does a recording sound like speech? A cheap check that catches noise, tones and music.

The voice-activity detector keeps loud sound in the voice band; hiss, a beep or music pass it,
and the voice encoder then turns them into a face as readily as a voice. Four properties of the
kept audio tell them apart (32 ms frames, 16 ms hop, 300–4000 Hz). The figures were measured on
all 1600 recordings of synthvox-200 (and the 9 800 of synthvox-1225 seed 1, in brackets where
they differ), the shipped examples, espeak-ng speech in four voices and the tests' babble, against
synthetic white and pink noise, pure tones, sweeps, melodies and steady sound:

- **syllables**: the share of 256 ms windows whose loudness spans more than 10 dB. Speech rises
  and falls: at least 0.6 for 99 % of recordings, lowest 0.41 [0.31]; noise 0–0.1, tones 0,
  melodies of held notes 0.22–0.49, steady sound whose spectrum moves (a siren, an engine, legato
  notes, speech-shaped noise) 0. Speech's lowest falls with its length: a share of few windows
  moves in big steps (2 s of speech has 14 windows), and it is [0.31 under 16 windows, 0.37 under
  25, 0.50 from 25 on];
- **held spectra**: the share of frames whose fine spectrum 128 ms later correlates above 0.9.
  Pitch and formants keep moving in speech (at most 0.25); held notes 0.74–0.88, a tone 1;
- **flatness**: the median spectral flatness. Speech is peaked (at most 0.33 [0.41]; 0.23 with
  noise 10 dB below it); white noise 0.57, pink 0.46;
- **one peak**: the median share of a frame's energy in its strongest peak. Speech at most 0.79
  [0.85]; a pure tone or a sweep 1.00.

A tone or a flat spectrum is refused whatever else; clearly syllabic audio (0.6 and over) is
accepted otherwise; below that, a flat-ish spectrum, held notes or too few syllables are refused.
"Too few" sits in the gap between what only that rule refuses (steady sound, at most 0.1) and
speech's lowest (0.31), not at the edge of the speech once measured (0.41), which a larger corpus's
short recordings crossed; held notes do not need it, their held spectra refuse them.
It is a screen, not a classifier: music with drums can pass it. ``--allow-non-speech`` (the API:
``InferenceConfig(allow_non_speech=True)``) turns the refusal into a warning.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from voice2face.errors import NonSpeechError

log = logging.getLogger(__name__)

FRAME_SECONDS, HOP_SECONDS = 0.032, 0.016
BAND_HZ = (300.0, 4000.0)
LOUD_DB = 30.0  # frames within this of the loudest are analysed
SYLLABLE_WINDOW_HOPS, SYLLABLE_DB = 16, 10.0
HELD_LAG_HOPS, HELD_CORRELATION = 8, 0.9

# Limits (see the module docstring for what they were set against).
MAX_PEAK_FRACTION = 0.9  # above: a tone, whatever else
MAX_FLATNESS = 0.45  # above: noise, whatever else
SYLLABIC_FRACTION = 0.6  # at or above: syllables; the limits below apply only under it
MAX_FLATNESS_UNSYLLABIC = 0.3
MAX_HELD_FRACTION = 0.3
MIN_SYLLABLE_FRACTION = 0.2  # below: steady sound (0–0.1); speech's lowest is 0.31 (short recordings)


@dataclass(frozen=True)
class SpeechLikeness:
    """What :func:`assess_speech` measured; NaN where the audio is too short to say."""

    syllable_fraction: float  # 256 ms windows whose loudness spans more than 10 dB
    held_fraction: float  # frames whose fine spectrum 128 ms later is nearly the same
    flatness: float  # median spectral flatness of the loud frames, 0 (peaked) … 1 (white noise)
    peak_fraction: float  # median share of a loud frame's energy in its strongest peak

    def reason(self) -> str | None:
        """Why this does not sound like speech (a phrase), or None when it does (or cannot be told)."""
        if self.peak_fraction > MAX_PEAK_FRACTION:
            return "it is a steady tone"
        if self.flatness > MAX_FLATNESS:
            return "its spectrum is flat, like hiss or noise"
        if not self.syllable_fraction < SYLLABIC_FRACTION:  # syllabic, or too short to tell (NaN)
            return None
        if self.flatness > MAX_FLATNESS_UNSYLLABIC:
            return "its spectrum is flat, like hiss or noise"
        if self.held_fraction > MAX_HELD_FRACTION:
            return "it holds steady notes, like music or a tone"
        if self.syllable_fraction < MIN_SYLLABLE_FRACTION:
            return "its loudness does not rise and fall in syllables as speech does"
        return None


def assess_speech(samples: np.ndarray, sample_rate: int) -> SpeechLikeness:
    """Measure the four properties of ``samples`` (float ``[N]``, usually the VAD's kept speech)."""
    samples = np.asarray(samples, dtype=np.float64)
    frame, hop = round(FRAME_SECONDS * sample_rate), round(HOP_SECONDS * sample_rate)
    count = 1 + (samples.shape[0] - frame) // hop if samples.shape[0] >= frame else 0
    if count < 2:
        return SpeechLikeness(math.nan, math.nan, math.nan, math.nan)
    index = np.arange(frame)[None, :] + hop * np.arange(count)[:, None]  # [T, frame]
    power = np.abs(np.fft.rfft(samples[index] * np.hanning(frame), axis=1)) ** 2 + 1e-12  # [T, F]
    level_db = 10.0 * np.log10(power.sum(axis=1))  # [T]
    loud = level_db > level_db.max() - LOUD_DB
    low, high = (round(hz * frame / sample_rate) for hz in BAND_HZ)
    band = power[:, low:high]  # [T, B]
    flatness = np.exp(np.mean(np.log(band), axis=1)) / np.mean(band, axis=1)  # [T]
    strongest = power.argmax(axis=1)  # [T]
    cumulative = np.concatenate([np.zeros((count, 1)), np.cumsum(power, axis=1)], axis=1)  # [T, F + 1]
    rows = np.arange(count)
    first, last = np.maximum(strongest - 2, 0), np.minimum(strongest + 3, power.shape[1])
    peak = (cumulative[rows, last] - cumulative[rows, first]) / cumulative[:, -1]  # [T], the peak's 5 bins
    return SpeechLikeness(
        syllable_fraction=_syllable_fraction(level_db),
        held_fraction=_held_fraction(band, loud),
        flatness=float(np.median(flatness[loud])),
        peak_fraction=float(np.median(peak[loud])),
    )


def _syllable_fraction(level_db: np.ndarray) -> float:
    level = np.maximum(level_db, level_db.max() - 40.0)
    starts = range(0, level.shape[0] - SYLLABLE_WINDOW_HOPS + 1, SYLLABLE_WINDOW_HOPS // 2)
    spans = [np.ptp(level[s : s + SYLLABLE_WINDOW_HOPS]) for s in starts]
    return float(np.mean(np.asarray(spans) > SYLLABLE_DB)) if spans else math.nan


def _held_fraction(band: np.ndarray, loud: np.ndarray) -> float:
    lag = HELD_LAG_HOPS
    if band.shape[0] <= lag:
        return math.nan
    shape = 10.0 * np.log10(band)  # [T, B], dB
    shape = np.maximum(shape, shape.max(axis=1, keepdims=True) - 50.0)
    shape -= shape.mean(axis=1, keepdims=True)
    now, later = shape[:-lag], shape[lag:]
    correlation = (now * later).sum(axis=1) / np.sqrt((now**2).sum(axis=1) * (later**2).sum(axis=1) + 1e-12)
    both = loud[:-lag] & loud[lag:]
    return float(np.mean(correlation[both] > HELD_CORRELATION)) if both.any() else math.nan


def check_speech_like(samples: np.ndarray, sample_rate: int, source: str, *, allow: bool = False) -> None:
    """Refuse audio that does not sound like speech with :class:`NonSpeechError`, naming ``source``.

    With ``allow`` the refusal becomes a logged warning and the audio is used anyway.
    """
    reason = assess_speech(samples, sample_rate).reason()
    if reason is None:
        return
    if allow:
        log.warning("%s does not sound like speech (%s); using it anyway, as asked.", source, reason)
        return
    raise NonSpeechError(
        f"{source} does not sound like speech ({reason}); use a recording of someone speaking, "
        "or pass --allow-non-speech to use it anyway."
    )
