"""Babbling voices from a source–filter synthesiser driven by :class:`VoiceTraits`.

The source is a Rosenberg glottal-flow pulse train (its derivative, so lip radiation is
included) whose F0 follows the person's habitual pitch with phrase declination, accents, a
slow drift, age tremor and per-period jitter; shimmer scales each period; aspiration noise,
gated by the open phase, grows with breathiness. The filter is a cascade of five formant
resonators whose frequencies are a male reference (Peterson & Barney 1952 vowel averages)
scaled by 17 cm / vocal-tract length, so F_i ∝ 1/VTL. Syllables are (C)V(C): vowels, voiced
and unvoiced plosives (closure, burst, aspiration), fricatives (noise shaped by place of
articulation), nasals and approximants, at the person's speaking rate, grouped into phrases
separated by pauses. Each recording then gets its own loudness, a little reverberation
(an exponentially decaying noise tail), coloured background noise at a drawn SNR, and
leading/trailing stretches with only that noise, so a voice-activity detector has work.

Time-varying filtering is done frame by frame in the frequency domain (overlap-add of
Hann-windowed 32 ms frames, hop 16 ms, zero-padded to 64 ms so each frame's filtering is a
linear convolution), which costs a few milliseconds per second of audio.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import fftconvolve, lfilter

from voice2face.config.audio import SAMPLE_RATE
from voice2face.data.synthvox.traits import VoiceTraits

#: Vocal-tract length of the male reference the formant tables describe (cm).
REFERENCE_VTL_CM = 17.0
#: Male reference formants F1–F3 (Hz), Peterson & Barney (1952) averages; F4, F5 are added.
VOWELS = {
    "i": (270, 2290, 3010),
    "ɪ": (390, 1990, 2550),
    "ɛ": (530, 1840, 2480),
    "æ": (660, 1720, 2410),
    "ɑ": (730, 1090, 2440),
    "ɔ": (570, 840, 2410),
    "ʊ": (440, 1020, 2240),
    "u": (300, 870, 2240),
    "ʌ": (640, 1190, 2390),
    "ɝ": (490, 1350, 1690),
}
UPPER_FORMANTS = (3400.0, 4400.0)
BANDWIDTHS = np.array([70.0, 90.0, 130.0, 170.0, 220.0])


@dataclass(frozen=True)
class Consonant:
    """A consonant: manner, voicing, formant locus (male reference) and noise shape."""

    manner: str  # plosive | fricative | nasal | approximant | aspirate
    voiced: bool
    locus: tuple[float, float, float]
    noise: str | None  # index into NOISE_SHAPES, or None
    weight: float  # relative frequency of use


CONSONANTS = {
    "p": Consonant("plosive", False, (300, 900, 2300), "labial", 1.0),
    "t": Consonant("plosive", False, (300, 1700, 2700), "alveolar", 1.4),
    "k": Consonant("plosive", False, (300, 2000, 2500), "velar", 1.2),
    "b": Consonant("plosive", True, (250, 900, 2300), "labial", 0.8),
    "d": Consonant("plosive", True, (250, 1700, 2700), "alveolar", 1.0),
    "g": Consonant("plosive", True, (250, 2000, 2500), "velar", 0.6),
    "s": Consonant("fricative", False, (350, 1700, 2700), "s", 1.3),
    "ʃ": Consonant("fricative", False, (350, 1900, 2500), "sh", 0.5),
    "f": Consonant("fricative", False, (350, 1100, 2300), "f", 0.7),
    "h": Consonant("aspirate", False, (500, 1500, 2500), None, 0.6),
    "z": Consonant("fricative", True, (300, 1700, 2700), "s", 0.6),
    "v": Consonant("fricative", True, (300, 1100, 2300), "f", 0.5),
    "m": Consonant("nasal", True, (280, 1100, 2200), None, 1.1),
    "n": Consonant("nasal", True, (280, 1600, 2600), None, 1.3),
    "l": Consonant("approximant", True, (360, 1300, 2700), None, 1.0),
    "r": Consonant("approximant", True, (420, 1150, 1550), None, 0.8),
    "w": Consonant("approximant", True, (300, 700, 2200), None, 0.5),
    "j": Consonant("approximant", True, (280, 2200, 3000), None, 0.4),
}
CODA_CONSONANTS = ("t", "k", "s", "n", "m", "l", "r", "d", "z")
#: Frication spectra (male reference): (centre Hz, bandwidth Hz, gain). Peaks scale with VTL too.
NOISE_SHAPES = {
    "s": (5200.0, 2400.0, 1.0),
    "sh": (2800.0, 1800.0, 0.9),
    "f": (4000.0, 6000.0, 0.25),
    "labial": (1200.0, 2500.0, 0.5),
    "alveolar": (4000.0, 3000.0, 0.8),
    "velar": (2000.0, 1200.0, 0.8),
}
_NOISE_NAMES = tuple(NOISE_SHAPES)

CONTROL_STEP_S = 0.0025  # control tracks every 2.5 ms
FRAME, HOP, NFFT = 512, 256, 1024  # filtering frames at 16 kHz (scaled with the rate)


@dataclass(frozen=True)
class UtteranceInfo:
    """What was drawn for one recording (seconds, dBFS, dB, Hz), stored in the manifest."""

    seconds: float
    speech_start: float
    speech_end: float
    mean_f0_hz: float
    level_dbfs: float
    snr_db: float
    rt60_s: float


class _Tracks:
    """Control tracks on a 2.5 ms grid, painted segment by segment."""

    def __init__(self, steps: int) -> None:
        self.voicing = np.zeros(steps)  # glottal source amplitude
        self.aspiration = np.zeros(steps)  # noise through the vocal tract (h, plosive release)
        self.frication = np.zeros(steps)  # noise shaped by place, bypassing the tract
        self.noise_kind = np.zeros((steps, len(_NOISE_NAMES)))  # which frication spectrum
        self.formants = np.zeros((steps, 5))  # male-reference Hz
        self.formants[:] = (500.0, 1500.0, 2500.0, *UPPER_FORMANTS)
        self.bandwidth_scale = np.ones(steps)
        self.accent_st = np.zeros(steps)  # intonation, semitones
        self.steps = steps

    def span(self, start_s: float, end_s: float) -> slice:
        return slice(min(self.steps, round(start_s / CONTROL_STEP_S)), min(self.steps, round(end_s / CONTROL_STEP_S)))

    def set_formants(self, where: slice, f123: tuple[float, float, float]) -> None:
        self.formants[where, :3] = f123


def _consonant(
    tracks: _Tracks, name: str, start: float, duration: float, vowel: tuple[float, float, float], onset: bool
) -> None:
    """Paint consonant ``name`` over [start, start+duration) seconds."""
    c = CONSONANTS[name]
    whole = tracks.span(start, start + duration)
    tracks.set_formants(whole, c.locus)
    if c.manner == "plosive":
        closure = 0.55 * duration
        burst = min(0.015, 0.2 * duration)
        if c.voiced:
            tracks.voicing[tracks.span(start, start + closure)] = 0.12  # voice bar
            tracks.set_formants(tracks.span(start, start + closure), (200.0, 1000.0, 2400.0))
        burst_span = tracks.span(start + closure, start + closure + burst)
        tracks.frication[burst_span] = 0.9 if not c.voiced else 0.5
        tracks.noise_kind[burst_span, _NOISE_NAMES.index(c.noise)] = 1.0
        release = tracks.span(start + closure + burst, start + duration)
        if c.voiced:
            tracks.voicing[release] = 0.6
        else:
            tracks.aspiration[release] = 0.35 if onset else 0.15
            tracks.set_formants(release, vowel)
    elif c.manner == "fricative":
        tracks.frication[whole] = 0.45 if not c.voiced else 0.25
        tracks.noise_kind[whole, _NOISE_NAMES.index(c.noise)] = 1.0
        if c.voiced:
            tracks.voicing[whole] = 0.35
    elif c.manner == "aspirate":
        tracks.aspiration[whole] = 0.4
        tracks.set_formants(whole, vowel)
    elif c.manner == "nasal":
        tracks.voicing[whole] = 0.45
        tracks.bandwidth_scale[whole] = 2.2
    else:  # approximant
        tracks.voicing[whole] = 0.7


def _plan(tracks: _Tracks, voice: VoiceTraits, start: float, end: float, rng: np.random.Generator) -> None:
    """Fill [start, end) seconds with phrases of (C)V(C) syllables and pauses."""
    names = list(CONSONANTS)
    weights = np.array([CONSONANTS[n].weight for n in names])
    weights /= weights.sum()
    vowels = list(VOWELS)
    rate = float(np.clip(voice.speaking_rate, 2.5, 7.5))
    pitch_range = float(np.clip(voice.pitch_range_st, 1.0, 8.0))
    # Lay out events on an unscaled timeline first, then stretch it to fit [start, end) exactly.
    events: list[tuple[str, float, dict]] = []
    t = 0.0
    length = end - start
    while True:
        n_syllables = int(rng.integers(2, 9))
        phrase_start = t
        question = rng.random() < 0.2
        for s in range(n_syllables):
            duration = rng.lognormal(0.0, 0.22) / rate
            events.append(("syllable", duration, {"index": s, "of": n_syllables, "question": question}))
            t += duration
        events.append(("phrase", t - phrase_start, {}))
        if t >= 0.9 * length:
            break
        pause = float(rng.uniform(0.12, 0.45))
        events.append(("pause", pause, {}))
        t += pause
    scale = length / t
    time = start
    phrase_syllables: list[tuple[float, float]] = []
    for kind, duration, meta in events:
        if kind == "phrase":
            _phrase_intonation(tracks, phrase_syllables, pitch_range, rng)
            phrase_syllables = []
            continue
        duration *= scale
        if kind == "syllable":
            vowel = VOWELS[vowels[int(rng.integers(len(vowels)))]]
            _syllable(tracks, time, duration, vowel, names, weights, rng)
            accent = rng.random() < 0.35 or (meta["index"] == meta["of"] - 1 and meta["question"])
            if accent:
                sign = 1.0 if rng.random() < 0.85 else -0.5
                _bump(tracks, time + 0.3 * duration, time + duration, sign * rng.uniform(0.4, 1.0) * pitch_range)
            if meta["index"] == meta["of"] - 1:
                tail = 0.7 * pitch_range if meta["question"] else -0.6 * pitch_range
                _bump(tracks, time + 0.4 * duration, time + 1.4 * duration, tail)
            phrase_syllables.append((time, time + duration))
        time += duration


def _syllable(
    tracks: _Tracks,
    start: float,
    duration: float,
    vowel: tuple[float, float, float],
    names: list[str],
    weights: np.ndarray,
    rng: np.random.Generator,
) -> None:
    t = start
    if rng.random() < 0.85:
        onset = names[int(rng.choice(len(names), p=weights))]
        onset_duration = duration * rng.uniform(0.25, 0.4)
        _consonant(tracks, onset, t, onset_duration, vowel, onset=True)
        t += onset_duration
    coda_duration = duration * rng.uniform(0.15, 0.25) if rng.random() < 0.3 else 0.0
    nucleus = tracks.span(t, start + duration - coda_duration)
    tracks.voicing[nucleus] = 1.0
    tracks.set_formants(nucleus, vowel)
    if rng.random() < 0.25:  # a diphthong glides to a second target over the vowel's second half
        second = VOWELS[list(VOWELS)[int(rng.integers(len(VOWELS)))]]
        half = slice((nucleus.start + nucleus.stop) // 2, nucleus.stop)
        tracks.set_formants(half, second)
    if coda_duration:
        coda = CODA_CONSONANTS[int(rng.integers(len(CODA_CONSONANTS)))]
        _consonant(tracks, coda, start + duration - coda_duration, coda_duration, vowel, onset=False)


def _bump(tracks: _Tracks, start: float, end: float, height_st: float) -> None:
    """A raised-cosine pitch movement of ``height_st`` semitones over [start, end)."""
    where = tracks.span(start, end)
    n = where.stop - where.start
    if n > 1:
        tracks.accent_st[where] += height_st * np.sin(np.linspace(0.0, np.pi, n))


def _phrase_intonation(
    tracks: _Tracks, syllables: list[tuple[float, float]], pitch_range: float, rng: np.random.Generator
) -> None:
    """Declination: pitch starts high and drifts down over the phrase."""
    if not syllables:
        return
    where = tracks.span(syllables[0][0], syllables[-1][1])
    n = where.stop - where.start
    top = rng.uniform(0.2, 0.5) * pitch_range
    tracks.accent_st[where] += np.linspace(top, -top, n)


def _smooth(track: np.ndarray, seconds: float) -> np.ndarray:
    """Moving average over ``seconds`` along the first axis (coarticulation, soft onsets)."""
    width = max(1, round(seconds / CONTROL_STEP_S))
    if width == 1:
        return track
    kernel = np.hanning(width + 2)[1:-1]
    kernel /= kernel.sum()
    if track.ndim == 1:
        return np.convolve(track, kernel, mode="same")
    return np.stack([np.convolve(track[:, i], kernel, mode="same") for i in range(track.shape[1])], axis=1)


def _glottal_source(
    f0: np.ndarray, voice: VoiceTraits, sample_rate: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Rosenberg flow derivative ``[N]`` (shimmer applied) and the open-phase mask ``[N]``."""
    breathiness = float(np.clip(voice.breathiness, 0.0, 1.0))
    open_quotient = 0.45 + 0.4 * breathiness
    opening = 0.65 * open_quotient
    # Jitter: one random perturbation per nominal period, held over that period.
    nominal = max(40.0, voice.f0_hz)
    n = f0.shape[0]
    periods = int(n * nominal / sample_rate) + 2
    jitter = float(np.clip(voice.jitter, 0.0, 0.05)) * rng.standard_normal(periods)
    f0 = f0 * (1.0 + jitter[(np.arange(n) * nominal / sample_rate).astype(np.int64)])
    phase = np.cumsum(f0 / sample_rate)
    period_index = phase.astype(np.int64)
    tau = phase - period_index
    flow = np.where(
        tau < opening,
        0.5 * (1.0 - np.cos(np.pi * tau / opening)),
        np.where(tau < open_quotient, np.cos(0.5 * np.pi * (tau - opening) / (open_quotient - opening)), 0.0),
    )
    shimmer = np.exp(float(np.clip(voice.shimmer, 0.0, 0.3)) * rng.standard_normal(period_index[-1] + 2))
    flow = flow * shimmer[period_index]
    derivative = np.diff(flow, prepend=0.0) * (sample_rate / 100.0)
    return derivative, tau < open_quotient


