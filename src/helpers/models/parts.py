"""The parts every network of the book is built from: heads, padding, initialisation, surgery.

Used by every builder in :mod:`helpers.models`, and by chapters 6 and 7 directly
(:func:`penultimate`, :func:`replace_classifier`).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from helpers._checks import check_choice, check_int, check_tensor

HEADS = ("gap", "gmp", "flatten")
# Conv2d padding modes, and "valid" for no padding at all.
PADDINGS = ("zeros", "circular", "reflect", "replicate", "valid")
INITS = ("default", "kaiming")


class AddCoordinates(nn.Module):
    """Append two channels to ``(N, C, H, W)``: each pixel's row and column, from -1 to 1 (CoordConv, chapter 5)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        rows = torch.linspace(-1, 1, h, device=x.device, dtype=x.dtype)[:, None].expand(h, w)
        cols = torch.linspace(-1, 1, w, device=x.device, dtype=x.dtype)[None, :].expand(h, w)
        return torch.cat([x, torch.stack([rows, cols]).expand(n, 2, h, w)], dim=1)


def check_head(head: object, input_size: int | None) -> str:
    """``head`` as one of :data:`HEADS`; a flatten head needs ``input_size`` (every model). Every builder of chapters 3-8."""
    head = check_choice("head", head, HEADS)
    if head == "flatten" and input_size is None:
        raise ValueError("input_size must be given when head='flatten'")
    return head


def make_head(
    head: str,
    channels: int,
    n_classes: int,
    size: int | None = None,
    hidden: int | None = None,
    flatten_size: int | None = None,
):
    """Feature maps ``(N, channels, size, size)`` -> class scores, as an ``nn.Sequential``.

    - ``"gap"`` / ``"gmp"``: global average / max pooling, then a linear layer;
    - ``"flatten"``: a linear layer over every position (needs the map's ``size``). With
      ``flatten_size`` the map is first averaged over blocks down to ``flatten_size`` x
      ``flatten_size`` positions (chapter 3's control: the head of a network that pooled
      down to that size, on features that never pooled).

    ``hidden`` puts a hidden layer of that many units and a ReLU before the class layer
    (chapters 6 and 7). The class layer is always ``head[-1]``.
    """
    head = check_choice("head", head, HEADS)
    if flatten_size is not None and head != "flatten":
        raise ValueError(f"flatten_size only applies to head='flatten', got head={head!r}")
    if head == "flatten":
        if size is None or size < 1:
            raise ValueError(f"the flatten head needs a feature map of size >= 1, got {size}")
        layers: list[nn.Module] = [nn.Flatten()]
        if flatten_size is not None:
            flatten_size = check_int("flatten_size", flatten_size, minimum=1)
            if size % flatten_size:
                raise ValueError(f"flatten_size must divide the map's size {size}, got {flatten_size}")
            layers, size = [nn.AdaptiveAvgPool2d(flatten_size), nn.Flatten()], flatten_size
        features = channels * size * size
    else:
        pool = nn.AdaptiveAvgPool2d(1) if head == "gap" else nn.AdaptiveMaxPool2d(1)
        layers, features = [pool, nn.Flatten()], channels
    return nn.Sequential(*layers, *class_layers(features, n_classes, hidden))


def class_layers(features: int, n_classes: int, hidden: int | None = None) -> nn.Sequential:
    """A linear class layer, or a hidden layer of ``hidden`` units, ReLU and the class layer. Every builder of chapters 3-8."""
    if hidden is None:
        return nn.Sequential(nn.Linear(features, n_classes))
    hidden = check_int("hidden", hidden, minimum=1)
    return nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))


def conv_output_size(size: int | None, kernel: int, stride: int = 1, pad: int = 0, dilation: int = 1):
    """The side of a conv's (or pooling's) output map, ``None`` when the input side is unknown. Every builder of chapters 3-8."""
    if size is None:
        return None
    return (size + 2 * pad - dilation * (kernel - 1) - 1) // stride + 1


