"""Trained networks that run in the reader's page, with no kernel (chapter 4's live figure).

Chapter 4 (``chapters/04_aliasing_and_fixes.ipynb``) lets a reader move a digit by whole
and half pixels and watch its trained baseline, BlurPool and APS networks answer, in the
HTML book and in a notebook's output alike. :func:`export_network` writes a network's
layers and weights as plain data; :func:`live_shift_figure` puts them in the page with a
dependency-free JavaScript forward pass (``static/live_shift.js``, which says why no
runtime library), and with the probabilities PyTorch gives for one digit at a list of
offsets, which ``tests/book`` compares with what the page shows.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
from collections.abc import Mapping, Sequence
from importlib import resources

import torch
from torch import nn

from helpers._checks import check_int, check_tensor
from helpers.antialias import APSPool, BlurPool, StrideOneMaxPool
from helpers.metrics import predict_over_shifts

INTERPOLATIONS = ("bilinear", "fourier")
PADS = {"zeros": "zero", "circular": "circular"}  # Conv2d padding_mode -> the page's name
# A digit's offsets PyTorch answers for in the page (whole and half pixels), which tests/book replays.
REFERENCE_OFFSETS = ((0, 0), (0, 1), (0, -1), (1, 0), (-2, 3), (4, -4), (0, 0.5), (0, -1.5), (0.5, 0.5), (-3.5, 2))


def _floats(t: torch.Tensor) -> str:
    """A tensor as base64 of little-endian float32, the page's ``Float32Array``."""
    return base64.b64encode(t.detach().cpu().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()).decode()


def _leaves(module: nn.Module) -> list[nn.Module]:
    if isinstance(module, nn.Sequential):
        return [leaf for child in module for leaf in _leaves(child)]
    return [module]


