"""Shifts of 1-D signals and 2-D images: circular, zero-fill and crop.

Chapter 1 (``chapters/01_shifts_and_invariance.ipynb``) introduces them; every later
chapter measures invariance and equivariance with them.

Convention: shifting by ``d`` moves content forward, ``(T_d x)[i] = x[i - d]``.
An ``int`` offset shifts the last axis (a 1-D signal); a tuple ``(dy, dx)`` shifts the
last two axes (an image). Leading axes (batch, channels) are left alone.

- ``"circular"``: content leaving one side re-enters on the other (``torch.roll``).
  These shifts form a group: they compose and invert exactly.
- ``"zero"``: content leaving the frame is lost, zeros enter. Not invertible.
- ``"crop"``: the frame is a window of size ``n - 2 * margin`` onto the signal; shifting
  moves the content under a fixed window, so new content enters from outside. This is
  how a camera sees a moved object. The output is smaller than the input.

:func:`fourier_shift` moves a signal by any real offset, whole or fractional: it multiplies
the spectrum by a phase ramp (band-limited interpolation on the torus). For whole offsets
it equals the circular shift; chapter 4 uses its half-sample shifts as the reference for a
stride-2 layer. :func:`bilinear_shift_all` moves images by real offsets the way image
libraries translate by a fraction of a pixel (linear interpolation between the two nearest
whole shifts, circularly); chapter 4 shifts its test digits between the pixels with it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch

from helpers._checks import check_choice, check_int, check_offset, check_tensor

MODES = ("circular", "zero", "crop")
Offset = int | tuple[int, ...]


def _source_index(n: int, d: torch.Tensor, mode: str, margin: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Index of the input sample each output sample reads, and whether it exists.

    ``d`` holds one offset per shift (shape ``(S,)``); returns ``(S, n_out)`` tensors.
    """
    if mode == "crop":
        out = torch.arange(n - 2 * margin)
        src = out[None, :] + margin - d[:, None]
        return src, torch.ones_like(src, dtype=torch.bool)
    src = torch.arange(n)[None, :] - d[:, None]
    if mode == "circular":
        return src % n, torch.ones_like(src, dtype=torch.bool)
    valid = (src >= 0) & (src < n)
    return src.clamp(0, n - 1), valid


def _check_offsets(offsets: Sequence[Offset] | torch.Tensor) -> torch.Tensor:
    if isinstance(offsets, torch.Tensor):
        if offsets.dtype.is_floating_point or offsets.dtype == torch.bool:
            raise ValueError(f"offsets must hold integers, got a tensor of {offsets.dtype}")
        offsets = offsets.tolist()
    if isinstance(offsets, (int, str)) or not isinstance(offsets, Sequence):
        raise ValueError(f"offsets must be a sequence of offsets, got {offsets!r}")
    if len(offsets) == 0:
        raise ValueError("offsets must not be empty")
    parsed = [check_offset(f"offsets[{i}]", o) for i, o in enumerate(offsets)]
    if len({len(p) for p in parsed}) != 1:
        raise ValueError(f"offsets must all have the same length, got {offsets!r}")
    return torch.tensor(parsed, dtype=torch.long)


def shift_all(
    x: torch.Tensor,
    offsets: Sequence[Offset] | torch.Tensor,
    mode: str = "circular",
    margin: int | None = None,
) -> torch.Tensor:
    """All shifts of ``x`` in one tensor: ``out[s] = shift(x, offsets[s], mode)``.

    Returns shape ``(S, *x.shape)`` (smaller last axes for ``"crop"``). One gather, no
    Python loop over shifts, so a sweep over shifts can feed one forward pass.

    ``margin`` (crop only) is the half-size of the border kept outside the window; it
    defaults to the largest absolute offset, so every window lies inside ``x``.

    Chapters 1-8 (every batched sweep).
    """
    mode = check_choice("mode", mode, MODES)
    table = _check_offsets(offsets)  # (S, k)
    k = table.shape[1]
    x = check_tensor("x", x, min_dim=k)
    if mode == "crop":
        largest = int(table.abs().max())
        margin = largest if margin is None else check_int("margin", margin, minimum=0)
        if largest > margin:
            raise ValueError(f"margin must be >= the largest |offset| ({largest}), got {margin}")
        small = min(x.shape[-k:])
        if small - 2 * margin < 1:
            raise ValueError(f"margin={margin} leaves no window inside a signal of size {small}")
    elif margin is not None:
        raise ValueError(f"margin only applies to mode='crop', got mode={mode!r}")
    else:
        margin = 0

    lead = x.dim() - k
    out = x.unsqueeze(0).expand(table.shape[0], *x.shape)
    keep = None
    for j in range(k):  # one gather per shifted axis (1 or 2), never per shift
        axis = lead + j
        n = x.shape[axis]
        src, valid = _source_index(n, table[:, j], mode, margin)
        view = [table.shape[0]] + [1] * x.dim()
        view[1 + axis] = src.shape[1]
        index = src.view(view).to(x.device)
        size = list(out.shape)
        size[1 + axis] = src.shape[1]
        out = torch.gather(out, 1 + axis, index.expand(size))
        mask = valid.view(view).to(x.device)
        keep = mask if keep is None else keep & mask
    if mode == "zero":
        out = out * keep.to(out.dtype)
    return out


