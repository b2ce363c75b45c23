"""NVIDIA network records (read by :mod:`.unpickler`) → our StyleGAN2 configs and state dicts.

Both official PyTorch releases store the same StyleGAN2 networks (stylegan2-ada-pytorch's
``training/networks.py``, stylegan3's ``training/networks_stylegan2.py``), with the same module and
tensor names as ours. They differ in how the generator's init arguments are nested
(``synthesis_kwargs={...}`` against flat keywords) and in some defaults, so the settings are read
from what each object carried (``self.conv_clamp`` of every synthesis layer and the like), and the
channel rule from the init arguments. What we do not build is refused with the reason:
StyleGAN3's alias-free synthesis, the ``orig``/``resnet`` generator architectures, activations
other than leaky ReLU, a ``skip`` or ``orig`` discriminator.
"""

from __future__ import annotations

import re
from typing import Any

import torch

from voice2face.config import DiscriminatorConfig, GeneratorConfig
from voice2face.errors import CheckpointError, ConfigError
from voice2face.models.pretrained.unpickler import PersistentRecord

#: The official defaults of the channel rule, the same in both releases.
OFFICIAL_CHANNEL_BASE = 32768
OFFICIAL_CHANNEL_MAX = 512
BLOCK_NAME = re.compile(r"b\d+")


def _one(values: set[Any], what: str, where: str) -> Any:
    if len(values) != 1:
        raise CheckpointError(f"{where} mixes {what} across layers ({sorted(map(str, values))}); voice2face builds "
                              "StyleGAN2 with one value for every layer.")  # fmt: skip
    return next(iter(values))


def _expect(record: PersistentRecord | None, class_name: str, what: str, where: str) -> PersistentRecord:
    if record is None or record.class_name != class_name:
        found = "nothing" if record is None else f"a {record.class_name}"
        raise CheckpointError(f"{where}'s {what} is {found}, not a StyleGAN2 {class_name}; give a StyleGAN2 network "
                              "pickle (stylegan2-ada-pytorch, or stylegan3's stylegan2-*.pkl).")  # fmt: skip
    return record


def _attr(record: PersistentRecord, name: str, where: str) -> Any:
    value = record.attr(name, record.init_kwargs.get(name))
    if value is None:
        raise CheckpointError(f"{where}'s {record.class_name} does not say its {name}; the pickle is damaged or "
                              "not from an official release.")  # fmt: skip
    return value


