"""The generative model of synthvox identities: shared latents, voice traits and face traits.

Every person has three **shared latents** that both their voice and their face depend on:

- ``sex``: "female" or "male", each with probability 1/2;
- ``age``: years, ``18 + 62·Beta(1.5, 2.0)`` (mean ≈ 44, few over 75);
- ``size``: body/head size as a z-score within sex, N(0, 1). Absolute size is larger for men
  because the sex means differ, so size is correlated with sex as in people.

**Voice traits** (what the synthesiser reads; :class:`VoiceTraits`) are Gaussian given the
latents, with means linear in ``male`` (0/1), ``age01 = (age − 18)/62`` and ``size``:

=================  =============================================================  ========
trait              conditional mean                                               sd
=================  =============================================================  ========
vtl_cm             14.6 + 2.3·male + 0.6·size + 0.5·age01 (cm)                    0.30
log f0             ln(210 − 35·age01) for women, ln(118 + 17·age01²) for men,    0.10
                   − 0.03·size (so F0 ≈ 170–255 Hz women, 95–150 Hz men)
breathiness        0.12 + 0.15·female + 0.35·age01                                0.08
jitter             0.004 + 0.012·age01 (fraction of a period)                     0.002
shimmer            0.03 + 0.07·age01 (fraction of amplitude)                      0.015
tremor             0.002 + 0.025·age01² (fractional 5 Hz F0 modulation)           0.004
speaking_rate      5.0 − 1.0·age01 (syllables per second)                         0.45
pitch_range_st     3.0 + 1.0·female (semitones of intonation)                     0.7
=================  =============================================================  ========

**Face traits** (what the renderer reads; :class:`FaceTraits`) are of three kinds:

- revealed by the voice too, because they depend on age or size: ``head_size``
  N(0.045·size + 0.04·male, 0.02); ``jaw_width`` N(−0.5 + 1.0·male + 0.35·size, 0.45);
  ``face_length`` N(−0.3 + 0.6·male + 0.35·size + 0.2·age01, 0.45); ``wrinkles``
  N(1.1·age01 − 0.15, 0.12); ``greyness`` N(1.6·age01 − 0.45, 0.25); ``bald`` (men only) with
  probability 0.04 + 0.55·age01^1.5; ``glasses`` with probability 0.1 + 0.4·age01;
- dependent on sex only: ``sex`` itself (a face shows it), hair style when not bald, facial
  hair (men only: none, stubble, moustache, beard, goatee), brow thickness, lip fullness;
- hidden from the voice entirely: skin tone, hair colour, eye colour, the sizes and spacing of
  eyes, nose, mouth and ears, lip tint, the colour of glasses frames, the hair parting.

The voice synthesiser reads only :class:`VoiceTraits` and the renderer only :class:`FaceTraits`
(never the latents), so everything a voice can say about a face passes through the latents,
which is what :mod:`voice2face.data.synthvox.ceiling` uses to compute the best achievable
matching. Trait values are rounded to 4 decimals when drawn, so the manifest holds them exactly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

SEXES = ("female", "male")
AGE_RANGE = (18.0, 80.0)
AGE_BETA = (1.5, 2.0)

HAIR_STYLES = ("bald", "buzz", "short", "medium", "long", "bun")
#: P(style | sex, not bald): depends on sex only.
HAIR_STYLE_PROBS = {
    "female": {"buzz": 0.01, "short": 0.06, "medium": 0.26, "long": 0.55, "bun": 0.12},
    "male": {"buzz": 0.17, "short": 0.69, "medium": 0.10, "long": 0.04, "bun": 0.0},
}
FACIAL_HAIR = ("none", "stubble", "moustache", "beard", "goatee")
FACIAL_HAIR_PROBS_MALE = {"none": 0.45, "stubble": 0.2, "moustache": 0.1, "beard": 0.2, "goatee": 0.05}
#: Hair colours (name, RGB) and their probabilities: hidden from the voice.
HAIR_COLOURS = {
    "black": ((28, 24, 22), 0.33),
    "dark_brown": ((62, 42, 30), 0.30),
    "brown": ((110, 74, 44), 0.15),
    "blond": ((196, 160, 98), 0.12),
    "auburn": ((128, 54, 30), 0.05),
    "red": ((170, 72, 38), 0.05),
}
EYE_COLOURS = {
    "brown": ((84, 52, 30), 0.5),
    "hazel": ((120, 96, 50), 0.15),
    "blue": ((70, 110, 160), 0.2),
    "green": ((76, 120, 80), 0.1),
    "grey": ((118, 126, 134), 0.05),
}

GLASSES_FRAMES = {"black": (25, 25, 28), "metal": (150, 150, 155), "tortoise": (92, 58, 34), "navy": (30, 40, 80)}
GLASSES_FRAME_PROBS = {"black": 0.4, "metal": 0.3, "tortoise": 0.2, "navy": 0.1}

VOICE_SD = {
    "vtl_cm": 0.30,
    "log_f0": 0.10,
    "breathiness": 0.08,
    "jitter": 0.002,
    "shimmer": 0.015,
    "tremor": 0.004,
    "speaking_rate": 0.45,
    "pitch_range_st": 0.7,
}
#: Face traits that depend on age or size, Gaussian given the latents.
FACE_SD = {
    "head_size": 0.02,
    "jaw_width": 0.45,
    "face_length": 0.45,
    "wrinkles": 0.12,
    "greyness": 0.25,
}


def voice_means(male: Any, age01: Any, size: Any) -> dict[str, np.ndarray]:
    """Conditional means of the voice observables given latents (broadcasting arrays).

    ``male`` is 0/1, ``age01 = (age − 18)/62``, ``size`` a z-score. Keys as :data:`VOICE_SD`.
    """
    male, age01, size = (np.asarray(v, dtype=np.float64) for v in (male, age01, size))
    female = 1.0 - male
    f0_female = 210.0 - 35.0 * age01
    f0_male = 118.0 + 17.0 * age01**2
    return {
        "vtl_cm": 14.6 + 2.3 * male + 0.6 * size + 0.5 * age01,
        "log_f0": np.log(female * f0_female + male * f0_male) - 0.03 * size,
        "breathiness": 0.12 + 0.15 * female + 0.35 * age01,
        "jitter": 0.004 + 0.012 * age01,
        "shimmer": 0.03 + 0.07 * age01,
        "tremor": 0.002 + 0.025 * age01**2,
        "speaking_rate": 5.0 - 1.0 * age01,
        "pitch_range_st": 3.0 + 1.0 * female,
    }


def face_means(male: Any, age01: Any, size: Any) -> dict[str, np.ndarray]:
    """Conditional means of the age/size-dependent face traits (keys as :data:`FACE_SD`)."""
    male, age01, size = (np.asarray(v, dtype=np.float64) for v in (male, age01, size))
    return {
        "head_size": 0.045 * size + 0.04 * male,
        "jaw_width": -0.5 + 1.0 * male + 0.35 * size,
        "face_length": -0.3 + 0.6 * male + 0.35 * size + 0.2 * age01,
        "wrinkles": 1.1 * age01 - 0.15,
        "greyness": 1.6 * age01 - 0.45,
    }


def bald_probability(male: Any, age01: Any) -> np.ndarray:
    """P(bald | sex, age): men only, rising with age."""
    return np.asarray(male, dtype=np.float64) * (0.04 + 0.55 * np.asarray(age01, dtype=np.float64) ** 1.5)


def glasses_probability(age01: Any) -> np.ndarray:
    """P(glasses | age)."""
    return 0.1 + 0.4 * np.asarray(age01, dtype=np.float64)


@dataclass(frozen=True)
class Latent:
    """The shared latents: sex ("female"/"male"), age (years), size (z-score within sex)."""

    sex: str
    age: float
    size: float

    @property
    def male(self) -> float:
        """1.0 for men, 0.0 for women."""
        return float(self.sex == "male")

    @property
    def age01(self) -> float:
        """Age mapped to [0, 1] over :data:`AGE_RANGE`."""
        return float(age_to_unit(self.age))


@dataclass(frozen=True)
class VoiceTraits:
    """Everything the voice synthesiser knows about a person (units in the module docstring)."""

    f0_hz: float
    vtl_cm: float
    breathiness: float
    jitter: float
    shimmer: float
    tremor: float
    speaking_rate: float
    pitch_range_st: float

    def observables(self) -> dict[str, float]:
        """The values in the space where the model is Gaussian (keys as :data:`VOICE_SD`)."""
        values = dataclasses.asdict(self)
        values["log_f0"] = float(np.log(values.pop("f0_hz")))
        return values


@dataclass(frozen=True)
class FaceTraits:
    """Everything the face renderer knows about a person.

    Sizes and shapes are z-scores (``head_size`` a relative scale around 0); ``wrinkles`` and
    ``greyness`` are clipped to [0, 1] when drawn; ``skin_tone`` 0 (lightest) … 1 (darkest).
    """

    sex: str
    head_size: float
    jaw_width: float
    face_length: float
    wrinkles: float
    greyness: float
    bald: bool
    glasses: bool
    hair_style: str
    facial_hair: str
    brow_thickness: float
    lip_fullness: float
    skin_tone: float
    hair_colour: str
    eye_colour: str
    eye_size: float
    eye_spacing: float
    nose_length: float
    nose_width: float
    mouth_width: float
    ear_size: float
    lip_tint: float
    glasses_frame: str
    hair_parting: float


@dataclass(frozen=True)
class Identity:
    """One synthetic person: index, id, shared latents, voice and face traits."""

    index: int
    id: str
    latent: Latent
    voice: VoiceTraits
    face: FaceTraits

    def traits_dict(self) -> dict[str, dict[str, Any]]:
        """The full traits as stored in the manifest (``traits`` of an identity)."""
        return {
            "latent": dataclasses.asdict(self.latent),
            "voice": dataclasses.asdict(self.voice),
            "face": dataclasses.asdict(self.face),
        }

    @classmethod
    def from_traits_dict(cls, index: int, identity_id: str, traits: dict[str, dict[str, Any]]) -> Identity:
        """Rebuild an identity from a manifest's ``traits`` (KeyError/TypeError if malformed)."""
        return cls(
            index,
            identity_id,
            Latent(**traits["latent"]),
            VoiceTraits(**traits["voice"]),
            FaceTraits(**traits["face"]),
        )


