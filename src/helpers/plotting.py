"""Figures used across the book: image grids, signals, error maps, curves with spread.

Every function returns the matplotlib ``Figure`` so a notebook can show or save it.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch


def _np(a: torch.Tensor | np.ndarray) -> np.ndarray:
    return a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


def show_images(
    images: Sequence[torch.Tensor | np.ndarray],
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    cmap: str = "gray",
    size: float = 2.0,
    symmetric: bool = False,
    colorbar: bool = False,
    suptitle: str | None = None,
) -> plt.Figure:
    """A grid of 2-D images (``(H, W)`` or ``(1, H, W)``); ``symmetric`` centres the colour map at 0."""
    images = [_np(im).squeeze() for im in images]
    n = len(images)
    ncols = ncols or n
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if suptitle else 0)), squeeze=False
    )
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= n:
            continue
        kw = {}
        if symmetric:
            m = float(np.abs(images[k]).max()) or 1.0
            kw = {"vmin": -m, "vmax": m}
        im = ax.imshow(images[k], cmap=cmap, interpolation="nearest", **kw)
        if titles is not None:
            ax.set_title(titles[k], fontsize=9)
        if colorbar:
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_signals(
    signals: Sequence[torch.Tensor | np.ndarray],
    labels: Sequence[str],
    title: str | None = None,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """1-D signals as offset stem plots on one axis, one row per signal."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 0.8 + 0.7 * len(signals)))
    else:
        fig = ax.figure
    arrays = [_np(sig).ravel() for sig in signals]
    spacing = 1.3 * max(float(np.abs(a).max()) for a in arrays) or 1.0
    for row, (sig, label) in enumerate(zip(arrays, labels, strict=True)):
        base = -spacing * row
        ax.vlines(np.arange(len(sig)), base, base + sig, color=f"C{row}")
        ax.plot(np.arange(len(sig)), base + sig, "o", color=f"C{row}", ms=4)
        ax.axhline(base, color="0.8", lw=0.8, zorder=0)
        ax.text(-0.8, base + 0.25 * spacing, label, ha="right", va="center", fontsize=9)
    ax.set_yticks([])
    ax.set_xlabel("sample index")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_mean_spread(
    x: Sequence[float] | np.ndarray,
    curves: dict[str, np.ndarray | torch.Tensor],
    xlabel: str,
    ylabel: str,
    title: str | None = None,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """For each name, a ``(runs, len(x))`` array drawn as its mean with a min-max band."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.5))
    else:
        fig = ax.figure
    for k, (name, runs) in enumerate(curves.items()):
        runs = np.atleast_2d(_np(runs))
        ax.plot(x, runs.mean(0), "-o", ms=3, color=f"C{k}", label=name)
        if runs.shape[0] > 1:
            ax.fill_between(x, runs.min(0), runs.max(0), color=f"C{k}", alpha=0.2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
