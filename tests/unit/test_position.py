"""helpers.position (chapter 5): padding-variant networks, the position read-out, the patch frames."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402

from helpers.models import PaddedCNN, single_filter_net  # noqa: E402
from helpers.models.parts import AddCoordinates  # noqa: E402
from helpers.plotting import plot_patch_frame, plot_seed_bars  # noqa: E402
from helpers.probes import (  # noqa: E402
    aligned_maps,
    apply_linear_readout,
    blind_rows,
    coordinate_grid,
    coverage,
    feature_maps,
    fit_linear_readout,
    hypercolumns,
    r_squared,
    readout_r2_by_layer,
    twin_gap,
    unit_centres,
)
from helpers.shifts import shift  # noqa: E402
from helpers.sweeps import evidence_map, patch_frames  # noqa: E402


def _net(padding: str, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return single_filter_net(padding).eval()


def test_single_filter_net_is_one_bias_free_zero_mean_filter():
    net = _net("zeros")
    conv = net.features[0]
    assert conv.weight.shape == (1, 1, 5, 5) and conv.bias is None
    assert abs(conv.weight.mean().item()) < 1e-6
    assert net.head[-1].bias.abs().sum() == 0
    assert net(torch.rand(3, 1, 32, 32)).shape == (3, 2)


def test_single_filter_net_rejects_bad_padding():
    with pytest.raises(ValueError, match="padding"):
        single_filter_net("mirror")
    with pytest.raises(ValueError, match="kernel_size"):
        single_filter_net(kernel_size=0)


@settings(max_examples=20, deadline=None)
@given(dy=st.integers(-31, 31), dx=st.integers(-31, 31), seed=st.integers(0, 50))
def test_circular_single_filter_is_invariant_to_circular_shifts(dy, dx, seed):
    x = torch.rand(2, 1, 32, 32, generator=torch.Generator().manual_seed(seed))
    net = _net("circular", seed)
    with torch.no_grad():
        assert torch.allclose(net(shift(x, (dy, dx))), net(x), atol=1e-5)


@settings(max_examples=20, deadline=None)
@given(r=st.integers(2, 22), c=st.integers(2, 22), seed=st.integers(0, 50))
def test_zero_padded_single_filter_is_invariant_away_from_the_border(r, c, seed):
    patch = torch.rand(1, 1, 8, 8, generator=torch.Generator().manual_seed(seed))
    net = _net("zeros", seed)
    a, b = torch.zeros(2, 1, 32, 32), None
    a[0, :, r : r + 8, c : c + 8] = patch[0]
    a[1, :, 12:20, 12:20] = patch[0]
    with torch.no_grad():
        out = net(a)
    b = out[0] - out[1]
    assert b.abs().max() < 1e-5


@pytest.mark.parametrize(
    "padding, size", [("valid", 2), ("same", 4), ("reflect", 4), ("full", 6), ("circular", 4)]
)
def test_padded_cnn_shapes(padding, size):
    net = PaddedCNN(padding)
    x = torch.rand(2, 3, 32, 32)
    maps = feature_maps(net, x)
    assert len(maps) == 4 and maps[-1].shape[-1] == size
    assert all(conv.bias is None for conv in net.features if isinstance(conv, nn.Conv2d))
    assert net(x).shape == (2, 2)


@pytest.mark.parametrize("padding", ["full", "circular"])
def test_full_and_circular_networks_ignore_stride_aligned_moves_on_black(padding):
    torch.manual_seed(1)
    net = PaddedCNN(padding).eval()
    x = torch.zeros(1, 3, 32, 32)
    x[0, 0, 5:9, 3:7] = 1
    x[0, 1, 6:10, 11:15] = 1
    moved = torch.roll(x, shifts=(16, 8), dims=(2, 3))  # multiples of the total stride 8
    with torch.no_grad():
        assert torch.allclose(net(moved), net(x), atol=1e-5)


def test_same_padding_sees_the_border():
    torch.manual_seed(1)
    net = PaddedCNN("same").eval()
    x = torch.zeros(1, 3, 32, 32)
    x[0, 0, 5:9, 3:7] = 1
    moved = torch.roll(x, shifts=(24, 0), dims=(2, 3))  # now touching the bottom border
    with torch.no_grad():
        assert not torch.allclose(net(moved), net(x), atol=1e-4)


def test_padded_cnn_rejects_bad_input():
    with pytest.raises(ValueError, match="padding"):
        PaddedCNN("mirror")
    with pytest.raises(ValueError, match="coordinates"):
        PaddedCNN(coordinates=1)
    with pytest.raises(ValueError, match="widths"):
        PaddedCNN(widths=())
    with pytest.raises(ValueError, match="widths"):
        PaddedCNN(widths=(8, 0))
    with pytest.raises(ValueError, match="model"):
        feature_maps(nn.Linear(3, 2), torch.rand(1, 3, 8, 8))
    with pytest.raises(ValueError, match="x"):
        feature_maps(PaddedCNN(), torch.rand(3, 8, 8))


def test_hypercolumns_stack_every_layer_at_full_size():
    net = PaddedCNN("valid", widths=(2, 3, 4, 5))
    cols = hypercolumns(net, torch.rand(2, 3, 32, 32))
    assert cols.shape == (2, 14, 32, 32)
    assert hypercolumns(net, torch.rand(1, 3, 33, 33)).shape == (1, 14, 33, 33)


def test_unit_centres_follow_padding_and_stride():
    same, full, valid = (unit_centres(PaddedCNN(p), 32) for p in ("same", "full", "valid"))
    assert [len(c) for c in full] == [34, 18, 10, 6] and [len(c) for c in valid] == [30, 14, 6, 2]
    assert same[0].tolist() == list(range(32)) and same[3].tolist() == [0, 8, 16, 24]
    assert full[0][0] == -1 and full[1][:2].tolist() == [-2, 0] and full[3][:2].tolist() == [-8, 0]
    assert valid[0][0] == 1 and valid[3].tolist() == [8, 16]  # a valid window starts inside the frame
    pooled = nn.Module()
    pooled.features = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.ReLU())
    assert unit_centres(pooled, 8)[1].tolist() == [0.5, 2.5, 4.5, 6.5]  # a 2x2 pool sits between its pixels
    with pytest.raises(ValueError, match="model"):
        unit_centres(nn.Linear(2, 2), 8)


def test_aligned_maps_put_each_unit_on_its_own_pixels():
    # A first-layer unit of a full-padded net is centred one pixel before its index: the aligned
    # map must read the unit whose window is centred on the pixel, not a resized neighbour.
    net = PaddedCNN("full", widths=(1, 1, 1, 1), in_channels=1)
    with torch.no_grad():
        for conv in net.features[::2]:
            conv.weight.zero_()
            conv.weight[..., 1, 1] = 1.0  # identity on the centre tap
    x = torch.rand(1, 1, 32, 32)
    maps = aligned_maps(net, x)
    assert all(m.shape == (1, 1, 32, 32) for m in maps)
    assert torch.equal(maps[0], x)  # layer 1 is the identity, placed back on the input's pixels
    assert torch.equal(maps[1][0, 0, ::2, ::2], x[0, 0, ::2, ::2])  # layer 2 keeps the even pixels


def test_coordinate_grid():
    g = coordinate_grid(5, 2)
    assert g.shape == (2, 2, 5, 5) and g.min() == 0 and g.max() == 1
    assert torch.equal(g[0, 0, :, 0], torch.linspace(0, 1, 5)) and (g[0, 0] == g[0, 0, :, :1]).all()
    assert (g[0, 1] == g[0, 1, :1, :]).all()
    with pytest.raises(ValueError, match="size"):
        coordinate_grid(1)


def test_linear_readout_recovers_a_linear_code_and_ignores_noise():
    gen = torch.Generator().manual_seed(0)
    targets = coordinate_grid(8, 6)
    noise = torch.rand(6, 3, 8, 8, generator=gen)
    informative = torch.cat([2 * targets + 1, noise], dim=1)
    readout = fit_linear_readout(informative[:4], targets[:4], ridge=1e-6)
    assert r_squared(apply_linear_readout(informative[4:], readout), targets[4:]) > 0.999
    readout = fit_linear_readout(noise[:4], targets[:4])
    assert r_squared(apply_linear_readout(noise[4:], readout), targets[4:]) < 0.1


def test_r_squared_reference_points():
    t = torch.rand(3, 2, 4, 4)
    assert r_squared(t, t) == pytest.approx(1.0)
    mean = t.transpose(0, 1).reshape(2, -1).mean(1).view(1, 2, 1, 1).expand_as(t)
    assert r_squared(mean, t) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="shape"):
        r_squared(t, t[:2])


def test_readout_rejects_mismatched_input():
    with pytest.raises(ValueError, match="agree"):
        fit_linear_readout(torch.rand(2, 3, 4, 4), torch.rand(3, 2, 4, 4))
    with pytest.raises(ValueError, match="ridge"):
        fit_linear_readout(torch.rand(2, 3, 4, 4), torch.rand(2, 2, 4, 4), ridge=-1)
    readout = fit_linear_readout(torch.rand(2, 3, 4, 4), torch.rand(2, 2, 4, 4))
    with pytest.raises(ValueError, match="channels"):
        apply_linear_readout(torch.rand(1, 4, 4, 4), readout)


def test_patch_frames_match_a_direct_forward_pass():
    net = _net("zeros", 3)
    patch = torch.rand(6, 6, generator=torch.Generator().manual_seed(1))
    frames = patch_frames(net, patch, image_size=16, step=5)
    n = len(frames["evidence"])
    assert n == 9 and frames["images"].shape == (n, 16, 16) and frames["responses"].shape == (n, 16, 16)
    x = torch.from_numpy(frames["images"])[:, None]
    with torch.no_grad():
        logits = net(x)
        response = net.features(x)[:, 0]
    np.testing.assert_allclose(frames["evidence"], (logits[:, 1] - logits[:, 0]).numpy(), atol=1e-5)
    np.testing.assert_allclose(frames["pooled"], response.flatten(1).max(1).values.numpy(), atol=1e-6)
    for i in range(n):
        r, c = frames["positions"][i]
        assert np.allclose(frames["images"][i, r : r + 6, c : c + 6], patch.numpy())
        if frames["pooled"][i] > 0:
            pr, pc = frames["peak"][i]
            assert frames["responses"][i, pr, pc] == frames["pooled"][i]
    assert evidence_map(frames).shape == (3, 3)


def test_patch_frames_reject_bad_input():
    net = _net("zeros")
    with pytest.raises(ValueError, match="patch"):
        patch_frames(net, torch.rand(2, 3, 3))
    with pytest.raises(ValueError, match="square"):
        patch_frames(net, torch.rand(3, 4))
    with pytest.raises(ValueError, match="positions"):
        patch_frames(net, torch.rand(3, 3), positions=torch.zeros(4, 3, dtype=torch.long))
    frames = patch_frames(net, torch.rand(3, 3), image_size=8, positions=torch.tensor([[0, 0], [1, 1]]))
    with pytest.raises(ValueError, match="grid"):
        evidence_map(frames)


def test_plot_patch_frame():
    frames = patch_frames(_net("zeros"), torch.rand(4, 4), image_size=10, step=3)
    fig = plot_patch_frame(frames, 2, title="t")
    assert isinstance(fig, plt.Figure) and len(fig.axes) == 3
    plt.close(fig)
    with pytest.raises(ValueError, match="index"):
        plot_patch_frame(frames, len(frames["evidence"]))


def test_linear_readout_is_not_thrown_by_a_channel_that_was_almost_dead_while_fitting():
    targets = coordinate_grid(8, 4)
    dead = torch.zeros(4, 1, 8, 8)
    dead[0, 0, 0, 0] = 1e-3  # nearly constant in the fitting images
    readout = fit_linear_readout(torch.cat([targets, dead], 1)[:2], targets[:2], ridge=1e-4)
    awake = torch.full((2, 1, 8, 8), 10.0)  # ... and large in the others
    predicted = apply_linear_readout(torch.cat([targets[2:], awake], 1), readout)
    assert r_squared(predicted, targets[2:]) > 0.9


def test_add_coordinates_appends_row_and_column_channels():
    x = torch.rand(2, 3, 4, 5)
    out = AddCoordinates()(x)
    assert out.shape == (2, 5, 4, 5) and torch.equal(out[:, :3], x)
    assert torch.equal(out[0, 3, :, 0], torch.linspace(-1, 1, 4)) and (out[:, 3] == out[:, 3, :, :1]).all()
    assert torch.equal(out[1, 4, 0], torch.linspace(-1, 1, 5)) and (out[:, 4] == out[:, 4, :1, :]).all()


def test_coordconv_network_reads_its_own_coordinates():
    torch.manual_seed(0)
    net = PaddedCNN("same", coordinates=True).eval()
    assert isinstance(net.features[0], AddCoordinates) and net.features[1].in_channels == 5
    assert net(torch.rand(2, 3, 32, 32)).shape == (2, 2)
    x = torch.zeros(1, 3, 32, 32)  # black image: only the coordinate channels can carry position
    scores = readout_r2_by_layer(net, x.expand(3, 3, 32, 32), n_fit=2)
    assert scores[0] > 0.5


def test_readout_by_layer_finds_position_only_where_the_border_is_seen():
    torch.manual_seed(0)
    x = torch.rand(12, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    same = readout_r2_by_layer(PaddedCNN("same"), x, n_fit=8)
    circular = readout_r2_by_layer(PaddedCNN("circular"), x, n_fit=8)
    assert len(same) == 5 and len(circular) == 5
    assert same[-1] > 0.1 and max(circular) < 0.05


def test_readout_by_layer_rejects_bad_input():
    net = PaddedCNN("same")
    with pytest.raises(ValueError, match="n_fit"):
        readout_r2_by_layer(net, torch.rand(4, 3, 16, 16), n_fit=4)
    with pytest.raises(ValueError, match="square"):
        readout_r2_by_layer(net, torch.rand(4, 3, 16, 12), n_fit=2)
    with pytest.raises(ValueError, match="x"):
        readout_r2_by_layer(net, torch.rand(3, 16, 16), n_fit=2)


def test_coverage_counts_the_filter_positions_that_read_each_pixel():
    net = PaddedCNN("valid", widths=(1,), kernel_size=3)
    paths = coverage(net, 5)
    assert paths.shape == (5, 5) and paths.max() == 1
    assert paths[0, 0].item() == pytest.approx(1 / 9) and paths[0, 2].item() == pytest.approx(3 / 9)
    assert paths[2, 2] == 1
    assert torch.allclose(coverage(PaddedCNN("circular", widths=(1,), kernel_size=3), 5), torch.ones(5, 5))


def test_coverage_rejects_bad_input():
    with pytest.raises(ValueError, match="size"):
        coverage(PaddedCNN("same"), 1)
    with pytest.raises(ValueError, match="features"):
        coverage(nn.Linear(2, 2), 8)


def test_twin_gap_is_zero_only_when_the_network_cannot_tell_the_twins_apart():
    torch.manual_seed(0)
    x = torch.zeros(3, 3, 32, 32)
    x[:, 0, 4:8, 4:8] = 1
    moved = torch.roll(x, shifts=(16, 0), dims=(2, 3))  # a multiple of the total stride 8
    assert twin_gap(PaddedCNN("circular"), x, moved) < 1e-5
    assert twin_gap(PaddedCNN("same"), x, torch.roll(x, shifts=(23, 0), dims=(2, 3))) > 1e-3
    with pytest.raises(ValueError, match="same shape"):
        twin_gap(PaddedCNN("same"), x, x[:2])


def test_blind_rows_counts_the_rows_strided_valid_convolutions_skip():
    torch.manual_seed(0)
    assert blind_rows(PaddedCNN("valid"), 32) == 7 and blind_rows(PaddedCNN("valid"), 33) == 0
    assert blind_rows(PaddedCNN("same"), 32) == 0
    with pytest.raises(ValueError, match="size"):
        blind_rows(PaddedCNN("same"), 1)
    with pytest.raises(ValueError, match="features"):
        blind_rows(nn.Linear(2, 2), 8)


def test_plot_seed_bars():
    scores = {"a": {"x": torch.tensor([0.9, 1.0]), "y": torch.tensor([0.1, 0.2])}, "b": {"x": [0.5, 0.6], "y": [0.5, 0.4]}}
    fig = plot_seed_bars(scores, {"x": "first", "y": "second"}, title="t")
    ax = fig.axes[0]
    assert len(ax.patches) == 4 and [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    assert ax.patches[0].get_height() == pytest.approx(0.95)
    plt.close(fig)
    with pytest.raises(ValueError, match="lacks"):
        plot_seed_bars(scores, {"z": "missing"})
    with pytest.raises(ValueError, match="at least one"):
        plot_seed_bars({}, {"x": "first"})
