"""Optional larger datasets for scaled-up runs: MNIST, Fashion-MNIST, CIFAR-10.

The book's default runs use scikit-learn's digits (:mod:`helpers.data`), which need no
download. A reader with a network can run a chapter on a larger dataset by setting its
``DATASET`` parameter (see the README's "Scaling up"); :func:`load_images` then reads the
files torchvision downloads, in their usual on-disk formats. Nothing here downloads unless
``download=True`` is passed explicitly.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from helpers._checks import check_choice, check_int

SOURCES = ("digits", "mnist", "fashion-mnist", "cifar10")
SPLITS = ("train", "test")


def default_root() -> Path:
    """Where datasets live: ``$BOOK_DATA_DIR`` if set, else ``data/downloads`` in the repository. No chapter uses it yet (README: Scaling up)."""
    return Path(os.environ.get("BOOK_DATA_DIR", Path(__file__).resolve().parents[2] / "data" / "downloads"))


def _mnist_like(source: str, root: Path, train: bool, download: bool) -> tuple[torch.Tensor, torch.Tensor]:
    from torchvision import datasets

    cls = datasets.MNIST if source == "mnist" else datasets.FashionMNIST
    try:
        ds = cls(str(root), train=train, download=download)
    except RuntimeError as exc:  # torchvision's "Dataset not found"
        raise ValueError(f"{source} not found under {root}; pass download=True (needs a network)") from exc
    return ds.data.unsqueeze(1).float() / 255.0, ds.targets.long()


def _cifar10(root: Path, train: bool, download: bool) -> tuple[torch.Tensor, torch.Tensor]:
    folder = root / "cifar-10-batches-py"
    if not folder.exists() and download:
        from torchvision import datasets

        datasets.CIFAR10(str(root), train=train, download=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
    if not all((folder / n).exists() for n in names):
        raise ValueError(f"cifar10 not found under {root}; pass download=True (needs a network)")
    images, labels = [], []
    for name in names:
        with open(folder / name, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
        images.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        labels.extend(batch[b"labels"])
    return torch.from_numpy(np.concatenate(images)).float() / 255.0, torch.tensor(labels, dtype=torch.long)


def load_images(
    source: str = "digits",
    size: int = 16,
    split: str = "train",
    root: str | Path | None = None,
    download: bool = False,
    limit: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``(N, C, size, size)`` in [0, 1] and labels from ``source``.

    ``"digits"`` is scikit-learn's offline set (:func:`helpers.data.load_digits_tensor`);
    the others are read from ``root`` (default :func:`default_root`). ``limit`` keeps the
    first ``limit`` images, for quick runs.

    No chapter uses it yet (README: Scaling up).
    """
    source = check_choice("source", source, SOURCES)
    split = check_choice("split", split, SPLITS)
    size = check_int("size", size, minimum=4)
    if source == "digits":
        from helpers.data import load_digits_tensor

        images, labels = load_digits_tensor(size, split)
    else:
        root = Path(root) if root is not None else default_root()
        train = split == "train"
        if source == "cifar10":
            images, labels = _cifar10(root, train, download)
        else:
            images, labels = _mnist_like(source, root, train, download)
        if images.shape[-1] != size:
            images = F.interpolate(
                images, size=(size, size), mode="area" if images.shape[-1] > size else "bilinear"
            )
    if limit is not None:
        limit = check_int("limit", limit, minimum=1)
        images, labels = images[:limit], labels[:limit]
    return images.clamp(0, 1), labels
