"""C4 lifting / group convolutions, pooling and the C4 network (helpers.groups, chapter 8)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from helpers.groups import (
    C4BatchNorm,
    GroupConvC4,
    LiftingConvC4,
    group_pool,
    rot90,
    rotate_c4_maps,
    rotation_safe_maxpool,
)
from helpers.models import C4CNN, SmallCNN, count_flops, count_parameters

SIZES = st.integers(5, 14)  # odd and even
KS = st.sampled_from([0, 1, 2, 3, -1, 5])


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@settings(max_examples=20, deadline=None)
@given(size=SIZES, k=KS, kernel=st.sampled_from([1, 3, 5]), seed=st.integers(0, 99))
def test_lifting_conv_is_c4_equivariant(size, k, kernel, seed):
    torch.manual_seed(seed)
    layer = LiftingConvC4(2, 3, kernel_size=kernel)
    x = torch.randn(2, 2, size, size, generator=_gen(seed))
    with torch.no_grad():
        assert torch.allclose(layer(rot90(x, k)), rotate_c4_maps(layer(x), k), atol=1e-5)


@settings(max_examples=20, deadline=None)
@given(size=SIZES, k=KS, seed=st.integers(0, 99))
def test_group_conv_is_c4_equivariant(size, k, seed):
    torch.manual_seed(seed)
    layer = GroupConvC4(3, 2, kernel_size=3)
    y = torch.randn(2, 3, 4, size, size, generator=_gen(seed))
    with torch.no_grad():
        assert torch.allclose(layer(rotate_c4_maps(y, k)), rotate_c4_maps(layer(y), k), atol=1e-5)


def test_lifting_conv_equals_four_rotated_convolutions():
    torch.manual_seed(0)
    layer = LiftingConvC4(2, 3, kernel_size=3)
    x = torch.randn(2, 2, 9, 9)
    with torch.no_grad():
        out = layer(x)
        for r in range(4):
            w = torch.rot90(layer.weight, r, dims=(-2, -1))
            assert torch.allclose(out[:, :, r], F.conv2d(x, w, layer.bias, padding=1), atol=1e-6)


def test_group_conv_matches_the_formula():
    # out[:, o, r] = sum_{i, s} in[:, i, s] * rot90(w[o, i, s - r], r)
    torch.manual_seed(0)
    layer = GroupConvC4(2, 2, kernel_size=3, bias=False)
    y = torch.randn(1, 2, 4, 6, 6)
    with torch.no_grad():
        out = layer(y)
        for o in range(2):
            for r in range(4):
                total = torch.zeros(1, 1, 6, 6)
                for i in range(2):
                    for s in range(4):
                        w = torch.rot90(layer.weight[o, i, (s - r) % 4], r, dims=(-2, -1))
                        total += F.conv2d(y[:, i : i + 1, s], w[None, None], padding=1)
                assert torch.allclose(out[:, o, r], total[:, 0], atol=1e-5)


def test_group_conv_without_the_roll_would_not_be_equivariant():
    torch.manual_seed(0)
    layer = GroupConvC4(2, 2)
    y = torch.randn(1, 2, 4, 8, 8)
    with torch.no_grad():
        # rotating space only (no roll of the rotation axis) is not the right action
        assert (layer(rot90(y, 1)) - rotate_c4_maps(layer(y), 1)).abs().max() > 1e-2


@settings(max_examples=20, deadline=None)
@given(k1=KS, k2=KS, size=SIZES, seed=st.integers(0, 99))
def test_rotate_c4_maps_is_a_group_action(k1, k2, size, seed):
    y = torch.randn(1, 2, 4, size, size, generator=_gen(seed))
    assert torch.equal(rotate_c4_maps(rotate_c4_maps(y, k1), k2), rotate_c4_maps(y, k1 + k2))
    assert torch.equal(rotate_c4_maps(y, 4), y)


@pytest.mark.parametrize("mode", ["max", "mean"])
def test_group_pool_turns_the_action_into_a_plain_rotation(mode):
    y = torch.randn(2, 3, 4, 7, 7)
    for k in range(4):
        assert torch.allclose(group_pool(rotate_c4_maps(y, k), mode), rot90(group_pool(y, mode), k))


@settings(max_examples=20, deadline=None)
@given(size=st.integers(3, 16), k=KS, seed=st.integers(0, 99))
def test_rotation_safe_maxpool_commutes_with_rot90(size, k, seed):
    x = torch.randn(2, 3, size, size, generator=_gen(seed))
    assert torch.equal(rotation_safe_maxpool(rot90(x, k)), rot90(rotation_safe_maxpool(x), k))
    assert rotation_safe_maxpool(x).shape[-1] == (size + 1) // 2


def test_plain_maxpool_breaks_rotation_symmetry_on_odd_sizes():
    x = torch.randn(1, 1, 9, 9)
    assert not torch.equal(F.max_pool2d(rot90(x), 2), rot90(F.max_pool2d(x, 2)))
    x = torch.randn(1, 1, 10, 10)
    assert torch.equal(F.max_pool2d(rot90(x), 2), rot90(F.max_pool2d(x, 2)))


@pytest.mark.parametrize("size", [15, 16, 19, 20, 21, 28])
@pytest.mark.parametrize("pool", [True, False])
def test_c4cnn_is_exactly_invariant_untrained(size, pool):
    torch.manual_seed(size)
    model = C4CNN(widths=(4, 8, 8), pool=pool)
    x = torch.randn(3, 1, size, size)
    with torch.no_grad():
        out = model(x)
        for k in (1, 2, 3):
            assert (model(rot90(x, k)) - out).abs().max() < 1e-5
        for maps, maps_rot in zip(model.group_features(x), model.group_features(rot90(x)), strict=True):
            assert torch.allclose(maps_rot, rotate_c4_maps(maps, 1), atol=1e-5)


def test_c4cnn_is_invariant_after_training_steps():
    torch.manual_seed(0)
    model = C4CNN(widths=(4, 8))
    x, y = torch.randn(16, 1, 12, 12), torch.randint(0, 10, (16,))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(5):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        out = model(x)
        assert max((model(rot90(x, k)) - out).abs().max().item() for k in (1, 2, 3)) < 1e-5 * max(
            1.0, out.abs().max()
        )


def test_plain_cnn_is_not_rotation_invariant():
    torch.manual_seed(0)
    model = SmallCNN(widths=(4, 8))
    x = torch.randn(3, 1, 16, 16)
    with torch.no_grad():
        assert (model(rot90(x)) - model(x)).abs().max() > 1e-3


def test_c4cnn_parameter_count_matches_a_plain_cnn_of_double_width():
    c4, plain = count_parameters(C4CNN(widths=(8, 16, 16))), count_parameters(SmallCNN(widths=(16, 32, 32)))
    assert abs(c4 - plain) < 0.05 * plain


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: LiftingConvC4(1, 2, kernel_size=4), "kernel_size"),
        (lambda: LiftingConvC4(0, 2), "in_channels"),
        (lambda: GroupConvC4(2, 0), "out_channels"),
        (lambda: GroupConvC4(2, 2, kernel_size=2), "kernel_size"),
        (lambda: C4CNN(widths=()), "widths"),
        (lambda: C4CNN(widths=(4, 0)), "widths"),
        (lambda: C4CNN(n_classes=1), "n_classes"),
        (lambda: LiftingConvC4(1, 2)(torch.rand(1, 2, 8, 8)), "x"),
        (lambda: GroupConvC4(2, 2)(torch.rand(1, 2, 3, 8, 8)), "x"),
        (lambda: rot90(torch.rand(1, 4, 5)), "square"),
        (lambda: rot90(torch.rand(4, 4), 1.5), "k"),
        (lambda: rotate_c4_maps(torch.rand(1, 2, 3, 4, 4)), "rotation axis"),
        (lambda: group_pool(torch.rand(1, 2, 4, 4, 4), "median"), "mode"),
        (lambda: group_pool(torch.rand(2, 4, 4, 4)), "y"),
        (lambda: rotation_safe_maxpool(torch.rand(1, 4, 5)), "square"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_count_flops_counts_a_convolution_and_the_c4_networks_fourfold_cost():
    conv = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    # 2 flops per multiply-add: 4 maps x 36 pixels x 9 taps, then 144 x 2 for the linear layer
    assert count_flops(conv, (1, 6, 6)) == 2 * (4 * 36 * 9) + 2 * 144 * 2
    ratio = count_flops(C4CNN(widths=(6, 12, 12)), (1, 28, 28)) / count_flops(SmallCNN(widths=(12, 24, 24)), (1, 28, 28))
    assert 3.5 < ratio < 4.0  # as many weights, about four times the work (chapter 8)
    model = SmallCNN(widths=(4, 8)).train()
    count_flops(model, (1, 12, 12))
    assert model.training  # left in the mode it was in


@pytest.mark.parametrize("shape", [(28, 28), (1, 0, 28), "1x28x28"])
def test_count_flops_rejects_bad_shapes(shape):
    with pytest.raises(ValueError, match="input_shape"):
        count_flops(SmallCNN(widths=(4,)), shape)


@pytest.mark.parametrize("training", [False, True])
def test_c4cnn_with_batch_norm_stays_exactly_invariant(training):
    torch.manual_seed(0)
    model = C4CNN(widths=(4, 8, 8), batch_norm=True)
    assert all(layer.bias is None for layer in [model.lift, *model.gconvs])
    x = torch.randn(6, 1, 20, 20)
    model.train()
    with torch.no_grad():
        for _ in range(3):  # move the running statistics away from their start
            model(x)
    model.train(training)  # batch statistics (training) or running statistics (eval)
    with torch.no_grad():
        out = model(x)
        for k in (1, 2, 3):
            assert torch.allclose(model(rot90(x, k)), out, atol=1e-5)


def test_c4_batch_norm_shares_statistics_across_orientations():
    norm = C4BatchNorm(3).train()
    y = torch.randn(5, 3, 4, 6, 6) * torch.tensor([1.0, 2.0, 3.0, 4.0]).view(1, 1, 4, 1, 1)
    out = norm(y)
    per_channel = out.transpose(0, 1).reshape(3, -1)
    assert torch.allclose(per_channel.mean(1), torch.zeros(3), atol=1e-5)
    assert torch.allclose(per_channel.var(1, unbiased=False), torch.ones(3), atol=1e-3)
    assert torch.allclose(norm(rotate_c4_maps(y, 1)), rotate_c4_maps(out, 1), atol=1e-5)
    with pytest.raises(ValueError, match="y must have shape"):
        norm(torch.randn(2, 3, 6, 6))


def test_batch_norm_options_reject_non_booleans_and_leave_the_default_networks_alone():
    with pytest.raises(ValueError, match="batch_norm"):
        C4CNN(batch_norm=1)
    with pytest.raises(ValueError, match="batch_norm"):
        SmallCNN(batch_norm="yes")
    torch.manual_seed(0)
    default = C4CNN(widths=(4, 8))
    assert default.norms is None and default.lift.bias is not None
    plain = SmallCNN(widths=(4, 8), batch_norm=True)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in plain.modules()) == 2
    assert all(m.bias is None for m in plain.modules() if isinstance(m, nn.Conv2d))
