"""Training and evaluation plumbing shared by the chapters that train networks (3-8).

:func:`train_runs` is the one entry point that trains a set of runs (every recipe with
every seed, one seeding rule); :func:`train` is the loop of one run. Data live in tensors (the datasets are small), batches are drawn with a seeded
generator (no DataLoader workers), and a text progress bar shows each run in a live kernel
or a terminal. The HTML book shows none: its build sets ``HELPERS_PROGRESS=0`` for the
kernels it starts (``_ext/executed_pages.py``).
"""

from __future__ import annotations

import copy
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from helpers._checks import check_int, check_tensor
from helpers.ensemble import train_together
from helpers.repro import seed_everything

# Set to "0" to hide every progress bar (the book's build does, so that no bar reaches a page).
PROGRESS_ENV = "HELPERS_PROGRESS"


def progress_wanted() -> bool:
    """Whether :func:`train` shows a progress bar when not told: yes, unless ``HELPERS_PROGRESS=0``. Chapters 3-8 (through train)."""
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

    Chapters 3-8 (through train_runs; chapter 6 also directly).
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
    """Logits of ``model`` on ``x`` (in eval mode, in batches), returned on the CPU. Chapters 5-8."""
    x = check_tensor("x", x, min_dim=2)
    device = next(model.parameters()).device
    model.eval()
    return torch.cat([model(part.to(device)).cpu() for part in x.split(batch_size)])


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1024) -> float:
    """Top-1 accuracy of ``model`` on ``(x, y)``, in [0, 1]. Chapters 3-8."""
    return (predict(model, x, batch_size).argmax(1) == y.cpu()).float().mean().item()


def fit_linear_classifier(
    layer: nn.Linear, features: torch.Tensor, labels: torch.Tensor, *, weight_decay: float = 1e-3, max_iter: int = 1000
) -> float:
    """Fit ``layer`` to the minimum of cross-entropy + ``weight_decay / 2 * |W|^2`` on fixed ``features``.

    The loss is convex in the layer's weights, so full-batch L-BFGS finds its one minimum
    (deterministic, no batches, no epochs to tune). Returns the largest absolute gradient
    entry at the end, which a caller can check is close to zero. Chapter 6 fits the new
    class layer on a frozen, pretrained network this way.
    """
    if not isinstance(layer, nn.Linear):
        raise ValueError(f"layer must be a torch.nn.Linear, got {type(layer).__name__}")
    features = check_tensor("features", features, min_dim=2)
    labels = check_tensor("labels", labels, min_dim=1)
    if features.shape != (labels.shape[0], layer.in_features):
        raise ValueError(f"features must have shape ({labels.shape[0]}, {layer.in_features}), got {tuple(features.shape)}")
    if not isinstance(weight_decay, (int, float)) or weight_decay < 0:
        raise ValueError(f"weight_decay must be a number >= 0, got {weight_decay!r}")
    max_iter = check_int("max_iter", max_iter, minimum=1)
    features, labels = features.to(layer.weight.device), labels.to(layer.weight.device)
    optimiser = torch.optim.LBFGS(layer.parameters(), lr=1, max_iter=max_iter, tolerance_grad=1e-7,
                                  tolerance_change=1e-12, history_size=50, line_search_fn="strong_wolfe")

    def objective() -> torch.Tensor:
        optimiser.zero_grad()
        loss = F.cross_entropy(layer(features), labels) + weight_decay / 2 * layer.weight.pow(2).sum()
        loss.backward()
        return loss

    layer.train()
    optimiser.step(objective)
    objective()
    return max(p.grad.abs().max().item() for p in layer.parameters())


Transform = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Recipe:
    """How to train one architecture in :func:`train_runs`.

    - ``build``: a function of no arguments returning a fresh, untrained model;
    - ``transform``: ``seed -> batch transform`` (e.g. ``lambda s: PerSample(aug, seed=s)``),
      so that every run draws its own seeded augmentation stream;
    - ``options``: :func:`train` keyword arguments for this recipe only (e.g. ``epochs``);
    - ``after``: called as ``after(model, seed)`` right after the run's training, before the
      next run starts (chapter 6 fits a new class layer on the pretrained network there).
    """

    build: Callable[[], nn.Module]
    transform: Callable[[int], Transform] | None = None
    options: Mapping[str, object] = field(default_factory=dict)
    after: Callable[[nn.Module, int], None] | None = None


