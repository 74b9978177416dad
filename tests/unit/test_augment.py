"""Per-sample augmentation and batched transformation sweeps (helpers.augment, chapters 7-8)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from helpers.augment import (
    PerSample,
    RandomWarp,
    accuracy_over,
    epochs_to_reach,
    rotate_all,
    scale_all,
    warp,
)
from helpers.metrics import invariance_error_over
from helpers.shifts import shift_all

ROTATE = v2.RandomRotation(45, interpolation=v2.InterpolationMode.BILINEAR)


def _copies(n: int = 6, size: int = 12) -> torch.Tensor:
    image = torch.zeros(1, size, size)
    image[0, 2 : size // 2, 3:5] = 1.0  # an asymmetric bar, so every rotation shows
    return image.expand(n, 1, size, size).clone()


def test_v2_transform_on_a_batch_uses_one_parameter_for_all_samples():
    # the pitfall PerSample exists for: if torchvision changes this, chapter 7's prose must change
    torch.manual_seed(0)
    out = ROTATE(_copies())
    assert torch.equal(out, out[:1].expand_as(out))


def test_per_sample_draws_a_parameter_per_sample():
    out = PerSample(ROTATE, seed=0)(_copies())
    distinct = {tuple(o.flatten().tolist()) for o in out}
    assert len(distinct) == out.shape[0]


def test_per_sample_is_reproducible_and_leaves_the_global_stream_alone():
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    a = PerSample(ROTATE, seed=5)
    first = a(_copies())
    assert torch.equal(torch.rand(3), expected_next)  # global generator untouched
    b = PerSample(ROTATE, seed=5)
    assert torch.equal(first, b(_copies()))
    second = a(_copies())  # the stream moves on between calls ...
    assert not torch.equal(first, second)
    a.reset()  # ... and restarts on reset
    assert torch.equal(a(_copies()), first)


def test_per_sample_with_a_deterministic_transform_equals_the_batch_call():
    x = torch.rand(4, 2, 7, 7)
    out = PerSample(lambda im: TF.horizontal_flip(im))(x)
    assert torch.equal(out, x.flip(-1))


@pytest.mark.parametrize("bad", [None, 3, "rotate"])
def test_per_sample_rejects_a_non_callable(bad):
    with pytest.raises(ValueError, match="transform"):
        PerSample(bad)


def test_per_sample_rejects_bad_input():
    with pytest.raises(ValueError, match="seed"):
        PerSample(ROTATE, seed=-1)
    with pytest.raises(ValueError, match="batch"):
        PerSample(ROTATE)(torch.rand(1, 8, 8))
    with pytest.raises(ValueError, match="shape"):
        PerSample(lambda im: im[..., :-1])(torch.rand(2, 1, 8, 8))


@pytest.mark.parametrize("size", [7, 8, 11, 12])
def test_rotate_all_matches_rot90_at_quarter_turns(size):
    x = torch.rand(3, 1, size, size)
    out = rotate_all(x, [0, 90, 180, 270])
    assert out.shape == (4, 3, 1, size, size)
    for k in range(4):
        assert torch.equal(out[k], torch.rot90(x, k, dims=(-2, -1)))


@settings(max_examples=15, deadline=None)
@given(angle=st.floats(-180, 180), seed=st.integers(0, 50))
def test_rotate_all_equals_one_torchvision_call_per_angle(angle, seed):
    x = torch.rand(2, 1, 9, 9, generator=torch.Generator().manual_seed(seed))
    expected = TF.rotate(x, angle, interpolation=v2.InterpolationMode.BILINEAR)
    assert torch.equal(rotate_all(x, [angle])[0], expected)


def test_scale_all_identity_and_shrinking():
    x = torch.rand(2, 1, 16, 16)
    out = scale_all(x, [1.0, 0.5])
    assert torch.allclose(out[0], x, atol=1e-6)
    # shrinking to half size leaves the outer border empty
    assert out[1][..., :3, :].abs().max() == 0 and out[1][..., -3:].abs().max() == 0


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: rotate_all(torch.rand(8, 8), [0]), "x"),
        (lambda: rotate_all(torch.rand(1, 1, 8, 8), []), "angles"),
        (lambda: rotate_all(torch.rand(1, 1, 8, 8), 30), "angles"),
        (lambda: rotate_all(torch.rand(1, 1, 8, 8), ["a"]), "angles"),
        (lambda: rotate_all(torch.rand(1, 1, 8, 8), [30], interpolation="cubic"), "interpolation"),
        (lambda: scale_all(torch.rand(1, 1, 8, 8), [0.0, 1.0]), "factors"),
    ],
)
def test_sweeps_reject_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


class _Threshold(nn.Module):
    """Class 1 if the image's mass sits in the left half, else class 0 (a non-invariant toy)."""

    def __init__(self) -> None:
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = x.shape[-1]
        left = x[..., : w // 2].sum(dim=(1, 2, 3))
        right = x[..., w // 2 :].sum(dim=(1, 2, 3))
        return torch.stack([right, left], dim=1) + 0 * self.dummy


def test_accuracy_over_against_a_loop():
    x = torch.zeros(4, 1, 6, 6)
    x[:, :, :, 1] = 1.0  # mass on the left
    labels = torch.ones(4, dtype=torch.long)
    stack = rotate_all(x, [0, 90, 180, 270])
    model = _Threshold()
    acc = accuracy_over(model, stack, labels, chunk_size=5)
    loop = torch.tensor([(model(s).argmax(1) == labels).float().mean().item() for s in stack])
    assert torch.allclose(acc, loop)
    assert acc[0] == 1.0 and acc[2] == 0.0  # upright right, turned round wrong


def test_accuracy_over_rejects_mismatched_labels():
    with pytest.raises(ValueError, match="labels"):
        accuracy_over(_Threshold(), torch.rand(2, 3, 1, 4, 4), torch.zeros(4, dtype=torch.long))


def test_invariance_error_over():
    x = torch.rand(5, 1, 8, 8)
    stack = rotate_all(x, [0, 90, 180])
    total = lambda b: b.sum(dim=(1, 2, 3)).unsqueeze(1)  # noqa: E731  (rotation invariant)
    left = lambda b: b[..., :4].sum(dim=(1, 2, 3)).unsqueeze(1)  # noqa: E731  (not invariant)
    assert invariance_error_over(total, x, stack).abs().max() < 1e-5
    err = invariance_error_over(left, x, stack, chunk_size=2)
    assert err[0] == 0 and (err[1:] > 1e-3).all()
    with pytest.raises(ValueError, match="stack"):
        invariance_error_over(total, x, torch.rand(2, 5, 1, 7, 7))


def test_epochs_to_reach():
    assert epochs_to_reach([2.0, 1.0, 0.4, 0.3], 0.5) == 3
    assert epochs_to_reach([2.0, 1.0], 0.5) is None
    assert epochs_to_reach([0.1], 0.1) == 1
    with pytest.raises(ValueError, match="threshold"):
        epochs_to_reach([1.0], 0)
    with pytest.raises(ValueError, match="losses"):
        epochs_to_reach([], 0.5)


def test_per_sample_restores_the_thread_count():
    before = torch.get_num_threads()
    PerSample(ROTATE)(_copies(2))
    assert torch.get_num_threads() == before


# ---------------------------------------------------------------- warp and RandomWarp (batched)

BILINEAR = v2.InterpolationMode.BILINEAR


@pytest.mark.parametrize("shape", [(3, 2, 12, 12), (2, 1, 10, 14)])
@pytest.mark.parametrize("angle", [30.0, -75.0, 90.0, 180.0])
def test_warp_rotates_as_torchvision_does(shape, angle):
    x = torch.rand(*shape, generator=torch.Generator().manual_seed(0))
    expected = TF.rotate(x, angle, interpolation=BILINEAR)
    assert torch.allclose(warp(x, [angle] * shape[0]), expected, atol=1e-5)


def test_warp_scales_and_shifts_as_the_sweeps_do():
    x = torch.rand(3, 1, 12, 12, generator=torch.Generator().manual_seed(1))
    for factor in (0.7, 1.3):
        assert torch.allclose(warp(x, scales=[factor] * 3), scale_all(x, [factor])[0], atol=1e-5)
    assert torch.allclose(warp(x, shifts=[[1, -2]] * 3), shift_all(x, [(1, -2)], mode="zero")[0], atol=1e-5)


def test_warp_combines_as_torchvision_affine_and_gives_each_sample_its_own_amounts():
    x = torch.rand(2, 1, 12, 12, generator=torch.Generator().manual_seed(2))
    angles, scales, shifts = [20.0, -40.0], [1.2, 0.8], [[1, 2], [-2, 0]]
    out = warp(x, angles, scales, shifts)
    for i in range(2):
        expected = TF.affine(x[i : i + 1], angle=-angles[i], translate=[shifts[i][1], shifts[i][0]],
                             scale=scales[i], shear=[0.0, 0.0], interpolation=BILINEAR)
        assert torch.allclose(out[i : i + 1], expected, atol=1e-5)


def test_warp_without_amounts_is_the_identity():
    x = torch.rand(2, 3, 9, 9)
    assert torch.allclose(warp(x), x, atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"angles": [1.0]}, "angles must have shape"),
        ({"scales": [1.0, 0.0]}, "scales must all be > 0"),
        ({"shifts": [1, 2]}, "shifts must have shape"),
        ({"angles": [float("nan"), 0.0]}, "angles must hold finite"),
        ({"interpolation": "cubic"}, "interpolation must be one of"),
    ],
)
def test_warp_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        warp(torch.rand(2, 1, 5, 5), **kwargs)
    with pytest.raises(ValueError, match="x must have shape"):
        warp(torch.rand(2, 1, 1, 5, 5))


