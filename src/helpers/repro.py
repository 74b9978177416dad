"""Reproducibility: seeds, a fixed thread count, deterministic kernels, the device.

Every notebook starts with ``device = setup(seed)``; the same run gives the same numbers
to the digit on the same machine (see ``tests/test_determinism.py``).
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from helpers._checks import check_int

# One thread: the models are small, and on a shared 2-core machine a second thread makes
# training many times slower (threads spin while waiting for a busy core).
THREADS = 1


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA); return a torch generator with that seed."""
    seed = check_int("seed", seed, minimum=0)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - readers may use the legacy global generator
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def get_device(prefer_cuda: bool = True) -> torch.device:
    """CUDA when present (and wanted), otherwise the CPU."""
    return torch.device("cuda" if prefer_cuda and torch.cuda.is_available() else "cpu")


def setup(seed: int = 0, threads: int = THREADS, prefer_cuda: bool = True) -> torch.device:
    """Seed everything, fix the thread count, ask for deterministic kernels; return the device."""
    threads = check_int("threads", threads, minimum=1)
    torch.set_num_threads(threads)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    seed_everything(seed)
    return get_device(prefer_cuda)
