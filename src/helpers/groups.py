"""C4 group convolutions: networks equivariant (and invariant) to 90-degree rotations.

Chapter 8 (``chapters/08_group_equivariance.ipynb``) builds and trains them. The group
C4 holds the four rotations by multiples of 90 degrees; ``torch.rot90`` rotates a square
pixel grid onto itself about its centre, so these rotations are exact permutations of
pixels, and the layers below commute with them exactly (up to float rounding).

Feature maps of a group CNN carry a rotation axis: shape ``(N, C, 4, H, W)``. Rotating
the input by 90 degrees rotates every map and cyclically shifts the rotation axis by one
(:func:`rotate_c4_maps`). Pooling over the rotation axis (:func:`group_pool`) then gives
maps that merely rotate, and a global spatial pooling gives an invariant vector.

Conventions: ``k`` counts counter-clockwise quarter turns, as in
``torch.rot90(x, k, dims=(-2, -1))`` and ``torchvision``'s ``rotate(x, 90 * k)``.
Kernels must have odd size (a centre pixel) and ``padding`` is symmetric zero padding.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from helpers._checks import check_choice, check_int, check_odd, check_tensor

GROUP_POOLS = ("max", "mean")


def rot90(x: torch.Tensor, k: int = 1) -> torch.Tensor:
    """Rotate the last two (spatial) axes by ``k`` counter-clockwise quarter turns. Chapter 8."""
    x = check_tensor("x", x, min_dim=2)
    k = check_int("k", k)
    if x.shape[-1] != x.shape[-2]:
        raise ValueError(f"x must be square in its last two axes, got {tuple(x.shape[-2:])}")
    return torch.rot90(x, k, dims=(-2, -1))


def rotate_c4_maps(y: torch.Tensor, k: int = 1) -> torch.Tensor:
    """How C4 acts on group feature maps ``(N, C, 4, H, W)``: rotate space, shift the rotation axis.

    If ``y = layer(x)`` for an equivariant layer, then ``layer(rot90(x, k)) == rotate_c4_maps(y, k)``.

    Chapter 8.
    """
    y = check_tensor("y", y, min_dim=5)
    if y.shape[-3] != 4:
        raise ValueError(f"y must have a rotation axis of size 4 at dim -3, got shape {tuple(y.shape)}")
    k = check_int("k", k)
    return torch.roll(rot90(y, k), shifts=k, dims=-3)


class _C4Conv(nn.Module):
    """What both C4 layers share: the checks, a weight with ``rotations`` copies along its
    rotation axis (1: none), PyTorch's default conv initialisation, and the convolution with a
    filter bank whose output gets a rotation axis of 4."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool, rotations: int) -> None:
        super().__init__()
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        self.out_channels = check_int("out_channels", out_channels, minimum=1)
        self.kernel_size = k = check_odd("kernel_size", kernel_size, "a filter needs a centre to rotate about")
        axis = (rotations,) if rotations > 1 else ()
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, *axis, k, k))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        # fan-in is in_channels * rotations * k * k, as for a plain conv with that many input channels
        nn.init.kaiming_uniform_(self.weight.view(out_channels, in_channels * rotations, k, k), a=math.sqrt(5))

    def _convolve(self, x: torch.Tensor, bank: torch.Tensor) -> torch.Tensor:
        bias = None if self.bias is None else self.bias.repeat_interleave(4)
        out = F.conv2d(x, bank, bias, padding=self.kernel_size // 2)
        return out.reshape(x.shape[0], self.out_channels, 4, *out.shape[-2:])


class LiftingConvC4(_C4Conv):
    """Lifting convolution ``(N, C_in, H, W) -> (N, C_out, 4, H, W)`` (chapter 8).

    One learned filter per output channel, applied in its four rotations:
    ``out[:, c, r] = x * rot90(w_c, r)`` (cross-correlation, zero padding, stride 1).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, kernel_size, bias, rotations=1)

    def filter_bank(self) -> torch.Tensor:
        """The four rotated copies of every filter: ``(C_out * 4, C_in, k, k)``, rotation fastest."""
        bank = torch.stack([torch.rot90(self.weight, r, dims=(-2, -1)) for r in range(4)], dim=1)
        return bank.reshape(self.out_channels * 4, self.in_channels, self.kernel_size, self.kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"x must have shape (N, {self.in_channels}, H, W), got {tuple(x.shape)}")
        return self._convolve(x, self.filter_bank())


class GroupConvC4(_C4Conv):
    """Group convolution on C4 feature maps ``(N, C_in, 4, H, W) -> (N, C_out, 4, H, W)`` (chapter 8).

    A filter has a rotation axis too: ``w[c_out, c_in, s]``. The output for rotation ``r``
    uses every filter rotated by ``r`` in space *and* shifted by ``r`` along its rotation axis:
    ``out[:, o, r] = sum_{i, s} in[:, i, s] * rot90(w[o, i, s - r], r)``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, kernel_size, bias, rotations=4)

    def filter_bank(self) -> torch.Tensor:
        """Every transformed filter: ``(C_out * 4, C_in * 4, k, k)``, rotation fastest on both axes."""
        bank = torch.stack(
            [torch.rot90(torch.roll(self.weight, shifts=r, dims=2), r, dims=(-2, -1)) for r in range(4)],
            dim=1,
        )
        k = self.kernel_size
        return bank.reshape(self.out_channels * 4, self.in_channels * 4, k, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 5 or x.shape[1] != self.in_channels or x.shape[2] != 4:
            raise ValueError(f"x must have shape (N, {self.in_channels}, 4, H, W), got {tuple(x.shape)}")
        n, h, w = x.shape[0], x.shape[-2], x.shape[-1]
        return self._convolve(x.reshape(n, self.in_channels * 4, h, w), self.filter_bank())


class C4BatchNorm(nn.BatchNorm2d):
    """Batch normalisation of C4 feature maps ``(N, C, 4, H, W)`` with one mean, variance and affine map per channel (chapter 8).

    The statistics are shared by the four orientations of a channel, as they must be: a
    rotated input permutes the rotation axis, and a per-orientation normalisation would
    treat the permuted maps differently. In eval mode the layer is one affine map per
    channel, so it keeps the network exactly equivariant.
    """

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        if y.dim() != 5 or y.shape[1] != self.num_features or y.shape[2] != 4:
            raise ValueError(f"y must have shape (N, {self.num_features}, 4, H, W), got {tuple(y.shape)}")
        return super().forward(y.flatten(2, 3)).view_as(y)


def group_pool(y: torch.Tensor, mode: str = "max") -> torch.Tensor:
    """Pool C4 feature maps over the rotation axis: ``(N, C, 4, H, W) -> (N, C, H, W)`` (chapter 8).

    The result is rotation *equivariant* in the plain sense: rotating the input rotates
    these maps (the cyclic shift of the rotation axis no longer shows).
    """
    y = check_tensor("y", y, min_dim=5)
    if y.shape[-3] != 4:
        raise ValueError(f"y must have a rotation axis of size 4 at dim -3, got shape {tuple(y.shape)}")
    mode = check_choice("mode", mode, GROUP_POOLS)
    return y.amax(dim=-3) if mode == "max" else y.mean(dim=-3)


def rotation_safe_maxpool(x: torch.Tensor) -> torch.Tensor:
    """2x spatial max-pooling that commutes with ``rot90`` on square maps of any size (chapter 8).

    On an even size, 2x2 windows at stride 2 tile the grid symmetrically about its centre.
    On an odd size they do not (the last row and column are dropped), so there 3x3 windows
    centred on the even pixels ``0, 2, ..., H-1`` are used instead (padding with -inf), which
    are symmetric about the centre. Accepts ``(..., H, H)``.
    """
    x = check_tensor("x", x, min_dim=3)
    h, w = x.shape[-2:]
    if h != w:
        raise ValueError(f"x must be square in its last two axes, got {h}x{w}")
    lead = x.shape[:-2]
    flat = x.reshape(-1, 1, h, w)
    out = F.max_pool2d(flat, 2, 2) if h % 2 == 0 else F.max_pool2d(flat, 3, 2, padding=1)
    return out.reshape(*lead, *out.shape[-2:])
