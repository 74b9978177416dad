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

For training, :class:`RandomWarp` draws the same kinds of random transformation per
sample but applies them to the whole batch in one ``grid_sample`` call (:func:`warp`),
which is what makes augmentation cheap enough to train five seeds to their plateau.

The sweep functions build one tensor ``(S, N, C, H, W)`` holding every transformed copy
of a batch (one torchvision call per transformation on the whole batch, never one per
sample), so a model can be evaluated on all of them in a few large forward passes.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
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


def _per_sample(name: str, values: object, n: int, width: int | None = None) -> torch.Tensor:
    """``values`` as a float tensor of shape ``(n,)`` (or ``(n, width)``), one entry per sample."""
    values = torch.as_tensor(values, dtype=torch.float32)
    shape = (n,) if width is None else (n, width)
    if values.shape != shape:
        raise ValueError(f"{name} must have shape {shape} (one entry per sample), got {tuple(values.shape)}")
    if not torch.isfinite(values).all():
        raise ValueError(f"{name} must hold finite numbers")
    return values


def warp(
    x: torch.Tensor,
    angles: object = None,
    scales: object = None,
    shifts: object = None,
    interpolation: str = "bilinear",
) -> torch.Tensor:
    """Each image of ``x`` ``(N, C, H, W)`` rotated, rescaled and shifted by its own amounts, in one call.

    Image ``i`` is rotated by ``angles[i]`` degrees counter-clockwise and scaled by
    ``scales[i]`` about its centre, then shifted by ``shifts[i] = (rows, cols)`` pixels (down
    and right; whole pixels). Missing arguments mean no rotation, scale 1, no shift.
    Pixels from outside the frame are 0. The conventions are torchvision's (``TF.rotate``'s
    counter-clockwise angle; ``TF.affine`` with ``angle=-angle``, ``scale``, and
    ``translate=(cols, rows)``), and the result equals theirs, and :func:`rotate_all` and
    :func:`scale_all` for one shared amount, up to float rounding (tested); unlike them,
    every sample may have its own amounts.

    Chapters 7 and 8 (through :class:`RandomWarp`).
    """
    x = check_tensor("x", x, min_dim=4)
    if x.dim() != 4:
        raise ValueError(f"x must have shape (N, C, H, W), got {tuple(x.shape)}")
    mode = check_choice("interpolation", interpolation, INTERPOLATIONS)
    n, _, h, w = x.shape
    angles = torch.zeros(n) if angles is None else _per_sample("angles", angles, n)
    scales = torch.ones(n) if scales is None else _per_sample("scales", scales, n)
    shifts = torch.zeros(n, 2) if shifts is None else _per_sample("shifts", shifts, n, 2)
    if (scales <= 0).any():
        raise ValueError(f"scales must all be > 0, got {scales.tolist()}")
    # Output pixel p (centred pixel coordinates, y down) reads the input at M (p - t), with
    # M = R(-angle) / scale the inverse of "scale, then rotate counter-clockwise on screen".
    radians = angles * (math.pi / 180)
    cos, sin = torch.cos(radians) / scales, torch.sin(radians) / scales
    inverse = torch.stack([torch.stack([cos, -sin], 1), torch.stack([sin, cos], 1)], 1)  # (N, 2, 2), (x, y)
    moved = shifts.flip(1)  # (rows, cols) -> (x, y)
    offset = -(inverse @ moved.unsqueeze(-1))  # (N, 2, 1)
    half = torch.tensor([w / 2, h / 2])  # affine_grid's coordinates run from -1 to 1 across each axis
    theta = torch.cat([inverse * half / half[:, None], offset / half[:, None]], dim=2)
    grid = F.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode=mode, padding_mode="zeros", align_corners=False)


class RandomWarp:
    """Batch transform: a random rotation, rescaling and whole-pixel shift per sample, one call per batch (chapters 7, 8).

    Per sample: an angle uniform in ``[-max_angle, max_angle]`` degrees, a scale factor
    uniform in ``scale = (low, high)``, and a shift in rows and in columns, each a whole
    number of pixels uniform in ``-max_shift .. max_shift``; then :func:`warp`. The same
    draws as ``PerSample`` around torchvision's ``RandomAffine`` (whose shifts are rounded
    uniform numbers instead), but the whole batch is warped in one ``grid_sample`` call
    rather than one torchvision call per sample. The random numbers come from a generator
    seeded with ``seed`` and kept between calls (reproducible, and independent of the
    global generator that initialises the networks).
    """

    def __init__(
        self,
        max_angle: float = 0.0,
        scale: tuple[float, float] = (1.0, 1.0),
        max_shift: int = 0,
        seed: int = 0,
        interpolation: str = "bilinear",
    ) -> None:
        if isinstance(max_angle, bool) or not isinstance(max_angle, numbers.Real) or not 0 <= max_angle <= 180:
            raise ValueError(f"max_angle must be a number of degrees from 0 to 180, got {max_angle!r}")
        scale = tuple(_check_numbers("scale", scale))
        if len(scale) != 2 or not 0 < scale[0] <= scale[1]:
            raise ValueError(f"scale must be a (low, high) pair with 0 < low <= high, got {scale!r}")
        self.max_angle, self.scale = float(max_angle), scale
        self.max_shift = check_int("max_shift", max_shift, minimum=0)
        self.seed = check_int("seed", seed, minimum=0)
        self.interpolation = check_choice("interpolation", interpolation, INTERPOLATIONS)
        self.generator = torch.Generator().manual_seed(self.seed)

    def draw(self, n: int) -> dict[str, torch.Tensor]:
        """The next ``n`` samples' amounts: ``angles`` ``(n,)``, ``scales`` ``(n,)``, ``shifts`` ``(n, 2)``."""
        n = check_int("n", n, minimum=1)
        g, (low, high) = self.generator, self.scale
        return {
            "angles": (2 * torch.rand(n, generator=g) - 1) * self.max_angle,
            "scales": low + (high - low) * torch.rand(n, generator=g),
            "shifts": torch.randint(-self.max_shift, self.max_shift + 1, (n, 2), generator=g).float(),
        }

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        batch = check_tensor("batch", batch, min_dim=4)
        return warp(batch, **self.draw(batch.shape[0]), interpolation=self.interpolation)

    def __repr__(self) -> str:
        return (f"RandomWarp(max_angle={self.max_angle:g}, scale={self.scale}, max_shift={self.max_shift}, "
                f"seed={self.seed})")


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
