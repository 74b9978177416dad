"""Batched invariance / equivariance metrics (chapters 1-8) against naive loops and known cases."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from helpers.metrics import (
    between_class_distance,
    change_rate,
    consistency,
    equivariance_error,
    invariance_error,
    other_class_partners,
    predict_over_shifts,
)
from helpers.shifts import all_offsets_2d, shift

torch.manual_seed(0)
CIRCULAR_CONV = nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular")
ZERO_CONV = nn.Conv2d(2, 3, 3, padding=1)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(4, 12), dy=st.integers(-8, 8), dx=st.integers(-8, 8), seed=st.integers(0, 99))
def test_circular_conv_is_equivariant(n, dy, dx, seed):
    x = torch.randn(2, 2, n, n, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        assert equivariance_error(CIRCULAR_CONV, x, [(dy, dx)]).item() < 1e-5


def test_zero_padded_conv_is_not_exactly_equivariant():
    x = torch.randn(2, 2, 10, 10)
    with torch.no_grad():
        err = equivariance_error(ZERO_CONV, x, [(0, 0), (1, 0), (0, 3)], mode="circular")
    assert err[0] < 1e-6 and (err[1:] > 1e-2).all()


def test_strided_conv_is_equivariant_only_for_multiples_of_the_stride():
    conv = nn.Conv2d(1, 2, 3, stride=2, padding=1, padding_mode="circular")
    x = torch.randn(3, 1, 12, 12)
    with torch.no_grad():
        err = equivariance_error(conv, x, [(0, 2), (4, -2), (0, 1), (1, 1)], stride=2)
    assert (err[:2] < 1e-5).all() and (err[2:] > 1e-2).all()


def test_batched_errors_equal_naive_loops():
    x = torch.randn(4, 2, 8, 8)
    table = all_offsets_2d(2)
    with torch.no_grad():
        batched = equivariance_error(ZERO_CONV, x, table, mode="zero", chunk_size=7)
        naive = torch.stack(
            [
                (ZERO_CONV(shift(x, d, "zero")) - shift(ZERO_CONV(x), d, "zero")).norm() / ZERO_CONV(x).norm()
                for d in table
            ]
        )
        assert torch.allclose(batched, naive, atol=1e-6)
        pooled = nn.Sequential(ZERO_CONV, nn.AdaptiveAvgPool2d(1))
        inv = invariance_error(pooled, x, table)
        naive_inv = torch.stack([(pooled(shift(x, d)) - pooled(x)).norm() / pooled(x).norm() for d in table])
        assert torch.allclose(inv, naive_inv, atol=1e-6)


def test_global_average_pool_is_invariant_to_circular_shifts():
    f = nn.Sequential(CIRCULAR_CONV, nn.ReLU(), nn.AdaptiveAvgPool2d(1))
    with torch.no_grad():
        assert invariance_error(f, torch.randn(2, 2, 9, 9), all_offsets_2d(4)).max() < 1e-5


def test_predict_over_shifts_equals_a_loop():
    model = nn.Sequential(CIRCULAR_CONV, nn.Flatten(), nn.LazyLinear(5))
    x = torch.randn(3, 2, 6, 6)
    table = [(0, 0), (1, 0), (0, -1)]
    out = predict_over_shifts(model, x, table, chunk_size=4)
    with torch.no_grad():
        for s, d in enumerate(table):
            assert torch.allclose(out[s], model(shift(x, d)), atol=1e-6)


def test_consistency_and_change_rate_on_known_labels():
    same = torch.zeros(5, 10, dtype=torch.long)
    assert consistency(same) == 1.0
    table = [(0, 0), (0, 1), (0, 2)]
    alternating = torch.tensor([[0] * 4, [1] * 4, [0] * 4])
    assert change_rate(alternating, table) == 1.0
    assert consistency(alternating) == pytest.approx(1 / 3)  # of the 6 ordered pairs, 2 agree


def test_consistency_counts_every_pair_of_different_shifts():
    labels = torch.randint(0, 4, (7, 30), generator=torch.Generator().manual_seed(0))
    pairs = [(i, j) for i in range(7) for j in range(7) if i != j]
    by_hand = torch.stack([(labels[i] == labels[j]).float() for i, j in pairs]).mean()
    assert consistency(labels) == pytest.approx(by_hand.item())


@settings(max_examples=30, deadline=None)
@given(counts=st.lists(st.integers(1, 6), min_size=3, max_size=10).filter(lambda c: max(c) <= sum(c) // 2))
def test_other_class_partners_always_pick_another_label(counts):
    labels = torch.cat([torch.full((n,), k) for k, n in enumerate(counts)])[torch.randperm(sum(counts))]
    partners = other_class_partners(labels)
    assert (labels[partners] != labels).all() and torch.equal(partners.sort().values, torch.arange(len(labels)))


def test_between_class_distance_is_the_relative_distance_to_the_partner():
    x, labels = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 1, 0, 1])
    root2 = 2**0.5  # every partner is the other unit vector: ||x - x'|| = sqrt(8), ||x|| = 2
    assert between_class_distance(lambda v: v, x, labels) == pytest.approx(root2)
    assert between_class_distance(lambda v: 3 * v, x, labels) == pytest.approx(root2)  # relative: scale drops out
    same_inputs = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    assert between_class_distance(lambda v: v, same_inputs, torch.tensor([0, 0, 1, 1])) == pytest.approx(root2)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: equivariance_error(ZERO_CONV, torch.zeros(0, 2, 4, 4), [(1, 1)]), "x must not be empty"),
        (lambda: equivariance_error(ZERO_CONV, torch.zeros(1, 2, 4, 4), [(1, 1)], stride=0), "stride"),
        (lambda: consistency(torch.zeros(1, 3)), "at least 2 shifts"),
        (lambda: change_rate(torch.zeros(2, 3), [(0, 0), (5, 5)]), "no pair"),
        (lambda: change_rate(torch.zeros(3, 3), [(0, 0), (0, 1)]), "offsets has 2"),
        (lambda: other_class_partners(torch.tensor([0, 0, 0, 1])), "dominated"),
        (lambda: other_class_partners(torch.tensor([[0, 1]])), "labels"),
        (lambda: between_class_distance(lambda v: v, torch.zeros(3, 2), torch.tensor([0, 1])), "labels"),
    ],
)
def test_bad_input_raises_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
