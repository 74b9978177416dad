"""Optional datasets load from files in torchvision's on-disk formats, made here, offline."""

from __future__ import annotations

import pickle
import struct

import numpy as np
import pytest
import torch

from helpers.datasets import load_images


def _write_idx(path, array: np.ndarray, magic: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape))
        f.write(array.astype(np.uint8).tobytes())


def _fake_mnist(root, folder: str, n: int = 12) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (n, 28, 28)), rng.integers(0, 10, n)
    for prefix in ("train", "t10k"):
        _write_idx(root / folder / "raw" / f"{prefix}-images-idx3-ubyte", images, 2051)
        _write_idx(root / folder / "raw" / f"{prefix}-labels-idx1-ubyte", labels, 2049)
    return images, labels


@pytest.mark.parametrize(("source", "folder"), [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_mnist_like_files_load(tmp_path, source, folder):
    images, labels = _fake_mnist(tmp_path, folder)
    x, y = load_images(source, size=28, split="train", root=tmp_path)
    assert x.shape == (12, 1, 28, 28) and torch.equal(y, torch.tensor(labels))
    assert torch.allclose(x[:, 0], torch.tensor(images, dtype=torch.float32) / 255)
    small, _ = load_images(source, size=14, split="test", root=tmp_path, limit=5)
    assert small.shape == (5, 1, 14, 14) and small.min() >= 0 and small.max() <= 1


def test_cifar10_batches_load(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {
            b"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8),
            b"labels": list(rng.integers(0, 10, 4)),
        }
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)
    x, y = load_images("cifar10", size=32, split="train", root=tmp_path)
    assert x.shape == (20, 3, 32, 32) and y.shape == (20,)
    xt, _ = load_images("cifar10", size=16, split="test", root=tmp_path)
    assert xt.shape == (4, 3, 16, 16)


def test_digits_need_no_files():
    x, y = load_images("digits", size=16, split="test")
    assert x.shape[1:] == (1, 16, 16) and len(x) == len(y) > 100


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source": "imagenet"}, "source must be one of"),
        ({"source": "mnist", "root": "/nonexistent"}, "not found under"),
        ({"source": "cifar10", "root": "/nonexistent"}, "not found under"),
        ({"split": "val"}, "split must be one of"),
        ({"limit": 0}, "limit must be >= 1"),
    ],
)
def test_bad_input_raises_clear_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_images(**kwargs)
