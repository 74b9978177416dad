"""BlurPool and adaptive polyphase sampling (chapter 4): the reference, the algebra, bad input."""

from __future__ import annotations

import math

import antialiased_cnns as reference  # a dev requirement: missing is a broken setup, not a skip
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from helpers.antialias import (
    APSPool,
    BlurPool,
    StrideOneMaxPool,
    aps_downsample,
    binomial_filter,
    binomial_filter_2d,
    blur_pool,
    max_aps_pool,
    max_blur_pool,
)
from helpers.metrics import change_rate, consistency, invariance_error, predict_over_shifts
from helpers.models import anti_aliased_cnn
from helpers.shifts import all_offsets_2d, shift

PASCAL = {1: [1], 2: [1, 1], 3: [1, 2, 1], 4: [1, 3, 3, 1], 5: [1, 4, 6, 4, 1], 6: [1, 5, 10, 10, 5, 1]}
PASCAL[7] = [1, 6, 15, 20, 15, 6, 1]


def images(n: int, c: int, h: int, w: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, c, h, w, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("size", range(1, 8))
def test_binomial_filters_are_normalised_rows_of_pascals_triangle(size):
    taps = torch.tensor(PASCAL[size], dtype=torch.float32)
    assert torch.allclose(binomial_filter(size), taps / taps.sum())
    k2 = binomial_filter_2d(size)
    assert k2.shape == (size, size)
    assert k2.sum().item() == pytest.approx(1.0, abs=1e-6)
    assert torch.allclose(k2, torch.outer(taps, taps) / taps.sum() ** 2)


@pytest.mark.parametrize("filt_size", range(1, 8))
@pytest.mark.parametrize("pad_type", ["reflect", "replicate", "zero"])
@pytest.mark.parametrize(("h", "w", "stride"), [(12, 12, 2), (13, 9, 2), (15, 16, 3)])
def test_blurpool_matches_the_reference_implementation(filt_size, pad_type, h, w, stride):
    x = images(3, 5, h, w, seed=filt_size)
    ours = BlurPool(5, filt_size=filt_size, stride=stride, pad_type=pad_type)
    theirs = reference.BlurPool(5, pad_type=pad_type, filt_size=filt_size, stride=stride)
    with torch.no_grad():
        a, b = ours(x), theirs(x)
    assert a.shape == b.shape
    assert (a - b).abs().max().item() < 1e-6


def test_filter_size_one_is_plain_subsampling():
    x = images(2, 3, 9, 10)
    assert torch.equal(BlurPool(3, filt_size=1)(x), x[:, :, ::2, ::2])


def test_circular_max_blur_pool_of_size_one_equals_max_pool():
    x = images(2, 4, 10, 12)
    layer = max_blur_pool(1, pad_type="circular")(4)
    assert torch.equal(layer(x), nn.MaxPool2d(2)(x))


@pytest.mark.parametrize("k", [1, 2, 3])
def test_stride_one_max_pool_equals_torch_max_pool(k):
    x = images(2, 3, 9, 7)
    assert torch.equal(StrideOneMaxPool(k, circular=False)(x), nn.MaxPool2d(k, stride=1)(x))


def test_circular_stride_one_max_pool_is_the_max_pool_of_the_wrapped_image():
    x = images(2, 3, 9, 7)
    wrapped = torch.cat([x, x[..., :1, :]], dim=-2)
    wrapped = torch.cat([wrapped, wrapped[..., :1]], dim=-1)
    assert torch.equal(StrideOneMaxPool(2, circular=True)(x), nn.MaxPool2d(2, stride=1)(wrapped))


def _is_coarse_shift(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether ``a`` equals some circular shift of ``b`` (both ``(C, h, w)``)."""
    h, w = b.shape[-2:]
    return any(torch.equal(a, torch.roll(b, (i, j), (-2, -1))) for i in range(h) for j in range(w))


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 3),
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    dy=st.integers(-9, 9),
    dx=st.integers(-9, 9),
    seed=st.integers(0, 999),
    criterion=st.sampled_from(["l2", "l1"]),
)
def test_aps_follows_every_circular_shift(n, h, w, dy, dx, seed, criterion):
    """APS of a shifted input is a (coarse) shift of APS of the input; odd sizes give the same output."""
    x = images(n, 2, h, w, seed)
    out = aps_downsample(x, criterion)
    moved = aps_downsample(shift(x, (dy, dx)), criterion)
    assert out.shape == (n, 2, math.ceil(h / 2), math.ceil(w / 2))
    for i in range(n):
        assert _is_coarse_shift(moved[i], out[i])
        if h % 2 and w % 2:
            assert torch.equal(moved[i], out[i])


def test_aps_batch_equals_one_image_at_a_time():
    x = images(7, 3, 9, 8)
    out, index = aps_downsample(x, return_index=True)
    for i in range(len(x)):
        one, one_index = aps_downsample(x[i : i + 1], return_index=True)
        assert torch.equal(out[i : i + 1], one) and torch.equal(index[i : i + 1], one_index)


def test_aps_keeps_the_component_with_the_largest_norm():
    x = torch.zeros(1, 1, 4, 4)
    x[0, 0, 1, 3] = 5.0  # lives in the (odd row, odd col) component
    out, index = aps_downsample(x, return_index=True)
    assert index.tolist() == [[1, 1]]
    assert out.abs().sum().item() == 5.0
    assert torch.equal(out, x[:, :, 1::2, 1::2])


@pytest.mark.parametrize("size", [16, 17, 23])
def test_aps_network_is_exactly_invariant_to_circular_shifts_untrained(size):
    torch.manual_seed(0)
    model = anti_aliased_cnn("aps", widths=(4, 6, 8), padding="circular").eval()
    x = torch.rand(3, 1, size, size)
    with torch.no_grad():
        assert invariance_error(model, x, all_offsets_2d(4)).max().item() < 1e-5


def test_baseline_network_is_not_invariant_to_odd_shifts():
    torch.manual_seed(0)
    model = anti_aliased_cnn("baseline", widths=(4, 6, 8), padding="circular").eval()
    x = torch.rand(3, 1, 16, 16)
    with torch.no_grad():
        err = invariance_error(model, x, [(0, 1), (1, 0), (8, 8)])
    assert (err[:2] > 1e-3).all() and err[2] < 1e-5  # multiples of the total stride 8 are safe


def test_aps_gradients_flow():
    layer = APSPool(3, filt_size=3)
    x = images(2, 3, 7, 6).requires_grad_(True)
    layer(x).square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_batched_shift_sweep_equals_a_naive_loop_for_the_chapter_4_metrics():
    torch.manual_seed(1)
    model = anti_aliased_cnn("blurpool", filt_size=3, widths=(4, 6), padding="circular").eval()
    x = torch.rand(5, 1, 12, 12)
    table = all_offsets_2d(1)
    batched = predict_over_shifts(model, x, table, chunk_size=7).argmax(-1)
    with torch.no_grad():
        naive = torch.stack([model(shift(x, d)).argmax(-1) for d in table])
    assert torch.equal(batched, naive)
    assert consistency(batched) == consistency(naive)
    assert change_rate(batched, table) == change_rate(naive, table)


def test_factories_build_layers_for_any_width():
    x = images(2, 6, 10, 10)
    for factory in (max_blur_pool(3), blur_pool(5), max_aps_pool(), max_aps_pool(3)):
        assert factory(6)(x).shape == (2, 6, 5, 5)
    for method in ("baseline", "blurpool", "conv-blurpool", "aps"):
        assert anti_aliased_cnn(method, widths=(4, 4))(torch.rand(2, 1, 12, 12)).shape == (2, 10)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: binomial_filter(0), "size must be >= 1"),
        (lambda: binomial_filter(8), "size must be between 1 and 7"),
        (lambda: BlurPool(0), "channels"),
        (lambda: BlurPool(3, pad_type="mirror"), "pad_type"),
        (lambda: BlurPool(3, filt_size=9), "size must be between"),
        (lambda: BlurPool(3)(torch.zeros(3, 8, 8)), r"x must have at least 4 dimension"),
        (lambda: BlurPool(3)(torch.zeros(1, 2, 8, 8)), "x must have 3 channels"),
        (lambda: aps_downsample(torch.zeros(1, 2, 3, 4, 5)), r"x must have shape \(N, C, H, W\)"),
        (lambda: aps_downsample(torch.zeros(1, 2, 4, 4), criterion="max"), "criterion"),
        (lambda: APSPool(None, filt_size=3), "channels must be given"),
        (lambda: max_blur_pool(2.5), "filt_size must be an integer"),
        (lambda: StrideOneMaxPool(3, circular=False)(torch.zeros(1, 1, 2, 5)), "at least 3 pixels"),
        (lambda: anti_aliased_cnn("fourier"), "method"),
        (lambda: anti_aliased_cnn("aps", downsample="maxpool"), "downsample is set by method"),
    ],
)
def test_bad_input_raises_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_stride_one_max_pool_is_the_same_with_and_without_gradients():
    x = images(2, 3, 8, 9).requires_grad_(True)
    for circular in (True, False):
        pool = StrideOneMaxPool(2, circular=circular)
        with torch.no_grad():
            fast = pool(x)
        assert torch.equal(pool(x), fast)


def test_stride_one_max_pool_gradient_matches_torch_max_pool():
    x = images(2, 3, 7, 6).double().requires_grad_(True)
    assert torch.autograd.gradcheck(StrideOneMaxPool(2, circular=True), (x,))
    ours = StrideOneMaxPool(2, circular=False)(x)
    ours.backward(torch.ones_like(ours))
    grad_ours, x.grad = x.grad.clone(), None
    theirs = nn.MaxPool2d(2, stride=1)(x)
    theirs.backward(torch.ones_like(theirs))
    assert torch.equal(grad_ours, x.grad)


def test_stride_one_max_pool_batches_under_vmap_with_its_own_gradient():
    pool = StrideOneMaxPool(2, circular=True)
    stack = images(3, 2, 6, 6).requires_grad_(True)  # 3 "runs" of (2, 1, 6, 6)
    batched = torch.vmap(pool)(stack.unsqueeze(2))
    batched.square().sum().backward()
    grad_vmap, stack.grad = stack.grad.clone(), None
    looped = torch.stack([pool(s.unsqueeze(1)) for s in stack])
    looped.square().sum().backward()
    assert torch.equal(batched, looped) and torch.allclose(grad_vmap, stack.grad)


@pytest.mark.parametrize("size", range(2, 8))
def test_one_blur_before_global_pooling_is_exactly_invariant(size):
    # the binomial filter vanishes at the Nyquist frequency, so the mean of the even samples
    # of the blurred map is the mean of the map (chapter 4's exact result)
    torch.manual_seed(size)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, padding_mode="circular"), nn.ReLU(),
                        BlurPool(4, size, pad_type="circular"), nn.AdaptiveAvgPool2d(1))
    x = images(2, 1, 10, 12)
    assert invariance_error(net, x, [(dy, dx) for dy in range(10) for dx in range(12)]).max() < 1e-5
    plain = nn.Sequential(*net[:2], BlurPool(4, 1), nn.AdaptiveAvgPool2d(1))
    assert invariance_error(plain, x, [(0, 1), (1, 0)]).max() > 1e-3
