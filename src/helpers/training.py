"""Training and evaluation plumbing shared by the chapters that train networks (3-8).

Data live in tensors (the datasets are small), batches are drawn with a seeded
generator (no DataLoader workers), and a text progress bar shows each run in a live kernel
or a terminal. The HTML book shows none: its build sets ``HELPERS_PROGRESS=0`` for the
kernels it starts (``_ext/executed_pages.py``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from helpers._checks import check_int, check_tensor

# Set to "0" to hide every progress bar (the book's build does, so that no bar reaches a page).
PROGRESS_ENV = "HELPERS_PROGRESS"


def progress_wanted() -> bool:
    """Whether :func:`train` shows a progress bar when not told: yes, unless ``HELPERS_PROGRESS=0``."""
    return os.environ.get(PROGRESS_ENV, "1").strip() != "0"


def train(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int = 10,
    batch_size: int = 64,
    lr: float = 3e-3,
    weight_decay: float = 0.0,
    seed: int = 0,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    device: torch.device | str | None = None,
    progress: bool | None = None,
    desc: str = "train",
) -> list[float]:
    """Train ``model`` with Adam and cross-entropy; return the mean loss of every epoch.

    ``transform`` (e.g. a torchvision augmentation) is applied to every batch before the
    forward pass. The model stays on ``device`` (default: where its parameters are).
    ``progress`` shows a text progress bar; ``None`` asks :func:`progress_wanted`.
    """
    x = check_tensor("x", x, min_dim=2)
    y = check_tensor("y", y, min_dim=1)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must hold as many samples, got {x.shape[0]} and {y.shape[0]}")
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(device).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=lr, total_steps=epochs * -(-x.shape[0] // batch_size)
    )
    g = torch.Generator().manual_seed(seed)
    losses = []
    if progress is None:
        progress = progress_wanted()
    bar = tqdm(range(epochs), desc=desc, file=sys.stdout, ascii=True, disable=not progress, mininterval=5)
    for _ in bar:
        total = 0.0
        for index in torch.randperm(x.shape[0], generator=g).split(batch_size):
            xb, yb = x[index].to(device), y[index].to(device)
            if transform is not None:
                xb = transform(xb)
            loss = F.cross_entropy(model(xb), yb)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * len(index)
        losses.append(total / x.shape[0])
        bar.set_postfix(loss=f"{losses[-1]:.3f}")
    model.eval()
    return losses


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """Logits of ``model`` on ``x`` (in eval mode, in batches), returned on the CPU."""
    x = check_tensor("x", x, min_dim=2)
    device = next(model.parameters()).device
    model.eval()
    return torch.cat([model(part.to(device)).cpu() for part in x.split(batch_size)])


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1024) -> float:
    """Top-1 accuracy of ``model`` on ``(x, y)``, in [0, 1]."""
    return (predict(model, x, batch_size).argmax(1) == y.cpu()).float().mean().item()
