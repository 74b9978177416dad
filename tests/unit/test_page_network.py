"""helpers.page_network: the layers and weights chapter 4 writes into its page, and the figure's HTML.

What the page computes from them is compared with PyTorch in tests/book (a real browser).
"""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
import torch
from torch import nn

from helpers.data import digits_on_canvas
from helpers.models import SmallCNN, anti_aliased_cnn
from helpers.page_network import export_network, live_shift_figure, reference_probabilities

WIDTHS = (8, 8, 16)


def _network(method: str, padding: str, filt_size: int = 1) -> nn.Module:
    torch.manual_seed(0)
    pad_type = "circular" if padding == "circular" else "zero"
    return anti_aliased_cnn(method, filt_size, pad_type=pad_type, widths=WIDTHS, padding=padding, head="gap",
                            init="kaiming").eval()


def _floats(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f4")


@pytest.mark.parametrize("padding", ["circular", "zeros"])
def test_export_names_every_layer_with_its_padding_and_blur(padding):
    pad = "circular" if padding == "circular" else "zero"
    expected = {
        "baseline": ["conv", "relu", "maxpool"] * 3 + ["gap", "linear"],
        "blurpool": ["conv", "relu", "max2", "blur"] * 3 + ["gap", "linear"],
        "aps": ["conv", "relu", "max2", "aps"] * 3 + ["gap", "linear"],
    }
    for method, types in expected.items():
        layers = export_network(_network(method, padding, 4 if method == "blurpool" else 1))
        assert [layer["type"] for layer in layers] == types, method
        assert all(layer["pad"] == pad for layer in layers if layer["type"] == "conv"), method
        for layer in layers:
            if layer["type"] == "blur":
                assert (layer["size"], layer["stride"], layer["pad"]) == (4, 2, pad)
            if layer["type"] == "max2":  # BlurPool's dense max follows the padding; APS's stays circular
                assert layer["circular"] is (method == "aps" or padding == "circular")


def test_export_keeps_shapes_and_values_in_pytorch_layout():
    model = _network("aps", "circular")
    layers = export_network(model)
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    exported = [layer for layer in layers if layer["type"] == "conv"]
    assert [(e["in"], e["out"], e["k"]) for e in exported] == [(1, 8, 3), (8, 8, 3), (8, 16, 3)]
    for conv, e in zip(convs, exported, strict=True):
        assert np.array_equal(_floats(e["weight"]), conv.weight.detach().numpy().ravel())
        assert np.array_equal(_floats(e["bias"]), conv.bias.detach().numpy())
    head = layers[-1]
    assert (head["in"], head["out"]) == (16, 10)
    assert np.array_equal(_floats(head["weight"]).reshape(10, 16), model.head[-1].weight.detach().numpy())
    total = sum(len(_floats(layer[k])) for layer in layers for k in ("weight", "bias") if k in layer)
    assert total == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    "model, named",
    [
        (nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, padding_mode="reflect")), "reflect"),
        (nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1)), "stride 1"),
        (nn.Sequential(nn.Conv2d(1, 4, 3)), "'same' padding"),
        (nn.Sequential(nn.MaxPool2d(3)), "MaxPool2d\\(2\\)"),
        (nn.Sequential(nn.BatchNorm2d(4)), "BatchNorm2d"),
        (anti_aliased_cnn("blurpool", 3, pad_type="reflect", widths=(4,)), "reflect"),
        (SmallCNN(widths=(4,), head="gmp"), "AdaptiveMaxPool2d"),
    ],
)
def test_export_refuses_what_the_page_cannot_run(model, named):
    with pytest.raises(ValueError, match=named):
        export_network(model)


def test_export_refuses_what_is_not_a_module():
    with pytest.raises(ValueError, match="model must be a torch.nn.Module"):
        export_network("a network")


