"""Receptive fields (chapter 3): the recursion against the closed form and a measured gradient."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from helpers.metrics import invariance_error
from helpers.models import DilatedCNN, SmallCNN, anti_aliased_cnn, kaiming_init_
from helpers.receptive import (
    closed_form_receptive_field,
    gradient_receptive_field,
    receptive_field,
    receptive_field_table,
)
from helpers.shifts import all_offsets_2d

layers = st.lists(
    st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(1, 3)),  # kernel, stride, dilation
    min_size=1,
    max_size=4,
)


def linear_stack(spec: list[tuple[int, int, int]]) -> nn.Sequential:
    """Valid convolutions with all-positive weights and no nonlinearity: nothing can hide the field."""
    convs = []
    for k, s, d in spec:
        conv = nn.Conv2d(1, 1, k, stride=s, dilation=d, bias=False)
        nn.init.constant_(conv.weight, 1.0)
        convs.append(conv)
    return nn.Sequential(*convs)


def by_hand(spec: list[tuple[int, int, int]]) -> int:
    """The closed form written out: r = 1 + sum_l d_l (k_l - 1) prod_{i<l} s_i."""
    total = 1
    for layer, (k, _, d) in enumerate(spec):
        product = 1
        for _, s, _ in spec[:layer]:
            product *= s
        total += d * (k - 1) * product
    return total


@settings(max_examples=40, deadline=None)
@given(spec=layers)
def test_recursion_closed_form_and_measured_gradient_agree(spec):
    kernels, strides, dilations = zip(*spec, strict=True)
    expected = by_hand(spec)
    assert closed_form_receptive_field(kernels, strides, dilations) == expected
    model = linear_stack(spec)
    assert receptive_field(model) == expected
    jump = 1
    for _, s, _ in spec:
        jump *= s
    size = expected + 4 * jump  # room for a 5x5 output, so the centre unit's field is all inside
    assert gradient_receptive_field(model, size) == expected


def test_known_networks():
    assert receptive_field(SmallCNN(widths=(8, 16, 32))) == 22  # 3, 4, 8, 10, 18, 22
    assert receptive_field(SmallCNN(widths=(8, 8, 8), downsample="none")) == 7
    assert receptive_field(DilatedCNN(dilations=(1, 2, 4, 8), widths=(4,) * 4, head="gap")) == 31
    table = receptive_field_table(SmallCNN(widths=(8, 16)))
    assert [(r.kind, r.receptive_field, r.jump) for r in table] == [
        ("Conv2d", 3, 1),
        ("MaxPool2d", 4, 2),
        ("Conv2d", 8, 2),
        ("MaxPool2d", 10, 4),
    ]
    # anti-aliased layers report their own geometry: MaxPool(2, stride 1) then a 4-tap blur, stride 2
    assert receptive_field(anti_aliased_cnn("blurpool", filt_size=4, widths=(4,))) == 7
    assert receptive_field(anti_aliased_cnn("aps", widths=(4,))) == 4


def test_gradient_field_of_an_avgpool_network_equals_the_formula():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, bias=False), nn.AvgPool2d(2), nn.Conv2d(2, 1, 3, bias=False))
    for conv in (model[0], model[2]):
        nn.init.constant_(conv.weight, 0.1)
    assert gradient_receptive_field(model, 24) == receptive_field(model) == 8


@pytest.mark.parametrize("size", [15, 16])
def test_dilated_gap_network_with_circular_padding_is_invariant_but_flatten_is_not(size):
    torch.manual_seed(0)
    gap = DilatedCNN(widths=(4, 4, 4), dilations=(1, 2, 4), head="gap", padding="circular").eval()
    flat = DilatedCNN(
        widths=(4, 4, 4), dilations=(1, 2, 4), head="flatten", input_size=size, padding="circular"
    )
    flat.features = gap.features  # same features, two heads
    x = torch.rand(2, 1, size, size)
    with torch.no_grad():
        assert invariance_error(gap, x, all_offsets_2d(3)).max() < 1e-5
        assert invariance_error(flat.eval(), x, [(0, 1), (1, 0)]).min() > 1e-2


def test_dilated_cnn_keeps_the_input_size():
    model = DilatedCNN(widths=(3, 5), dilations=(1, 3), head="flatten", input_size=11)
    assert model.features(torch.zeros(2, 1, 11, 11)).shape == (2, 5, 11, 11)
    assert model(torch.zeros(2, 1, 11, 11)).shape == (2, 10)


def test_kaiming_init_gives_relu_scaled_weights_and_zero_bias():
    torch.manual_seed(0)
    model = kaiming_init_(SmallCNN(widths=(64, 64)))
    conv = model.features[3]
    fan_in = conv.in_channels * 9
    assert conv.weight.std().item() == pytest.approx((2 / fan_in) ** 0.5, rel=0.1)
    assert conv.bias.abs().sum() == 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Upsample(scale_factor=2))), "Upsample"),
        (lambda: receptive_field(nn.Sequential(nn.ReLU(), nn.Flatten())), "no spatial layer"),
        (lambda: receptive_field("SmallCNN"), "model must be a torch.nn.Module"),
        (lambda: receptive_field(nn.Conv2d(1, 1, (3, 5))), "kernel_size must be the same"),
        (lambda: closed_form_receptive_field([]), "at least one layer"),
        (lambda: closed_form_receptive_field([3, 3], [2]), "same length"),
        (lambda: closed_form_receptive_field([3], [0]), r"strides\[0\] must be >= 1"),
        (lambda: gradient_receptive_field(nn.Flatten(), 8), r"f must return \(1, K, h, w\)"),
        (lambda: DilatedCNN(head="flatten"), "input_size must be given"),
        (lambda: DilatedCNN(kernel_size=4, head="gap"), "kernel_size must be odd"),
        (lambda: DilatedCNN(widths=(4, 4), dilations=(1,), head="gap"), "same length"),
        (lambda: DilatedCNN(head="gap", padding="valid"), "padding"),
        (lambda: kaiming_init_(None), "model must be a torch.nn.Module"),
    ],
)
def test_bad_input_raises_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