def test_random_warp_draws_in_its_ranges_per_sample_and_reproducibly():
    a = RandomWarp(max_angle=30, scale=(0.8, 1.25), max_shift=2, seed=3)
    amounts = a.draw(4000)
    assert amounts["angles"].abs().max() <= 30 and amounts["angles"].std() > 15  # uniform on [-30, 30]: std 17.3
    assert amounts["scales"].min() >= 0.8 and amounts["scales"].max() <= 1.25
    assert set(amounts["shifts"].unique().tolist()) == {-2.0, -1.0, 0.0, 1.0, 2.0}
    x = _copies(6)
    first = RandomWarp(max_angle=30, seed=3)(x)
    assert torch.equal(first, RandomWarp(max_angle=30, seed=3)(x))  # same seed, same warps
    assert len({tuple(o.flatten().tolist()) for o in first}) == 6  # one angle per sample


def test_random_warp_leaves_the_global_stream_alone():
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    RandomWarp(max_angle=45, seed=0)(_copies())
    assert torch.equal(torch.rand(3), expected_next)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_angle": 200}, "max_angle must be"),
        ({"max_angle": True}, "max_angle must be"),
        ({"scale": (1.2, 0.8)}, "scale must be"),
        ({"scale": (0.0, 1.0)}, "scale must be"),
        ({"max_shift": -1}, "max_shift must be >= 0"),
        ({"seed": -1}, "seed must be >= 0"),
    ],
)
def test_random_warp_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RandomWarp(**kwargs)