def _figure(**kwargs):
    nets = {p: {"baseline": _network("baseline", p), "APS": _network("aps", p)} for p in ("circular", "zeros")}
    scenes = digits_on_canvas("test", canvas_size=24, digit_size=8, positions="center")
    args = dict(margin=4, digit_size=8, start=1, reference_offsets=[(0, 0), (0, 1), (0, 0.5)])
    args.update(kwargs)
    return live_shift_figure(nets, scenes.images[:3], scenes.labels[:3], **args), nets, scenes


def test_figure_carries_networks_digits_and_pytorchs_answers():
    figure, nets, scenes = _figure()
    html = figure._repr_html_()
    config = json.loads(re.search(r'<script type="application/json" class="ls-config">(.*?)</script>', html, re.S)[1])
    assert config["paddings"] == ["circular", "zeros"] and config["start"] == 1 and config["scene"] == 24
    assert np.array_equal(_floats(config["digits"][1]), scenes.images[1, 0].numpy().ravel())
    cases = figure.reference["cases"]
    # one case per padding for a whole offset, one per padding and interpolation for a half one
    assert [(c["offset"], c["interpolation"]) for c in cases[::2]] == [
        ([0.0, 0.0], "whole"), ([0.0, 1.0], "whole"), ([0.0, 0.5], "bilinear"), ([0.0, 0.5], "fourier")]
    for case in cases:
        for probabilities in case["probabilities"].values():
            assert len(probabilities) == 10 and abs(sum(probabilities) - 1) < 1e-9
    centre = nets["circular"]["APS"](scenes.images[1:2, :, 4:20, 4:20]).softmax(-1)[0]
    assert np.allclose(cases[0]["probabilities"]["APS"], centre.detach().numpy(), atol=1e-6)
    assert "<script>" in html and "window.LiveShift.mount" in html and "</figure>" in html.rstrip()[-10:]


def test_reference_moves_the_scene_under_a_fixed_window():
    _, nets, scenes = _figure()
    scene = scenes.images[0]
    [case] = [c for c in reference_probabilities({"circular": nets["circular"]}, scene, 4, [(0, 1)])]
    moved = torch.roll(scene, 1, dims=-1)[None, :, 4:20, 4:20]
    expected = nets["circular"]["baseline"](moved).softmax(-1)[0].detach().numpy()
    assert np.allclose(case["probabilities"]["baseline"], expected, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, named",
    [
        ({"margin": 0}, "margin"),
        ({"margin": 12}, "margin=12 leaves no window"),
        ({"start": 3}, "start must index"),
        ({"digit_size": 0}, "digit_size"),
        ({"reference_offsets": [(0, 0.25)]}, r"offsets\[0\] must be \(dy, dx\) in whole or half pixels"),
        ({"reference_offsets": [(0, 5)]}, "within the margin 4"),
    ],
)
def test_figure_refuses_bad_input(kwargs, named):
    with pytest.raises(ValueError, match=named):
        _figure(**kwargs)


def test_figure_refuses_mismatched_labels_and_networks():
    scenes = digits_on_canvas("test", canvas_size=24, digit_size=8, positions="center")
    net = _network("baseline", "circular")
    with pytest.raises(ValueError, match="labels must give one class per scene"):
        live_shift_figure({"circular": {"a": net}}, scenes.images[:3], [1, 2], margin=4, digit_size=8)
    with pytest.raises(ValueError, match="scenes must have shape"):
        live_shift_figure({"circular": {"a": net}}, scenes.images[:3, :, :, :20], [1, 2, 3], margin=4, digit_size=8)
    with pytest.raises(ValueError, match="the same networks under every padding"):
        live_shift_figure({"circular": {"a": net}, "zeros": {"b": net}}, scenes.images[:3], [1, 2, 3], margin=4,
                          digit_size=8)
    with pytest.raises(ValueError, match="at least one network"):
        live_shift_figure({}, scenes.images[:3], [1, 2, 3], margin=4, digit_size=8)
