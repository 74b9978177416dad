"""1-D aliasing and polyphase demos, and a jaggedness measure for shift paths (chapter 4).

Chapter 4 (``chapters/04_aliasing_and_fixes.ipynb``) uses these to show why stride-2
subsampling is not equivariant to odd shifts, and how jagged a trained CNN's output is
along a path of one-pixel shifts.
"""

from __future__ import annotations

import math

import torch

from helpers._checks import check_int, check_tensor


def sinusoid(n: int, cycles: float, phase: float = 0.0) -> torch.Tensor:
    """``cos(2 pi cycles i / n + phase)`` for ``i = 0..n-1``: ``cycles`` periods over ``n`` samples. Chapter 4."""
    n = check_int("n", n, minimum=1)
    if not math.isfinite(float(cycles)) or cycles < 0:
        raise ValueError(f"cycles must be a finite number >= 0, got {cycles!r}")
    i = torch.arange(n, dtype=torch.float64)
    return torch.cos(2 * math.pi * float(cycles) * i / n + float(phase)).float()


def subsample(x: torch.Tensor, stride: int = 2, phase: int = 0) -> torch.Tensor:
    """Keep every ``stride``-th sample of the last axis, starting at ``phase``: ``x[..., phase::stride]``. Chapter 4."""
    x = check_tensor("x", x)
    stride = check_int("stride", stride, minimum=1)
    phase = check_int("phase", phase, minimum=0)
    if phase >= stride:
        raise ValueError(f"phase must be < stride ({stride}), got {phase}")
    return x[..., phase::stride]


def polyphase(x: torch.Tensor, stride: int = 2) -> torch.Tensor:
    """The ``stride`` polyphase components of the last axis, stacked first: ``out[p] = x[..., p::stride]``.

    The last axis must be a multiple of ``stride``, so every component has the same length.

    Chapter 4.
    """
    x = check_tensor("x", x)
    stride = check_int("stride", stride, minimum=1)
    if x.shape[-1] % stride:
        raise ValueError(f"x's last axis ({x.shape[-1]}) must be a multiple of stride ({stride})")
    return torch.stack([x[..., p::stride] for p in range(stride)])


def aliased_cycles(cycles: int, n: int, stride: int = 2) -> int:
    """Where a cosine of ``cycles`` periods over ``n`` samples lands after subsampling by ``stride``.

    The subsampled signal has ``m = n // stride`` samples and can only hold ``0..m // 2``
    cycles (its Nyquist limit); higher ones fold back to ``|cycles - k m|`` for the nearest
    multiple ``k m``. Below the limit the answer is ``cycles`` itself.

    Chapter 4.
    """
    cycles = check_int("cycles", cycles, minimum=0)
    n = check_int("n", n, minimum=1)
    stride = check_int("stride", stride, minimum=1)
    if n % stride:
        raise ValueError(f"n ({n}) must be a multiple of stride ({stride})")
    m = n // stride
    return abs(cycles - m * round(cycles / m))


def dominant_cycles(x: torch.Tensor) -> int:
    """The number of periods (over the whole signal) of the strongest non-constant Fourier component. Chapter 4."""
    x = check_tensor("x", x)
    if x.dim() != 1 or x.numel() < 2:
        raise ValueError(f"x must be a 1-D signal of at least 2 samples, got shape {tuple(x.shape)}")
    spectrum = torch.fft.rfft(x.double() - x.double().mean()).abs()
    return int(spectrum.argmax())


def jaggedness(probs: torch.Tensor) -> torch.Tensor:
    """Mean absolute change of a probability between consecutive steps of a shift path.

    ``probs`` is ``(S, ...)``: the probability (of one class, e.g. the true one) at each of
    ``S`` consecutive one-pixel shifts, for each image. Returns one value per image (the
    trailing shape): ``mean_s |p[s+1] - p[s]|``. A smooth curve scores near 0, a curve that
    flips between 0 and 1 at every step scores 1. This is the mean absolute change (MAC) that
    Azulay & Weiss use to measure how jagged a network's output is along a path of shifts;
    it is the book's implementation, not their code.

    Chapter 4.
    """
    probs = check_tensor("probs", probs)
    if probs.shape[0] < 2:
        raise ValueError(
            f"probs must hold at least 2 steps along its first axis, got shape {tuple(probs.shape)}"
        )
    return (probs[1:] - probs[:-1]).abs().mean(0)


def high_frequency_share(images: torch.Tensor, cutoff: float = 0.25) -> torch.Tensor:
    """Per image, the share of its (mean-removed) spectral energy above ``cutoff`` cycles per pixel.

    A frequency counts when either axis exceeds ``cutoff``; the default 0.25 is the Nyquist
    frequency of the grid after one stride 2, so this is the part of an image that a
    stride-2 layer would fold onto lower frequencies. ``images`` is ``(..., H, W)``; returns
    ``images.shape[:-2]``. Chapter 4 compares its data sets with it.
    """
    images = check_tensor("images", images, min_dim=2)
    if not 0.0 <= cutoff < 0.5:
        raise ValueError(f"cutoff must lie in [0, 0.5), got {cutoff}")
    x = images.double()
    power = torch.fft.fft2(x - x.mean((-2, -1), keepdim=True)).abs().square()
    fy = torch.fft.fftfreq(x.shape[-2], dtype=torch.float64).abs()
    fx = torch.fft.fftfreq(x.shape[-1], dtype=torch.float64).abs()
    high = (fy[:, None] > cutoff) | (fx[None, :] > cutoff)
    return (power * high).sum((-2, -1)) / power.sum((-2, -1)).clamp_min(1e-30)
