"""Receptive fields of CNNs: the closed form, a layer-by-layer table, a gradient measurement (chapter 3).

Chapter 3 (``chapters/03_pooling_and_receptive_fields.ipynb``) tests the hypothesis that
a large receptive field makes a network's output shift-invariant. The receptive field of
a stack of layers with kernel sizes ``k_l``, strides ``s_l`` and dilations ``d_l`` is

    r = 1 + sum_l d_l (k_l - 1) prod_{i<l} s_i

(:func:`closed_form_receptive_field`). :func:`receptive_field_table` walks a model's
layers and applies the recursion ``r <- r + d (k - 1) j``, ``j <- j s`` (``j``: the jump,
the distance in input pixels between neighbouring units); :func:`gradient_receptive_field`
measures the same thing empirically from the gradient of one output unit, whose nonzero
region :func:`gradient_footprint` returns (chapter 3 draws it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from helpers._checks import check_int

# Layers that do not mix neighbouring positions: they leave the receptive field alone.
_POINTWISE = (
    nn.ReLU,
    nn.LeakyReLU,
    nn.GELU,
    nn.Sigmoid,
    nn.Tanh,
    nn.Identity,
    nn.BatchNorm2d,
    nn.Dropout,
    nn.Dropout2d,
)
# Layers that end the spatial part of a network (its head).
_HEAD = (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.Flatten, nn.Linear)


@dataclass(frozen=True)
class LayerRF:
    """One spatial layer: its geometry, and the receptive field and jump after it. Chapter 3."""

    name: str
    kind: str
    kernel: int
    stride: int
    dilation: int
    receptive_field: int
    jump: int


def _pair(v: int | tuple[int, ...], name: str) -> int:
    if isinstance(v, tuple):
        if len(set(v)) != 1:
            raise ValueError(f"{name} must be the same along both axes, got {v}")
        v = v[0]
    return int(v)


def layer_geometry(module: nn.Module) -> tuple[int, int, int] | None:
    """``(kernel, stride, dilation)`` of a spatial layer, ``None`` for a pointwise one.

    Knows ``Conv2d``, ``MaxPool2d``, ``AvgPool2d`` and any module with a
    ``receptive_geometry()`` method (the layers of :mod:`helpers.antialias`).

    Chapter 3.
    """
    if hasattr(module, "receptive_geometry"):
        return tuple(int(v) for v in module.receptive_geometry())
    if isinstance(module, nn.Conv2d):
        return (
            _pair(module.kernel_size, "kernel_size"),
            _pair(module.stride, "stride"),
            _pair(module.dilation, "dilation"),
        )
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        k = _pair(module.kernel_size, "kernel_size")
        s = _pair(module.stride if module.stride is not None else k, "stride")
        d = _pair(getattr(module, "dilation", 1), "dilation")
        return k, s, d
    if isinstance(module, _POINTWISE):
        return None
    raise ValueError(f"model holds a layer whose receptive field is unknown: {type(module).__name__}")


def _leaves(model: nn.Module, prefix: str = "") -> list[tuple[str, nn.Module]]:
    """Leaf modules in registration order; a module with ``receptive_geometry()`` counts as a leaf."""
    children = list(model.named_children())
    if hasattr(model, "receptive_geometry") or not children:
        return [(prefix, model)]
    out = []
    for name, child in children:
        out += _leaves(child, f"{prefix}.{name}" if prefix else name)
    return out


def receptive_field_table(model: nn.Module) -> list[LayerRF]:
    """The receptive field and jump after every spatial layer of ``model``, in order.

    Walks the leaf modules in registration order (their order in ``nn.Sequential``) and
    stops at the head (global pooling, flatten, linear).

    Chapter 3.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    rows, r, j = [], 1, 1
    for name, m in _leaves(model):
        if isinstance(m, _HEAD):
            break
        geometry = layer_geometry(m)
        if geometry is None:
            continue
        k, s, d = geometry
        r += d * (k - 1) * j
        j *= s
        rows.append(LayerRF(name, type(m).__name__, k, s, d, r, j))
    if not rows:
        raise ValueError("model has no spatial layer (conv or pooling) before its head")
    return rows


def receptive_field(model: nn.Module) -> int:
    """Receptive field (in input pixels, along one axis) of the last spatial layer of ``model``. Chapter 3."""
    return receptive_field_table(model)[-1].receptive_field


def closed_form_receptive_field(
    kernels: Sequence[int], strides: Sequence[int] | None = None, dilations: Sequence[int] | None = None
) -> int:
    """``1 + sum_l d_l (k_l - 1) prod_{i<l} s_i`` for a stack of layers (strides and dilations default to 1). Chapter 3."""
    kernels = [check_int(f"kernels[{i}]", k, minimum=1) for i, k in enumerate(kernels)]
    if not kernels:
        raise ValueError("kernels must name at least one layer")
    strides = [1] * len(kernels) if strides is None else list(strides)
    dilations = [1] * len(kernels) if dilations is None else list(dilations)
    if len(strides) != len(kernels) or len(dilations) != len(kernels):
        raise ValueError(
            f"kernels, strides and dilations must have the same length, got {len(kernels)}, "
            f"{len(strides)} and {len(dilations)}"
        )
    r, jump = 1, 1
    for i, (k, s, d) in enumerate(zip(kernels, strides, dilations, strict=True)):
        s = check_int(f"strides[{i}]", s, minimum=1)
        d = check_int(f"dilations[{i}]", d, minimum=1)
        r += d * (k - 1) * jump
        jump *= s
    return r


def gradient_footprint(
    f: Callable[[torch.Tensor], torch.Tensor], input_size: int, in_channels: int = 1, seed: int = 0
) -> torch.Tensor:
    """The input pixels that move the centre unit of ``f``: a boolean ``(input_size, input_size)`` map.

    ``f`` maps ``(1, C, n, n)`` images to ``(1, K, h, w)`` feature maps. The gradient of
    the sum of the centre unit's channels is taken at a random positive input (drawn with
    its own generator, seeded by ``seed``: the global torch stream is left alone); a pixel
    is in the footprint when the gradient there is nonzero in some input channel.

    Chapter 3.
    """
    input_size = check_int("input_size", input_size, minimum=1)
    in_channels = check_int("in_channels", in_channels, minimum=1)
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(1, in_channels, input_size, input_size, generator=g) + 0.5).requires_grad_(True)
    out = f(x)
    if out.dim() != 4:
        raise ValueError(f"f must return (1, K, h, w) feature maps, got shape {tuple(out.shape)}")
    out[0, :, out.shape[2] // 2, out.shape[3] // 2].sum().backward()
    return x.grad.abs().sum((0, 1)) > 0


def gradient_receptive_field(
    f: Callable[[torch.Tensor], torch.Tensor], input_size: int, in_channels: int = 1, seed: int = 0
) -> int:
    """Measure the receptive field: the width of the input region that moves the centre unit of ``f``.

    The extent (along rows) of :func:`gradient_footprint`. Pointwise nonlinearities can
    hide part of the field (a ReLU that is off, a max that is not reached), so this is a
    lower bound of the closed form that equals it for linear layers.

    Chapter 3.
    """
    rows = torch.nonzero(gradient_footprint(f, input_size, in_channels, seed).any(1)).flatten()
    if rows.numel() == 0:
        return 0
    return int(rows.max() - rows.min() + 1)
