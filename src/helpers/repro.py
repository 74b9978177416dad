"""Reproducibility: seeds, a fixed thread count, deterministic kernels, the device.

Every notebook starts with ``device = setup(seed)``; the same run gives the same numbers
to the digit on the same machine (``make notebooks`` runs every chapter twice and compares).
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from helpers._checks import check_int

# Two threads: on the idle 2-core machine the book is built on, a second thread trains the
# chapters' networks 1.2-1.5x faster (bench/training_speed.py). The notebooks run one at a time;
# on a machine whose cores are busy with other work, HELPERS_THREADS=1 is faster. ``make
# robust`` runs every chapter with 1 (another summation order).
THREADS = 2
THREADS_ENV = "HELPERS_THREADS"


def default_threads() -> int:
    """``THREADS``, or the value of the environment variable ``HELPERS_THREADS`` when set. Every chapter (through setup)."""
    value = os.environ.get(THREADS_ENV, "").strip()
    if not value:
        return THREADS
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{THREADS_ENV} must be a positive integer, got {value!r}")
    return int(value)


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA); return a torch generator with that seed. Chapters 3-8 (through train_runs)."""
    seed = check_int("seed", seed, minimum=0)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - readers may use the legacy global generator
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def get_device(prefer_cuda: bool = True) -> torch.device:
    """CUDA when present (and wanted), otherwise the CPU. Every chapter (through setup)."""
    return torch.device("cuda" if prefer_cuda and torch.cuda.is_available() else "cpu")


def setup(seed: int = 0, threads: int | None = None, prefer_cuda: bool = True) -> torch.device:
    """Seed everything, fix the thread count, ask for deterministic kernels; return the device.

    ``threads`` defaults to :func:`default_threads`. Every chapter calls this first.

    Every chapter.
    """
    threads = check_int("threads", default_threads() if threads is None else threads, minimum=1)
    torch.set_num_threads(threads)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    seed_everything(seed)
    return get_device(prefer_cuda)
