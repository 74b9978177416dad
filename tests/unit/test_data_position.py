"""The chapter 5 data generators in helpers.data: corner patches and Kayhan & van Gemert's Red-Green boxes."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.data import corner_patches, red_green


def test_corner_patches_shapes_labels_and_positions():
    d = corner_patches(5, image_size=20, patch_size=6, seed=3)
    assert d.images.shape == (10, 1, 20, 20)
    assert d.labels.tolist() == [0] * 5 + [1] * 5
    assert d.positions[:5].tolist() == [[0, 0]] * 5
    assert d.positions[5:].tolist() == [[14, 14]] * 5


def test_corner_patch_twins_share_their_patch_and_nothing_else_is_drawn():
    d = corner_patches(4, image_size=16, patch_size=5, margin=1, seed=0)
    top_left = d.images[:4, :, 1:6, 1:6]
    bottom_right = d.images[4:, :, 10:15, 10:15]
    assert torch.equal(top_left, bottom_right)
    assert not torch.equal(top_left[0], top_left[1])  # every pair has its own patch
    background = d.images.clone()
    background[:4, :, 1:6, 1:6] = 0
    background[4:, :, 10:15, 10:15] = 0
    assert background.abs().sum() == 0
    assert d.images.min() >= 0 and d.images.max() <= 1


def test_corner_patches_are_seeded():
    assert torch.equal(corner_patches(3, seed=7).images, corner_patches(3, seed=7).images)
    assert not torch.equal(corner_patches(3, seed=7).images, corner_patches(3, seed=8).images)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"n_pairs": 0}, "n_pairs"),
        ({"n_pairs": 2, "patch_size": 32}, "patch_size"),
        ({"n_pairs": 2, "margin": 12}, "margin"),
        ({"n_pairs": 2, "margin": -1}, "margin"),
        ({"n_pairs": 2.5}, "n_pairs"),
        ({"n_pairs": 2, "seed": -1}, "seed"),
    ],
)
def test_corner_patches_reject_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        corner_patches(**kwargs)


def _box_at(images: torch.Tensor, channel: int, pos: torch.Tensor, size: int) -> torch.Tensor:
    r, c = pos.tolist()
    return images[channel, r : r + size, c : c + size]


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 12), seed=st.integers(0, 500), jitter=st.integers(0, 4), max_gap=st.integers(0, 6))
def test_red_green_layout(n, seed, jitter, max_gap):
    d = red_green(n, jitter=jitter, max_gap=max_gap, seed=seed)
    assert d.images.shape == (n, 3, 32, 32) and len(d) == n
    assert d.labels.tolist() == [i % 2 for i in range(n)]
    for i in range(n):
        img, red, green = d.images[i], d.red[i], d.green[i]
        assert _box_at(img, 0, red, 4).eq(1).all() and _box_at(img, 1, green, 4).eq(1).all()
        assert img[0].sum() == 16 and img[1].sum() == 16 and img[2].sum() == 0  # one box each, no blue
        left, right = (red, green) if d.labels[i] == 0 else (green, red)  # label 0: red on the left
        assert left[1] + 4 + 1 <= right[1] <= left[1] + 4 + 1 + max_gap
        centre = 7 if d.labels[i] == 0 else 23
        assert (torch.stack([red[0], green[0]]) - centre).abs().max() <= jitter


def test_red_green_swapped_set_moves_the_same_layouts_vertically():
    d, s = red_green(40, seed=5), red_green(40, seed=5, swapped=True)
    move = torch.where(d.labels == 0, 16, -16)
    assert torch.equal(s.red[:, 0] - d.red[:, 0], move) and torch.equal(s.green[:, 0] - d.green[:, 0], move)
    assert torch.equal(s.red[:, 1], d.red[:, 1]) and torch.equal(s.labels, d.labels)
    assert torch.equal(torch.roll(d.images, shifts=16, dims=2)[d.labels == 0], s.images[d.labels == 0])
    odd = red_green(40, seed=5, swapped=True, swap_rows=15)
    assert torch.equal(odd.red[:, 0] - d.red[:, 0], torch.where(d.labels == 0, 15, -15))
    assert torch.equal(torch.roll(s.images, shifts=1, dims=2)[d.labels == 1], odd.images[d.labels == 1])


def test_red_green_is_seeded_and_moves_to_a_device():
    a, b = red_green(6, seed=1), red_green(6, seed=1)
    assert torch.equal(a.images, b.images) and torch.equal(a.red, b.red)
    assert torch.equal(a.to("cpu").green, a.green)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"n": 0}, "n"),
        ({"n": 4, "rows": (1, 23)}, "rows"),
        ({"n": 4, "rows": (7, 30)}, "rows"),
        ({"n": 4, "rows": (7,)}, "rows"),
        ({"n": 4, "jitter": -1}, "jitter"),
        ({"n": 4, "box_size": 0}, "box_size"),
        ({"n": 4, "max_gap": 40}, "max_gap"),
        ({"n": 4, "image_size": 3}, "image_size"),
        ({"n": 4, "swap_rows": 15}, "swap_rows"),
        ({"n": 4, "swapped": True, "swap_rows": 0}, "swap_rows"),
        ({"n": 4, "swapped": True, "swap_rows": 18}, "swap_rows"),
    ],
)
def test_red_green_rejects_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        red_green(**kwargs)