def _config(build: type, where: str, what: str, **fields: Any) -> Any:
    try:
        return build(**fields)
    except (ConfigError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{where}'s {what} has settings voice2face cannot build ({exc}).") from None


def generator_from_record(record: PersistentRecord, where: str) -> tuple[GeneratorConfig, dict[str, torch.Tensor]]:
    """The config and state dict of an official StyleGAN2 ``Generator`` record (``G_ema``).

    CheckpointError, naming ``where``, for a network we do not build (StyleGAN3's alias-free
    synthesis among them).
    """
    _expect(record, "Generator", "G_ema", where)
    synthesis = record.child("synthesis")
    blocks = synthesis.children() if synthesis is not None else {}
    if synthesis is None or not blocks or not all(BLOCK_NAME.fullmatch(name) for name in blocks):
        layers = ", ".join(list(blocks)[:3]) or "none"
        raise CheckpointError(f"{where} holds a synthesis network that voice2face does not build (its layers: "
                              f"{layers} …, as in StyleGAN3's alias-free generator); import a StyleGAN2 checkpoint "
                              "(config E/F, e.g. stylegan2-ffhq-1024x1024.pkl) instead.")  # fmt: skip
    _expect(synthesis, "SynthesisNetwork", "G_ema.synthesis", where)
    mapping = _expect(record.child("mapping"), "MappingNetwork", "G_ema.mapping", where)
    records = list(synthesis.walk())
    layers = [r for r in records if r.class_name == "SynthesisLayer"]
    architecture = _one({r.attr("architecture", "skip") for r in records if r.class_name == "SynthesisBlock"},
                        "block architectures", where)  # fmt: skip
    activation = _one({r.attr("activation", "lrelu") for r in layers}, "activations", where)
    fc_layers = [r for name, r in mapping.children().items() if r is not None and name.startswith("fc")]
    if architecture != "skip" or activation != "lrelu" or {r.attr("activation") for r in fc_layers} != {"lrelu"}:
        raise CheckpointError(f"{where} holds a StyleGAN2 generator of the {architecture!r} architecture with "
                              f"{activation!r} activations; voice2face builds the 'skip' architecture with leaky "
                              "ReLU (config E/F) only.")  # fmt: skip
    kwargs = record.init_kwargs
    synthesis_kwargs = {**kwargs, **dict(kwargs.get("synthesis_kwargs") or {})}  # nested (ada) or flat (stylegan3)
    beta = mapping.attr("w_avg_beta")
    config = _config(
        GeneratorConfig, where, "G_ema", family="stylegan2",
        z_dim=int(_attr(record, "z_dim", where)), c_dim=int(_attr(record, "c_dim", where)),
        w_dim=int(_attr(record, "w_dim", where)), img_resolution=int(_attr(record, "img_resolution", where)),
        img_channels=int(_attr(record, "img_channels", where)),
        channel_base=int(synthesis_kwargs.get("channel_base", OFFICIAL_CHANNEL_BASE)),
        channel_max=int(synthesis_kwargs.get("channel_max", OFFICIAL_CHANNEL_MAX)),
        mapping_layers=int(_attr(mapping, "num_layers", where)),
        mapping_lr_multiplier=float(_one({r.attr("bias_gain", 1) for r in fc_layers}, "mapping learning rates", where)),
        # None ("do not track") or 1 (a converted TensorFlow pickle) only matter in training: keep ours
        w_avg_beta=float(beta) if isinstance(beta, float) and 0 <= beta < 1 else GeneratorConfig.w_avg_beta,
        conv_clamp=_one({r.attr("conv_clamp") for r in layers}, "conv_clamp", where),
        use_noise=bool(_one({r.attr("use_noise", True) for r in layers}, "noise inputs", where)),
    )  # fmt: skip
    return config, record.tensors()


def discriminator_from_record(
    record: PersistentRecord, where: str
) -> tuple[DiscriminatorConfig, dict[str, torch.Tensor]]:
    """The config and state dict of an official StyleGAN2 ``Discriminator`` record (``D``)."""
    _expect(record, "Discriminator", "D", where)
    kwargs = record.init_kwargs
    blocks = [r for name, r in record.children().items() if r is not None and name != "b4" and BLOCK_NAME.match(name)]
    architecture = kwargs.get("architecture", blocks[0].attr("architecture") if blocks else None)
    if architecture != "resnet":
        raise CheckpointError(f"{where} holds a discriminator of the {architecture!r} architecture; voice2face builds "
                              "the residual ('resnet') one only: import without --discriminator.")  # fmt: skip
    epilogue = _expect(record.child("b4"), "DiscriminatorEpilogue", "D.b4", where)
    mbstd = epilogue.child("mbstd")
    c_dim = int(_attr(record, "c_dim", where))
    mapping = record.child("mapping")
    conv = _expect(epilogue.child("conv"), "Conv2dLayer", "D.b4.conv", where)
    config = _config(
        DiscriminatorConfig, where, "D", family="stylegan2", c_dim=c_dim,
        img_resolution=int(_attr(record, "img_resolution", where)),
        img_channels=int(_attr(record, "img_channels", where)),
        channel_base=int(kwargs.get("channel_base", OFFICIAL_CHANNEL_BASE)),
        channel_max=int(kwargs.get("channel_max", OFFICIAL_CHANNEL_MAX)),
        cmap_dim=int(epilogue.attr("cmap_dim")) if c_dim > 0 else None,
        mapping_layers=int(mapping.attr("num_layers", 8)) if mapping is not None else 8,
        mbstd_group_size=mbstd.attr("group_size") if mbstd is not None else 4,
        mbstd_num_channels=int(mbstd.attr("num_channels", 1)) if mbstd is not None else 0,
        conv_clamp=conv.attr("conv_clamp"), num_identities=0,
    )  # fmt: skip
    return config, record.tensors()
