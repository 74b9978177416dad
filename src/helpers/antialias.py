"""Anti-aliased downsampling: BlurPool and adaptive polyphase sampling (chapter 4).

Chapter 4 (``chapters/04_aliasing_and_fixes.ipynb``) repairs the stride-2 steps of a
CNN in two ways, both usable as ``SmallCNN(downsample=factory)``:

- **BlurPool** (Zhang 2019): low-pass filter with a normalised binomial kernel, then
  subsample. :func:`max_blur_pool` replaces ``MaxPool2d(2)`` by ``MaxPool2d(2, stride=1)``
  followed by a BlurPool; :func:`blur_pool` placed after a stride-1 conv block replaces a
  strided convolution ("ConvBlurPool"). Filter size 1 is plain subsampling.
- **Adaptive polyphase sampling** (APS, Chaman & Dokmanić 2021): instead of always
  keeping the even samples, keep the polyphase component with the largest norm.
  :func:`max_aps_pool` replaces ``MaxPool2d(2)`` by a circular stride-1 max
  followed by APS. With circular padding and a global pooling head the network is then
  exactly invariant to circular shifts.

The published APS code is GPU-only, square-only and pads odd sizes by one sample (which
breaks exactness there); :func:`aps_downsample` runs on any device, any batch size,
rectangular and odd sizes. For an odd size ``n`` there is no polyphase split that a
one-sample shift maps to itself, so the candidates are the ``n`` circular "phases"
``x[(c + 2j) mod n]``; a shift by ``d`` turns candidate ``c`` into candidate ``c + d``,
so the choice (and the output) follows the shift exactly.

Every module here reports its kernel, stride and dilation through
``receptive_geometry()`` so :mod:`helpers.receptive` can compute receptive fields.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

from helpers._checks import check_choice, check_int, check_tensor

PAD_TYPES = ("reflect", "replicate", "zero", "circular")
CRITERIA = ("l2", "l1")
MAX_FILTER_SIZE = 7


def binomial_filter(size: int) -> torch.Tensor:
    """The normalised 1-D binomial filter with ``size`` taps (row ``size - 1`` of Pascal's triangle).

    >>> binomial_filter(3).tolist()
    [0.25, 0.5, 0.25]

    Chapters 4 and 6.
    """
    size = check_int("size", size, minimum=1)
    if size > MAX_FILTER_SIZE:
        raise ValueError(f"size must be between 1 and {MAX_FILTER_SIZE} (the paper's filters), got {size}")
    taps = torch.tensor([math.comb(size - 1, k) for k in range(size)], dtype=torch.float64)
    return (taps / taps.sum()).float()


def binomial_filter_2d(size: int) -> torch.Tensor:
    """The ``(size, size)`` blur kernel: the outer product of :func:`binomial_filter`, summing to 1. Chapter 4."""
    a = binomial_filter(size).double()
    return torch.outer(a, a).float()


def _pad_sizes(filt_size: int) -> list[int]:
    """(left, right, top, bottom) padding that keeps a ``filt_size`` filter centred (as Zhang)."""
    before, after = (filt_size - 1) // 2, filt_size // 2
    return [before, after, before, after]


def _pad(x: torch.Tensor, pads: list[int], pad_type: str) -> torch.Tensor:
    if not any(pads):
        return x
    mode = "constant" if pad_type == "zero" else pad_type
    return F.pad(x, pads, mode=mode)


def _check_images(name: str, x: object, channels: int | None = None) -> torch.Tensor:
    x = check_tensor(name, x, min_dim=4)
    if x.dim() != 4:
        raise ValueError(f"{name} must have shape (N, C, H, W), got {tuple(x.shape)}")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{name} must have {channels} channels, got {x.shape[1]}")
    return x


class BlurPool(nn.Module):
    """Blur with a binomial filter, then subsample by ``stride`` (Zhang 2019), depthwise.

    Same arguments and output as ``antialiased_cnns.BlurPool`` (the paper's reference
    code; chapter 4 and ``tests/unit/test_antialias.py`` check both): ``filt_size`` taps
    (1-7), ``pad_type`` ``"reflect"`` (default), ``"replicate"``, ``"zero"`` or
    ``"circular"``. ``filt_size=1`` is plain subsampling ``x[..., ::stride, ::stride]``.
    """

    def __init__(self, channels: int, filt_size: int = 4, stride: int = 2, pad_type: str = "reflect") -> None:
        super().__init__()
        self.channels = check_int("channels", channels, minimum=1)
        self.filt_size = check_int("filt_size", filt_size, minimum=1)
        self.stride = check_int("stride", stride, minimum=1)
        self.pad_type = check_choice("pad_type", pad_type, PAD_TYPES)
        kernel = binomial_filter_2d(self.filt_size)  # validates filt_size <= 7
        self.register_buffer("filt", kernel.expand(self.channels, 1, -1, -1).contiguous(), persistent=False)
        self.pads = _pad_sizes(self.filt_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _check_images("x", x, self.channels)
        if self.filt_size == 1:
            return x[:, :, :: self.stride, :: self.stride]
        return F.conv2d(
            _pad(x, self.pads, self.pad_type), self.filt, stride=self.stride, groups=self.channels
        )

    def receptive_geometry(self) -> tuple[int, int, int]:
        """(kernel, stride, dilation) for :mod:`helpers.receptive`."""
        return self.filt_size, self.stride, 1

    def extra_repr(self) -> str:
        return (
            f"{self.channels}, filt_size={self.filt_size}, stride={self.stride}, pad_type={self.pad_type!r}"
        )


class _Max2x2(torch.autograd.Function):
    """Max over every 2x2 window, stride 1, no padding: separable forward, index-free backward.

    The gradient goes to the first maximum of each window (left, then top), as in ``max_pool2d``.
    The masks of the winners are returned as extra, non-differentiable outputs and the
    backward pass is functional (no in-place writes), so ``torch.vmap`` can batch the
    function over the stacked runs of :func:`helpers.ensemble.train_together`.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        left, right = y[..., :, :-1], y[..., :, 1:]
        take_right = right > left
        rows = torch.maximum(left, right)
        top, bottom = rows[..., :-1, :], rows[..., 1:, :]
        take_bottom = bottom > top
        return torch.maximum(top, bottom), take_right, take_bottom

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        _, take_right, take_bottom = output
        ctx.mark_non_differentiable(take_right, take_bottom)
        ctx.save_for_backward(take_right, take_bottom)

    @staticmethod
    def backward(ctx, grad: torch.Tensor, *_mask_grads) -> torch.Tensor:
        take_right, take_bottom = ctx.saved_tensors
        grad_rows = _Max2x2.spread(grad, grad * take_bottom, dim=-2)
        return _Max2x2.spread(grad_rows, grad_rows * take_right, dim=-1)

    @staticmethod
    def spread(grad: torch.Tensor, to_next: torch.Tensor, dim: int) -> torch.Tensor:
        """Send ``grad - to_next`` to the first sample of each pair along ``dim`` and ``to_next`` to the second.

        The result is one sample longer along ``dim``; built with one ``cat`` (no zero padding,
        which cost a fill and a copy per term).
        """
        stay = grad - to_next
        n = grad.shape[dim]
        middle = stay.narrow(dim, 1, n - 1) + to_next.narrow(dim, 0, n - 1)
        return torch.cat([stay.narrow(dim, 0, 1), middle, to_next.narrow(dim, n - 1, 1)], dim=dim)


class StrideOneMaxPool(nn.Module):
    """Max over every ``kernel_size`` square window, stride 1: the dense half of a MaxPool replacement.

    ``circular=True`` pads circularly first, so the output keeps the input size and the
    layer is exactly equivariant to circular shifts (used with APS and circular BlurPool).
    ``circular=False`` pads nothing and equals ``nn.MaxPool2d(kernel_size, stride=1)``
    (Zhang's MaxBlurPool). It is computed as a running maximum of shifted slices, one
    axis at a time, which on CPU is several times faster than ``max_pool2d`` with stride 1
    (for ``kernel_size=2`` also in training, through a small autograd function; other
    sizes call ``max_pool2d`` when gradients are needed). The values are the same.

    Chapter 4.
    """

    def __init__(self, kernel_size: int = 2, circular: bool = True) -> None:
        super().__init__()
        self.kernel_size = check_int("kernel_size", kernel_size, minimum=1)
        self.circular = bool(circular)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _check_images("x", x)
        k = self.kernel_size
        if self.circular:
            x = _pad(x, [(k - 1) // 2, k // 2, (k - 1) // 2, k // 2], "circular")
        elif min(x.shape[-2:]) < k:
            raise ValueError(f"x must be at least {k} pixels high and wide, got {tuple(x.shape[-2:])}")
        if k == 2:
            return _Max2x2.apply(x)[0]
        if torch.is_grad_enabled() and x.requires_grad:
            return F.max_pool2d(x, k, stride=1)
        h, w = x.shape[-2] - k + 1, x.shape[-1] - k + 1
        rows = x[..., :, :w]
        for j in range(1, k):
            rows = torch.maximum(rows, x[..., :, j : j + w])
        out = rows[..., :h, :]
        for j in range(1, k):
            out = torch.maximum(out, rows[..., j : j + h, :])
        return out

    def receptive_geometry(self) -> tuple[int, int, int]:
        return self.kernel_size, 1, 1

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, circular={self.circular}"


@lru_cache(maxsize=64)
def _phases(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Candidate index sets along an axis of size ``n`` and their indicator matrix.

    Even ``n``: the two polyphase components (start 0 or 1). Odd ``n``: the ``n`` circular
    phases ``(c + 2j) mod n``, ``j < ceil(n / 2)``. Returns ``index (K, ceil(n/2))`` and
    ``indicator (K, n)`` (float64) with ``indicator[k, i] = 1`` when ``i`` is in set ``k``.
    """
    starts = torch.arange(2 if n % 2 == 0 else n)
    index = (starts[:, None] + 2 * torch.arange((n + 1) // 2)) % n
    indicator = torch.zeros(len(starts), n, dtype=torch.float64).scatter_(1, index, 1.0)
    return index, indicator


def aps_downsample(
    x: torch.Tensor, criterion: str = "l2", return_index: bool = False
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Adaptive polyphase sampling by 2 (Chaman & Dokmanić 2021), for every image separately.

    Keeps, per image, the component ``x[..., rows, cols]`` (rows and cols each one of the
    candidate sets of :func:`_phases`) whose ``criterion`` norm over all channels is largest.
    Output ``(N, C, ceil(H/2), ceil(W/2))``. With ``return_index`` also returns the chosen
    ``(start_row, start_col)`` per image, shape ``(N, 2)``.

    Candidate norms are summed in float64 so that the choice does not flip on rounding
    when the input is shifted. Ties go to the first candidate.

    Chapter 4.
    """
    x = _check_images("x", x)
    criterion = check_choice("criterion", criterion, CRITERIA)
    n, c, h, w = x.shape
    rows, ind_r = (t.to(x.device) for t in _phases(h))
    cols, ind_c = (t.to(x.device) for t in _phases(w))
    with torch.no_grad():
        # per-pixel energy over channels (same values, same order for a shifted input),
        # then sums over candidate sets in float64
        energy = (x.square() if criterion == "l2" else x.abs()).sum(1).double()  # (N, H, W)
        norms = ind_r @ energy @ ind_c.T  # (N, K_rows, K_cols)
        best = norms.flatten(1).argmax(1)
    kr, kc = best // ind_c.shape[0], best % ind_c.shape[0]
    r, q = rows[kr], cols[kc]  # (N, ceil(H/2)), (N, ceil(W/2))
    out = x.gather(2, r[:, None, :, None].expand(n, c, r.shape[1], w))
    out = out.gather(3, q[:, None, None, :].expand(n, c, r.shape[1], q.shape[1]))
    if return_index:
        return out, torch.stack([r[:, 0], q[:, 0]], dim=1)
    return out


class APSPool(nn.Module):
    """Adaptive polyphase sampling (stride 2) as a layer; see :func:`aps_downsample`.

    ``filt_size > 1`` blurs first with a circularly padded binomial filter (APS with a
    low-pass filter, as in the paper's "LPF" variant); the default is plain APS.

    Chapter 4.
    """

    def __init__(self, channels: int | None = None, filt_size: int = 1, criterion: str = "l2") -> None:
        super().__init__()
        self.criterion = check_choice("criterion", criterion, CRITERIA)
        self.filt_size = check_int("filt_size", filt_size, minimum=1)
        self.blur = None
        if self.filt_size > 1:
            if channels is None:
                raise ValueError("channels must be given when filt_size > 1")
            self.blur = BlurPool(channels, self.filt_size, stride=1, pad_type="circular")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.blur is not None:
            x = self.blur(x)
        return aps_downsample(x, self.criterion)

    def receptive_geometry(self) -> tuple[int, int, int]:
        return self.filt_size, 2, 1

    def extra_repr(self) -> str:
        return f"filt_size={self.filt_size}, criterion={self.criterion!r}"


def max_blur_pool(filt_size: int = 4, pad_type: str = "reflect"):
    """Factory ``channels -> MaxPool2d(2, stride=1) + BlurPool``: Zhang's replacement for ``MaxPool2d(2)``.

    With ``pad_type="circular"`` the dense max is circular too (:class:`StrideOneMaxPool`), so the
    whole layer lives on the torus (no border effects under circular shifts); with
    ``filt_size=1`` it then equals ``MaxPool2d(2)`` exactly.

    Chapters 4 and 6.
    """
    filt_size = check_int("filt_size", filt_size, minimum=1)
    binomial_filter(filt_size)
    pad_type = check_choice("pad_type", pad_type, PAD_TYPES)

    def factory(channels: int) -> nn.Module:
        dense = StrideOneMaxPool(2, circular=pad_type == "circular")
        return nn.Sequential(dense, BlurPool(channels, filt_size, stride=2, pad_type=pad_type))

    return factory


def blur_pool(filt_size: int = 4, pad_type: str = "reflect"):
    """Factory ``channels -> BlurPool``: after a stride-1 conv + ReLU it replaces a strided conv. Chapter 4."""
    filt_size = check_int("filt_size", filt_size, minimum=1)
    binomial_filter(filt_size)
    pad_type = check_choice("pad_type", pad_type, PAD_TYPES)
    return lambda channels: BlurPool(channels, filt_size, stride=2, pad_type=pad_type)


def max_aps_pool(filt_size: int = 1, criterion: str = "l2"):
    """Factory ``channels -> StrideOneMaxPool(2) + APSPool``: APS's replacement for ``MaxPool2d(2)``.

    The stride-1 max is circular, as in the paper's circular-padding experiments.

    Chapter 4.
    """
    filt_size = check_int("filt_size", filt_size, minimum=1)
    binomial_filter(filt_size)
    criterion = check_choice("criterion", criterion, CRITERIA)
    return lambda channels: nn.Sequential(
        StrideOneMaxPool(2, circular=True), APSPool(channels, filt_size, criterion)
    )
