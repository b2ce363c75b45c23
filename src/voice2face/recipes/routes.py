"""The two routes from a voice to a face, as the bundle build and the demo run them.

``wplus`` (the paper's route): stage 1 trains a voice encoder (:data:`ENCODER_PRESET`); an
unconditional StyleGAN2 is pretrained on unpaired faces (:data:`PRETRAIN_PRESET`) and stays
frozen; the voice side (:data:`MAPPER_PRESET`: the encoder fine-tuned, a voice→W+ mapper) learns
where voices belong in its latent space. ``conditional`` (Wen et al.'s protocol): stage 1, then a
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
#: Stage 1 of both routes (the voice encoder), and stage 2 of the conditional route.
ENCODER_PRESET = "synthvox-quick"
#: The paper's route: the unconditional generator, pretrained on unpaired faces.
PRETRAIN_PRESET = "synthface-64"
#: The paper's route: the voice side on the frozen generator.
MAPPER_PRESET = "synthvox-wplus-64"
#: Weight of the sex/age read-out on the voice embedding while the voice side trains.
ATTRIBUTE_WEIGHT = 1.0


def voice_side_preset(attribute_weight: float = ATTRIBUTE_WEIGHT, steps: int | None = None) -> TrainingPreset:
    """:data:`MAPPER_PRESET` with the voice side's ``attribute_weight`` and, when given, its ``steps``."""
    from voice2face.training.presets import get_preset

    preset = get_preset(MAPPER_PRESET)
    mapper = dataclasses.replace(preset.mapper, attribute_weight=attribute_weight)
    if steps is not None:
        mapper = dataclasses.replace(mapper, steps=steps)
    return dataclasses.replace(preset, mapper=mapper)