def shift(x: torch.Tensor, offset: Offset, mode: str = "circular", margin: int | None = None) -> torch.Tensor:
    """Shift ``x`` by ``offset`` (``int``: last axis; ``(dy, dx)``: last two axes).

    >>> shift(torch.tensor([1, 2, 3, 4]), 1).tolist()
    [4, 1, 2, 3]
    >>> shift(torch.tensor([1, 2, 3, 4]), 1, mode="zero").tolist()
    [0, 1, 2, 3]

    Chapters 1-4 and 7.
    """
    offset = check_offset("offset", offset)
    return shift_all(x, [offset], mode=mode, margin=margin)[0]


def all_offsets_2d(max_offset: int, step: int = 1) -> list[tuple[int, int]]:
    """Every ``(dy, dx)`` with ``|dy|, |dx| <= max_offset`` on a grid of ``step``. Chapter 2."""
    max_offset = check_int("max_offset", max_offset, minimum=0)
    step = check_int("step", step, minimum=1)
    r = range(-max_offset, max_offset + 1, step)
    return [(dy, dx) for dy in r for dx in r]


def _real_offsets(offsets: Sequence[float | Sequence[float]]) -> torch.Tensor:
    """A ``(S, k)`` float64 table of real offsets (one row per shift, one column per axis)."""
    if isinstance(offsets, (str, numbers.Number)) or not isinstance(offsets, Sequence) or len(offsets) == 0:
        raise ValueError(f"offsets must be a non-empty sequence of offsets, got {offsets!r}")
    rows = []
    for i, o in enumerate(offsets):
        row = (o,) if isinstance(o, numbers.Real) else tuple(o) if isinstance(o, Sequence) else None
        if not row or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v) for v in row):
            raise ValueError(f"offsets[{i}] must be a real number or a tuple of real numbers, got {o!r}")
        rows.append(row)
    if len({len(r) for r in rows}) != 1 or len(rows[0]) > 2:
        raise ValueError(f"offsets must all shift the same 1 or 2 axes, got {offsets!r}")
    return torch.tensor(rows, dtype=torch.float64)


def fourier_shift_all(x: torch.Tensor, offsets: Sequence[float | Sequence[float]]) -> torch.Tensor:
    """Every real-valued shift of ``x`` in one tensor: ``out[s]`` is ``x`` moved by ``offsets[s]``.

    The spectrum is multiplied by ``exp(-2 pi i k d / n)`` (``k`` the signed frequency) and
    transformed back; the real part is kept. Whole offsets give :func:`shift` in circular
    mode (to rounding); a half-sample offset is the shift Azulay & Weiss compare a stride-2
    layer with. The offsets' sign convention is :func:`shift`'s. Returns ``(S, *x.shape)``.

    Chapter 4.
    """
    table = _real_offsets(offsets)  # (S, k)
    k = table.shape[1]
    x = check_tensor("x", x, min_dim=k)
    if not x.dtype.is_floating_point:
        raise ValueError(f"x must be a floating-point tensor, got {x.dtype}")
    dims = tuple(range(-k, 0))
    spectrum = torch.fft.fftn(x.double(), dim=dims)
    phase = torch.zeros(table.shape[0], *x.shape[-k:], dtype=torch.float64)
    for j in range(k):
        n = x.shape[-k + j]
        freq = torch.fft.fftfreq(n, dtype=torch.float64)  # cycles per sample, Nyquist at -0.5
        view = [table.shape[0]] + [1] * k
        view[1 + j] = n
        phase = phase + (table[:, j, None] * freq[None, :]).view(view)
    ramp = torch.polar(torch.ones_like(phase), -2 * math.pi * phase).to(x.device)
    lead = [1] * (x.dim() - k)
    ramp = ramp.view(table.shape[0], *lead, *x.shape[-k:])
    return torch.fft.ifftn(spectrum.unsqueeze(0) * ramp, dim=dims).real.to(x.dtype)


def fourier_shift(x: torch.Tensor, offset: float | Sequence[float]) -> torch.Tensor:
    """Shift ``x`` by a real ``offset`` (``float``: last axis; ``(dy, dx)``: last two) by a phase ramp.

    >>> fourier_shift(torch.tensor([1.0, 2.0, 3.0, 4.0]), 1).round().tolist()
    [4.0, 1.0, 2.0, 3.0]

    Chapter 4.
    """
    return fourier_shift_all(x, [offset])[0]


def bilinear_shift_all(x: torch.Tensor, offsets: Sequence[float | Sequence[float]]) -> torch.Tensor:
    """Every real-valued shift of ``x`` by linear interpolation, circularly: shape ``(S, *x.shape)``.

    Along each axis an offset ``d = k + f`` (``k`` whole, ``0 <= f < 1``) gives
    ``(1 - f) * shift(x, k) + f * shift(x, k + 1)``; the 2-D case applies that to both axes
    (bilinear). Whole offsets give :func:`shift` exactly. Unlike :func:`fourier_shift_all` it
    does not ring, and it blurs: a half-pixel shift averages two neighbours. Chapter 4.
    """
    table = _real_offsets(offsets)  # (S, k)
    k = table.shape[1]
    x = check_tensor("x", x, min_dim=k)
    if not x.dtype.is_floating_point:
        raise ValueError(f"x must be a floating-point tensor, got {x.dtype}")
    whole = table.floor()
    frac = (table - whole).to(x.dtype)
    out = []
    for row, f in zip(whole.long().tolist(), frac, strict=True):
        corners = [(0,), (1,)] if k == 1 else [(0, 0), (0, 1), (1, 0), (1, 1)]
        total = torch.zeros_like(x)
        for corner in corners:
            weight = 1.0
            for j, c in enumerate(corner):
                weight = weight * (f[j] if c else 1 - f[j])
            if weight != 0:
                total = total + weight * shift(x, tuple(r + c for r, c in zip(row, corner, strict=True)))
        out.append(total)
    return torch.stack(out)
