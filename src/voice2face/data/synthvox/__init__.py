"""synthvox: a synthetic paired voice–face corpus with known ground truth.

People are drawn from a documented generative model (:mod:`.traits`); their voices come from a
source–filter synthesiser (:mod:`.voice`) and their faces from a renderer (:mod:`.face`), both
driven by the same latent traits; :mod:`.ceiling` computes the best identity matching any
model can reach; :mod:`.corpus` writes it all as a prepared dataset.
"""

from voice2face.data.synthvox.ceiling import chance_levels, identity_ceiling
from voice2face.data.synthvox.corpus import generate_corpus, generate_identity
from voice2face.data.synthvox.face import render_face
from voice2face.data.synthvox.traits import FaceTraits, Identity, Latent, VoiceTraits, draw_identity
from voice2face.data.synthvox.voice import synthesize_utterance

__all__ = [
    "FaceTraits",
    "Identity",
    "Latent",
    "VoiceTraits",
    "chance_levels",
    "draw_identity",
    "generate_corpus",
    "generate_identity",
    "identity_ceiling",
    "render_face",
    "synthesize_utterance",
]
