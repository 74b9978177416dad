"""Figures used across the book: image grids, signals, error maps, curves with spread.

Every function returns the matplotlib ``Figure`` so a notebook can show or save it.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import FuncFormatter, LogLocator

from helpers._checks import check_int


def _np(a: torch.Tensor | np.ndarray) -> np.ndarray:
    return a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


def _channels_last(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3 and image.shape[0] == 3:
        return np.moveaxis(image, 0, -1)
    if image.ndim != 2:
        raise ValueError(f"images must be (H, W), (1, H, W) or (3, H, W), got shape {image.shape}")
    return image


def show_images(
    images: Sequence[torch.Tensor | np.ndarray],
    titles: Sequence[str] | None = None,
    ncols: int | None = None,
    cmap: str = "gray",
    size: float = 2.0,
    symmetric: bool = False,
    colorbar: bool = False,
    suptitle: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
) -> plt.Figure:
    """A grid of images: grey ``(H, W)`` or ``(1, H, W)``, or colour ``(3, H, W)`` (channels first,
    values in [0, 1]; ``cmap`` and ``symmetric`` then do not apply). ``symmetric`` centres the
    colour map at 0. Every chapter uses it. Every chapter."""
    images = [_channels_last(_np(im).squeeze()) for im in images]
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
        kw = {"vmin": vmin, "vmax": vmax}
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
    positions: Sequence[Sequence[float] | None] | None = None,
    xlabel: str = "sample index",
) -> plt.Figure:
    """1-D signals as offset stem plots on one axis, one row per signal. Chapters 1, 3 and 4.

    ``positions[k]`` places sample ``i`` of signal ``k`` at an input position (``None``: at
    ``i``): a stride-2 output belongs under the inputs it summarises, sample ``i`` of a
    2-wide pool at ``2i + 1/2``.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 0.8 + 0.7 * len(signals)))
    else:
        fig = ax.figure
    arrays = [_np(sig).ravel() for sig in signals]
    positions = positions or [None] * len(arrays)
    if len(positions) != len(arrays):
        raise ValueError(f"positions must have one entry per signal ({len(arrays)}), got {len(positions)}")
    spacing = 1.3 * max(float(np.abs(a).max()) for a in arrays) or 1.0
    for row, (sig, label, where) in enumerate(zip(arrays, labels, positions, strict=True)):
        where = np.arange(len(sig)) if where is None else np.asarray(where, dtype=float)
        if where.shape != sig.shape:
            raise ValueError(f"positions[{row}] must have {len(sig)} entries, got {where.size}")
        base = -spacing * row
        ax.vlines(where, base, base + sig, color=f"C{row}")
        ax.plot(where, base + sig, "o", color=f"C{row}", ms=4)
        ax.axhline(base, color="0.8", lw=0.8, zorder=0)
        ax.text(-0.8, base + 0.25 * spacing, label, ha="right", va="center", fontsize=9)
    ax.set_yticks([])
    ax.set_xlabel(xlabel)
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
    within: tuple[float, float] | None = None,
) -> plt.Figure:
    """For each name, a ``(runs, len(x))`` array drawn as its mean over runs with a band: the
    95% interval of the mean (Student's t), the interval the book's tables print
    (:func:`helpers.claims.interval_text`). ``within`` cuts the band to the values the measure
    can take (``(0, 1)`` for a fraction). Chapters 3, 4, 6, 7 and 8."""
    from helpers.claims import bounded, mean_interval

    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.5))
    else:
        fig = ax.figure
    for k, (name, runs) in enumerate(curves.items()):
        runs = np.atleast_2d(_np(runs))
        ax.plot(x, runs.mean(0), "-o", ms=3, color=f"C{k}", label=name)
        if runs.shape[0] > 1:
            bands = [bounded(mean_interval(runs[:, j]), within) for j in range(runs.shape[1])]
            ax.fill_between(x, [b.low for b in bands], [b.high for b in bands], color=f"C{k}", alpha=0.2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_power_laws(x: Sequence[float], quantities: dict[str, Sequence[float]], xlabel: str,
                    title: str | None = None) -> plt.Figure:
    """One panel per quantity on log-log axes: the measured points and the straight line fitted
    to them (:func:`helpers.metrics.log_log_fit`), its slope in the legend. Chapter 2."""
    from helpers.metrics import log_log_fit

    fig, axes = plt.subplots(1, len(quantities), figsize=(4.2 * len(quantities), 3.2), squeeze=False)
    xs = np.asarray(x, dtype=float)
    for k, (ax, (name, values)) in enumerate(zip(axes[0], quantities.items(), strict=True)):
        slope, intercept = log_log_fit(xs, values)
        ax.plot(xs, values, "o", color=f"C{k}", label="measured")
        ax.plot(xs, np.exp(intercept) * xs**slope, "-", color=f"C{k}", lw=1, label=f"fitted: slope {slope:.2f}")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.yaxis.set_minor_locator(LogLocator(subs=(2, 3, 5)))
        for formatter in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
            formatter(FuncFormatter(lambda v, _: f"{v:.2g}"))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(name, fontsize=8)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def draw_patch_panels(axes: Sequence[plt.Axes], frames: dict[str, np.ndarray], index: int) -> float:
    """Draw frame ``index`` of :func:`helpers.sweeps.patch_frames` on two axes: the input with the
    patch, and the filter's response scaled to its maximum with the peak marked; return that
    maximum (the pooled value). Chapter 5's figure, slider and explorer all draw it."""
    (row, col), (pr, pc) = frames["positions"][index], frames["peak"][index]
    axes[0].imshow(frames["images"][index], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    axes[0].set_title(f"patch at ({row}, {col})", fontsize=9)
    pooled = float(frames["pooled"][index])
    axes[1].imshow(frames["responses"][index], cmap="magma", vmin=0, vmax=pooled or 1.0, interpolation="nearest")
    if pr >= 0:
        axes[1].plot(pc, pr, "c+", ms=12, mew=2)
    return pooled


def plot_patch_frame(frames: dict[str, np.ndarray], index: int, title: str = "") -> plt.Figure:
    """Three panels for frame ``index``: the input, the filter's response (peak marked), the evidence so far.

    The response is scaled to its own maximum (the pooled value, printed above it). The
    third panel plots the evidence of frames ``0 .. index`` against the step along the
    path, on fixed axes, so a sequence of frames reads like a film (chapter 5).
    """
    n = len(frames["evidence"])
    index = check_int("index", index, minimum=0)
    if index >= n:
        raise ValueError(f"index must be < {n} (the number of frames), got {index}")
    fig, axes = plt.subplots(1, 3, figsize=(9, 2.9), gridspec_kw={"width_ratios": [1, 1, 1.4]})
    pooled = draw_patch_panels(axes[:2], frames, index)
    axes[1].set_title(
        f"response, max {pooled:.2f} (+)" if pooled > 0 else "response: zero everywhere", fontsize=9
    )
    for ax in axes[:2]:
        ax.set_xticks([])
        ax.set_yticks([])
    ev = frames["evidence"]
    axes[2].plot(np.arange(index + 1), ev[: index + 1], "o-", ms=3, color="C0")
    axes[2].axhline(0, color="0.6", lw=0.8)
    pad = 0.1 * (float(ev.max() - ev.min()) or 1.0)
    axes[2].set_xlim(-0.5, n - 0.5)
    axes[2].set_ylim(float(ev.min()) - pad, float(ev.max()) + pad)
    axes[2].set_xlabel("step along the path")
    axes[2].set_ylabel("evidence for bottom-right")
    axes[2].grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_seed_bars(scores: dict[str, dict[str, torch.Tensor]], splits: dict[str, str], title: str = "",
                   chance: float | None = 0.5) -> plt.Figure:
    """Grouped bars of the mean over seeds, one group per network and one bar per split, with
    every seed as a dot (chapter 5's Red-Green accuracies).

    ``scores[network][split]`` holds one value per seed; ``splits`` maps each split to its
    legend label, in the order of the bars.
    """
    if not scores or not splits:
        raise ValueError("scores and splits must each name at least one entry")
    missing = [(n, s) for n in scores for s in splits if s not in scores[n]]
    if missing:
        raise ValueError(f"scores lacks these (network, split) pairs: {missing}")
    fig, ax = plt.subplots(figsize=(7, 3))
    x = np.arange(len(scores))
    width = 0.76 / len(splits)
    for k, (split, label) in enumerate(splits.items()):
        values = np.stack([_np(torch.as_tensor(s[split])) for s in scores.values()])  # (networks, seeds)
        offset = x + (k - (len(splits) - 1) / 2) * width
        ax.bar(offset, values.mean(1), width, color=f"C{k}", label=label)
        ax.plot(np.repeat(offset, values.shape[1]), values.ravel(), "k.", ms=4)
    if chance is not None:
        ax.axhline(chance, color="0.5", ls="--", lw=0.8)
    ax.set_xticks(x, list(scores))
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1.05)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


def plot_accuracy_maps(
    maps: dict[str, torch.Tensor], step: int, marker: tuple[int, int], title: str = ""
) -> plt.Figure:
    """One accuracy map per name (e.g. the mean over seeds of :func:`helpers.sweeps.location_accuracy`),
    side by side on a shared 0-1 colour scale, axes in pixels of the digit's top-left corner.

    Entry ``[i, j]`` of a map is the placement ``(i * step, j * step)``; ``marker`` is a
    placement in pixels (the trained one) drawn as a red cross. Chapter 6.
    """
    if not maps:
        raise ValueError("maps must name at least one accuracy map")
    step = check_int("step", step, minimum=1)
    shapes = {tuple(m.shape) for m in maps.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ValueError(f"maps must all be 2-D and of one shape, got shapes {sorted(shapes)}")
    rows, cols = next(iter(shapes))
    extent = (-0.5 * step, (cols - 0.5) * step, (rows - 0.5) * step, -0.5 * step)
    fig, axes = plt.subplots(1, len(maps), figsize=(3.2 * len(maps), 3.1), layout="constrained", squeeze=False)
    for ax, (name, acc_map) in zip(axes[0], maps.items(), strict=True):
        image = ax.imshow(_np(acc_map), cmap="viridis", vmin=0, vmax=1, extent=extent)
        ax.plot(marker[1], marker[0], "rx", ms=9, mew=2)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("digit column")
        ax.set_ylabel("digit row")
    fig.colorbar(image, ax=axes[0].tolist(), label="accuracy")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_loss_curves(
    losses: dict[str, torch.Tensor | np.ndarray], target: float | None = None, title: str = "Training loss per epoch"
) -> plt.Figure:
    """Each name's training loss per epoch, ``(seeds, epochs)``, as its mean with a min-max band, log scale.

    Names may have different numbers of epochs. ``target`` draws a dotted horizontal line
    (a loss level the prose refers to). The legend sits beside the axes. Chapters 7 and 8
    show with it that every run ended on its plateau.
    """
    if not losses:
        raise ValueError("losses must name at least one run")
    fig, ax = plt.subplots(figsize=(8, 3.2))
    for k, (name, curves) in enumerate(losses.items()):
        curves = np.atleast_2d(_np(curves))
        if curves.size == 0 or not np.all(curves > 0):
            raise ValueError(f"losses[{name!r}] must hold positive losses, shape (seeds, epochs)")
        epochs = np.arange(1, curves.shape[1] + 1)
        ax.plot(epochs, curves.mean(0), color=f"C{k}", label=name)
        ax.fill_between(epochs, curves.min(0), curves.max(0), color=f"C{k}", alpha=0.2)
    if target is not None:
        ax.axhline(target, color="0.5", ls=":", lw=1)
    ax.set(xlabel="epoch", ylabel="training loss", yscale="log", title=f"{title} (mean and range over seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1))
    fig.tight_layout()
    return fig


def plot_window_paths(
    views: torch.Tensor,
    tops: Sequence[int],
    steps: Sequence[float],
    probs: torch.Tensor | np.ndarray,
    fine_steps: Sequence[float],
    fine_probs: torch.Tensor | np.ndarray,
    titles: Sequence[str],
    window: int = 224,
) -> plt.Figure:
    """Top row: each view with its first and last window of a horizontal path of crop shifts.
    Bottom row: the probability of the view's top class along the path, ``probs`` ``(len(steps),
    views)`` at whole pixels (dots) and ``fine_probs`` ``(len(fine_steps), views)`` between them
    (line), on one scale from 0 to 1. Chapter 4b."""
    probs, fine_probs = _np(probs), _np(fine_probs)
    n = len(views)
    if probs.shape != (len(steps), n) or fine_probs.shape != (len(fine_steps), n) or len(titles) != n:
        raise ValueError("probs, fine_probs and titles must match the views and the steps")
    fig, axes = plt.subplots(2, n, figsize=(2.6 * n, 5.2), gridspec_kw={"height_ratios": [1.1, 1]})
    last = max(steps)
    for k in range(n):
        top_ax, ax = axes[0, k], axes[1, k]
        top_ax.imshow(_channels_last(_np(views[k])))
        for left, style in ((0, "-"), (last, "--")):
            top_ax.add_patch(plt.Rectangle((left - 0.5, tops[k] - 0.5), window, window, fill=False,
                                           ec="yellow", lw=1.2, ls=style))
        top_ax.set_title(titles[k], fontsize=8)
        top_ax.axis("off")
        ax.plot(fine_steps, fine_probs[:, k], color="0.6", lw=1, label="quarter-pixel steps")
        ax.plot(steps, probs[:, k], "o", ms=3, color=f"C{k}", label="whole pixels")
        ax.set_xlabel("window shift (pixels)")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        if k == 0:
            ax.set_ylabel("probability of the top class")
            ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_interval_bars(rows: dict[str, object], xlabel: str, title: str = "", ax: plt.Axes | None = None) -> plt.Figure:
    """Horizontal bars: each name's mean with its 95% interval (a :class:`helpers.claims.Interval`),
    the mean written as a percentage beside it (a bar of zero is otherwise invisible). Chapter 4b."""
    if not rows:
        raise ValueError("rows must name at least one interval")
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 0.45 * len(rows) + 1.0))
    else:
        fig = ax.figure
    names = list(rows)
    means = np.array([rows[k].mean for k in names])
    errors = np.array([[rows[k].mean - rows[k].low for k in names], [rows[k].high - rows[k].mean for k in names]])
    y = np.arange(len(names))[::-1]
    ax.barh(y, means, xerr=np.clip(errors, 0, None), color=[f"C{k}" for k in range(len(names))], alpha=0.8, capsize=3)
    for row, name in zip(y, names, strict=True):
        ax.annotate(f"{rows[name].mean:.1%}", (max(rows[name].high, 0), row), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=7)
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_stage_errors(stages: Sequence[str], errors: dict[str, object], title: str = "") -> plt.Figure:
    """Grouped bars: for each name, one :class:`helpers.claims.Interval` per stage (mean and 95%
    interval over images) of a relative error. Chapter 4b."""
    if not errors or any(len(v) != len(stages) for v in errors.values()):
        raise ValueError("errors must map each name to one interval per stage")
    fig, ax = plt.subplots(figsize=(9, 3.4))
    x = np.arange(len(stages))
    width = 0.8 / len(errors)
    for k, (name, intervals) in enumerate(errors.items()):
        means = np.array([i.mean for i in intervals])
        spread = np.array([[i.mean - i.low for i in intervals], [i.high - i.mean for i in intervals]])
        ax.bar(x + (k - (len(errors) - 1) / 2) * width, means, width, yerr=np.clip(spread, 0, None),
               color=f"C{k}", alpha=0.85, capsize=2, label=name)
    ax.set_xticks(x, stages, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("relative error")
    if title:
        ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_answers_along_path(
    steps: Sequence[float],
    probabilities: dict[str, torch.Tensor | np.ndarray],
    true_class: int,
    images: dict[str, torch.Tensor | np.ndarray],
    title: str = "",
) -> plt.Figure:
    """For each network, the probability of ``true_class`` at each step of a path (a line), with a
    cross where the network's answer is another class (``probabilities[name]`` is ``(len(steps),
    classes)``); beside it, the input at the steps named in ``images``. Chapter 4 (the static twin
    of its live figure)."""
    if not probabilities or not images:
        raise ValueError("probabilities and images must each name at least one entry")
    arrays = {name: _np(p) for name, p in probabilities.items()}
    if any(p.ndim != 2 or p.shape[0] != len(steps) or not 0 <= true_class < p.shape[1] for p in arrays.values()):
        raise ValueError(f"probabilities must be (len(steps)={len(steps)}, classes) arrays holding true_class")
    fig, axes = plt.subplots(1, 1 + len(images), figsize=(3.2 + 2.8 + 1.7 * len(images), 2.9),
                             gridspec_kw={"width_ratios": [3.6] + [1] * len(images)})
    ax = axes[0]
    x = np.asarray(steps, dtype=float)
    for k, (name, p) in enumerate(arrays.items()):
        wrong = p.argmax(1) != true_class
        ax.plot(x, p[:, true_class], "-o", ms=3, color=f"C{k}", label=name)
        ax.plot(x[wrong], p[wrong, true_class], "x", ms=9, mew=2, color=f"C{k}")
    for whole in np.arange(np.ceil(x.min()), np.floor(x.max()) + 1):
        ax.axvline(whole, color="0.9", lw=0.8, zorder=0)
    ax.set(xlabel="horizontal move (pixels)", ylabel=f"P(class {true_class})", ylim=(0, 1.02))
    ax.set_title(title or "crosses: the answer is another class", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    for image_ax, (label, image) in zip(axes[1:], images.items(), strict=True):
        image_ax.imshow(_channels_last(_np(image).squeeze()), cmap="gray_r", interpolation="nearest", vmin=0, vmax=1)
        image_ax.set_title(label, fontsize=8)
        image_ax.axis("off")
    fig.tight_layout()
    return fig
