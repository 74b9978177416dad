"""Invariance and equivariance errors, and shift-consistency of classifiers.

Every function sweeps a set of shifts in one batched call: the input is shifted by all
offsets at once (:func:`helpers.shifts.shift_all`), the stack is flattened into one batch
and sent through ``f`` (in chunks of ``chunk_size`` samples to bound memory).

``f`` maps a batch ``(N, ...)`` to a batch ``(N, ...)``; every function runs without
gradients (``torch.no_grad``), so no caller needs to wrap it. Used from chapter 1 on; the
classifier metrics (:func:`predict_over_shifts`, :func:`consistency`,
:func:`change_rate`) from chapter 3 on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

from helpers._checks import check_int, check_tensor
from helpers.shifts import Offset, _check_offsets, bilinear_shift_all, fourier_shift_all, shift_all

Batched = Callable[[torch.Tensor], torch.Tensor]


def apply_batched(f: Batched, stack: torch.Tensor, chunk_size: int | None = None) -> torch.Tensor:
    """Apply ``f`` to a ``(S, B, ...)`` stack as one ``(S*B, ...)`` batch; return ``(S, B, ...)``. Every sweep of chapters 1-8."""
    s, b = stack.shape[:2]
    flat = stack.reshape(s * b, *stack.shape[2:])
    if chunk_size is None or chunk_size >= flat.shape[0]:
        out = f(flat)
    else:
        chunk_size = check_int("chunk_size", chunk_size, minimum=1)
        out = torch.cat([f(part) for part in flat.split(chunk_size)])
    return out.reshape(s, b, *out.shape[1:])


def _norm_per_shift(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(t.shape[0], -1).norm(dim=1)


@torch.no_grad()
def equivariance_gap(
    f: Batched,
    x: torch.Tensor,
    offsets: Sequence[Offset],
    mode: str = "circular",
    stride: int = 1,
    chunk_size: int | None = None,
) -> torch.Tensor:
    """``f(T_d x) - T_{d/stride} f(x)`` for every offset ``d``: shape ``(S, *f(x).shape)``.

    With ``stride > 1`` an offset that is not a multiple of the stride has no exact
    output shift; the gap is then taken against the nearer of ``floor(d/stride)`` and
    ``ceil(d/stride)`` (whichever is smaller), so a nonzero gap is never an artefact of
    rounding the wrong way.

    Chapter 2.
    """
    x = check_tensor("x", x, min_dim=2)
    stride = check_int("stride", stride, minimum=1)
    table = _check_offsets(offsets)
    fx = f(x)
    f_shifted = apply_batched(f, shift_all(x, table, mode), chunk_size)
    if mode == "crop":
        if stride != 1:
            raise ValueError("stride must be 1 for mode='crop'")
        return f_shifted - shift_all(fx, table, mode, margin=int(table.abs().max()))
    lo = torch.div(table, stride, rounding_mode="floor")
    gap = f_shifted - shift_all(fx, lo, mode)
    if stride > 1:
        hi = -torch.div(-table, stride, rounding_mode="floor")
        gap_hi = f_shifted - shift_all(fx, hi, mode)
        use_hi = _norm_per_shift(gap_hi) < _norm_per_shift(gap)
        gap = torch.where(use_hi.view(-1, *[1] * (gap.dim() - 1)), gap_hi, gap)
    return gap


@torch.no_grad()
def equivariance_error(
    f: Batched,
    x: torch.Tensor,
    offsets: Sequence[Offset],
    mode: str = "circular",
    stride: int = 1,
    chunk_size: int | None = None,
) -> torch.Tensor:
    """Relative equivariance error per offset: ``||f(T x) - T' f(x)|| / ||f(x)||``, shape ``(S,)``. Chapters 1-4."""
    gap = equivariance_gap(f, x, offsets, mode=mode, stride=stride, chunk_size=chunk_size)
    scale = f(x).norm().clamp_min(1e-12)
    return _norm_per_shift(gap) / scale


@torch.no_grad()
def shiftability_error(
    f: Batched, x: torch.Tensor, offsets: Sequence[Offset], stride: int = 2, chunk_size: int | None = None
) -> torch.Tensor:
    """Relative error of a strided layer against the exact fractional shift of its output, per offset.

    ``||f(T_d x) - S_{d/stride} f(x)|| / ||f(x)||`` with ``T_d`` a circular shift of the input
    and ``S`` the Fourier shift (:func:`helpers.shifts.fourier_shift_all`): a one-pixel input
    shift is a half-sample shift of a stride-2 output. This is Azulay & Weiss's notion of a
    *shiftable* representation; a perfect low-pass-then-subsample layer scores near 0, where
    :func:`equivariance_error` with ``stride=2`` (the nearest whole-sample shift) does not.

    Chapter 4.
    """
    x = check_tensor("x", x, min_dim=2)
    stride = check_int("stride", stride, minimum=1)
    table = _check_offsets(offsets)
    fx = f(x)
    f_shifted = apply_batched(f, shift_all(x, table, "circular"), chunk_size)
    reference = fourier_shift_all(fx, [tuple(v / stride for v in row) for row in table.tolist()])
    return _norm_per_shift(f_shifted - reference) / fx.norm().clamp_min(1e-12)


