"""The shift algebra (chapter 1): circular shifts compose, invert and commute with convolution."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.shifts import all_offsets_2d, shift, shift_all

offsets = st.integers(-20, 20)
sizes = st.integers(1, 9)


def signal(n: int, seed: int) -> torch.Tensor:
    return torch.randn(n, generator=torch.Generator().manual_seed(seed))


@settings(max_examples=60, deadline=None)
@given(n=sizes, a=offsets, b=offsets, seed=st.integers(0, 1000))
def test_circular_shifts_compose(n, a, b, seed):
    x = signal(n, seed)
    assert torch.equal(shift(shift(x, a), b), shift(x, a + b))


@settings(max_examples=60, deadline=None)
@given(h=sizes, w=sizes, dy=offsets, dx=offsets, seed=st.integers(0, 1000))
def test_circular_shifts_invert_and_commute(h, w, dy, dx, seed):
    x = torch.randn(2, h, w, generator=torch.Generator().manual_seed(seed))
    assert torch.equal(shift(shift(x, (dy, dx)), (-dy, -dx)), x)
    assert torch.equal(shift(shift(x, (dy, 0)), (0, dx)), shift(shift(x, (0, dx)), (dy, 0)))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 12), d=offsets, seed=st.integers(0, 1000))
def test_shift_matches_definition(n, d, seed):
    x = signal(n, seed)
    circ, zero = shift(x, d), shift(x, d, mode="zero")
    for i in range(n):
        assert circ[i] == x[(i - d) % n]
        assert zero[i] == (x[i - d] if 0 <= i - d < n else 0)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(5, 16),
    k=st.integers(1, 5),
    dy=st.integers(-6, 6),
    dx=st.integers(-6, 6),
    seed=st.integers(0, 1000),
)
def test_circular_shift_commutes_with_circular_convolution(n, k, dy, dx, seed):
    g = torch.Generator().manual_seed(seed)
    x, w = torch.randn(1, 2, n, n, generator=g), torch.randn(3, 2, k, k, generator=g)

    def conv(t):
        left, right = (k - 1) // 2, k // 2
        return F.conv2d(F.pad(t, (left, right, left, right), mode="circular"), w)

    assert torch.allclose(conv(shift(x, (dy, dx))), shift(conv(x), (dy, dx)), atol=1e-5)


def test_zero_shift_loses_content_and_is_not_invertible():
    x = torch.arange(1.0, 6.0)
    assert shift(x, 2, mode="zero").tolist() == [0, 0, 1, 2, 3]
    assert shift(shift(x, 2, mode="zero"), -2, mode="zero").tolist() == [1, 2, 3, 0, 0]


def test_crop_shift_moves_content_under_a_window():
    x = torch.arange(10.0)
    assert shift(x, 0, mode="crop", margin=2).tolist() == [2, 3, 4, 5, 6, 7]
    assert shift(x, 1, mode="crop", margin=2).tolist() == [1, 2, 3, 4, 5, 6]
    assert shift(x, -2, mode="crop").tolist() == [4, 5, 6, 7, 8, 9]


@pytest.mark.parametrize("mode", ["circular", "zero", "crop"])
def test_shift_all_equals_a_loop(mode):
    x = torch.randn(3, 2, 9, 11)
    table = all_offsets_2d(2)
    batched = shift_all(x, table, mode)
    margin = 2 if mode == "crop" else None
    for s, d in enumerate(table):
        assert torch.equal(batched[s], shift(x, d, mode, margin=margin))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: shift(torch.zeros(4), 1.5), "offset must be an integer"),
        (lambda: shift(torch.zeros(4), True), "offset must be an integer"),
        (lambda: shift(torch.zeros(0), 1), "x must not be empty"),
        (lambda: shift(torch.zeros(4), (1, 1)), "x must have at least 2"),
        (lambda: shift(torch.zeros(4), 1, mode="wrap"), "mode must be one of"),
        (lambda: shift(torch.zeros(4), 1, margin=1), "margin only applies"),
        (lambda: shift(torch.zeros(4), 3, mode="crop", margin=1), "margin must be >="),
        (lambda: shift(torch.zeros(4), 2, mode="crop"), "leaves no window"),
        (lambda: shift([1, 2, 3], 1), "x must be a torch.Tensor"),
        (lambda: shift_all(torch.zeros(4), []), "offsets must not be empty"),
        (lambda: shift_all(torch.zeros(4, 4), [1, (1, 1)]), "same length"),
        (lambda: shift_all(torch.zeros(4), torch.tensor([0.5])), "must hold integers"),
        (lambda: all_offsets_2d(-1), "max_offset must be >= 0"),
    ],
)
def test_bad_input_raises_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