def kaiming_init_(model: nn.Module) -> nn.Module:
    """Re-initialise every conv layer for ReLU networks (He normal weights, zero bias); return ``model``.

    PyTorch's default initialisation shrinks the signal at every layer, so the small
    deep networks of chapters 3 and 4 (no normalisation layers) sit on a loss plateau
    for several epochs; He initialisation lets every architecture start learning at
    once, which keeps the comparison about architecture rather than about luck with
    the first steps. The linear head keeps its default initialisation. Draws from the
    global torch generator (the builders' ``init="kaiming"`` calls it after construction).
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return model


def apply_init(model: nn.Module, init: object) -> nn.Module:
    """``init="default"`` keeps PyTorch's initialisation; ``"kaiming"`` applies :func:`kaiming_init_`. Every builder of chapters 3-8."""
    init = check_choice("init", init, INITS)
    return kaiming_init_(model) if init == "kaiming" else model


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (chapters 3, 7, 8 compare networks of similar size)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def count_flops(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Floating-point operations of one forward pass on one input of shape ``input_shape`` ``(C, H, W)``.

    Counted by ``torch.utils.flop_counter`` from the operations the model actually runs
    (convolutions and matrix products; a multiply-add counts as two), so a C4 layer's four
    rotated filter copies count as four convolutions. Chapter 8 compares the training
    compute of a C4 network and a plain CNN with it.
    """
    from torch.utils.flop_counter import FlopCounterMode

    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise ValueError(f"input_shape must be (channels, height, width), got {input_shape!r}")
    shape = tuple(check_int(f"input_shape[{i}]", v, minimum=1) for i, v in enumerate(input_shape))
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(torch.zeros(1, *shape, device=device))
    finally:
        model.train(was_training)
    return int(counter.get_total_flops())


SAME_PADDING_MODES = ("zeros", "circular", "reflect", "replicate")


def with_padding(model: nn.Module, padding: str) -> nn.Module:
    """A copy of ``model`` whose convolutions pad in mode ``padding``: the same weights, another border.

    Every ``Conv2d`` that pads (``padding > 0``) gets ``padding_mode=padding``; nothing else
    changes. Chapter 3 uses it to show that a trained zero-padded network's flips come from
    its border alone.
    """
    padding = check_choice("padding", padding, SAME_PADDING_MODES)
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    twin = copy.deepcopy(model)
    convs = [m for m in twin.modules() if isinstance(m, nn.Conv2d) and any(p > 0 for p in m.padding)]
    if not convs:
        raise ValueError("model must contain a Conv2d that pads its input")
    for conv in convs:
        conv.padding_mode = padding
    return twin


def classifier(model: nn.Module) -> nn.Linear:
    """The last linear layer of ``model`` (the one that outputs class scores; chapter 6)."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("model must contain an nn.Linear layer")
    return linears[-1]


def replace_classifier(model: nn.Module, n_classes: int) -> nn.Module:
    """Swap the last linear layer for a fresh one with ``n_classes`` outputs (in place; returns ``model``).

    Chapter 6 pretrains on some digit classes, then learns new classes this way, keeping
    every other layer as pretraining left it.
    """
    n_classes = check_int("n_classes", n_classes, minimum=2)
    old = classifier(model)
    new = nn.Linear(old.in_features, n_classes).to(old.weight.device)
    for parent in model.modules():
        for name, child in parent.named_children():
            if child is old:
                setattr(parent, name, new)
                return model
    raise ValueError("could not find the classifier's parent module")  # pragma: no cover


@torch.no_grad()
def penultimate(model: nn.Module, x: torch.Tensor, batch_size: int | None = None) -> torch.Tensor:
    """What ``model``'s last linear layer sees for ``x`` (on the CPU): the features it classifies.

    For a global-pooling head that is the pooled vector, for a hidden layer its ReLU output.
    ``batch_size=None`` sends ``x`` in one batch. Chapter 6 trains a new class layer on these
    fixed vectors; chapters 7 and 8 measure how much they move under a transformation.
    """
    x = check_tensor("x", x, min_dim=2)
    last = classifier(model)
    device = last.weight.device
    captured: list[torch.Tensor] = []
    hook = last.register_forward_hook(lambda _m, inputs, _out: captured.append(inputs[0].cpu()))
    parts = [x] if batch_size is None else x.split(check_int("batch_size", batch_size, minimum=1))
    try:
        model.eval()
        for part in parts:
            model(part.to(device))
    finally:
        hook.remove()
    return torch.cat(captured)