@torch.no_grad()
def invariance_error(
    f: Batched,
    x: torch.Tensor,
    offsets: Sequence[Offset],
    mode: str = "circular",
    chunk_size: int | None = None,
) -> torch.Tensor:
    """Relative invariance error per offset: ``||f(T x) - f(x)|| / ||f(x)||``, shape ``(S,)``.

    For ``mode="crop"`` the reference is the unshifted crop (offset 0, same margin).

    Chapters 1, 3, 4 and 7.
    """
    x = check_tensor("x", x, min_dim=2)
    table = _check_offsets(offsets)
    margin = int(table.abs().max()) if mode == "crop" else None
    stack = shift_all(x, torch.cat([torch.zeros_like(table[:1]), table]), mode, margin=margin)
    out = apply_batched(f, stack, chunk_size)
    return _relative_change(out[1:], out[:1])


def log_log_fit(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """The straight line through ``(log x, log y)`` by least squares: ``(slope, intercept)``.

    A power law ``y = c x^a`` has slope ``a``. Chapter 2 (how the border's share and the
    relative error of zero padding fall with the image size).
    """
    xs, ys = torch.as_tensor(x, dtype=torch.float64).ravel(), torch.as_tensor(y, dtype=torch.float64).ravel()
    if xs.numel() != ys.numel() or xs.numel() < 2:
        raise ValueError(f"x and y must hold the same number (at least 2) of values, got {xs.numel()} and {ys.numel()}")
    if (xs <= 0).any() or (ys <= 0).any():
        raise ValueError("x and y must be positive to take their logarithms")
    design = torch.stack([xs.log(), torch.ones_like(xs)], 1)
    slope, intercept = torch.linalg.lstsq(design, ys.log()[:, None]).solution[:, 0].tolist()
    return slope, intercept


def _relative_change(outputs: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """``||outputs[s] - reference|| / ||reference||`` for every ``s`` (``reference`` has a leading 1)."""
    return _norm_per_shift(outputs - reference) / reference.norm().clamp_min(1e-12)


def other_class_partners(labels: torch.Tensor) -> torch.Tensor:
    """For each sample, the index of a partner with another label (chapter 7).

    Samples are sorted by label and each is paired with the one half-way round the sorted
    order, which for roughly balanced classes always holds another label; a pairing that
    would repeat a label raises ``ValueError``. Deterministic: no random draw.
    """
    labels = check_tensor("labels", labels, min_dim=1)
    if labels.dim() != 1 or labels.numel() < 2:
        raise ValueError(f"labels must be one label per sample, at least two, got shape {tuple(labels.shape)}")
    order = labels.argsort(stable=True)
    partners = torch.empty_like(order)
    partners[order] = order.roll(-(len(order) // 2))
    if (labels[partners] == labels).any():
        raise ValueError("labels must not be dominated by one class: some sample has no partner of another label")
    return partners


@torch.no_grad()
def between_class_distance(f: Batched, x: torch.Tensor, labels: torch.Tensor) -> float:
    """``||f(x) - f(x')|| / ||f(x)||`` where ``x'`` pairs each sample with one of another label.

    The scale on which to read an invariance error (chapter 7): how far apart two different
    digits lie in the same feature space, in the same relative units as
    :func:`invariance_error`. Dividing a feature change by it makes feature spaces of
    different heads comparable. Partners from :func:`other_class_partners`.
    """
    x = check_tensor("x", x, min_dim=2)
    labels = check_tensor("labels", labels, min_dim=1)
    if len(labels) != len(x):
        raise ValueError(f"labels must hold one label per sample of x ({len(x)}), got {len(labels)}")
    out = f(x)
    return ((out - out[other_class_partners(labels)]).norm() / out.norm().clamp_min(1e-12)).item()


@torch.no_grad()
def invariance_error_over(
    f: Batched, x: torch.Tensor, stack: torch.Tensor, chunk_size: int = 1024
) -> torch.Tensor:
    """Relative invariance error ``||f(T_s x) - f(x)|| / ||f(x)||`` for every ``T_s x`` in ``stack``.

    The measure of :func:`invariance_error`, for transformations that are not shifts
    (rotations, scalings; chapters 7 and 8): ``stack`` is ``(S, *x.shape)``, e.g. from
    :func:`helpers.augment.rotate_all`. Returns shape ``(S,)``; norms are over the whole batch.
    """
    x = check_tensor("x", x, min_dim=2)
    stack = check_tensor("stack", stack, min_dim=3)
    if tuple(stack.shape[1:]) != tuple(x.shape):
        raise ValueError(
            f"stack must have shape (S, {', '.join(map(str, x.shape))}), got {tuple(stack.shape)}"
        )
    chunk_size = check_int("chunk_size", chunk_size, minimum=1)
    reference = f(x)
    out = apply_batched(f, stack, chunk_size)
    return _relative_change(out, reference.unsqueeze(0))


@torch.no_grad()
def predict_over_shifts(
    model: Batched,
    x: torch.Tensor,
    offsets: Sequence[Offset],
    mode: str = "circular",
    margin: int | None = None,
    chunk_size: int = 2048,
) -> torch.Tensor:
    """Model outputs for every shift of every input: shape ``(S, B, ...)``, one batched sweep. Chapters 3 and 4.

    ``mode`` is a mode of :func:`helpers.shifts.shift_all`, or ``"bilinear"`` or ``"fourier"``
    for real-valued (sub-pixel) offsets through :func:`helpers.shifts.bilinear_shift_all` or
    :func:`helpers.shifts.fourier_shift_all`. With ``margin`` (``"crop"``, ``"bilinear"`` and
    ``"fourier"``) ``x`` is a scene larger than the model's input: it is moved, and the model
    sees the window that leaves ``margin`` pixels on every side, so nothing wraps into view
    (a crop shift, whole or sub-pixel).
    """
    x = check_tensor("x", x, min_dim=2)
    if mode in ("bilinear", "fourier"):
        moved = (bilinear_shift_all if mode == "bilinear" else fourier_shift_all)(x, offsets)
        if margin is not None:
            largest = max(abs(v) for o in offsets for v in (o if isinstance(o, Sequence) else (o,)))
            margin = check_int("margin", margin, minimum=1)
            axes = len(offsets[0]) if isinstance(offsets[0], Sequence) else 1
            if margin < math.ceil(largest) or min(x.shape[-axes:]) <= 2 * margin:
                raise ValueError(f"margin must be at least the largest |offset| ({largest}) and leave a window "
                                 f"inside x, got {margin}")
            window = (..., *[slice(margin, -margin)] * axes)
            moved = moved[window]
        return apply_batched(model, moved, chunk_size)
    return apply_batched(model, shift_all(x, offsets, mode, margin=margin), chunk_size)


def consistency(labels: torch.Tensor) -> float:
    """Zhang's consistency: how often two different shifts of one image get the same label.

    ``labels`` has shape ``(S, B)`` (one predicted class per shift and image, e.g. the argmax of
    :func:`predict_over_shifts`). Zhang et al. draw random pairs of shifts; here every pair of
    two different shifts counts, so the number has no sampling noise of its own: for an image
    whose ``S`` shifts give class ``c`` ``n_c`` times, ``sum_c n_c (n_c - 1) / (S (S - 1))``,
    averaged over the images.

    Chapter 4.
    """
    labels = check_tensor("labels", labels, min_dim=2)
    if labels.shape[0] < 2:
        raise ValueError(f"labels must hold at least 2 shifts, got shape {tuple(labels.shape)}")
    labels = labels.cpu().long().reshape(labels.shape[0], -1)
    s = labels.shape[0]
    counts = torch.zeros(labels.shape[1], int(labels.max()) + 1, dtype=torch.float64)
    counts.scatter_add_(1, labels.T, torch.ones(labels.T.shape, dtype=torch.float64))
    return ((counts * (counts - 1)).sum(1) / (s * (s - 1))).mean().item()


def change_rate(labels: torch.Tensor, offsets: Sequence[Offset], step: int = 1) -> float:
    """P(top-1 changes) between shifts that differ by ``step`` pixels along one axis.

    ``labels`` is ``(S, B)`` for the ``offsets`` it was computed on; every pair of offsets
    at distance exactly ``step`` (one axis, the others equal) counts, for every image.

    Chapter 4.
    """
    labels = check_tensor("labels", labels, min_dim=2)
    table = _check_offsets(offsets)
    if table.shape[0] != labels.shape[0]:
        raise ValueError(f"labels has {labels.shape[0]} shifts but offsets has {table.shape[0]}")
    step = check_int("step", step, minimum=1)
    diff = (table[:, None, :] - table[None, :, :]).abs()
    neighbours = (diff.sum(-1) == step) & ((diff == step).sum(-1) == 1)
    i, j = torch.nonzero(torch.triu(neighbours), as_tuple=True)
    if i.numel() == 0:
        raise ValueError(f"offsets contain no pair of shifts {step} pixel(s) apart")
    labels = labels.cpu()
    return (labels[i] != labels[j]).float().mean().item()


def path_change_rate(labels: torch.Tensor) -> float:
    """P(top-1 changes) between consecutive steps of a path of shifts: ``labels`` is ``(S, B)``.

    The step can be fractional (chapter 4's half-pixel paths), which :func:`change_rate`
    does not cover. Chapter 4.
    """
    labels = check_tensor("labels", labels, min_dim=2)
    if labels.shape[0] < 2:
        raise ValueError(f"labels must hold at least 2 steps, got shape {tuple(labels.shape)}")
    labels = labels.cpu()
    return (labels[1:] != labels[:-1]).float().mean().item()