_UNIT_CIRCLE: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _resonator_response(formants: np.ndarray, bandwidths: np.ndarray, sample_rate: int, n_fft: int) -> np.ndarray:
    """Complex response of a cascade of 2-pole resonators, unity gain at DC.

    ``formants``, ``bandwidths``: ``[M, 5]`` Hz → complex64 ``[M, n_fft//2 + 1]``.
    """
    if n_fft not in _UNIT_CIRCLE:
        omega = np.linspace(0.0, np.pi, n_fft // 2 + 1)
        _UNIT_CIRCLE[n_fft] = (np.exp(-1j * omega).astype(np.complex64), np.exp(-2j * omega).astype(np.complex64))
    z1, z2 = _UNIT_CIRCLE[n_fft]  # [K]
    freq = np.minimum(formants, 0.46 * sample_rate)  # [M, 5]
    radius = np.exp(-np.pi * bandwidths / sample_rate)
    c = (-2.0 * radius * np.cos(2.0 * np.pi * freq / sample_rate)).astype(np.float32)
    d = (radius * radius).astype(np.float32)
    gain = np.prod(1.0 + c + d, axis=1, keepdims=True)  # [M, 1]
    denominator = 1.0 + c[:, :1] * z1 + d[:, :1] * z2  # [M, K]
    for k in range(1, formants.shape[1]):
        denominator *= 1.0 + c[:, k : k + 1] * z1 + d[:, k : k + 1] * z2
    return gain / denominator


def _noise_response(vtl_scale: float, sample_rate: int, n_fft: int) -> np.ndarray:
    """Magnitude of each frication spectrum: ``[len(NOISE_SHAPES), n_fft//2 + 1]``."""
    freqs = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)
    shapes = []
    for centre, width, gain in NOISE_SHAPES.values():
        centre = min(centre * vtl_scale, 0.85 * sample_rate / 2.0)
        shapes.append(gain / (1.0 + ((freqs - centre) / (0.5 * width)) ** 2))
    return np.array(shapes)


