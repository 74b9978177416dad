"""1-D aliasing and polyphase demos, and the jaggedness measure (chapter 4)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.aliasing import aliased_cycles, dominant_cycles, jaggedness, polyphase, sinusoid, subsample
from helpers.metrics import equivariance_error
from helpers.shifts import shift


@pytest.mark.parametrize("cycles", range(1, 32))
def test_subsampled_sinusoid_shows_up_at_the_predicted_alias(cycles):
    x = sinusoid(64, cycles, phase=0.3)
    assert dominant_cycles(x) == cycles
    assert dominant_cycles(subsample(x, 2)) == aliased_cycles(cycles, 64, 2)
    assert (aliased_cycles(cycles, 64, 2) == cycles) == (cycles <= 16)  # Nyquist limit of 32 samples


def test_aliased_cycles_examples():
    assert aliased_cycles(12, 32) == 4
    assert aliased_cycles(3, 32) == 3
    assert aliased_cycles(16, 32) == 0  # folds onto the constant
    assert aliased_cycles(10, 30, stride=3) == 0


@settings(max_examples=40, deadline=None)
@given(half=st.integers(1, 12), d=st.integers(-30, 30), seed=st.integers(0, 99))
def test_polyphase_components_trade_places_under_a_one_sample_shift(half, d, seed):
    x = torch.randn(2 * half, generator=torch.Generator().manual_seed(seed))
    even, odd = polyphase(x)
    moved_even, moved_odd = polyphase(shift(x, d))
    if d % 2 == 0:
        assert torch.equal(moved_even, shift(even, d // 2)) and torch.equal(moved_odd, shift(odd, d // 2))
    else:
        assert torch.equal(moved_even, shift(odd, (d + 1) // 2)) and torch.equal(
            moved_odd, shift(even, (d - 1) // 2)
        )


def test_subsampling_is_equivariant_to_even_shifts_only():
    x = torch.randn(3, 16)
    err = equivariance_error(lambda t: subsample(t, 2), x, [2, 4, -6, 1, 3], stride=2)
    assert (err[:3] < 1e-7).all() and (err[3:] > 0.1).all()


def test_jaggedness_known_curves():
    assert jaggedness(torch.full((10, 3), 0.4)).tolist() == [0.0, 0.0, 0.0]
    flips = torch.tensor([0.0, 1.0] * 5)[:, None]
    assert jaggedness(flips).item() == 1.0
    ramp = torch.linspace(0, 1, 11)[:, None]
    assert jaggedness(ramp).item() == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: sinusoid(0, 1), "n must be >= 1"),
        (lambda: sinusoid(8, -1), "cycles must be a finite number"),
        (lambda: subsample(torch.zeros(8), 2, phase=2), "phase must be < stride"),
        (lambda: subsample([1, 2, 3]), "x must be a torch.Tensor"),
        (lambda: polyphase(torch.zeros(7), 2), "multiple of stride"),
        (lambda: aliased_cycles(3, 31), "multiple of stride"),
        (lambda: dominant_cycles(torch.zeros(2, 4)), "1-D signal"),
        (lambda: jaggedness(torch.zeros(1, 4)), "at least 2 steps"),
    ],
)
def test_bad_input_raises_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
