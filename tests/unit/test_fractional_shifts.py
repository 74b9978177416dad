"""Fourier (sub-pixel) shifts, the half-sample reference for strided layers, and the frequency share (chapter 4)."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from helpers.aliasing import high_frequency_share, sinusoid
from helpers.antialias import BlurPool
from helpers.metrics import equivariance_error, path_change_rate, predict_over_shifts, shiftability_error
from helpers.shifts import bilinear_shift_all, fourier_shift, fourier_shift_all, shift


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 12), st.integers(2, 12), st.integers(-20, 20), st.integers(-20, 20), st.integers(0, 99))
def test_whole_fourier_shifts_are_circular_shifts(h, w, dy, dx, seed):
    x = torch.randn(2, 3, h, w, generator=torch.Generator().manual_seed(seed))
    assert torch.allclose(fourier_shift(x, (dy, dx)), shift(x, (dy, dx)), atol=1e-5)


@pytest.mark.parametrize("d", [0.25, 0.5, 1.5, -2.75])
def test_fourier_shift_moves_a_band_limited_cosine_by_any_amount(d):
    n = 32
    moved = fourier_shift(sinusoid(n, 3), d)
    t = torch.arange(n, dtype=torch.float64)
    assert torch.allclose(moved.double(), torch.cos(2 * math.pi * 3 * (t - d) / n), atol=1e-5)


def test_two_half_sample_shifts_make_one_sample_below_the_nyquist_frequency():
    x = sum(sinusoid(16, c, phase=0.3 * c) for c in range(1, 8))  # no Nyquist component
    twice = fourier_shift(fourier_shift(x, 0.5), 0.5)
    assert torch.allclose(twice, shift(x, 1), atol=1e-5)


def test_fourier_shift_all_equals_a_loop():
    x = torch.randn(3, 1, 6, 8)
    offsets = [(0, 0.5), (1.5, -0.5), (2, 3)]
    stack = fourier_shift_all(x, offsets)
    assert stack.shape == (3, 3, 1, 6, 8)
    for s, o in enumerate(offsets):
        assert torch.allclose(stack[s], fourier_shift(x, o), atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.integers(-9, 9), st.integers(-9, 9), st.floats(0, 0.99), st.integers(0, 99))
def test_bilinear_shifts_interpolate_between_the_two_nearest_whole_shifts(dy, dx, f, seed):
    x = torch.randn(2, 1, 5, 7, generator=torch.Generator().manual_seed(seed))
    assert torch.allclose(bilinear_shift_all(x, [(dy, dx)])[0], shift(x, (dy, dx)))
    moved = bilinear_shift_all(x, [(dy, dx + f)])[0]
    assert torch.allclose(moved, (1 - f) * shift(x, (dy, dx)) + f * shift(x, (dy, dx + 1)), atol=1e-6)


def test_shiftability_forgives_a_low_pass_layer_the_half_sample():
    x = torch.randn(8, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    blur = BlurPool(1, 7, pad_type="circular")
    one_px = [(0, 1), (1, 0)]
    half = shiftability_error(blur, x, one_px).mean()
    nearest = equivariance_error(blur, x, one_px, stride=2).mean()
    assert half < 0.15 < 0.4 < nearest
    # even offsets are whole-sample shifts of the output: both references agree there
    assert shiftability_error(blur, x, [(2, 0), (0, 4)]).max() < 1e-5
    plain = BlurPool(1, 1)
    assert shiftability_error(plain, x, one_px).mean() > 0.5  # no filter: not shiftable


@pytest.mark.parametrize("mode", ["bilinear", "fourier"])
def test_a_subpixel_crop_shift_moves_the_scene_under_a_fixed_window(mode):
    scene = torch.rand(3, 1, 14, 14, generator=torch.Generator().manual_seed(0))
    path = [(0, -2.0), (0, -0.5), (0, 0.0), (0, 1.5)]
    out = predict_over_shifts(nn.Identity(), scene, path, mode=mode, margin=2)
    moved = (bilinear_shift_all if mode == "bilinear" else fourier_shift_all)(scene, path)
    assert out.shape == (4, 3, 1, 10, 10)
    assert torch.allclose(out, moved[..., 2:-2, 2:-2])
    whole = predict_over_shifts(nn.Identity(), scene, [(0, -2), (0, 0)], mode="crop", margin=2)
    assert torch.allclose(out[[0, 2]], whole, atol=1e-5)  # whole offsets: the crop shift


def test_predict_over_shifts_in_fourier_mode_equals_a_loop():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.Flatten(), nn.LazyLinear(3))
    x = torch.randn(4, 1, 8, 8)
    model(x)
    path = [(0, 0.0), (0, 0.5), (0.5, 1.0)]
    out = predict_over_shifts(model, x, path, mode="fourier")
    for s, o in enumerate(path):
        assert torch.allclose(out[s], model(fourier_shift(x, o)), atol=1e-5)


def test_path_change_rate_counts_consecutive_changes():
    labels = torch.tensor([[0, 1], [0, 2], [1, 2], [1, 2]])  # (steps, images)
    assert path_change_rate(labels) == pytest.approx(2 / 6)


def test_high_frequency_share_of_pure_cosines():
    n = 16
    slow = sinusoid(n, 2).expand(n, n)  # 1/8 cycle per pixel, along the columns
    fast = sinusoid(n, 6).expand(n, n)  # 3/8
    assert high_frequency_share(slow).item() == pytest.approx(0.0, abs=1e-9)
    assert high_frequency_share(fast).item() == pytest.approx(1.0)
    assert high_frequency_share(torch.stack([slow, fast])).shape == (2,)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: fourier_shift(torch.zeros(4), float("nan")), "real number"),
        (lambda: fourier_shift(torch.zeros(4), "1"), "real number"),
        (lambda: fourier_shift_all(torch.zeros(4, 4), []), "non-empty"),
        (lambda: fourier_shift_all(torch.zeros(4, 4), [(1, 2), 3]), "same 1 or 2 axes"),
        (lambda: fourier_shift_all(torch.zeros(2, 4, 4), [(1, 2, 3)]), "same 1 or 2 axes"),
        (lambda: fourier_shift(torch.zeros(4, dtype=torch.long), 1), "floating-point"),
        (lambda: fourier_shift(torch.zeros(4, 4), (1, 1, 1)), "1 or 2 axes"),
        (lambda: shiftability_error(nn.Identity(), torch.zeros(1, 1, 4, 4), [(0, 1)], stride=0), "stride"),
        (lambda: predict_over_shifts(nn.Identity(), torch.zeros(1, 1, 8, 8), [(0, 1.5)], mode="fourier", margin=1),
         "margin"),
        (lambda: predict_over_shifts(nn.Identity(), torch.zeros(1, 1, 4, 4), [(0, 0.5)], mode="bilinear", margin=2),
         "margin"),
        (lambda: path_change_rate(torch.zeros(1, 3)), "at least 2 steps"),
        (lambda: bilinear_shift_all(torch.zeros(4, dtype=torch.long), [0.5]), "floating-point"),
        (lambda: bilinear_shift_all(torch.zeros(4), [float("inf")]), "real number"),
        (lambda: high_frequency_share(torch.zeros(4, 4), cutoff=0.5), "cutoff"),
    ],
)
def test_bad_input_raises_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
