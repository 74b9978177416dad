"""Data augmentation applied per sample, and batched sweeps over rotations, scales and shifts.

Chapter 7 (``chapters/07_data_augmentation.ipynb``) trains with these augmentations and
sweeps trained networks over transformations; chapter 8
(``chapters/08_group_equivariance.ipynb``) reuses them for its rotation sweeps.

Why :class:`PerSample` exists: a random torchvision (v2) transform called on a batch
tensor ``(N, C, H, W)`` treats the batch as *one* image with extra leading axes, so it
draws *one* random angle (or scale, or shift) and applies it to every sample. Augmentation
needs a fresh draw per sample, so :class:`PerSample` calls the transform once per sample,
with a random stream of its own (seeded, and independent of the global one that
initialises the networks).

The sweep functions build one tensor ``(S, N, C, H, W)`` holding every transformed copy
of a batch (one torchvision call per transformation on the whole batch, never one per
sample), so a model can be evaluated on all of them in a few large forward passes.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from helpers._checks import check_choice, check_int, check_tensor
from helpers.data import place_on_canvas
from helpers.metrics import apply_batched

INTERPOLATIONS = ("nearest", "bilinear")


def _interpolation(name: str) -> v2.InterpolationMode:
    name = check_choice("interpolation", name, INTERPOLATIONS)
    return v2.InterpolationMode.NEAREST if name == "nearest" else v2.InterpolationMode.BILINEAR


def _check_numbers(name: str, values: object) -> list[float]:
    if isinstance(values, torch.Tensor):
        values = values.tolist()
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise ValueError(f"{name} must be a sequence of numbers, got {values!r}")
    if len(values) == 0:
        raise ValueError(f"{name} must not be empty")
    out = []
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise ValueError(f"{name}[{i}] must be a real number, got {v!r}")
        out.append(float(v))
    return out


class PerSample:
    """Apply a (random) transform to every sample of a batch separately (chapters 7, 8).

    ``transform`` maps one image ``(C, H, W)`` to one image of the same shape, e.g.
    ``v2.RandomRotation(45)``. The random numbers it draws come from a stream seeded with
    ``seed`` and kept between calls, so a training run is reproducible and does not
    disturb (nor depend on) the global generator.

    >>> aug = PerSample(v2.RandomRotation(45), seed=0)
    >>> aug(torch.rand(8, 1, 24, 24)).shape
    torch.Size([8, 1, 24, 24])
    """

    def __init__(self, transform: Callable[[torch.Tensor], torch.Tensor], seed: int = 0) -> None:
        if not callable(transform):
            raise ValueError(f"transform must be callable, got {type(transform).__name__}")
        self.transform = transform
        self.seed = check_int("seed", seed, minimum=0)
        self.reset()

    def reset(self) -> None:
        """Restart the random stream from ``seed``."""
        self._state = torch.Generator().manual_seed(self.seed).get_state()

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        batch = check_tensor("batch", batch, min_dim=4)
        threads = torch.get_num_threads()
        # One small image is far too little work to share between threads, and on a busy machine
        # waiting for a second thread at every call can cost ~100x the work itself.
        torch.set_num_threads(1)
        try:
            with torch.random.fork_rng(devices=[]):
                torch.set_rng_state(self._state)
                out = torch.stack([self.transform(sample) for sample in batch])
                self._state = torch.get_rng_state()
        finally:
            torch.set_num_threads(threads)
        if out.shape != batch.shape:
            raise ValueError(
                f"transform must keep the image shape {tuple(batch.shape[1:])}, got {tuple(out.shape[1:])}"
            )
        return out

    def __repr__(self) -> str:
        return f"PerSample({self.transform!r}, seed={self.seed})"


def rotate_all(x: torch.Tensor, angles: Sequence[float], interpolation: str = "bilinear") -> torch.Tensor:
    """Every rotation of the batch ``x`` ``(N, C, H, W)``: shape ``(S, N, C, H, W)``.

    ``angles`` in degrees, counter-clockwise about the image centre (torchvision's
    convention; 90 degrees equals ``torch.rot90(x, 1, dims=(-2, -1))``). Pixels rotated in
    from outside the frame are 0.

    Chapters 7 and 8.
    """
    x = check_tensor("x", x, min_dim=4)
    angles = _check_numbers("angles", angles)
    mode = _interpolation(interpolation)
    return torch.stack([TF.rotate(x, a, interpolation=mode) for a in angles])


def scale_all(x: torch.Tensor, factors: Sequence[float], interpolation: str = "bilinear") -> torch.Tensor:
    """Every rescaling of ``x`` ``(N, C, H, W)`` about the image centre: ``(S, N, C, H, W)``.

    A factor above 1 enlarges the content (and may push it out of the frame); below 1
    it shrinks it, filling the border with 0.

    Chapter 7.
    """
    x = check_tensor("x", x, min_dim=4)
    factors = _check_numbers("factors", factors)
    if min(factors) <= 0:
        raise ValueError(f"factors must all be > 0, got {factors}")
    mode = _interpolation(interpolation)
    return torch.stack(
        [
            TF.affine(x, angle=0.0, translate=[0.0, 0.0], scale=s, shear=[0.0, 0.0], interpolation=mode)
            for s in factors
        ]
    )


@torch.no_grad()
def accuracy_over(
    model: nn.Module, stack: torch.Tensor, labels: torch.Tensor, chunk_size: int = 1024
) -> torch.Tensor:
    """Accuracy of ``model`` on every transformed copy in ``stack`` ``(S, N, ...)``: shape ``(S,)``.

    The stack is sent through the model as one flat batch, in chunks of ``chunk_size``.

    Chapters 7 and 8.
    """
    stack = check_tensor("stack", stack, min_dim=3)
    labels = check_tensor("labels", labels, min_dim=1)
    if labels.shape[0] != stack.shape[1]:
        raise ValueError(f"labels must hold {stack.shape[1]} labels (one per image), got {labels.shape[0]}")
    chunk_size = check_int("chunk_size", chunk_size, minimum=1)
    device = next(model.parameters()).device
    model.eval()
    logits = apply_batched(lambda b: model(b.to(device)).cpu(), stack, chunk_size)
    return (logits.argmax(-1) == labels.cpu()).float().mean(1)


def epochs_to_reach(losses: Sequence[float], threshold: float) -> int | None:
    """The first epoch (1-based) whose mean training loss is at most ``threshold``; ``None`` if never.

    A deterministic measure of training cost (chapter 7), unlike wall-clock time.
    """
    losses = _check_numbers("losses", losses)
    if not threshold > 0:
        raise ValueError(f"threshold must be > 0, got {threshold!r}")
    for epoch, loss in enumerate(losses, start=1):
        if loss <= threshold:
            return epoch
    return None


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
