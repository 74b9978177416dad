"""Argument checks shared by the helpers: every bad input becomes a clear ``ValueError``."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import torch


def check_int(name: str, value: object, *, minimum: int | None = None) -> int:
    """Return ``value`` as ``int`` or raise ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_odd(name: str, value: object, why: str) -> int:
    """A positive odd integer (a kernel with a centre pixel); ``why`` says what needs the centre."""
    value = check_int(name, value, minimum=1)
    if value % 2 == 0:
        raise ValueError(f"{name} must be odd ({why}), got {value}")
    return value


def check_offset(name: str, offset: object) -> tuple[int, ...]:
    """An offset is an int (1-D) or a tuple of ints (one per shifted axis)."""
    if isinstance(offset, torch.Tensor):
        if offset.dtype.is_floating_point or offset.dtype == torch.bool or offset.dim() > 1:
            raise ValueError(f"{name} must hold integers, got a tensor of {offset.dtype}")
        offset = offset.tolist()
    if isinstance(offset, Sequence) and not isinstance(offset, str):
        if len(offset) == 0:
            raise ValueError(f"{name} must not be empty")
        return tuple(check_int(f"{name}[{i}]", v) for i, v in enumerate(offset))
    return (check_int(name, offset),)


def check_tensor(name: str, x: object, *, min_dim: int = 1) -> torch.Tensor:
    """A non-empty tensor with at least ``min_dim`` dimensions."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() < min_dim:
        raise ValueError(f"{name} must have at least {min_dim} dimension(s), got shape {tuple(x.shape)}")
    if x.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(x.shape)}")
    return x


def check_choice(name: str, value: object, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return str(value)
