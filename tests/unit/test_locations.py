"""helpers.locations (chapter 6): networks, new classifiers, every placement, random placement."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from helpers.antialias import BlurPool
from helpers.augment import RandomPlacement
from helpers.data import balanced_subset, placements, relabel
from helpers.models import classifier, location_net, penultimate, replace_classifier
from helpers.sweeps import (
    every_location,
    location_accuracy,
    phase_matched_deficit,
    placement_map,
    ring_profile,
)


@pytest.mark.parametrize("head", ["flatten", "gap"])
@pytest.mark.parametrize("antialias", [False, True])
def test_location_net_heads(head, antialias):
    torch.manual_seed(0)
    net = location_net(head, n_classes=4, canvas_size=24, hidden=16, antialias=antialias)
    assert net(torch.rand(3, 1, 24, 24)).shape == (3, 4)
    assert classifier(net).out_features == 4 and classifier(net).in_features == 16
    assert any(isinstance(m, BlurPool) for m in net.modules()) == antialias
    assert isinstance(net.head[0], nn.Flatten if head == "flatten" else nn.AdaptiveAvgPool2d)


@pytest.mark.parametrize("antialias", [False, True])
def test_circular_location_net_has_no_border(antialias):
    # on a torus, a circular shift by whole strides (4 = two 2x pools) leaves the GAP network's answer unchanged
    torch.manual_seed(0)
    net = location_net("gap", canvas_size=20, antialias=antialias, padding="circular").eval()
    x = torch.rand(2, 1, 20, 20)
    with torch.no_grad():
        assert torch.allclose(net(torch.roll(x, (8, -4), dims=(-2, -1))), net(x), atol=1e-5)
        zero = location_net("gap", canvas_size=20, antialias=antialias).eval()
        assert not torch.allclose(zero(torch.roll(x, (8, -4), dims=(-2, -1))), zero(x), atol=1e-5)


def test_location_net_rejects_bad_input():
    with pytest.raises(ValueError, match="padding"):
        location_net(padding="reflect")
    with pytest.raises(ValueError, match="head"):
        location_net("gmp")
    with pytest.raises(ValueError, match="hidden"):
        location_net(hidden=0)


def test_replace_classifier_keeps_every_other_layer():
    torch.manual_seed(0)
    net = location_net("flatten", n_classes=5)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    old = classifier(net)
    replace_classifier(net, 3)
    assert classifier(net) is not old and classifier(net).out_features == 3
    after = net.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k]) or before[k].shape != after[k].shape}
    name = next(n for n, m in net.named_modules() if m is classifier(net))
    assert changed == {f"{name}.weight", f"{name}.bias"}
    with pytest.raises(ValueError, match="n_classes"):
        replace_classifier(net, 1)
    with pytest.raises(ValueError, match="nn.Linear"):
        classifier(nn.ReLU())


def test_penultimate_feeds_the_classifier():
    torch.manual_seed(0)
    net = location_net("gap", hidden=12).eval()
    x = torch.rand(5, 1, 24, 24)
    hidden = penultimate(net, x, batch_size=2)
    assert hidden.shape == (5, 12)
    with torch.no_grad():
        assert torch.allclose(classifier(net)(hidden), net(x), atol=1e-6)


def test_relabel():
    assert relabel(torch.tensor([7, 5, 9, 5]), [5, 7, 9]).tolist() == [1, 0, 2, 0]
    with pytest.raises(ValueError, match="outside"):
        relabel(torch.tensor([1, 2]), [1])
    with pytest.raises(ValueError, match="distinct"):
        relabel(torch.tensor([1]), [1, 1])


def test_placements_cover_the_canvas_row_major():
    grid = placements(24, 8, step=2)
    assert grid.shape == (81, 2) and grid[0].tolist() == [0, 0] and grid[1].tolist() == [0, 2]
    assert grid[-1].tolist() == [16, 16]
    assert placements(10, 4, step=2).max() == 6
    with pytest.raises(ValueError, match="object_size"):
        placements(8, 9)
    with pytest.raises(ValueError, match="step"):
        placements(8, 4, step=0)


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 4), step=st.integers(1, 5), seed=st.integers(0, 100))
def test_every_location_places_every_digit_at_every_placement(n, step, seed):
    digits = torch.rand(n, 1, 4, 4, generator=torch.Generator().manual_seed(seed))
    labels = torch.arange(n)
    x, y, grid = every_location(digits, labels, 10, step)
    assert x.shape == (len(grid) * n, 1, 10, 10) and torch.equal(y, labels.repeat(len(grid)))
    for k, (r, c) in enumerate(grid.tolist()):
        for i in range(n):
            assert torch.equal(x[k * n + i, :, r : r + 4, c : c + 4], digits[i])
            assert x[k * n + i].sum() == pytest.approx(digits[i].sum().item(), rel=1e-5)


def test_every_location_rejects_bad_input():
    with pytest.raises(ValueError, match="labels"):
        every_location(torch.rand(2, 1, 4, 4), torch.arange(3), 8)
    with pytest.raises(ValueError, match="square"):
        every_location(torch.rand(2, 1, 4, 3), torch.arange(2), 8)


class _Oracle(nn.Module):
    """Says class 1 when the digit's top-left pixel is in the top half of the canvas, else class 0."""

    def __init__(self) -> None:
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top = x[:, 0, : x.shape[-2] // 2].flatten(1).sum(1) > 0
        return torch.stack([(~top).float(), top.float()], dim=1) + 0 * self.dummy


def test_location_accuracy_maps_placements_to_accuracy():
    digits = torch.ones(3, 1, 2, 2)
    acc = location_accuracy(_Oracle(), digits, torch.ones(3, dtype=torch.long), canvas_size=8, step=2)
    assert acc.shape == (4, 4)
    assert (acc[:2] == 1).all() and (acc[2:] == 0).all()  # right in the top half only


def test_location_accuracy_per_image_keeps_every_digit():
    torch.manual_seed(0)
    net = location_net("gap", n_classes=3, canvas_size=12, hidden=8)
    digits, labels = torch.rand(5, 1, 4, 4), torch.tensor([0, 1, 2, 0, 1])
    per_image = location_accuracy(net, digits, labels, 12, step=2, per_image=True)
    assert per_image.shape == (5, 5, 5)
    assert set(per_image.unique().tolist()) <= {0.0, 1.0}
    assert torch.allclose(per_image.mean(-1), location_accuracy(net, digits, labels, 12, step=2))
    x, y, _ = every_location(digits[3:4], labels[3:4], 12, step=2)  # digit 3 alone, at every placement
    alone = (net(x).argmax(1) == y).float().view(5, 5)
    assert torch.equal(per_image[..., 3], alone)
    with pytest.raises(ValueError, match="per_image"):
        location_accuracy(net, digits, labels, 12, step=2, per_image=1)


def test_random_placement_moves_each_digit_and_keeps_it_whole():
    digits = torch.rand(16, 1, 4, 4, generator=torch.Generator().manual_seed(0)) + 0.1
    x = torch.zeros(16, 1, 12, 12)
    x[:, :, 3:7, 5:9] = digits
    move = RandomPlacement(4, 12, source=(3, 5), seed=1)
    y = move(x)
    assert y.shape == x.shape
    assert torch.allclose(y.flatten(1).sum(1), x.flatten(1).sum(1))
    positions = {tuple(torch.nonzero(img[0])[0].tolist()) for img in y}
    assert len(positions) > 8  # fresh places, not the source
    again = RandomPlacement(4, 12, source=(3, 5), seed=1)(x)
    assert torch.equal(y, again)  # seeded
    assert not torch.equal(move(x), y)  # a new draw on every call


def test_random_placement_rejects_bad_input():
    with pytest.raises(ValueError, match="source"):
        RandomPlacement(4, 12, source=(9, 0))
    with pytest.raises(ValueError, match="source"):
        RandomPlacement(4, 12, source=(1,))
    with pytest.raises(ValueError, match="canvas_size"):
        RandomPlacement(8, 4, source=(0, 0))
    with pytest.raises(ValueError, match="x"):
        RandomPlacement(4, 12, source=(0, 0))(torch.rand(2, 1, 10, 10))


def test_balanced_subset():
    labels = torch.tensor([1, 0, 1, 2, 0, 2, 1])
    idx = balanced_subset(labels, 2)
    assert idx.tolist() == [1, 4, 0, 2, 3, 5]
    with pytest.raises(ValueError, match="per_class"):
        balanced_subset(labels, 3)


def test_ring_profile():
    acc = torch.zeros(5, 5)
    acc[2, 2] = 1.0
    acc[1:4, 1:4] += 0.5
    d, m = ring_profile(acc, (2, 2))
    assert d.tolist() == [0, 1, 2]
    assert m.tolist() == pytest.approx([1.5, 0.5, 0.0])
    with pytest.raises(ValueError, match="centre"):
        ring_profile(acc, (5, 0))
    with pytest.raises(ValueError, match="acc_map"):
        ring_profile(torch.zeros(2, 2, 2), (0, 0))


def test_placement_map_matches_location_accuracy():
    torch.manual_seed(0)
    net = location_net("gap", n_classes=3, canvas_size=12, hidden=8)
    digits, labels = torch.rand(4, 1, 4, 4), torch.tensor([0, 1, 2, 0])
    x, y, grid = every_location(digits, labels, 12, step=2)
    correct = net(x).argmax(1) == y
    expected = location_accuracy(net, digits, labels, 12, step=2)
    assert torch.equal(placement_map(correct, 4), expected)
    assert placement_map(torch.arange(8.0), 2).tolist() == [[0.5, 2.5], [4.5, 6.5]]  # 4 placements of 2 images
    assert placement_map(torch.arange(8.0), 2, per_image=True).tolist() == [[[0, 1], [2, 3]], [[4, 5], [6, 7]]]
    with pytest.raises(ValueError, match="per_image"):
        placement_map(torch.arange(8.0), 2, per_image="yes")


@pytest.mark.parametrize(
    ("values", "n_images", "message"),
    [(torch.ones(6), 4, "multiple of n_images"), (torch.ones(2, 4), 2, "1-D"), (torch.ones(6), 2, "square grid"),
     (torch.ones(4), 0, "n_images")],
)
def test_placement_map_rejects_bad_input(values, n_images, message):
    with pytest.raises(ValueError, match=message):
        placement_map(values, n_images)


def test_plot_accuracy_maps():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.plotting import plot_accuracy_maps

    maps = {"a": torch.rand(7, 7), "b": torch.rand(7, 7)}
    fig = plot_accuracy_maps(maps, step=2, marker=(6, 4), title="t")
    panels = [ax for ax in fig.axes if ax.get_title() in maps]
    assert len(panels) == 2
    image = panels[0].images[0]
    assert image.get_extent() == [-1.0, 13.0, 13.0, -1.0]  # pixels of the top-left corner, rows downwards
    assert image.get_clim() == (0, 1)
    assert panels[0].lines[0].get_xydata().tolist() == [[4.0, 6.0]]  # (column, row) of the marker
    plt.close(fig)
    with pytest.raises(ValueError, match="maps"):
        plot_accuracy_maps({}, step=1, marker=(0, 0))
    with pytest.raises(ValueError, match="one shape"):
        plot_accuracy_maps({"a": torch.rand(3, 3), "b": torch.rand(4, 4)}, step=1, marker=(0, 0))
    with pytest.raises(ValueError, match="step"):
        plot_accuracy_maps(maps, step=0, marker=(0, 0))


def test_phase_matched_deficit_ignores_the_lattice_and_finds_the_edge():
    offsets = torch.arange(-3, 4) * 2  # a 7x7 map of placements every 2 pixels, stride 4
    phase = (offsets % 4 == 0).float()
    lattice = 0.5 + 0.4 * phase[:, None] * phase[None, :]  # aligned placements more accurate
    edge = torch.zeros(7, 7, dtype=torch.bool)
    edge[[0, -1], :] = True
    edge[:, [0, -1]] = True
    inner = ~edge
    assert phase_matched_deficit(lattice, offsets, 4, edge, inner) == pytest.approx(0.0, abs=1e-6)
    assert lattice[inner].mean() - lattice[edge].mean() > 0.05  # a plain comparison would see a "drop"
    lowered = lattice.clone()
    lowered[edge] -= 0.1
    assert phase_matched_deficit(lowered, offsets, 4, edge, inner) == pytest.approx(0.1, abs=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"acc_map": torch.zeros(3, 4)}, "acc_map"),
        ({"offsets": torch.arange(4)}, "offsets"),
        ({"target": torch.zeros(3, 3)}, "target"),
        ({"target": torch.zeros(3, 3, dtype=torch.bool)}, "target"),
        ({"reference": torch.zeros(3, 3, dtype=torch.bool)}, "reference placement"),
        ({"stride": 0}, "stride"),
    ],
)
def test_phase_matched_deficit_rejects_bad_input(kwargs, name):
    args = {"acc_map": torch.rand(3, 3), "offsets": torch.tensor([-2, 0, 2]), "stride": 4,
            "target": torch.eye(3, dtype=torch.bool), "reference": ~torch.eye(3, dtype=torch.bool)}
    with pytest.raises(ValueError, match=name):
        phase_matched_deficit(**{**args, **kwargs})