def age_to_unit(age: Any) -> np.ndarray:
    """``(age − 18) / 62``: age in years mapped to [0, 1] (broadcasting)."""
    low, high = AGE_RANGE
    return (np.asarray(age, dtype=np.float64) - low) / (high - low)


# Independent random streams of one identity: traits, then one per utterance and per image.
STREAM_TRAITS, STREAM_VOICE, STREAM_FACE = 0, 1, 2
# The corpus-wide stream (the split) has a spawn key of another length, so it never meets an item's.
_CORPUS_STREAM = (0,)


def item_rng(seed: int, identity_index: int, stream: int, item: int = 0) -> np.random.Generator:
    """The generator of one item, derived from (seed, identity, stream, item) alone.

    Results therefore do not depend on how work is spread over processes, or in which order.
    """
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(identity_index, stream, item)))


def corpus_rng(seed: int) -> np.random.Generator:
    """The generator of corpus-wide draws (the identity split), independent of every item's."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=_CORPUS_STREAM))


def identity_id(index: int) -> str:
    """The identity's name in a synthvox corpus, e.g. ``sv00042``."""
    return f"sv{index:05d}"


def _r(value: float) -> float:
    return round(float(value), 4)


def _choice(rng: np.random.Generator, probs: dict[str, float]) -> str:
    names = list(probs)
    weights = np.array([probs[n] for n in names], dtype=np.float64)
    return names[int(rng.choice(len(names), p=weights / weights.sum()))]


