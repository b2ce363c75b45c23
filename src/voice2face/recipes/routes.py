"""The two routes from a voice to a face, as the bundle build and the demo run them.

``wplus`` (the paper's route): stage 1 trains a voice encoder (the voice side's preset's, see
:func:`stage1_preset`); an unconditional StyleGAN2 is pretrained on unpaired faces
(:data:`PRETRAIN_PRESET`) and stays frozen; the voice side (:data:`MAPPER_PRESET`, label-free, or the
labelled :data:`SELECTION_PRESET`: the encoder fine-tuned, and a mapper) learns where voices belong
among its faces. ``conditional`` (Wen et al.'s protocol): stage 1, then a
conditional StyleGAN2 trained from nothing on the paired corpus (stage 2 of :data:`ENCODER_PRESET`).

Both recipes take their presets and the voice side's settings from here, so the demo trains what
the bundle ships.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voice2face.config import TrainingPreset

ROUTES = ("wplus", "conditional")
#: The route the bundle ships and the demo runs unless told otherwise.
DEFAULT_ROUTE = "wplus"
#: The demo's time budget in minutes (issue 19: a new user's first run on 2 idle cores).
DEMO_MINUTES = 10.0
#: Stage 1 and stage 2 of the conditional route (the voice encoder, then the conditional generator).
ENCODER_PRESET = "synthvox-quick"
#: The paper's route: the unconditional generator, pretrained on unpaired faces.
PRETRAIN_PRESET = "synthface-64"
#: The paper's route: the voice side on the frozen generator, label-free (issue 30): it reads identity
#: ids, recordings, photos and, where the data records it, each person's sex; its stage 1 hears the
#: voicing rows beside the MFCCs.
MAPPER_PRESET = "synthvox-pool-64"
#: The labelled reference of the paper's route (issue 14's bundle): a trait reader trained on synthvox's
#: per-face labels (sex, age, jaw width, face length, head size) chooses the face; a corpus without
#: those labels is refused.
SELECTION_PRESET = "synthvox-wplus-64"
#: The voice sides the paper's route can be built with (``--mapper-preset``).
MAPPER_PRESETS = (MAPPER_PRESET, SELECTION_PRESET)
#: Weight of the sex (and, in the selection preset, age) read-out on the voice embedding while the
#: voice side trains.
ATTRIBUTE_WEIGHT = 1.0


def stage1_preset(route: str, mapper_preset: str = MAPPER_PRESET) -> str:
    """The preset whose voice encoder stage 1 trains: the voice side's own on the paper's route (each
    voice side fine-tunes the encoder it was designed with), :data:`ENCODER_PRESET` on the other."""
    return mapper_preset if route == "wplus" else ENCODER_PRESET


def voice_side_preset(
    attribute_weight: float = ATTRIBUTE_WEIGHT, steps: int | None = None, name: str = MAPPER_PRESET
) -> TrainingPreset:
    """The voice side's preset ``name`` with its ``attribute_weight`` and, when given, its ``steps``."""
    from voice2face.training.presets import get_preset

    preset = get_preset(name)
    mapper = dataclasses.replace(preset.mapper, attribute_weight=attribute_weight)
    if steps is not None:
        mapper = dataclasses.replace(mapper, steps=steps)
    return dataclasses.replace(preset, mapper=mapper)
