"""Receptive fields of CNNs, and a dilated CNN with a large receptive field but no pooling (chapter 3).

Chapter 3 (``chapters/03_pooling_and_receptive_fields.ipynb``) tests the hypothesis that
a large receptive field makes a network's output shift-invariant. The receptive field of
a stack of layers with kernel sizes ``k_l``, strides ``s_l`` and dilations ``d_l`` is

    r = 1 + sum_l d_l (k_l - 1) prod_{i<l} s_i

(:func:`closed_form_receptive_field`). :func:`receptive_field_table` walks a model's
layers and applies the recursion ``r <- r + d (k - 1) j``, ``j <- j s`` (``j``: the jump,
the distance in input pixels between neighbouring units); :func:`gradient_receptive_field`
measures the same thing empirically from the gradient of one output unit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from helpers._checks import check_choice, check_int

HEADS = ("gap", "gmp", "flatten")
PADDINGS = ("zeros", "circular", "reflect", "replicate")

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
    """One spatial layer: its geometry, and the receptive field and jump after it."""

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
    """Receptive field (in input pixels, along one axis) of the last spatial layer of ``model``."""
    return receptive_field_table(model)[-1].receptive_field


def closed_form_receptive_field(
    kernels: Sequence[int], strides: Sequence[int] | None = None, dilations: Sequence[int] | None = None
) -> int:
    """``1 + sum_l d_l (k_l - 1) prod_{i<l} s_i`` for a stack of layers (strides and dilations default to 1)."""
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


def gradient_receptive_field(
    f: Callable[[torch.Tensor], torch.Tensor], input_size: int, in_channels: int = 1, seed: int = 0
) -> int:
    """Measure the receptive field: the width of the input region that moves the centre unit of ``f``.

    ``f`` maps ``(1, C, n, n)`` images to ``(1, K, h, w)`` feature maps. The gradient of
    the sum of the centre unit's channels is taken at a random positive input; the
    receptive field is the extent (along rows) of its nonzero entries. Pointwise
    nonlinearities can hide part of the field (a ReLU that is off, a max that is not
    reached), so this is a lower bound of the closed form that equals it for linear layers.
    """
    input_size = check_int("input_size", input_size, minimum=1)
    in_channels = check_int("in_channels", in_channels, minimum=1)
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(1, in_channels, input_size, input_size, generator=g) + 0.5).requires_grad_(True)
    out = f(x)
    if out.dim() != 4:
        raise ValueError(f"f must return (1, K, h, w) feature maps, got shape {tuple(out.shape)}")
    out[0, :, out.shape[2] // 2, out.shape[3] // 2].sum().backward()
    rows = torch.nonzero(x.grad.abs().sum((0, 1, 3)) > 0).flatten()
    if rows.numel() == 0:
        return 0
    return int(rows.max() - rows.min() + 1)


class DilatedCNN(nn.Module):
    """Stride-1 conv-ReLU blocks with growing dilation: a large receptive field, no pooling, no subsampling.

    Block ``l`` has ``widths[l]`` channels, a ``kernel_size`` kernel and dilation
    ``dilations[l]`` and "same" padding (``padding``: a ``Conv2d`` padding mode), so every
    feature map keeps the input size.
    The head is ``"gap"`` (global average pooling + linear), ``"gmp"`` (global max) or ``"flatten"`` (linear over
    every position; needs ``input_size``), as in :class:`helpers.models.SmallCNN`.
    Chapter 3 uses it to separate "large receptive field" from "pooling".
    """

    def __init__(
        self,
        in_channels: int = 1,
        n_classes: int = 10,
        widths: Sequence[int] = (8, 16, 16, 16),
        dilations: Sequence[int] = (1, 2, 4, 8),
        kernel_size: int = 3,
        head: str = "flatten",
        input_size: int | None = None,
        padding: str = "zeros",
    ) -> None:
        super().__init__()
        padding = check_choice("padding", padding, PADDINGS)
        in_channels = check_int("in_channels", in_channels, minimum=1)
        n_classes = check_int("n_classes", n_classes, minimum=2)
        kernel_size = check_int("kernel_size", kernel_size, minimum=1)
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (for 'same' padding), got {kernel_size}")
        head = check_choice("head", head, HEADS)
        if not widths or len(widths) != len(dilations):
            raise ValueError(
                f"widths and dilations must be non-empty and of the same length, got {len(widths)} and {len(dilations)}"
            )
        layers: list[nn.Module] = []
        channels = in_channels
        for i, (width, d) in enumerate(zip(widths, dilations, strict=True)):
            width = check_int(f"widths[{i}]", width, minimum=1)
            d = check_int(f"dilations[{i}]", d, minimum=1)
            pad = d * (kernel_size // 2)
            conv = nn.Conv2d(channels, width, kernel_size, padding=pad, dilation=d, padding_mode=padding)
            layers += [conv, nn.ReLU()]
            channels = width
        self.features = nn.Sequential(*layers)
        if head == "flatten":
            if input_size is None:
                raise ValueError("input_size must be given when head='flatten'")
            input_size = check_int("input_size", input_size, minimum=1)
            self.head = nn.Sequential(nn.Flatten(), nn.Linear(channels * input_size * input_size, n_classes))
        else:
            pool = nn.AdaptiveAvgPool2d(1) if head == "gap" else nn.AdaptiveMaxPool2d(1)
            self.head = nn.Sequential(pool, nn.Flatten(), nn.Linear(channels, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def kaiming_init_(model: nn.Module) -> nn.Module:
    """Re-initialise every conv layer for ReLU networks (He normal weights, zero bias); return ``model``.

    PyTorch's default initialisation shrinks the signal at every layer, so the small
    deep networks of chapters 3 and 4 (no normalisation layers) sit on a loss plateau
    for several epochs; He initialisation lets every architecture start learning at
    once, which keeps the comparison about architecture rather than about luck with
    the first steps. The linear head keeps its default initialisation. Uses the global
    torch seed (call ``seed_everything`` first).
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return model