@dataclass
class Runs:
    """What :func:`train_runs` trained: per ``(name, seed)`` the model, its epoch losses and seconds. Chapters 3-8."""

    names: list[str]
    seeds: list[int]
    models: dict[tuple[str, int], nn.Module]
    losses: dict[tuple[str, int], list[float]]
    seconds: dict[tuple[str, int], float]
    initial: dict[tuple[str, int], nn.Module] = field(default_factory=dict)

    def of(self, name: str) -> list[nn.Module]:
        """The trained models of recipe ``name``, one per seed, in seed order."""
        if name not in self.names:
            raise ValueError(f"name must be one of {self.names}, got {name!r}")
        return [self.models[name, seed] for seed in self.seeds]

    def loss_curves(self, name: str) -> torch.Tensor:
        """The epoch losses of every seed of ``name``: shape ``(seeds, epochs)``; ``[:, -1]`` is the last epoch's."""
        self.of(name)  # checks the name
        return torch.tensor([self.losses[name, seed] for seed in self.seeds])

    def per_seed(self, name: str, measure: Callable[[nn.Module], object]) -> torch.Tensor:
        """``measure(model)`` for every seed of ``name``, stacked: shape ``(seeds, ...)``."""
        values = [measure(model) for model in self.of(name)]
        if all(isinstance(v, torch.Tensor) for v in values):
            return torch.stack([v.cpu() for v in values])
        return torch.tensor(values)


def train_runs(
    recipes: Mapping[str, Recipe | Callable[[], nn.Module]],
    seeds: Sequence[int],
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    device: torch.device | str | None = None,
    keep_initial: bool = False,
    together: bool = False,
    concurrent: int | None = None,
    **options,
) -> Runs:
    """Train every recipe with every seed (chapters 3-8); one seeding rule for the whole book.

    ``recipes`` maps a name to a :class:`Recipe` or to a bare builder. For each name, then
    each seed: :func:`helpers.repro.seed_everything` with the seed, build, move to ``device``
    (default: the CPU), and :func:`train` with ``seed`` (the batch order), the recipe's
    transform for that seed, and ``options`` updated by the recipe's own. So a run's result
    depends on its recipe and seed only, not on which runs came before it.
    ``keep_initial`` keeps a copy of every model before training (``Runs.initial``).

    ``together=True`` trains all seeds of a recipe in one vectorised pass
    (:func:`helpers.ensemble.train_together`): the same initial weights, batch order and
    schedule as one run at a time, equal to it up to rounding, and 1.4-1.7x faster for
    chapter 3's networks on one thread (``bench/training_speed.md``). ``Runs.seconds`` then gives each run an equal share of the pass.

    ``concurrent=k`` trains ``k`` runs at a time on the CPU, each on one thread of its own
    (Python threads; PyTorch releases the interpreter lock inside its operations). Every run
    then computes on one thread whatever ``k`` is, so its result does not depend on ``k`` or on
    the machine's core count, and the models are built one after the other, as above. Small
    networks gain little from a second thread inside an operation and much from a second run
    beside them (chapter 8: ``bench/chapter8_time.md``). ``Runs.seconds`` then times each run
    on its own, overlapping the others. On another device (a GPU) the runs train one after the
    other, as without it. Not with ``together=True`` or with ``Recipe.after``.
    """
    if not recipes:
        raise ValueError("recipes must name at least one recipe")
    seeds = [check_int(f"seeds[{i}]", s, minimum=0) for i, s in enumerate(seeds)]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be non-empty and distinct, got {seeds!r}")
    device = torch.device("cpu") if device is None else torch.device(device)
    recipes = {name: _as_recipe(name, recipe) for name, recipe in recipes.items()}
    runs = Runs(list(recipes), seeds, {}, {}, {})
    if concurrent is not None:
        concurrent = check_int("concurrent", concurrent, minimum=1)
        if together:
            raise ValueError("concurrent must be None with together=True (one vectorised pass per recipe)")
        if any(recipe.after is not None for recipe in recipes.values()):
            raise ValueError("concurrent must be None when a Recipe has an after hook (it runs between runs)")
        if device.type == "cpu":
            _train_concurrently(runs, recipes, x, y, device, keep_initial, concurrent, options)
            return runs
    for name, recipe in recipes.items():
        if together:
            _train_recipe_together(runs, name, recipe, x, y, device, keep_initial, options)
            continue
        for seed in seeds:
            model = _build_run(runs, name, recipe, seed, device, keep_initial)
            transform = None if recipe.transform is None else recipe.transform(seed)
            start = time.perf_counter()
            runs.losses[name, seed] = train(
                model, x, y, seed=seed, transform=transform, device=device,
                desc=f"{name}, seed {seed}", **{**options, **recipe.options},
            )
            runs.seconds[name, seed] = time.perf_counter() - start
            runs.models[name, seed] = model
            if recipe.after is not None:
                recipe.after(model, seed)
    return runs


