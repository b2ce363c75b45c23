"""Conditional StyleGAN2 (Karras et al. 2020, config F): mapping, synthesis, generator and
residual discriminator with projection conditioning and an identity head.

Module names, parameter names, shapes and initialisation follow the official
stylegan2-ada-pytorch networks, so parameter counts equal theirs for the same config
(1024 px config F: G 30,370,060, D 29,012,513) and their state-dict keys map one to one.
Differences, all opt-in or outside the official behaviour: no mixed precision
(``num_fp16_res``); the discriminator may carry an identity classifier on its trunk
(``num_identities``, after Wen et al. 2019); noise may be drawn from a given
``torch.Generator``; a minibatch that the group size does not divide still works.

In voice2face the condition ``c`` is the 512-d voice embedding (``c_dim=512``).

The code is split by what it is about: :mod:`.mapping` (z, c → w), :mod:`.generator` (synthesis
and the generator) and :mod:`.discriminator`; every name is importable from here.
"""

from voice2face.models.stylegan2.discriminator import (
    D_ARCHITECTURES,
    Discriminator,
    DiscriminatorBlock,
    DiscriminatorEpilogue,
    downsample_image,
)
from voice2face.models.stylegan2.generator import (
    RESAMPLE_FILTER,
    Generator,
    SynthesisBlock,
    SynthesisLayer,
    SynthesisNetwork,
    ToRGBLayer,
)
from voice2face.models.stylegan2.mapping import MappingNetwork, mix_styles

__all__ = [
    "D_ARCHITECTURES",
    "RESAMPLE_FILTER",
    "Discriminator",
    "DiscriminatorBlock",
    "DiscriminatorEpilogue",
    "Generator",
    "MappingNetwork",
    "SynthesisBlock",
    "SynthesisLayer",
    "SynthesisNetwork",
    "ToRGBLayer",
    "downsample_image",
    "mix_styles",
]
