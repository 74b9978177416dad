"""Objects at untrained locations (chapter 6, ``chapters/06_untrained_locations.ipynb``).

Plumbing for Biscione & Bowers' experiment on small digits: networks that differ only in
how the feature map becomes a vector (:func:`location_net`), a new classifier on a
pretrained network (:func:`replace_classifier`), every placement of a test set in one
tensor and the accuracy map over placements (:func:`every_location`,
:func:`location_accuracy`), and a batch transform that moves each digit to a fresh
random place (:class:`RandomPlacement`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from helpers._checks import check_choice, check_int, check_tensor
from helpers.data import place_on_canvas
from helpers.models import SmallCNN
from helpers.training import predict

HEADS = ("flatten", "gap")


def location_net(
    head: str = "flatten",
    n_classes: int = 5,
    canvas_size: int = 24,
    widths: Sequence[int] = (16, 32),
    hidden: int = 64,
    antialias: bool = False,
    blur_size: int = 3,
) -> SmallCNN:
    """A :class:`~helpers.models.SmallCNN` (conv-ReLU-maxpool blocks) with a two-layer classifier on top.

    ``head="flatten"`` feeds every position of the last feature map to a hidden layer of
    ``hidden`` units (as VGG's classifier does); ``head="gap"`` first averages the map over
    all positions (global average pooling). Both then apply ReLU and a linear layer to
    ``n_classes`` scores, so the two networks differ in that one step only.
    ``antialias=True`` replaces each ``MaxPool2d(2)`` by Zhang's max-blur-pool
    (:func:`helpers.antialias.max_blur_pool`, binomial filter of ``blur_size`` taps; chapter 4).
    """
    head = check_choice("head", head, HEADS)
    hidden = check_int("hidden", hidden, minimum=1)
    canvas_size = check_int("canvas_size", canvas_size, minimum=4)
    downsample = "maxpool"
    if antialias:
        from helpers.antialias import max_blur_pool

        downsample = max_blur_pool(check_int("blur_size", blur_size, minimum=1))
    model = SmallCNN(
        1, n_classes, widths=tuple(widths), head=head, input_size=canvas_size, downsample=downsample
    )
    features = model.head[-1].in_features
    model.head[-1] = nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))
    return model


def classifier(model: nn.Module) -> nn.Linear:
    """The last linear layer of a :func:`location_net` (the one that outputs class scores)."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("model must contain an nn.Linear layer")
    return linears[-1]


def replace_classifier(model: nn.Module, n_classes: int) -> nn.Module:
    """Swap the last linear layer for a fresh one with ``n_classes`` outputs (in place; returns ``model``).

    Chapter 6 pretrains on some digit classes, then learns new classes this way, keeping
    every other layer as pretraining left it.
    """
    n_classes = check_int("n_classes", n_classes, minimum=2)
    old = classifier(model)
    new = nn.Linear(old.in_features, n_classes).to(old.weight.device)
    for parent in model.modules():
        for name, child in parent.named_children():
            if child is old:
                setattr(parent, name, new)
                return model
    raise ValueError("could not find the classifier's parent module")  # pragma: no cover


@torch.no_grad()
def penultimate(model: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """What a :func:`location_net`'s last linear layer sees: the hidden layer's output for ``x``, on the CPU.

    With every other layer frozen, learning new classes (chapter 6) is training a linear
    classifier on these fixed vectors.
    """
    x = check_tensor("x", x, min_dim=4)
    last = classifier(model)
    device = last.weight.device
    captured: list[torch.Tensor] = []
    hook = last.register_forward_hook(lambda _m, inputs, _out: captured.append(inputs[0].cpu()))
    try:
        model.eval()
        for part in x.split(batch_size):
            model(part.to(device))
    finally:
        hook.remove()
    return torch.cat(captured)


def relabel(labels: torch.Tensor, classes: Sequence[int]) -> torch.Tensor:
    """Map digit labels in ``classes`` to ``0 .. len(classes) - 1`` (chapter 6 trains 5-class networks)."""
    labels = check_tensor("labels", labels)
    classes = [check_int(f"classes[{i}]", c, minimum=0) for i, c in enumerate(classes)]
    if not classes or len(set(classes)) != len(classes):
        raise ValueError(f"classes must be non-empty and distinct, got {classes!r}")
    lut = torch.full((max(max(classes), int(labels.max())) + 1,), -1, dtype=torch.long)
    lut[torch.tensor(classes)] = torch.arange(len(classes))
    out = lut[labels.long().cpu()]
    if (out < 0).any():
        raise ValueError(f"labels hold values outside classes={classes}")
    return out.to(labels.device)


def location_grid(canvas_size: int, digit_size: int, step: int = 1) -> torch.Tensor:
    """Top-left corners ``(P, 2)`` of every placement of a ``digit_size`` digit, every ``step`` pixels, row-major."""
    canvas_size = check_int("canvas_size", canvas_size, minimum=1)
    digit_size = check_int("digit_size", digit_size, minimum=1)
    step = check_int("step", step, minimum=1)
    if digit_size > canvas_size:
        raise ValueError(f"digit_size must be <= canvas_size ({canvas_size}), got {digit_size}")
    coords = torch.arange(0, canvas_size - digit_size + 1, step)
    return torch.cartesian_prod(coords, coords)


def every_location(
    images: torch.Tensor, labels: torch.Tensor, canvas_size: int, step: int = 1
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every image at every grid placement, as one batch.

    ``images`` are bare digits ``(N, 1, h, w)``. Returns ``(x, y, grid)``: ``x`` is
    ``(P * N, 1, canvas_size, canvas_size)`` ordered placement-major (the ``N`` digits at
    ``grid[0]``, then at ``grid[1]``, ...), ``y`` the matching labels, ``grid`` the ``(P, 2)``
    placements from :func:`location_grid`.
    """
    images = check_tensor("images", images, min_dim=4)
    labels = check_tensor("labels", labels)
    if labels.shape[0] != images.shape[0]:
        raise ValueError(f"labels must hold {images.shape[0]} entries, got {labels.shape[0]}")
    if images.shape[-1] != images.shape[-2]:
        raise ValueError(f"images must be square, got shape {tuple(images.shape)}")
    grid = location_grid(canvas_size, images.shape[-1], step)
    n = images.shape[0]
    x = place_on_canvas(images.repeat(len(grid), 1, 1, 1), grid.repeat_interleave(n, 0), canvas_size)
    return x, labels.repeat(len(grid)), grid


def location_accuracy(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    canvas_size: int,
    step: int = 1,
    batch_size: int = 1024,
) -> torch.Tensor:
    """Accuracy of ``model`` at every placement: a ``(rows, cols)`` map over top-left corners.

    All placements are built as one tensor (:func:`every_location`) and classified in a
    few large batches. Entry ``[i, j]`` is the accuracy with the digits' top-left corner at
    ``(i * step, j * step)``.
    """
    x, y, grid = every_location(images, labels, canvas_size, step)
    correct = predict(model, x, batch_size=batch_size).argmax(1) == y.cpu()
    side = int(round(len(grid) ** 0.5))
    return correct.float().view(len(grid), images.shape[0]).mean(1).view(side, side)


class RandomPlacement:
    """Batch transform: cut the digit out of its known place and paste it at a random place (chapter 6).

    Training images hold their digit (``digit_size`` pixels) with top-left corner at
    ``source``; every call draws a fresh top-left corner per sample, uniform over the canvas,
    from a generator seeded with ``seed``. Used as ``train(..., transform=RandomPlacement(...))``
    it turns a set of digits at one location into fully translated data.
    """

    def __init__(self, digit_size: int, canvas_size: int, source: tuple[int, int], seed: int = 0) -> None:
        self.digit_size = check_int("digit_size", digit_size, minimum=1)
        self.canvas_size = check_int("canvas_size", canvas_size, minimum=self.digit_size)
        if len(source) != 2:
            raise ValueError(f"source must be (row, col), got {source!r}")
        self.source = tuple(check_int(f"source[{i}]", s, minimum=0) for i, s in enumerate(source))
        if max(self.source) + self.digit_size > self.canvas_size:
            raise ValueError(f"source={source!r} puts the digit outside a {canvas_size}-pixel canvas")
        self.generator = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x = check_tensor("x", x, min_dim=4)
        if x.shape[-1] != self.canvas_size or x.shape[-2] != self.canvas_size:
            raise ValueError(
                f"x must hold {self.canvas_size}x{self.canvas_size} images, got {tuple(x.shape)}"
            )
        (r, c), d = self.source, self.digit_size
        digits = x[..., r : r + d, c : c + d].cpu()
        room = self.canvas_size - d + 1
        positions = torch.randint(0, room, (x.shape[0], 2), generator=self.generator)
        return place_on_canvas(digits, positions, self.canvas_size).to(x.device)


def balanced_subset(labels: torch.Tensor, per_class: int) -> torch.Tensor:
    """Indices of the first ``per_class`` samples of every class present in ``labels``, class by class."""
    labels = check_tensor("labels", labels)
    per_class = check_int("per_class", per_class, minimum=1)
    picks = []
    for c in torch.unique(labels):
        where = torch.nonzero(labels == c).flatten()
        if len(where) < per_class:
            raise ValueError(
                f"class {int(c)} has only {len(where)} samples, fewer than per_class={per_class}"
            )
        picks.append(where[:per_class])
    return torch.cat(picks)


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
