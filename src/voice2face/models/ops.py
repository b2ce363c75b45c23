"""Pure-PyTorch building blocks of the style-based GANs: equalised-learning-rate layers,
FIR up/down-sampling, modulated convolution and minibatch standard deviation.

They compute what the official stylegan2-ada-pytorch ops compute (same padding arithmetic,
filter normalisation, weight flips, gains and parameter/buffer names), written from the
published description so that official weights can be imported into these modules, but
without compiled kernels: everything here is ordinary ``torch.nn.functional`` calls and runs
on CPU. Equalised learning rate: parameters are stored at unit scale (``randn``) and scaled
at run time by ``1/sqrt(fan_in)`` (times ``lr_multiplier``), so that Adam's step size means
the same for every layer (Karras et al. 2018).

Two implementations compute the same functions (``OPS_IMPLS``). ``"plain"`` is the reference: the
official arithmetic term for term, and what a freshly built network uses (inference, evaluation). ``"fast"``
(the training default, ``GANTrainingConfig.ops_impl``) reorders it for CPU training, where a
profile of the ``synthface-64`` step showed half the time going to tensors no layer needs: it
computes the demodulation coefficients as one small matrix product instead of materialising the
per-sample weights ``[B, O, I, k, k]``; it folds the positive activation gains into the weights and
the bias into the convolution (leaky ReLU commutes with a positive scale); it upsamples with a
strided depthwise transposed convolution instead of zero insertion; and the networks keep their
activations ``channels_last``, which oneDNN's convolutions run faster. The results agree to
float32 rounding; ``tests/test_fast_ops.py`` checks outputs and gradients against ``"plain"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from voice2face.config import DEFAULT_OPS_IMPL, OPS_IMPLS

LRELU_SLOPE = 0.2
LRELU_GAIN = math.sqrt(2.0)  # keeps the activations' second moment through leaky ReLU
ACTIVATION_GAINS = {"linear": 1.0, "lrelu": LRELU_GAIN}


def check_ops_impl(impl: str) -> str:
    """``impl`` if it names an implementation of the ops (``OPS_IMPLS``); ValueError otherwise."""
    if impl not in OPS_IMPLS:
        raise ValueError(f"ops implementation must be one of {OPS_IMPLS}, got {impl!r}.")
    return impl


def set_ops_impl(module: nn.Module, impl: str) -> nn.Module:
    """Switch every layer of ``module`` (itself included) to the ops implementation ``impl``.

    Like ``module.train(mode)``: it sets the ``impl`` attribute of each submodule that has one, and
    returns ``module``. Weights, buffers and state-dict keys are the same under both.
    """
    check_ops_impl(impl)
    for layer in module.modules():
        if hasattr(layer, "impl"):
            layer.impl = impl
    return module


def assert_shape(tensor: torch.Tensor, shape: Sequence[int | None], name: str = "input") -> None:
    """Raise ValueError unless ``tensor.shape`` matches ``shape`` (``None`` matches any size)."""
    if tensor.ndim != len(shape) or any(
        want is not None and got != want for got, want in zip(tensor.shape, shape, strict=True)
    ):
        expected = "[" + ", ".join("*" if s is None else str(s) for s in shape) + "]"
        raise ValueError(f"{name} must have shape {expected}, got {list(tensor.shape)}.")


def normalize_2nd_moment(x: torch.Tensor, dim: int = 1, eps: float = 1e-8) -> torch.Tensor:
    """Scale ``x`` to unit mean square along ``dim`` (pixel norm; z and c normalisation)."""
    return x * (x.square().mean(dim=dim, keepdim=True) + eps).rsqrt()


def bias_act(
    x: torch.Tensor,
    bias: torch.Tensor | None = None,
    activation: str = "linear",
    gain: float | None = None,
    clamp: float | None = None,
) -> torch.Tensor:
    """Add a per-channel bias (channel dim 1), apply the activation, scale by its gain, clamp.

    ``gain`` defaults to the activation's own (√2 for leaky ReLU, 1 for linear).
    """
    if bias is not None:
        x = x + bias.reshape([1, -1] + [1] * (x.ndim - 2))
    if activation == "lrelu":
        x = F.leaky_relu(x, LRELU_SLOPE)
    elif activation != "linear":
        raise ValueError(f"activation must be 'linear' or 'lrelu', got {activation!r}.")
    gain = ACTIVATION_GAINS[activation] if gain is None else gain
    if gain != 1:
        x = x * gain
    if clamp is not None and clamp >= 0:
        x = x.clamp(-clamp, clamp)
    return x


# --------------------------------------------------------------------------- FIR resampling


def setup_filter(taps: Sequence[float] = (1, 3, 3, 1)) -> torch.Tensor:
    """The 2-D low-pass filter ``outer(taps, taps)`` normalised to sum 1: ``[K, K]``."""
    f = torch.as_tensor(taps, dtype=torch.float32)
    f = f.ger(f)
    return f / f.sum()


def upfirdn2d(
    x: torch.Tensor,
    f: torch.Tensor | None,
    up: int = 1,
    down: int = 1,
    padding: int | Sequence[int] = 0,
    flip_filter: bool = False,
    gain: float = 1.0,
    impl: str = DEFAULT_OPS_IMPL,
) -> torch.Tensor:
    """Upsample by zero insertion, pad, filter with 2-D FIR ``f``, keep every ``down``-th pixel.

    x: ``[B, C, H, W]``; f: ``[K, K]`` or None (identity); padding: int or (x0, x1, y0, y1),
    negative values crop. Returns ``[B, C, H', W']`` with
    ``H' = (H·up + y0 + y1 − K + 1) // down`` (rounded up). ``gain`` scales the filter
    (``up**2`` keeps the mean when upsampling, since zeros were inserted). ``impl="fast"``
    filters with stride ``down`` instead of filtering every pixel and dropping most.
    """
    fast = check_ops_impl(impl) == "fast" and f is not None
    stride = down if fast else 1
    px0, px1, py0, py1 = _padding4(padding)
    batch, channels, height, width = x.shape
    conv_padding = 0
    if fast and px0 == px1 >= 0 and py0 == py1 >= 0:
        # Symmetric padding goes to the convolution: no padded copy forward, no slice backward.
        conv_padding, px0, px1, py0, py1 = (py0, px0), 0, 0, 0, 0
    if up > 1:
        x = x.reshape(batch, channels, height, 1, width, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(batch, channels, height * up, width * up)
    if any((px0, px1, py0, py1)):
        x = F.pad(x, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
        x = x[:, :, max(-py0, 0) : x.shape[2] - max(-py1, 0), max(-px0, 0) : x.shape[3] - max(-px1, 0)]
    if f is not None:
        f = f.to(x.dtype) * gain
        if not flip_filter:  # conv2d correlates; flipping makes it a true convolution
            f = f.flip([0, 1])
        weight = f[None, None].expand(channels, 1, *f.shape)
        x = F.conv2d(x, weight, stride=stride, padding=conv_padding, groups=channels)
    if down > 1 and stride == 1:
        x = x[:, :, ::down, ::down]
    return x


def upsample2d(
    x: torch.Tensor, f: torch.Tensor, up: int = 2, gain: float = 1.0, impl: str = DEFAULT_OPS_IMPL
) -> torch.Tensor:
    """FIR-filtered upsampling by ``up``: ``[B, C, H, W]`` → ``[B, C, H·up, W·up]``.

    ``impl="fast"``: one depthwise transposed convolution of stride ``up`` (the zero-inserted
    samples are never built); the same map as the plain path when ``k − up`` is even.
    """
    k = f.shape[-1]
    pad = [(k + up - 1) // 2, (k - up) // 2]
    if check_ops_impl(impl) == "fast" and (k - up) % 2 == 0 and f.ndim == 2:
        channels = x.shape[1]
        # A transposed convolution scatters, i.e. convolves (no flip needed); padding (k − up)/2
        # crops the full output to the plain path's window.
        weight = (f.to(x.dtype) * (gain * up * up))[None, None].expand(channels, 1, k, k)
        return F.conv_transpose2d(x, weight, stride=up, padding=(k - up) // 2, groups=channels)
    return upfirdn2d(x, f, up=up, padding=pad * 2, gain=gain * up * up, impl=impl)


def downsample2d(x: torch.Tensor, f: torch.Tensor, down: int = 2, impl: str = DEFAULT_OPS_IMPL) -> torch.Tensor:
    """FIR-filtered downsampling by ``down``: ``[B, C, H, W]`` → ``[B, C, H/down, W/down]``."""
    k = f.shape[-1]
    pad = [(k - down + 1) // 2, (k - down) // 2]
    return upfirdn2d(x, f, down=down, padding=pad * 2, impl=impl)


def _padding4(padding: int | Sequence[int]) -> tuple[int, int, int, int]:
    if isinstance(padding, int):
        return padding, padding, padding, padding
    if len(padding) == 2:
        return padding[0], padding[0], padding[1], padding[1]
    return tuple(padding)  # type: ignore[return-value]


def _conv(
    x: torch.Tensor,
    w: torch.Tensor,
    stride: int = 1,
    padding: int | Sequence[int] = 0,
    groups: int = 1,
    transpose: bool = False,
    flip_weight: bool = True,
    bias: torch.Tensor | None = None,
) -> torch.Tensor:
    # flip_weight=True is plain correlation (what conv2d computes); False is true convolution.
    if not flip_weight and (w.shape[-1] > 1 or w.shape[-2] > 1):
        w = w.flip([2, 3])
    if transpose:
        return F.conv_transpose2d(x, w, bias, stride=stride, padding=padding, groups=groups)
    return F.conv2d(x, w, bias, stride=stride, padding=padding, groups=groups)


def conv2d_resample(
    x: torch.Tensor,
    w: torch.Tensor,
    f: torch.Tensor | None = None,
    up: int = 1,
    down: int = 1,
    padding: int = 0,
    groups: int = 1,
    flip_weight: bool = True,
    bias: torch.Tensor | None = None,
    impl: str = DEFAULT_OPS_IMPL,
) -> torch.Tensor:
    """2-D convolution with optional FIR upsampling before it or downsampling after it.

    x: ``[B, groups·I, H, W]``, w: ``[O, I, kh, kw]`` → ``[B, O, H·up/down, W·up/down]`` for
    ``padding = k // 2``. Upsampling is a stride-``up`` transposed convolution followed by the
    filter; downsampling filters first and then convolves with stride ``down`` (cheapest
    order in each case; the result is the same linear map). ``bias`` ``[O]``, if given, is added
    to the output, inside the convolution where the convolution comes last. ``impl`` is passed
    to :func:`upfirdn2d`.
    """
    if bias is not None and up > 1:
        # The filter comes after the convolution here, so the bias is added after the filter.
        x = conv2d_resample(
            x, w, f, up=up, down=down, padding=padding, groups=groups, flip_weight=flip_weight, impl=impl
        )
        return x + bias.reshape(1, -1, 1, 1)
    out_channels, in_per_group, kh, kw = w.shape
    fk = 1 if f is None else f.shape[-1]
    px0 = px1 = py0 = py1 = padding
    if up > 1:
        px0, py0 = px0 + (fk + up - 1) // 2, py0 + (fk + up - 1) // 2
        px1, py1 = px1 + (fk - up) // 2, py1 + (fk - up) // 2
    if down > 1:
        px0, py0 = px0 + (fk - down + 1) // 2, py0 + (fk - down + 1) // 2
        px1, py1 = px1 + (fk - down) // 2, py1 + (fk - down) // 2

    if kw == 1 and kh == 1 and down > 1 and up == 1:
        x = upfirdn2d(x, f, down=down, padding=[px0, px1, py0, py1], impl=impl)
        return _conv(x, w, groups=groups, flip_weight=flip_weight, bias=bias)
    if kw == 1 and kh == 1 and up > 1 and down == 1:
        x = _conv(x, w, groups=groups, flip_weight=flip_weight)
        return upfirdn2d(x, f, up=up, padding=[px0, px1, py0, py1], gain=up * up, impl=impl)
    if down > 1 and up == 1:
        x = upfirdn2d(x, f, padding=[px0, px1, py0, py1], impl=impl)
        return _conv(x, w, stride=down, groups=groups, flip_weight=flip_weight, bias=bias)
    if up > 1:
        # A transposed convolution wants [I, O] weights (per group).
        if groups == 1:
            w = w.transpose(0, 1)
        else:
            w = w.reshape(groups, out_channels // groups, in_per_group, kh, kw).transpose(1, 2)
            w = w.reshape(groups * in_per_group, out_channels // groups, kh, kw)
        px0, px1, py0, py1 = px0 - (kw - 1), px1 - (kw - up), py0 - (kh - 1), py1 - (kh - up)
        pxt, pyt = max(min(-px0, -px1), 0), max(min(-py0, -py1), 0)
        x = _conv(x, w, stride=up, padding=[pyt, pxt], groups=groups, transpose=True, flip_weight=not flip_weight)
        x = upfirdn2d(x, f, padding=[px0 + pxt, px1 + pxt, py0 + pyt, py1 + pyt], gain=up * up, impl=impl)
        if down > 1:
            x = upfirdn2d(x, f, down=down, impl=impl)
        return x
    if px0 == px1 and py0 == py1 and px0 >= 0 and py0 >= 0:
        return _conv(x, w, padding=[py0, px0], groups=groups, flip_weight=flip_weight, bias=bias)
    x = upfirdn2d(x, None, padding=[px0, px1, py0, py1], impl=impl)
    return _conv(x, w, groups=groups, flip_weight=flip_weight, bias=bias)


# --------------------------------------------------------------------------- modulated convolution


def demodulation_coefficients(weight: torch.Tensor, styles: torch.Tensor, impl: str = DEFAULT_OPS_IMPL) -> torch.Tensor:
    """``1 / ‖weight · style‖`` per sample and output channel: weight ``[O, I, k, k]``, styles
    ``[B, I]`` → ``[B, O]``.

    ``"plain"`` builds the per-sample weights ``[B, O, I, k, k]`` as the official code does;
    ``"fast"`` uses ``Σ_{i,k} (w_oik·s_bi)² = Σ_i s_bi² · Σ_k w_oik²``, a ``[B, I] × [I, O]``
    product, so neither the forward nor the backward pass touches a ``B·O·I·k²`` tensor.
    """
    if check_ops_impl(impl) == "fast":
        return (styles.square() @ weight.square().sum(dim=[2, 3]).t() + 1e-8).rsqrt()
    per_sample = weight.unsqueeze(0) * styles.reshape(styles.shape[0], 1, -1, 1, 1)  # [B, O, I, k, k]
    return (per_sample.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()


def modulated_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    styles: torch.Tensor,
    noise: torch.Tensor | None = None,
    up: int = 1,
    padding: int = 0,
    resample_filter: torch.Tensor | None = None,
    demodulate: bool = True,
    flip_weight: bool = True,
    fused_modconv: bool = True,
    impl: str = DEFAULT_OPS_IMPL,
) -> torch.Tensor:
    """StyleGAN2's convolution whose weights are scaled per sample by a style, then demodulated.

    x: ``[B, I, H, W]``, weight: ``[O, I, k, k]``, styles: ``[B, I]``, noise: broadcastable to
    the output ``[B, O, H·up, W·up]``. Demodulation divides each output channel by the norm of
    its modulated weights, replacing StyleGAN's instance normalisation (no droplet artefacts).
    ``fused_modconv`` runs one grouped convolution with per-sample weights; otherwise the
    style scales the activations before a shared convolution and the demodulation after it
    (same result; cheaper for large batches on CPU, and what the official code trains with).
    ``impl`` picks how the demodulation coefficients are computed (:func:`demodulation_coefficients`).
    """
    batch = x.shape[0]
    _, in_channels, kh, kw = weight.shape
    assert_shape(styles, [batch, in_channels], "styles")
    per_sample = None
    dcoefs = None
    if check_ops_impl(impl) == "plain" and (demodulate or fused_modconv):
        per_sample = weight.unsqueeze(0) * styles.reshape(batch, 1, -1, 1, 1)  # [B, O, I, k, k]
        if demodulate:
            dcoefs = (per_sample.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()  # [B, O]
    elif demodulate:
        dcoefs = demodulation_coefficients(weight, styles, impl)  # [B, O]
    if not fused_modconv:
        x = x * styles.to(x.dtype).reshape(batch, -1, 1, 1)
        x = conv2d_resample(
            x, weight.to(x.dtype), resample_filter, up=up, padding=padding, flip_weight=flip_weight, impl=impl
        )
        if dcoefs is not None:
            x = x * dcoefs.to(x.dtype).reshape(batch, -1, 1, 1)
        return x if noise is None else x + noise.to(x.dtype)
    if per_sample is None:
        per_sample = weight.unsqueeze(0) * styles.reshape(batch, 1, -1, 1, 1)  # [B, O, I, k, k]
    if dcoefs is not None:
        per_sample = per_sample * dcoefs.reshape(batch, -1, 1, 1, 1)
    x = x.reshape(1, -1, *x.shape[2:])  # [1, B·I, H, W]: one group per sample
    w = per_sample.reshape(-1, in_channels, kh, kw).to(x.dtype)
    x = conv2d_resample(x, w, resample_filter, up=up, padding=padding, groups=batch, flip_weight=flip_weight, impl=impl)
    x = x.reshape(batch, -1, *x.shape[2:])  # [B, O, H', W']
    return x if noise is None else x + noise.to(x.dtype)


def scaled_bias_act_(
    x: torch.Tensor,
    scale: torch.Tensor | float,
    bias: torch.Tensor | None,
    activation: str,
    clamp: float | None = None,
) -> torch.Tensor:
    """The fast path's epilogue: ``act(x·scale + bias)``, clamped, in two passes over ``x``.

    x ``[B, C, H, W]``, scale a positive float or ``[B, C]``, bias ``[C]`` or None; the
    activation's gain must already be in ``scale`` and ``bias`` (leaky ReLU commutes with a
    positive factor). ``x`` itself is left untouched.
    """
    bias = None if bias is None else bias.to(x.dtype).reshape(1, -1, 1, 1)
    if isinstance(scale, torch.Tensor):
        scale = scale.to(x.dtype).reshape(x.shape[0], -1, 1, 1)
        x = x * scale if bias is None else torch.addcmul(bias, x, scale)
    else:
        x = x * scale if bias is None else torch.add(bias, x, alpha=scale)
    return activate_(x, activation, clamp)


def activate_(x: torch.Tensor, activation: str, clamp: float | None = None) -> torch.Tensor:
    """Leaky ReLU (no gain: the caller folded it in) in place on ``x``, a tensor no one else
    holds (a fresh convolution output), then clamp; ``"linear"`` only clamps."""
    if activation == "lrelu":
        x = F.leaky_relu_(x, LRELU_SLOPE)
    elif activation != "linear":
        raise ValueError(f"activation must be 'linear' or 'lrelu', got {activation!r}.")
    if clamp is not None and clamp >= 0:
        x = x.clamp(-clamp, clamp)  # out of place: leaky_relu_'s backward needs its own result
    return x


# --------------------------------------------------------------------------- layers


class FullyConnectedLayer(nn.Module):
    """Equalised-learning-rate linear layer with optional leaky ReLU: ``[B, in]`` → ``[B, out]``.

    Parameters: ``weight [out, in]`` (init N(0, 1/lr_multiplier²)), ``bias [out]`` (init
    ``bias_init``); the run-time gains are ``lr_multiplier/sqrt(in)`` and ``lr_multiplier``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        activation: str = "linear",
        lr_multiplier: float = 1.0,
        bias_init: float = 0.0,
    ):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.activation = activation
        self.weight = nn.Parameter(torch.randn([out_features, in_features]) / lr_multiplier)
        self.bias = nn.Parameter(torch.full([out_features], float(bias_init))) if bias else None
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, in]`` → ``[B, out]``."""
        w = self.weight.to(x.dtype) * self.weight_gain
        b = None if self.bias is None else self.bias.to(x.dtype) * self.bias_gain
        if self.activation == "linear" and b is not None:
            return torch.addmm(b.unsqueeze(0), x, w.t())
        return bias_act(x.matmul(w.t()), b, self.activation)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, activation={self.activation}"


class Conv2dLayer(nn.Module):
    """Equalised-learning-rate convolution with optional FIR up/down-sampling and activation.

    ``[B, in, H, W]`` → ``[B, out, H·up/down, W·up/down]``. Parameters ``weight [out, in, k, k]``
    and ``bias [out]``; buffer ``resample_filter [4, 4]``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        bias: bool = True,
        activation: str = "linear",
        up: int = 1,
        down: int = 1,
        resample_filter: Sequence[float] = (1, 3, 3, 1),
        conv_clamp: float | None = None,
    ):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.activation, self.up, self.down, self.conv_clamp = activation, up, down, conv_clamp
        self.register_buffer("resample_filter", setup_filter(resample_filter))
        self.padding = kernel_size // 2
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.act_gain = ACTIVATION_GAINS[activation]
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        self.bias = nn.Parameter(torch.zeros([out_channels])) if bias else None
        self.impl = "plain"  # the reference; trainers switch to their config's ops_impl

    def forward(self, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
        """``[B, in, H, W]`` → ``[B, out, H', W']``; ``gain`` scales the output (√½ in residual sums)."""
        clamp = None if self.conv_clamp is None else self.conv_clamp * gain
        scale = self.act_gain * gain
        if self.impl == "fast" and scale > 0:
            # act(conv(x, w) + b)·g = act(conv(x, w·g) + b·g) for g > 0: the gains ride on the
            # weights and the bias on the convolution, so only the activation is left to apply.
            w = self.weight.to(x.dtype) * (self.weight_gain * scale)
            bias = None if self.bias is None else self.bias.to(x.dtype) * scale
            x = conv2d_resample(
                x, w, self.resample_filter, up=self.up, down=self.down, padding=self.padding,
                flip_weight=self.up == 1, bias=bias, impl=self.impl,
            )  # fmt: skip
            return activate_(x, self.activation, clamp)
        w = self.weight.to(x.dtype) * self.weight_gain
        x = conv2d_resample(
            x, w, self.resample_filter, up=self.up, down=self.down, padding=self.padding, flip_weight=self.up == 1
        )
        bias = None if self.bias is None else self.bias.to(x.dtype)
        return bias_act(x, bias, self.activation, gain=self.act_gain * gain, clamp=clamp)

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.in_channels}, out_channels={self.out_channels}, kernel={self.weight.shape[-1]}, "
            f"up={self.up}, down={self.down}, activation={self.activation}"
        )


