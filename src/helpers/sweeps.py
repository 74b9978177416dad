"""Sweeps that move an object over every place on a canvas, in one batched pass (chapters 5, 6).

- :func:`patch_frames` (chapter 5): a patch at every position, the single-filter network's
  response and evidence for each; plain NumPy frames feed the widget, the figure and the slider.
- :func:`every_location`, :func:`location_accuracy`, :func:`placement_map`, :func:`ring_profile`
  (chapter 6): a test set at every placement, the accuracy map over placements, its profile
  by distance.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from helpers._checks import check_int, check_tensor
from helpers.data import place_on_canvas, placements
from helpers.training import predict


@torch.no_grad()
def patch_frames(
    model: nn.Module,
    patch: torch.Tensor,
    image_size: int = 32,
    positions: torch.Tensor | None = None,
    step: int = 1,
) -> dict[str, np.ndarray]:
    """Place ``patch`` at every position, run the single-filter ``model`` once on the whole stack.

    ``patch`` is ``(h, w)`` or ``(1, h, w)``; ``positions`` an ``(F, 2)`` tensor of top-left
    corners (default: :func:`helpers.data.placements` with ``step``). Returns NumPy arrays, one entry
    per frame (chapter 5's explorer, static figure and slider all draw from them):

    - ``positions`` ``(F, 2)``; ``images`` ``(F, H, W)``: the input;
    - ``responses`` ``(F, H', W')``: the filter's map after ReLU (channel 0 of ``model.features``);
    - ``evidence`` ``(F,)``: logit of "bottom-right" minus logit of "top-left";
    - ``pooled`` ``(F,)``: the largest response (what the global max pool keeps);
    - ``peak`` ``(F, 2)``: where it is, or ``(-1, -1)`` when the response is zero everywhere.
    """
    patch = check_tensor("patch", patch, min_dim=2)
    if patch.dim() == 3 and patch.shape[0] == 1:
        patch = patch[0]
    if patch.dim() != 2:
        raise ValueError(f"patch must be (h, w) or (1, h, w), got shape {tuple(patch.shape)}")
    image_size = check_int("image_size", image_size, minimum=1)
    if positions is None:
        if patch.shape[0] != patch.shape[1]:
            raise ValueError("patch must be square when positions is not given")
        positions = placements(image_size, patch.shape[0], step)
    positions = check_tensor("positions", positions, min_dim=2)
    if positions.dim() != 2 or positions.shape[1] != 2:
        raise ValueError(f"positions must have shape (F, 2), got {tuple(positions.shape)}")
    images = place_on_canvas(
        patch.cpu()[None, None].expand(len(positions), 1, *patch.shape), positions.cpu(), image_size
    )
    device = next(model.parameters()).device
    model.eval()
    responses = model.features(images.to(device))[:, 0]
    logits = model.head(responses[:, None])
    pooled, flat = responses.flatten(1).max(1)
    width = responses.shape[-1]
    peak = torch.stack([flat // width, flat % width], dim=1)
    peak[pooled <= 0] = -1
    return {
        "positions": positions.cpu().numpy().astype(np.int64),
        "images": images[:, 0].numpy(),
        "responses": responses.cpu().numpy(),
        "evidence": (logits[:, 1] - logits[:, 0]).cpu().numpy(),
        "pooled": pooled.cpu().numpy(),
        "peak": peak.cpu().numpy().astype(np.int64),
    }


def evidence_map(frames: dict[str, np.ndarray]) -> np.ndarray:
    """The frames' evidence as a ``(rows, cols)`` map over patch positions (frames on a full grid). Chapter 5."""
    pos = frames["positions"]
    rows, cols = np.unique(pos[:, 0]), np.unique(pos[:, 1])
    if len(pos) != len(rows) * len(cols):
        raise ValueError("frames must cover a full grid of positions (see helpers.data.placements)")
    out = np.full((len(rows), len(cols)), np.nan)
    out[np.searchsorted(rows, pos[:, 0]), np.searchsorted(cols, pos[:, 1])] = frames["evidence"]
    return out


def every_location(
    images: torch.Tensor, labels: torch.Tensor, canvas_size: int, step: int = 1
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every image at every grid placement, as one batch.

    ``images`` are bare digits ``(N, 1, h, w)``. Returns ``(x, y, grid)``: ``x`` is
    ``(P * N, 1, canvas_size, canvas_size)`` ordered placement-major (the ``N`` digits at
    ``grid[0]``, then at ``grid[1]``, ...), ``y`` the matching labels, ``grid`` the ``(P, 2)``
    placements from :func:`helpers.data.placements`.

    Chapter 6.
    """
    images = check_tensor("images", images, min_dim=4)
    labels = check_tensor("labels", labels)
    if labels.shape[0] != images.shape[0]:
        raise ValueError(f"labels must hold {images.shape[0]} entries, got {labels.shape[0]}")
    if images.shape[-1] != images.shape[-2]:
        raise ValueError(f"images must be square, got shape {tuple(images.shape)}")
    grid = placements(canvas_size, images.shape[-1], step)
    n = images.shape[0]
    x = place_on_canvas(images.repeat(len(grid), 1, 1, 1), grid.repeat_interleave(n, 0), canvas_size)
    return x, labels.repeat(len(grid)), grid


def location_accuracy(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    canvas_size: int,
    step: int = 1,
    batch_size: int = 256,
    per_image: bool = False,
) -> torch.Tensor:
    """Accuracy of ``model`` at every placement: a ``(rows, cols)`` map over top-left corners.

    All placements are built as one tensor (:func:`every_location`) and classified in
    batches of ``batch_size``. Entry ``[i, j]`` is the accuracy with the digits' top-left
    corner at ``(i * step, j * step)``. On this book's 2-core CPU, batches of 256 classified
    chapter 6's maps about twice as fast as batches of 1024. ``per_image=True`` keeps the
    images apart: a ``(rows, cols, images)`` map of 1.0 (right) and 0.0 (wrong), whose mean
    over the last axis is the accuracy map, for intervals over test digits as well as seeds
    (:func:`helpers.claims.seed_and_sample_interval`).

    Chapter 6.
    """
    x, y, _ = every_location(images, labels, canvas_size, step)
    correct = predict(model, x, batch_size=batch_size).argmax(1) == y.cpu()
    return placement_map(correct, images.shape[0], per_image=per_image)


def placement_map(values: torch.Tensor, n_images: int, per_image: bool = False) -> torch.Tensor:
    """Mean of per-image ``values`` at each placement, as a ``(rows, cols)`` map.

    ``values`` follow :func:`every_location`'s order (``n_images`` images at the first
    placement, then at the next, ...) over a square grid of placements, e.g. whether each
    prediction was right. Chapter 6 scores new class layers on features computed once.
    ``per_image=True`` returns the values themselves as a ``(rows, cols, images)`` map instead.
    """
    values = check_tensor("values", values)
    n_images = check_int("n_images", n_images, minimum=1)
    if not isinstance(per_image, bool):
        raise ValueError(f"per_image must be True or False, got {per_image!r}")
    if values.dim() != 1 or values.numel() % n_images:
        raise ValueError(f"values must be 1-D with a multiple of n_images={n_images} entries, got shape {tuple(values.shape)}")
    n_placements = values.numel() // n_images
    side = int(round(n_placements**0.5))
    if side * side != n_placements:
        raise ValueError(f"values must cover a square grid of placements, got {n_placements} placements")
    by_image = values.float().cpu().view(side, side, n_images)
    return by_image if per_image else by_image.mean(-1)


def ring_profile(acc_map: torch.Tensor, centre: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean of ``acc_map`` over rings of equal distance from ``centre`` (in grid steps, max-norm).

    Returns ``(distances, means)``; chapter 6 plots accuracy against how far the digit was
    moved from the place it was trained at.
    """
    acc_map = check_tensor("acc_map", acc_map, min_dim=2)
    if acc_map.dim() != 2:
        raise ValueError(f"acc_map must be 2-D, got shape {tuple(acc_map.shape)}")
    r0, c0 = (check_int(f"centre[{i}]", v, minimum=0) for i, v in enumerate(centre))
    if r0 >= acc_map.shape[0] or c0 >= acc_map.shape[1]:
        raise ValueError(f"centre={centre!r} lies outside a map of shape {tuple(acc_map.shape)}")
    rows = torch.arange(acc_map.shape[0])[:, None]
    cols = torch.arange(acc_map.shape[1])[None, :]
    dist = torch.maximum((rows - r0).abs(), (cols - c0).abs())
    distances = torch.unique(dist)
    means = torch.stack([acc_map[dist == d].float().mean() for d in distances])
    return distances, means


def phase_matched_deficit(acc_map: torch.Tensor, offsets: torch.Tensor, stride: int, target: torch.Tensor,
                          reference: torch.Tensor) -> float:
    """How much less accurate the placements in ``target`` are than ``reference`` placements of the same phase.

    ``acc_map`` is a square accuracy map, ``offsets`` each row's (and column's) offset in pixels
    from the trained placement, ``stride`` the network's total stride. A placement's *phase*
    is its pair of offsets modulo ``stride``: shifts by whole strides keep it, and a network
    that aliases scores placements of one phase alike and different phases differently. For
    each target placement the reference is the mean over the ``reference`` placements of its
    phase; the result is the mean of reference minus target. Comparing within a phase keeps
    the stride lattice out of a comparison of, say, placements at the canvas edge with those
    inside it (chapter 6). Raises ``ValueError`` if some target phase has no reference.
    """
    acc_map = check_tensor("acc_map", acc_map, min_dim=2)
    offsets = check_tensor("offsets", offsets)
    stride = check_int("stride", stride, minimum=1)
    side = acc_map.shape[0]
    if acc_map.dim() != 2 or acc_map.shape[1] != side:
        raise ValueError(f"acc_map must be a square 2-D map, got shape {tuple(acc_map.shape)}")
    if offsets.shape != (side,):
        raise ValueError(f"offsets must hold one offset per row of acc_map ({side}), got shape {tuple(offsets.shape)}")
    for name, mask in (("target", target), ("reference", reference)):
        if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool or mask.shape != acc_map.shape:
            raise ValueError(f"{name} must be a boolean mask of acc_map's shape {tuple(acc_map.shape)}")
    if not target.any():
        raise ValueError("target must mark at least one placement")
    phase = offsets.long() % stride
    row_phase, col_phase = phase[:, None].expand(side, side), phase[None, :].expand(side, side)
    deficits = []
    for i, j in target.nonzero().tolist():
        same = reference & (row_phase == row_phase[i, j]) & (col_phase == col_phase[i, j])
        if not same.any():
            raise ValueError(f"no reference placement has the phase of target placement ({i}, {j})")
        deficits.append(acc_map[same].float().mean() - acc_map[i, j].float())
    return torch.stack(deficits).mean().item()
