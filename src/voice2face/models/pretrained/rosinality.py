"""rosinality/stylegan2-pytorch checkpoints (``.pt``): read with ``torch.load(weights_only=True)``,
their layer names mapped to ours, and the config their tensor shapes imply.

The networks compute what the official ones do with the same numbers in other places: a
modulated convolution's weight carries a leading 1 (``[1, out, in, k, k]``), its bias sits in the
activation (``activate.bias``), noise strengths are ``[1]``, the constant input ``[1, C, 4, 4]``, a
toRGB bias ``[1, 3, 1, 1]``, the mapping layers follow a PixelNorm (``style.1`` … ``style.8``) with
learning-rate multiplier 0.01 (their default), and the noise buffers are numbered by layer
(``noises.noise_0`` for the 4×4 conv, then two per resolution). Their FIR kernels
(``*.kernel``) must be the [1, 3, 3, 1] filter we build. A checkpoint keeps no ``w_avg`` unless it
was converted from NVIDIA's (``latent_avg``).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from voice2face.config import DiscriminatorConfig, GeneratorConfig
from voice2face.errors import CheckpointError, ConfigError
from voice2face.models.ops import channels_per_resolution, setup_filter
from voice2face.models.pretrained.unpickler import contents, damaged
from voice2face.models.stylegan2 import RESAMPLE_FILTER

#: The only class a rosinality training checkpoint pickles besides tensors: its command-line options.
ALLOWED_CLASSES = (argparse.Namespace,)
#: The mapping network's learning-rate multiplier (rosinality's ``lr_mlp`` default; not stored).
LR_MULTIPLIER = 0.01
#: What an unsupported global looks like in torch's weights-only refusal.
_REFUSED_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")


def read_pt(path: Path) -> dict[str, Any]:
    """The checkpoint's top-level dict (``g_ema``, ``d``, ``args``, ``latent_avg`` …), tensors only
    plus the allowed classes. CheckpointError naming ``path`` for anything else."""
    try:
        with torch.serialization.safe_globals(list(ALLOWED_CLASSES)):
            data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError and others for bad files
        refused = _REFUSED_GLOBAL.search(str(exc))
        if refused is None:
            raise damaged(path, exc) from None
        raise CheckpointError(f"Refused {path}: it asks to load {refused.group(1)}, which no rosinality StyleGAN2 "
                              "checkpoint needs, so nothing in it was run; use the checkpoint its training "
                              "wrote.") from None  # fmt: skip
    if not isinstance(data, dict) or not isinstance(data.get("g_ema"), dict):
        raise CheckpointError(f"{path} is a PyTorch file but holds no rosinality g_ema generator (it holds: "
                              f"{contents(data)}); give a checkpoint written by rosinality's train.py or "
                              "convert_weight.py.")  # fmt: skip
    return data


class _Names:
    """Takes tensors from a rosinality state dict by name, remembering which were used."""

    def __init__(self, state: Mapping[str, Any], where: str, what: str):
        self.state, self.where, self.what, self.used = state, where, what, set()

    def take(self, name: str) -> torch.Tensor:
        value = self.state.get(name)
        if not isinstance(value, torch.Tensor):
            network = "generator" if self.what == "g_ema" else "discriminator"
            raise CheckpointError(f"{self.where}'s {self.what} has no {name}; it is not a rosinality StyleGAN2 "
                                  f"{network} voice2face imports.")  # fmt: skip
        self.used.add(name)
        return value

    def count(self, pattern: str) -> int:
        return sum(1 for name in self.state if re.fullmatch(pattern, name))

    def check_filters_and_rest(self) -> None:
        """Every FIR kernel is [1, 3, 3, 1] (up to its gain) and no tensor is left unmapped."""
        reference = setup_filter(RESAMPLE_FILTER)
        for name, value in self.state.items():
            if name.endswith(".kernel") and isinstance(value, torch.Tensor):
                if value.shape != reference.shape or not torch.allclose(value / value.sum(), reference):
                    raise CheckpointError(f"{self.where}'s {self.what} resamples with another filter ({name}); "
                                          "voice2face builds the [1, 3, 3, 1] filter only.")  # fmt: skip
                self.used.add(name)
        rest = sorted(set(self.state) - self.used)
        if rest:
            raise CheckpointError(f"{self.where}'s {self.what} has layers a StyleGAN2 network does not "
                                  f"({', '.join(rest[:4])}); voice2face imports model.py's networks only.")  # fmt: skip


def _channel_rule(channels: dict[int, int], where: str) -> tuple[int, int]:
    """The (channel_base, channel_max) that give ``channels`` by the official rule, or CheckpointError."""
    channel_max = max(channels.values())
    below = [res for res, count in channels.items() if count < channel_max]
    channel_base = max(channels[res] * res for res in below) if below else channel_max * max(channels)
    if channels_per_resolution(list(channels), channel_base, channel_max) != channels:
        raise CheckpointError(f"{where}'s feature maps per resolution ({channels}) do not follow StyleGAN2's rule "
                              "min(channel_base / resolution, channel_max); voice2face cannot build them.")  # fmt: skip
    return channel_base, channel_max


def _build_config(build: type, where: str, **fields: Any) -> Any:
    try:
        return build(**fields)
    except ConfigError as exc:
        raise CheckpointError(f"{where} describes a network voice2face cannot build ({exc}).") from None


def generator_from_state(state: Mapping[str, Any], where: str) -> tuple[GeneratorConfig, dict[str, torch.Tensor]]:
    """Our config and state dict for rosinality's ``g_ema`` (without ``mapping.w_avg`` and the
    ``resample_filter`` buffers, which the checkpoint does not hold in our form)."""
    names = _Names(state, where, "g_ema")
    ours: dict[str, torch.Tensor] = {}
    n_mlp = names.count(r"style\.\d+\.weight")
    for index in range(n_mlp):  # style.0 is the PixelNorm
        ours[f"mapping.fc{index}.weight"] = names.take(f"style.{index + 1}.weight")
        ours[f"mapping.fc{index}.bias"] = names.take(f"style.{index + 1}.bias")

    def styled_conv(theirs: str, mine: str, noise_index: int) -> None:
        ours[f"{mine}.weight"] = names.take(f"{theirs}.conv.weight")[0]  # [1, out, in, k, k] → [out, in, k, k]
        ours[f"{mine}.affine.weight"] = names.take(f"{theirs}.conv.modulation.weight")
        ours[f"{mine}.affine.bias"] = names.take(f"{theirs}.conv.modulation.bias")
        ours[f"{mine}.noise_strength"] = names.take(f"{theirs}.noise.weight").reshape([])
        ours[f"{mine}.noise_const"] = names.take(f"noises.noise_{noise_index}")[0, 0]  # [1, 1, R, R] → [R, R]
        ours[f"{mine}.bias"] = names.take(f"{theirs}.activate.bias")

    def to_rgb(theirs: str, mine: str) -> None:
        ours[f"{mine}.weight"] = names.take(f"{theirs}.conv.weight")[0]
        ours[f"{mine}.affine.weight"] = names.take(f"{theirs}.conv.modulation.weight")
        ours[f"{mine}.affine.bias"] = names.take(f"{theirs}.conv.modulation.bias")
        ours[f"{mine}.bias"] = names.take(f"{theirs}.bias").reshape(-1)  # [1, 3, 1, 1] → [3]

    ours["synthesis.b4.const"] = names.take("input.input")[0]  # [1, C, 4, 4] → [C, 4, 4]
    styled_conv("conv1", "synthesis.b4.conv1", 0)
    to_rgb("to_rgb1", "synthesis.b4.torgb")
    upsampling_blocks = names.count(r"to_rgbs\.\d+\.conv\.weight")
    for index in range(upsampling_blocks):
        block = f"synthesis.b{2 ** (index + 3)}"
        styled_conv(f"convs.{2 * index}", f"{block}.conv0", 2 * index + 1)
        styled_conv(f"convs.{2 * index + 1}", f"{block}.conv1", 2 * index + 2)
        to_rgb(f"to_rgbs.{index}", f"{block}.torgb")
    names.check_filters_and_rest()

    resolution = 2 ** (upsampling_blocks + 2)
    channels = {2 ** (k + 2): ours[f"synthesis.b{2 ** (k + 2)}.conv1.weight"].shape[0]
                for k in range(upsampling_blocks + 1)}  # fmt: skip
    channel_base, channel_max = _channel_rule(channels, where)
    style_dim = ours["mapping.fc0.weight"].shape[1] if n_mlp else 0
    config = _build_config(
        GeneratorConfig, where, family="stylegan2", z_dim=style_dim, c_dim=0, w_dim=style_dim,
        img_resolution=resolution, img_channels=ours["synthesis.b4.torgb.weight"].shape[0],
        channel_base=channel_base, channel_max=channel_max, mapping_layers=n_mlp,
        mapping_lr_multiplier=LR_MULTIPLIER, conv_clamp=None, use_noise=True,
    )  # fmt: skip
    return config, ours


def discriminator_from_state(
    state: Mapping[str, Any], where: str
) -> tuple[DiscriminatorConfig, dict[str, torch.Tensor]]:
    """Our config and state dict for rosinality's ``d`` (residual, minibatch std over groups of 4)."""
    names = _Names(state, where, "d")
    ours: dict[str, torch.Tensor] = {}
    blocks = names.count(r"convs\.\d+\.conv1\.0\.weight")
    resolution = 2 ** (blocks + 2)
    ours[f"b{resolution}.fromrgb.weight"] = names.take("convs.0.0.weight")
    ours[f"b{resolution}.fromrgb.bias"] = names.take("convs.0.1.bias")
    for index in range(1, blocks + 1):
        theirs, mine = f"convs.{index}", f"b{resolution >> (index - 1)}"
        ours[f"{mine}.conv0.weight"] = names.take(f"{theirs}.conv1.0.weight")
        ours[f"{mine}.conv0.bias"] = names.take(f"{theirs}.conv1.1.bias")
        ours[f"{mine}.conv1.weight"] = names.take(f"{theirs}.conv2.1.weight")  # conv2.0 is the blur
        ours[f"{mine}.conv1.bias"] = names.take(f"{theirs}.conv2.2.bias")
        ours[f"{mine}.skip.weight"] = names.take(f"{theirs}.skip.1.weight")
    for theirs, mine in (("final_conv.0", "b4.conv"), ("final_linear.0", "b4.fc"), ("final_linear.1", "b4.out")):
        ours[f"{mine}.weight"] = names.take(f"{theirs}.weight")
    ours["b4.conv.bias"] = names.take("final_conv.1.bias")  # the activation's bias
    ours["b4.fc.bias"] = names.take("final_linear.0.bias")
    ours["b4.out.bias"] = names.take("final_linear.1.bias")
    names.check_filters_and_rest()

    channels = {resolution >> k: ours[f"b{resolution >> k}.conv0.weight"].shape[0] for k in range(blocks)}
    channels[4] = ours["b4.conv.weight"].shape[0]
    channel_base, channel_max = _channel_rule(channels, where)
    config = _build_config(
        DiscriminatorConfig, where, family="stylegan2", c_dim=0, img_resolution=resolution,
        img_channels=ours[f"b{resolution}.fromrgb.weight"].shape[1], channel_base=channel_base,
        channel_max=channel_max, mbstd_group_size=4, mbstd_num_channels=1, conv_clamp=None,
    )  # fmt: skip
    return config, ours
