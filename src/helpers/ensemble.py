"""Many training runs of one architecture in one pass (torch.func), for :func:`helpers.training.train_runs`.

The runs' parameters are stacked along a new leading axis (``torch.func.stack_module_state``)
and one forward pass, vectorised over that axis with ``torch.vmap``, computes every run's
logits on that run's own batch. The summed loss gives every run its own gradient (the runs
share no parameter), and Adam and the one-cycle schedule act element by element, so each run
follows the same recipe as :func:`helpers.training.train` with the same seed: the same
initial weights, the same batch order, the same schedule. Only the order of floating-point
sums differs, so the weights agree with a run trained alone to rounding, not to the bit.

On the CPU, small networks spend most of their time in per-call overhead; one call for five
runs instead of five calls is where the speed comes from (``bench/training_speed.py``).
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state
from tqdm import tqdm

from helpers._checks import check_int, check_tensor

Transform = Callable[[torch.Tensor], torch.Tensor]


def _check_models(models: Sequence[nn.Module]) -> list[nn.Module]:
    models = list(models)
    if not models or not all(isinstance(m, nn.Module) for m in models):
        raise ValueError(f"models must be a non-empty sequence of nn.Module, got {models!r}")
    shapes = [[(n, p.shape) for n, p in m.named_parameters()] for m in models]
    if any(s != shapes[0] for s in shapes[1:]):
        raise ValueError("models must share one architecture (the same parameter names and shapes)")
    return models


def train_together(
    models: Sequence[nn.Module],
    x: torch.Tensor,
    y: torch.Tensor,
    seeds: Sequence[int],
    *,
    epochs: int = 10,
    batch_size: int = 64,
    lr: float = 3e-3,
    weight_decay: float = 0.0,
    transforms: Sequence[Transform | None] | None = None,
    device: torch.device | str | None = None,
    progress: bool = False,
    desc: str = "train",
) -> list[list[float]]:
    """Train ``models`` (one architecture, one model per seed) together; return each one's epoch losses.

    Run ``i`` draws its batches from a generator seeded with ``seeds[i]`` and applies
    ``transforms[i]`` (if any) to its batches, exactly as :func:`helpers.training.train`
    does with ``seed=seeds[i]``. The trained weights are copied back into ``models``, which
    end in eval mode. Chapter 3 (through ``train_runs(..., together=True)``).
    """
    models = _check_models(models)
    x = check_tensor("x", x, min_dim=2)
    y = check_tensor("y", y, min_dim=1)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must hold as many samples, got {x.shape[0]} and {y.shape[0]}")
    seeds = [check_int(f"seeds[{i}]", s, minimum=0) for i, s in enumerate(seeds)]
    if len(seeds) != len(models):
        raise ValueError(f"seeds must hold one seed per model ({len(models)}), got {len(seeds)}")
    transforms = [None] * len(models) if transforms is None else list(transforms)
    if len(transforms) != len(models):
        raise ValueError(f"transforms must hold one entry per model ({len(models)}), got {len(transforms)}")
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    device = torch.device(device) if device is not None else next(models[0].parameters()).device
    for model in models:
        model.to(device).train()
    params, buffers = stack_module_state(models)
    template = copy.deepcopy(models[0]).to("meta")

    def logits_of(p, b, xb):
        return functional_call(template, (p, b), (xb,))

    forward = torch.vmap(logits_of)
    optimiser = torch.optim.Adam(list(params.values()), lr=lr, weight_decay=weight_decay)
    n, runs = x.shape[0], len(models)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=epochs * -(-n // batch_size))
    generators = [torch.Generator().manual_seed(s) for s in seeds]
    losses: list[list[float]] = [[] for _ in models]
    bar = tqdm(range(epochs), desc=desc, file=sys.stdout, ascii=True, disable=not progress, mininterval=5)
    for _ in bar:
        orders = torch.stack([torch.randperm(n, generator=g) for g in generators])  # (runs, n)
        total = torch.zeros(runs, device=device)
        for index in orders.split(batch_size, dim=1):
            xb, yb = x[index].to(device), y[index].to(device)  # (runs, batch, ...)
            if any(t is not None for t in transforms):
                xb = torch.stack([xi if t is None else t(xi) for xi, t in zip(xb, transforms, strict=True)])
            logits = forward(params, buffers, xb)
            per_run = F.cross_entropy(logits.flatten(0, 1), yb.flatten(), reduction="none").view(runs, -1).mean(1)
            optimiser.zero_grad(set_to_none=True)
            per_run.sum().backward()
            optimiser.step()
            schedule.step()
            total += per_run.detach() * index.shape[1]
        for i, value in enumerate((total / n).tolist()):
            losses[i].append(value)
        bar.set_postfix(loss=f"{max(r[-1] for r in losses):.3f} (worst run)")
    with torch.no_grad():
        for i, model in enumerate(models):
            for name, p in model.named_parameters():
                p.copy_(params[name][i])
            for name, b in model.named_buffers():
                b.copy_(buffers[name][i])
            model.eval()
    return losses