def _mix_noise_shapes(weights: np.ndarray, shapes: np.ndarray) -> np.ndarray:
    """Per-frame frication spectrum: ``weights [M, S]`` × ``shapes [S, K]`` → ``[M, K]``.

    A loop over the few shapes, not a matrix product: BLAS would start threads that spin and
    double the CPU time of every worker process for this tiny product.
    """
    mixed = np.zeros((weights.shape[0], shapes.shape[1]))
    for k in range(shapes.shape[0]):
        mixed += weights[:, k : k + 1] * shapes[k]
    return mixed


def _overlap_add_filter(signals: list[np.ndarray], responses: list[np.ndarray], hop: int, frame: int) -> np.ndarray:
    """Sum of each ``[N]`` signal filtered by its per-frame response ``[M, n_fft//2+1]``."""
    n = signals[0].shape[0]
    n_fft = 2 * frame
    window = np.hanning(frame + 1)[:-1]  # periodic Hann: frames at 50% overlap sum to one
    spectrum = None
    for signal, response in zip(signals, responses, strict=True):
        padded = np.concatenate([np.zeros(frame), signal, np.zeros(2 * frame)])
        frames = np.lib.stride_tricks.sliding_window_view(padded, frame)[::hop][: response.shape[0]]  # [M, W]
        filtered = np.fft.rfft(frames * window, n=n_fft, axis=1) * response  # [M, K]
        spectrum = filtered if spectrum is None else spectrum + filtered
    blocks = np.fft.irfft(spectrum, n=n_fft, axis=1)  # [M, 2W]
    count = blocks.shape[0]
    out = np.zeros((count + n_fft // hop) * hop)
    for k in range(n_fft // hop):
        out[k * hop : k * hop + count * hop] += blocks[:, k * hop : (k + 1) * hop].reshape(-1)
    return out[frame : frame + n]


def synthesize_utterance(
    voice: VoiceTraits,
    rng: np.random.Generator,
    *,
    seconds: float,
    sample_rate: int = SAMPLE_RATE,
    silence_seconds: tuple[float, float] = (0.3, 1.0),
    snr_db: tuple[float, float] = (15.0, 40.0),
) -> tuple[np.ndarray, UtteranceInfo]:
    """One recording of ``voice`` babbling: float32 ``[round(seconds·sample_rate)]`` in [-1, 1].

    Speech fills the file except for a leading and a trailing stretch of background noise, each
    drawn from ``silence_seconds`` and at most a fifth of the file.
    """
    total = round(seconds * sample_rate)
    cap = 0.2 * seconds
    lead = float(rng.uniform(min(silence_seconds[0], cap), min(silence_seconds[1], cap)))
    trail = float(rng.uniform(min(silence_seconds[0], cap), min(silence_seconds[1], cap)))
    steps = int(np.ceil(seconds / CONTROL_STEP_S)) + 1
    tracks = _Tracks(steps)
    _plan(tracks, voice, lead, seconds - trail, rng)

    # Control tracks: formants glide (coarticulation), amplitudes get soft edges.
    vtl_scale = REFERENCE_VTL_CM / float(np.clip(voice.vtl_cm, 10.0, 22.0))
    formants = _smooth(tracks.formants, 0.03) * vtl_scale  # [S, 5] Hz
    bandwidth_scale = _smooth(tracks.bandwidth_scale, 0.02)
    voicing = _smooth(tracks.voicing, 0.012)
    aspiration = _smooth(tracks.aspiration, 0.006)
    frication = _smooth(tracks.frication, 0.004)
    noise_kind = _smooth(tracks.noise_kind, 0.004)
    drift = _smooth(np.cumsum(rng.standard_normal(steps)) * 0.08, 0.3)
    pitch_st = _smooth(tracks.accent_st, 0.05) + drift - drift.mean()

    control_t = np.arange(steps) * CONTROL_STEP_S
    t = np.arange(total) / sample_rate
    f0_base = voice.f0_hz * float(np.exp(rng.normal(0.0, 0.03)))
    tremor = float(np.clip(voice.tremor, 0.0, 0.1))
    f0 = f0_base * 2.0 ** (np.interp(t, control_t, pitch_st) / 12.0)
    f0 *= 1.0 + tremor * np.sin(2.0 * np.pi * rng.uniform(4.5, 6.5) * t + rng.uniform(0, 2 * np.pi))

    glottal, open_phase = _glottal_source(f0, voice, sample_rate, rng)
    breathiness = float(np.clip(voice.breathiness, 0.0, 1.0))
    voicing_n = np.interp(t, control_t, voicing)
    # Aspiration noise, strongest while the glottis is open, at -26 dB (breathiness 0.1) to -8 dB
    # (0.8) under the pulses: a breathy voice has a harmonics-to-noise ratio of ~10 dB, a modal one ~25.
    glottal_rms = float(np.sqrt(np.mean(glottal[voicing_n > 0.5] ** 2))) if np.any(voicing_n > 0.5) else 1.0
    breath_gain = glottal_rms * 10.0 ** ((-28.0 + 25.0 * breathiness) / 20.0) / np.sqrt(0.58)
    breath = rng.standard_normal(total) * (0.3 + 0.7 * open_phase) * breath_gain
    aspiration_n = np.interp(t, control_t, aspiration) * glottal_rms
    excitation = voicing_n * (glottal + breath) + aspiration_n * rng.standard_normal(total)
    frication_noise = np.interp(t, control_t, frication) * glottal_rms * rng.standard_normal(total)

    scale = sample_rate / SAMPLE_RATE  # FRAME and HOP are in samples at the project's rate
    frame, hop = round(FRAME * scale), round(HOP * scale)
    frame_t = (np.arange(int(np.ceil((total + frame) / hop)) + 1) * hop - frame // 2) / sample_rate
    frame_steps = np.clip(np.round(frame_t / CONTROL_STEP_S).astype(np.int64), 0, steps - 1)
    bandwidths = BANDWIDTHS * (1.0 + 0.8 * breathiness) * bandwidth_scale[frame_steps, None]  # [M, 5]
    tract = _resonator_response(formants[frame_steps], bandwidths, sample_rate, 2 * frame)  # [M, K]
    noise_shapes = _mix_noise_shapes(noise_kind[frame_steps], _noise_response(vtl_scale, sample_rate, 2 * frame))
    speech = _overlap_add_filter([excitation, frication_noise], [tract, noise_shapes], hop, frame)

    # Room: direct sound plus an exponentially decaying diffuse tail.
    rt60 = float(rng.uniform(0.12, 0.4))
    tail_t = np.arange(1, round(rt60 * sample_rate)) / sample_rate
    tail = rng.standard_normal(tail_t.shape[0]) * np.exp(-6.91 * tail_t / rt60)
    tail *= np.sqrt(rng.uniform(0.05, 0.25) / np.sum(tail**2) * sample_rate / 1000.0) * 0.1
    speech = fftconvolve(speech, np.concatenate([[1.0], tail]))[:total]

    active = voicing_n > 0.5
    speech_rms = float(np.sqrt(np.mean(speech[active] ** 2))) if active.any() else float(np.std(speech) + 1e-9)
    level_dbfs = float(rng.uniform(-30.0, -16.0))
    speech *= 10.0 ** (level_dbfs / 20.0) / speech_rms
    snr = float(rng.uniform(*snr_db))
    colour = float(rng.uniform(0.0, 0.97))
    background = lfilter([1.0], [1.0, -colour], rng.standard_normal(total))
    background *= 10.0 ** ((level_dbfs - snr) / 20.0) / (np.std(background) + 1e-12)
    signal = speech + background
    peak = float(np.max(np.abs(signal)))
    if peak > 0.95:
        signal *= 0.95 / peak
        level_dbfs += 20.0 * np.log10(0.95 / peak)

    sounding = np.flatnonzero(voicing + aspiration + frication > 1e-3)
    info = UtteranceInfo(
        seconds=round(total / sample_rate, 4),
        speech_start=round(float(control_t[sounding[0]]), 4),
        speech_end=round(float(control_t[sounding[-1]]), 4),
        mean_f0_hz=round(float(np.exp(np.mean(np.log(f0[active])))) if active.any() else f0_base, 2),
        level_dbfs=round(level_dbfs, 2),
        snr_db=round(snr, 2),
        rt60_s=round(rt60, 3),
    )
    return signal.astype(np.float32), info


def to_pcm16(signal: np.ndarray) -> np.ndarray:
    """Float ``[N]`` in [-1, 1] → int16 ``[N]`` (rounded, clipped): the bytes written to WAV."""
    return np.clip(np.round(signal.astype(np.float64) * 32767.0), -32768, 32767).astype(np.int16)
