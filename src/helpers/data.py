"""Offline datasets: real handwritten digits placed on a larger canvas.

Digits come from scikit-learn's ``load_digits`` (1797 images, 8x8, shipped with the
package, no download), upscaled and pasted onto an empty canvas at chosen or seeded
random positions. Chapters 3, 4, 6, 7 and 8 train on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F

from helpers._checks import check_choice, check_int, check_tensor

SPLITS = ("train", "test", "all")


@dataclass
class Digits:
    """Images ``(N, 1, H, W)`` in [0, 1], labels ``(N,)`` and top-left positions ``(N, 2)``."""

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


def place_on_canvas(images: torch.Tensor, positions: torch.Tensor, canvas_size: int) -> torch.Tensor:
    """Paste each ``(C, h, w)`` image onto an empty ``canvas_size`` square at its top-left position."""
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