def _colour_choice(rng: np.random.Generator, table: dict[str, tuple[tuple[int, int, int], float]]) -> str:
    return _choice(rng, {name: prob for name, (_, prob) in table.items()})


def draw_face_traits(rng: np.random.Generator, latent: Latent, *, typical: bool = False) -> FaceTraits:
    """Draw a face for a person with ``latent`` from the model in the module docstring.

    :func:`draw_identity` calls it after the voice traits, so the order of draws from ``rng``
    is part of every corpus: keep it. Given other latents (a posterior draw, say) it gives a
    fresh face of such a person, everything the latents do not fix drawn anew.

    ``typical``: the traits that the latents decide take their most likely values given them (the
    conditional means of :func:`face_means`; bald and glasses when their probability exceeds ½);
    everything the latents do not decide is still drawn. The same draws are made either way.
    """
    male, age01 = latent.male, latent.age01
    f_mean = face_means(male, age01, latent.size)
    keep = 0.0 if typical else 1.0
    f = {name: _r(float(f_mean[name]) + keep * sd * rng.standard_normal()) for name, sd in FACE_SD.items()}
    p_bald, p_glasses = float(bald_probability(male, age01)), float(glasses_probability(age01))
    bald, glasses = bool(rng.random() < p_bald), bool(rng.random() < p_glasses)
    if typical:
        bald, glasses = p_bald > 0.5, p_glasses > 0.5
    hair_style = "bald" if bald else _choice(rng, HAIR_STYLE_PROBS[latent.sex])
    facial_hair = _choice(rng, FACIAL_HAIR_PROBS_MALE) if latent.sex == "male" else "none"
    # Keyword arguments are evaluated in order, so this list fixes the order of the draws.
    return FaceTraits(
        sex=latent.sex,
        **f,
        bald=bald,
        glasses=glasses,
        hair_style=hair_style,
        facial_hair=facial_hair,
        brow_thickness=_r(1.2 * male - 0.6 + 0.5 * rng.standard_normal()),
        lip_fullness=_r(0.6 - 1.2 * male + 0.5 * rng.standard_normal()),
        skin_tone=_r(rng.random()),
        hair_colour=_colour_choice(rng, HAIR_COLOURS),
        eye_colour=_colour_choice(rng, EYE_COLOURS),
        eye_size=_r(rng.standard_normal()),
        eye_spacing=_r(rng.standard_normal()),
        nose_length=_r(rng.standard_normal()),
        nose_width=_r(rng.standard_normal()),
        mouth_width=_r(rng.standard_normal()),
        ear_size=_r(rng.standard_normal()),
        lip_tint=_r(rng.random()),
        glasses_frame=_choice(rng, GLASSES_FRAME_PROBS),
        hair_parting=_r(rng.uniform(-1.0, 1.0)),
    )


def draw_identity(seed: int, index: int) -> Identity:
    """Draw person ``index`` of the corpus with ``seed`` from the model in the module docstring."""
    rng = item_rng(seed, index, STREAM_TRAITS)
    sex = SEXES[int(rng.integers(2))]
    low, high = AGE_RANGE
    age = low + (high - low) * rng.beta(*AGE_BETA)
    size = rng.standard_normal()
    latent = Latent(sex=sex, age=_r(age), size=_r(size))
    male, age01 = latent.male, latent.age01

    v_mean = voice_means(male, age01, latent.size)
    v = {name: float(v_mean[name]) + sd * rng.standard_normal() for name, sd in VOICE_SD.items()}
    voice = VoiceTraits(
        f0_hz=_r(np.exp(v["log_f0"])),
        **{name: _r(value) for name, value in v.items() if name != "log_f0"},
    )

    face = draw_face_traits(rng, latent)
    return Identity(index=index, id=identity_id(index), latent=latent, voice=voice, face=face)