class MinibatchStdLayer(nn.Module):
    """Appends the across-group standard deviation of features as extra channels.

    ``[B, C, H, W]`` → ``[B, C + num_channels, H, W]``. Samples are split into groups of
    ``group_size``; a batch smaller than that is one group. Where the batch is not a multiple of
    the group size (the official code then fails) the largest group size that divides it is used.
    """

    def __init__(self, group_size: int | None, num_channels: int = 1):
        super().__init__()
        self.group_size, self.num_channels = group_size, num_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, H, W]`` → ``[B, C + num_channels, H, W]``."""
        batch, channels, height, width = x.shape
        group = batch if self.group_size is None else min(self.group_size, batch)
        while batch % group:
            group -= 1
        f = self.num_channels
        y = x.reshape(group, -1, f, channels // f, height, width)  # [G, M, F, c, H, W]
        y = y - y.mean(dim=0)
        y = (y.square().mean(dim=0) + 1e-8).sqrt()  # [M, F, c, H, W]
        y = y.mean(dim=[2, 3, 4]).reshape(-1, f, 1, 1)  # [M, F, 1, 1]
        y = y.repeat(group, 1, height, width)  # [B, F, H, W]
        return torch.cat([x, y], dim=1)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}, num_channels={self.num_channels}"


# --------------------------------------------------------------------------- shared by the generator families

NOISE_MODES = ("random", "const", "none")


def check_resolution(img_resolution: int) -> int:
    """log2 of ``img_resolution``; ValueError unless it is a power of two >= 4."""
    log2 = round(math.log2(img_resolution)) if img_resolution > 0 else 0
    if img_resolution < 4 or 2**log2 != img_resolution:
        raise ValueError(f"img_resolution must be a power of two >= 4, got {img_resolution}.")
    return log2


def channels_per_resolution(
    resolutions: Sequence[int], channel_base: int, channel_max: int, top_channels: int = 0, top_blocks: int = 1
) -> dict[int, int]:
    """Feature maps at each resolution: ``min(channel_base // res, channel_max)`` (official rule);
    ``top_channels`` > 0 replaces the rule's count at the ``top_blocks`` highest resolutions (ours, for
    a network grown by a block that needs more maps there than the rule leaves; see GeneratorConfig)."""
    channels = {res: min(channel_base // res, channel_max) for res in resolutions}
    if top_channels > 0:
        for res in sorted(channels)[-top_blocks:]:
            channels[res] = top_channels
    return channels


def check_condition(c: torch.Tensor | None, batch: int, c_dim: int, name: str = "c") -> torch.Tensor | None:
    """The condition ``[B, c_dim]`` checked against ``c_dim``; None for an unconditional network."""
    if c_dim == 0:
        if c is not None and c.numel() != 0:
            raise ValueError(f"{name} must be None for an unconditional network (c_dim=0), got {list(c.shape)}.")
        return None
    if c is None:
        raise ValueError(f"{name} of shape [{batch}, {c_dim}] is required (c_dim={c_dim}), got None.")
    assert_shape(c, [batch, c_dim], name)
    return c


def layer_noise(
    layer: nn.Module,
    batch: int,
    noise_mode: str,
    generator: torch.Generator | Callable[[list[int]], torch.Tensor] | None,
    like: torch.Tensor,
) -> torch.Tensor | None:
    """A noise input scaled by the layer's learned ``noise_strength``, or None.

    "random": ``[B, 1, R, R]`` from ``generator`` (or the global RNG) times the strength;
    ``generator`` may also be a noise source, a callable ``shape -> tensor`` (multi-process
    training uses one that draws for the global batch and keeps this rank's share);
    "const": the layer's ``noise_const [R, R]`` buffer times the strength (deterministic);
    "none": None. The strength is a scalar (StyleGAN2) or per channel ``[C, 1, 1]`` (StyleGAN).
    """
    if noise_mode not in NOISE_MODES:
        raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}.")
    if not getattr(layer, "use_noise", False) or noise_mode == "none":
        return None
    if noise_mode == "const":
        return layer.noise_const * layer.noise_strength
    res = layer.resolution
    if callable(generator) and not isinstance(generator, torch.Generator):
        return generator([batch, 1, res, res]).to(like.device, like.dtype) * layer.noise_strength
    draw_device = like.device if generator is None else generator.device
    noise = torch.randn([batch, 1, res, res], generator=generator, device=draw_device, dtype=torch.float32)
    return noise.to(like.device, like.dtype) * layer.noise_strength


class DiscriminatorOutput(NamedTuple):
    """What every discriminator's ``forward_heads(img, c)`` returns (one pass of the shared trunk).

    logits: real/fake ``[B, 1]``; identity_logits: ``[B, num_identities]`` or None without an
    identity head; features: the trunk's features ``[B, C]`` that both heads read.
    """

    logits: torch.Tensor
    identity_logits: torch.Tensor | None
    features: torch.Tensor