def _as_recipe(name: str, recipe: Recipe | Callable[[], nn.Module]) -> Recipe:
    if isinstance(recipe, Recipe):
        return recipe
    if not callable(recipe):
        raise ValueError(f"recipes[{name!r}] must be a Recipe or a builder function, got {recipe!r}")
    return Recipe(recipe)


def _build_run(runs: Runs, name: str, recipe: Recipe, seed: int, device, keep_initial: bool) -> nn.Module:
    """The one seeding rule: the run's model, built under its seed (and kept untrained if asked)."""
    seed_everything(seed)
    model = recipe.build().to(device)
    if keep_initial:
        runs.initial[name, seed] = copy.deepcopy(model)
    return model


def _train_concurrently(runs: Runs, recipes: Mapping[str, Recipe], x, y, device, keep_initial: bool, workers: int,
                        options) -> None:
    """Every run of :func:`train_runs` on one thread, ``workers`` runs at a time (see there)."""
    jobs = []
    for name, recipe in recipes.items():
        for seed in runs.seeds:  # built here, in order: the global random stream is not thread-safe
            model = _build_run(runs, name, recipe, seed, device, keep_initial)
            transform = None if recipe.transform is None else recipe.transform(seed)
            jobs.append((name, seed, model, transform, {**options, **recipe.options}))
    jobs.sort(key=lambda job: -job[4].get("epochs", 1))  # longest first: the last runs finish together

    def run(job) -> tuple[list[float], float]:
        name, seed, model, transform, settings = job
        start = time.perf_counter()
        losses = train(model, x, y, seed=seed, transform=transform, device=device,
                       **{**settings, "progress": False})
        return losses, time.perf_counter() - start

    progress = options.get("progress")
    progress = progress_wanted() if progress is None else progress
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            done = pool.map(run, jobs)
            bar = tqdm(zip(jobs, done, strict=True), total=len(jobs), desc=f"{len(jobs)} runs, {workers} at a time",
                       file=sys.stdout, ascii=True, disable=not progress, mininterval=5)
            for (name, seed, model, _, _), (losses, seconds) in bar:
                runs.models[name, seed], runs.losses[name, seed], runs.seconds[name, seed] = model, losses, seconds
    finally:
        torch.set_num_threads(threads)


def _train_recipe_together(runs: Runs, name: str, recipe: Recipe, x, y, device, keep_initial: bool, options) -> None:
    """Every seed of one recipe in one :func:`helpers.ensemble.train_together` pass (see :func:`train_runs`)."""
    models = [_build_run(runs, name, recipe, seed, device, keep_initial) for seed in runs.seeds]
    transforms = [None if recipe.transform is None else recipe.transform(seed) for seed in runs.seeds]
    settings = {**options, **recipe.options}
    if settings.get("progress") is None:
        settings["progress"] = progress_wanted()
    start = time.perf_counter()
    losses = train_together(models, x, y, runs.seeds, transforms=transforms, device=device,
                            desc=f"{name}, {len(models)} seeds together", **settings)
    seconds = (time.perf_counter() - start) / len(models)
    for seed, model, run_losses in zip(runs.seeds, models, losses, strict=True):
        runs.models[name, seed], runs.losses[name, seed], runs.seconds[name, seed] = model, run_losses, seconds
        if recipe.after is not None:
            recipe.after(model, seed)