def _layer(module: nn.Module) -> dict | None:
    """One layer as the page runs it; ``None`` for a layer with nothing to run (Flatten)."""
    name = type(module).__name__
    if isinstance(module, nn.Conv2d):
        k = module.kernel_size
        plain = module.stride == (1, 1) and module.dilation == (1, 1) and module.groups == 1
        if k[0] != k[1] or k[0] % 2 == 0 or not plain or module.padding != (k[0] // 2,) * 2:
            raise ValueError(f"model holds a Conv2d the page cannot run (it runs square odd kernels, stride 1, "
                             f"'same' padding): {module}")
        if module.padding_mode not in PADS:
            raise ValueError(f"model holds a Conv2d padded {module.padding_mode!r}; the page pads 'zeros' or 'circular'")
        layer = {"type": "conv", "in": module.in_channels, "out": module.out_channels, "k": k[0],
                 "pad": PADS[module.padding_mode], "weight": _floats(module.weight)}
        if module.bias is not None:
            layer["bias"] = _floats(module.bias)
        return layer
    if isinstance(module, nn.ReLU):
        return {"type": "relu"}
    if isinstance(module, nn.MaxPool2d):
        if (module.kernel_size, module.stride, module.padding, module.dilation, module.ceil_mode) not in (
                (2, 2, 0, 1, False), ((2, 2), (2, 2), 0, 1, False)):
            raise ValueError(f"model holds a MaxPool2d other than MaxPool2d(2): {module}")
        return {"type": "maxpool"}
    if isinstance(module, StrideOneMaxPool):
        if module.kernel_size != 2:
            raise ValueError(f"model holds a StrideOneMaxPool of kernel {module.kernel_size}; the page runs 2")
        return {"type": "max2", "circular": module.circular}
    if isinstance(module, BlurPool):
        if module.pad_type not in PADS.values():
            raise ValueError(f"model holds a BlurPool padded {module.pad_type!r}; the page pads 'zero' or 'circular'")
        return {"type": "blur", "size": module.filt_size, "stride": module.stride, "pad": module.pad_type}
    if isinstance(module, APSPool):
        if module.filt_size != 1 or module.criterion != "l2":
            raise ValueError("model holds an APSPool with a blur or an l1 criterion; the page runs plain APS (l2)")
        return {"type": "aps"}
    if isinstance(module, nn.AdaptiveAvgPool2d):
        if module.output_size not in (1, (1, 1)):
            raise ValueError(f"model holds an AdaptiveAvgPool2d to {module.output_size}; the page runs global pooling")
        return {"type": "gap"}
    if isinstance(module, nn.Flatten):
        return None
    if isinstance(module, nn.Linear):
        layer = {"type": "linear", "in": module.in_features, "out": module.out_features, "weight": _floats(module.weight)}
        if module.bias is not None:
            layer["bias"] = _floats(module.bias)
        return layer
    raise ValueError(f"model holds a {name}, which the in-page forward pass does not run")


def export_network(model: nn.Module) -> list[dict]:
    """The layers of ``model`` (chapter 4's ``anti_aliased_cnn``) in the order the page runs them.

    Each layer is a dict with its ``type`` (``conv``, ``relu``, ``maxpool``, ``max2`` (the
    stride-1 max), ``blur``, ``aps``, ``gap``, ``linear``), its sizes, its padding and its
    weights as base64 float32 (row-major, PyTorch's layout). A layer the page cannot run
    exactly raises a ``ValueError`` naming it.

    Chapter 4.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    parts = [model.features, model.head] if hasattr(model, "features") and hasattr(model, "head") else [model]
    layers = [_layer(leaf) for part in parts for leaf in _leaves(part)]
    return [layer for layer in layers if layer is not None]


def _offsets(offsets: Sequence[Sequence[float]], margin: int) -> list[tuple[float, float]]:
    parsed = []
    for i, offset in enumerate(offsets):
        if len(offset) != 2 or any(not math.isfinite(v) or abs(v) > margin or (2 * v) % 1 for v in offset):
            raise ValueError(f"offsets[{i}] must be (dy, dx) in whole or half pixels within the margin {margin}, "
                             f"got {offset!r}")
        parsed.append((float(offset[0]), float(offset[1])))
    return parsed


def reference_probabilities(
    networks: Mapping[str, Mapping[str, nn.Module]],
    scene: torch.Tensor,
    margin: int,
    offsets: Sequence[Sequence[float]] = REFERENCE_OFFSETS,
) -> list[dict]:
    """PyTorch's class probabilities for one scene ``(1, S, S)`` at each offset, padding and interpolation.

    Whole offsets are crop shifts; half-pixel ones are computed with each interpolation,
    as chapter 4 measures them (:func:`helpers.metrics.predict_over_shifts`). One case per
    ``(padding, interpolation, offset)``: ``{"padding", "interpolation", "offset",
    "probabilities": {network: [10 floats]}}``.

    Chapter 4.
    """
    margin = check_int("margin", margin, minimum=1)
    scene = check_tensor("scene", scene, min_dim=3)
    parsed = _offsets(offsets, margin)
    whole = [o for o in parsed if all(v == int(v) for v in o)]
    half = [o for o in parsed if o not in whole]
    sweeps = [("whole", [tuple(map(int, o)) for o in whole], "crop")] + [(m, half, m) for m in INTERPOLATIONS]
    answers = {}  # (interpolation, padding, name) -> probabilities, one batched sweep per network and mode
    for padding, nets in networks.items():
        for name, model in nets.items():
            x = scene[None].to(next(model.parameters()).device)
            for interpolation, moves, mode in sweeps:
                if moves:
                    logits = predict_over_shifts(model, x, moves, mode=mode, margin=margin)
                    answers[interpolation, padding, name] = logits[:, 0].double().softmax(-1).tolist()
    cases = []
    for offset in parsed:
        for interpolation in ("whole",) if offset in whole else INTERPOLATIONS:
            k = (whole if interpolation == "whole" else half).index(offset)
            for padding, nets in networks.items():
                cases.append({"padding": padding, "interpolation": interpolation, "offset": list(offset),
                              "probabilities": {name: answers[interpolation, padding, name][k] for name in nets}})
    return cases


class LiveShiftFigure:
    """The live figure of chapter 4 as HTML: shown by Jupyter (``_repr_html_``) and by the HTML book.

    Build one with :func:`live_shift_figure`. ``config`` is what the page runs,
    ``reference`` what PyTorch answered for the starting digit (for ``tests/book``).

    Chapter 4.
    """

    def __init__(self, config: dict, reference: dict, title: str) -> None:
        self.config, self.reference, self.title = config, reference, title

    def _repr_html_(self) -> str:
        def data(value) -> str:  # JSON inside <script>: no "</" may end the element early
            return json.dumps(value, separators=(",", ":")).replace("</", "<\\/")

        config = data(self.config)
        key = "ls-" + hashlib.sha1(config.encode()).hexdigest()[:10]
        script = resources.files("helpers").joinpath("static/live_shift.js").read_text()
        labels = self.config["labels"]
        digits = "".join(f'<option value="{i}"{" selected" if i == self.config["start"] else ""}>'
                         f"test digit {i + 1} (a {labels[i]})</option>" for i in range(len(labels)))
        classes = "".join(f"<option>{k}</option>" for k in range(10))
        paddings = "".join(f'<option value="{p}">{p}</option>' for p in self.config["paddings"])
        margin = self.config["margin"]
        return f"""<figure class="live-shift" id="{key}" aria-labelledby="{key}-title">
<style>
#{key} {{ border: 1px solid #ccd; border-radius: 6px; padding: 0.6em 0.8em; margin: 1em 0; font-size: 0.92em; color: #222; background: #fff; }}
#{key} .ls-title {{ font-weight: 600; margin-bottom: 0.4em; }}
#{key} .ls-controls {{ display: flex; flex-wrap: wrap; gap: 0.3em 1em; align-items: center; margin-bottom: 0.5em; }}
#{key} select, #{key} button {{ font: inherit; color: #222; background: #f4f5f7; border: 1px solid #777; border-radius: 4px; padding: 0.1em 0.4em; }}
#{key} button[aria-pressed="true"] {{ background: #dde8f6; }}
#{key} .ls-main {{ display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }}
#{key} .ls-digit {{ box-sizing: content-box; image-rendering: pixelated; border: 1px solid #777; cursor: grab; touch-action: none; }}
#{key} .ls-digit:focus {{ outline: 3px solid #1f77b4; outline-offset: 2px; }}
#{key} .ls-pad {{ display: grid; grid-template-columns: repeat(3, 2.4em); gap: 2px; justify-content: center; margin-top: 0.3em; }}
#{key} .ls-networks {{ display: flex; flex-direction: column; gap: 0.4em; min-width: 200px; }}
#{key} .ls-network {{ border-left: 4px solid transparent; padding-left: 0.4em; }}
#{key} .ls-network.ls-changed {{ border-left-color: #b00020; }}
#{key} .ls-flag {{ color: #fff; background: #b00020; border-radius: 3px; padding: 0 0.3em; }}
#{key} .ls-small {{ font-size: 0.9em; color: #333; }}
#{key} .ls-where {{ text-align: center; margin-top: 0.2em; }}
#{key} .ls-status {{ min-height: 1.4em; margin: 0.4em 0 0; }}
</style>
<div class="ls-title" id="{key}-title">{html.escape(self.title)}</div>
<noscript><p>This figure runs the networks in your browser and needs JavaScript. The static figure
below shows the same digit along the same path.</p></noscript>
<div class="ls-controls">
  <label>Digit <select class="ls-pick">{digits}<option value="drawn">your drawing</option></select></label>
  <span class="ls-class-picker" hidden><label>It is a <select class="ls-class">{classes}</select></label></span>
  <button type="button" class="ls-draw" aria-pressed="false">Draw your own</button>
  <label>Padding <select class="ls-padding">{paddings}</select></label>
  <label>Step <select class="ls-step"><option value="1">1 pixel</option><option value="0.5">half a pixel</option></select></label>
  <label>Between pixels <select class="ls-interpolation"><option value="bilinear">bilinear</option><option value="fourier">Fourier</option></select></label>
</div>
<div class="ls-main">
  <div>
    <canvas class="ls-digit" tabindex="0" role="application" aria-roledescription="movable digit"
      aria-label="The digit. Arrow keys move it." aria-describedby="{key}-help"></canvas>
    <div class="ls-pad" role="group" aria-label="Move the digit">
      <span></span><button type="button" class="ls-move" data-dy="-1" data-dx="0" aria-label="up">&uarr;</button><span></span>
      <button type="button" class="ls-move" data-dy="0" data-dx="-1" aria-label="left">&larr;</button>
      <button type="button" class="ls-reset" aria-label="back to the centre">&#9675;</button>
      <button type="button" class="ls-move" data-dy="0" data-dx="1" aria-label="right">&rarr;</button>
      <span></span><button type="button" class="ls-move" data-dy="1" data-dx="0" aria-label="down">&darr;</button><span></span>
    </div>
    <div class="ls-where"></div>
  </div>
  <div class="ls-networks"></div>
  <div class="ls-trace"></div>
</div>
<p class="ls-help" id="{key}-help" style="margin:0.4em 0 0">Click the digit, then move it with the arrow keys, the
buttons or by dragging, up to {margin} pixels each way; a red mark flags a network whose answer just changed.
Bars: each class's probability (coloured: the answer; dark: the true class). The dashed square is the
{self.config["digit_size"]}-pixel box of a centred digit: draw your own inside it.</p>
<p class="ls-status" role="status" aria-live="polite"></p>
<script type="application/json" class="ls-config">{config}</script>
<script type="application/json" class="ls-reference">{data(self.reference)}</script>
<script>{script}</script>
<script>(function () {{
  var root = document.currentScript.parentNode;
  window.LiveShift.mount(root, JSON.parse(root.querySelector(".ls-config").textContent));
}})();</script>
</figure>"""


def live_shift_figure(
    networks: Mapping[str, Mapping[str, nn.Module]],
    scenes: torch.Tensor,
    labels: Sequence[int] | torch.Tensor,
    margin: int,
    digit_size: int,
    start: int = 0,
    title: str = "Move the digit: three trained networks answer in your browser",
    reference_offsets: Sequence[Sequence[float]] = REFERENCE_OFFSETS,
) -> LiveShiftFigure:
    """Chapter 4's live figure: ``networks[padding][name]`` answer the digit the reader moves.

    ``scenes`` ``(N, 1, S, S)`` hold digits the reader picks from; the networks see the
    window that leaves ``margin`` pixels on each side, and the digit moves up to ``margin``
    pixels each way (a crop shift, as the chapter's sweeps). ``digit_size`` draws the box
    the reader's own digit should fill; ``start`` is the digit shown first, for which the
    figure also carries PyTorch's probabilities at ``reference_offsets``.

    Chapter 4.
    """
    scenes = check_tensor("scenes", scenes, min_dim=4)
    if scenes.dim() != 4 or scenes.shape[1] != 1 or scenes.shape[2] != scenes.shape[3]:
        raise ValueError(f"scenes must have shape (N, 1, S, S), got {tuple(scenes.shape)}")
    labels = [int(v) for v in (labels.tolist() if isinstance(labels, torch.Tensor) else labels)]
    if len(labels) != len(scenes):
        raise ValueError(f"labels must give one class per scene ({len(scenes)}), got {len(labels)}")
    margin = check_int("margin", margin, minimum=1)
    size = scenes.shape[-1]
    if size - 2 * margin < 1:
        raise ValueError(f"margin={margin} leaves no window inside scenes of {size} pixels")
    digit_size = check_int("digit_size", digit_size, minimum=1)
    start = check_int("start", start, minimum=0)
    if start >= len(scenes):
        raise ValueError(f"start must index one of the {len(scenes)} scenes, got {start}")
    if not networks or any(not nets for nets in networks.values()):
        raise ValueError("networks must map each padding to at least one network")
    names = [list(nets) for nets in networks.values()]
    if any(n != names[0] for n in names):
        raise ValueError(f"networks must name the same networks under every padding, got {names}")
    config = {
        "scene": size,
        "margin": margin,
        "digit_size": digit_size,
        "start": start,
        "labels": labels,
        "paddings": list(networks),
        "digits": [_floats(s[0]) for s in scenes],
        "networks": {padding: [{"name": name, "layers": export_network(model)} for name, model in nets.items()]
                     for padding, nets in networks.items()},
    }
    reference = reference_probabilities(networks, scenes[start].cpu(), margin, reference_offsets)
    return LiveShiftFigure(config, {"digit": start, "cases": reference}, title)
