"""Plain CNNs: conv-ReLU blocks, a downsampling choice, a padding choice, a head (chapters 3-8).

:class:`SmallCNN` is one configurable network, so that chapters compare architectures that
differ in exactly one choice; the other builders are configurations the chapters name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from helpers._checks import check_choice, check_int, check_odd
from helpers.models.parts import PADDINGS, AddCoordinates, apply_init, check_head, conv_output_size, make_head

DOWNSAMPLES = ("maxpool", "avgpool", "stride", "none")
# "same" padding modes of a dilated network (no "valid": its maps keep the input size).
SAME_PADDINGS = tuple(p for p in PADDINGS if p != "valid")

DownsampleFactory = Callable[[int], nn.Module]


def _conv(channels: int, width: int, kernel: int, padding: str, stride: int = 1, dilation: int = 1, bias=True):
    """A conv with "same" padding in mode ``padding``, or none for ``"valid"``."""
    pad = 0 if padding == "valid" else dilation * (kernel // 2)
    mode = "zeros" if padding == "valid" else padding
    conv = nn.Conv2d(channels, width, kernel, stride=stride, padding=pad, dilation=dilation, padding_mode=mode, bias=bias)
    return conv, pad


def _widths(widths: Sequence[int]) -> list[int]:
    if isinstance(widths, (int, str)) or len(widths) == 0:
        raise ValueError(f"widths must name at least one block, got {widths!r}")
    return [check_int(f"widths[{i}]", w, minimum=1) for i, w in enumerate(widths)]


class SmallCNN(nn.Module):
    """``len(widths)`` conv-ReLU blocks, each optionally followed by a 2x downsampling, then a head.

    - ``downsample``: ``"maxpool"`` / ``"avgpool"`` (kernel 2, stride 2), ``"stride"``
      (the block's conv has stride 2), ``"none"``, or a factory ``channels -> nn.Module``
      (a BlurPool or APS layer, :func:`helpers.models.anti_aliased_cnn`, chapter 4).
    - ``padding``: a ``Conv2d`` padding mode, or ``"valid"`` for no padding (chapter 5).
    - ``head``: ``"gap"``, ``"gmp"`` or ``"flatten"`` (needs ``input_size``), with a hidden
      layer of ``hidden`` units when given (:func:`helpers.models.parts.make_head`).
    - ``init``: ``"default"`` or ``"kaiming"`` (:func:`helpers.models.parts.kaiming_init_`).
    - ``batch_norm``: a ``BatchNorm2d`` between every conv (then without bias) and its ReLU
      (chapter 8: it brings its networks to their plateau in fewer epochs).

    Chapters 3, 4, 6, 7 and 8 train it.
    """

    def __init__(
        self,
        in_channels: int = 1,
        n_classes: int = 10,
        widths: Sequence[int] = (16, 32, 64),
        kernel_size: int = 3,
        downsample: str | DownsampleFactory = "maxpool",
        padding: str = "zeros",
        head: str = "gap",
        input_size: int | None = None,
        hidden: int | None = None,
        init: str = "default",
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(batch_norm, bool):
            raise ValueError(f"batch_norm must be True or False, got {batch_norm!r}")
        in_channels = check_int("in_channels", in_channels, minimum=1)
        n_classes = check_int("n_classes", n_classes, minimum=2)
        kernel_size = check_int("kernel_size", kernel_size, minimum=1)
        widths = _widths(widths)
        padding = check_choice("padding", padding, PADDINGS)
        head = check_head(head, input_size)
        if not callable(downsample):
            downsample = check_choice("downsample", downsample, DOWNSAMPLES)

        layers: list[nn.Module] = []
        size, channels = input_size, in_channels
        for width in widths:
            stride = 2 if downsample == "stride" else 1
            conv, pad = _conv(channels, width, kernel_size, padding, stride, bias=not batch_norm)
            layers += [conv, nn.BatchNorm2d(width), nn.ReLU()] if batch_norm else [conv, nn.ReLU()]
            size = conv_output_size(size, kernel_size, stride, pad)
            if downsample in ("maxpool", "avgpool"):
                layers.append(nn.MaxPool2d(2) if downsample == "maxpool" else nn.AvgPool2d(2))
                size = None if size is None else size // 2
            elif callable(downsample):
                layers.append(downsample(width))
                size = None if size is None else -(-size // 2)
            channels = width
        self.features = nn.Sequential(*layers)
        if head == "flatten" and (size is None or size < 1):
            raise ValueError(f"input_size={input_size} leaves no feature map for the flatten head")
        self.head = make_head(head, channels, n_classes, size, hidden)
        apply_init(self, init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class DilatedCNN(nn.Module):
    """Stride-1 conv-ReLU blocks with growing dilation: a large receptive field, no pooling (chapter 3).

    Block ``l`` has ``widths[l]`` channels, a ``kernel_size`` kernel, dilation ``dilations[l]``
    and "same" padding in mode ``padding``, so every feature map keeps the input size. Head
    and ``init`` as in :class:`SmallCNN`; ``flatten_size`` averages the last map down to that
    many positions a side before a flatten head (:func:`helpers.models.parts.make_head`).
    Chapter 3 uses it to separate "large receptive field" and "a smaller head" from "pooling".
    """

    def __init__(
        self,
        in_channels: int = 1,
        n_classes: int = 10,
        widths: Sequence[int] = (8, 16, 16, 16),
        dilations: Sequence[int] = (1, 2, 4, 8),
        kernel_size: int = 3,
        head: str = "flatten",
        input_size: int | None = None,
        padding: str = "zeros",
        init: str = "default",
        flatten_size: int | None = None,
    ) -> None:
        super().__init__()
        padding = check_choice("padding", padding, SAME_PADDINGS)
        in_channels = check_int("in_channels", in_channels, minimum=1)
        n_classes = check_int("n_classes", n_classes, minimum=2)
        kernel_size = check_odd("kernel_size", kernel_size, "for 'same' padding")
        head = check_head(head, input_size)
        if input_size is not None:
            input_size = check_int("input_size", input_size, minimum=1)
        if not widths or len(widths) != len(dilations):
            raise ValueError(
                f"widths and dilations must be non-empty and of the same length, got {len(widths)} and {len(dilations)}"
            )
        layers: list[nn.Module] = []
        channels = in_channels
        for i, (width, d) in enumerate(zip(widths, dilations, strict=True)):
            width = check_int(f"widths[{i}]", width, minimum=1)
            d = check_int(f"dilations[{i}]", d, minimum=1)
            conv, _ = _conv(channels, width, kernel_size, padding, dilation=d)
            layers += [conv, nn.ReLU()]
            channels = width
        self.features = nn.Sequential(*layers)
        self.head = make_head(head, channels, n_classes, input_size, flatten_size=flatten_size)
        apply_init(self, init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def single_filter_net(padding: str = "zeros", kernel_size: int = 5, in_channels: int = 1) -> SmallCNN:
    """Kayhan & van Gemert's one-filter network (chapter 5): one bias-free ``kernel_size`` filter,
    ReLU, global max pooling and a linear layer (2 classes).

    ``padding`` is a :class:`SmallCNN` padding (``"zeros"``, ``"circular"``, ``"valid"``, ...).
    The filter starts with zero mean and the linear layer with zero bias: with a single
    filter, a start whose strongest response lies inside the patch for both classes can
    stall training at a symmetric point (chapter 5 explains why).
    """
    kernel_size = check_int("kernel_size", kernel_size, minimum=1)
    model = SmallCNN(
        in_channels, 2, widths=(1,), kernel_size=kernel_size, downsample="none", padding=padding, head="gmp"
    )
    conv = model.features[0]
    conv.register_parameter("bias", None)
    with torch.no_grad():
        conv.weight -= conv.weight.mean()
        model.head[-1].bias.zero_()
    return model


RED_GREEN_PADDINGS = ("valid", "same", "reflect", "full", "circular")


class PaddedCNN(nn.Module):
    """Kayhan & van Gemert's Red-Green network (chapter 5): four bias-free convs, global max pool, linear.

    The convolutions have strides 1, 2, 2, 2 and ``kernel_size`` taps; ``padding`` is

    - ``"valid"``: no padding (each layer shrinks the map);
    - ``"same"``: ``kernel_size // 2`` zeros (the usual choice);
    - ``"full"``: ``kernel_size - 1`` zeros, so every input pixel meets every filter tap
      (the padding :class:`SmallCNN` does not offer);
    - ``"reflect"``: ``kernel_size // 2`` samples mirrored at the border (no zeros);
    - ``"circular"``: ``kernel_size // 2`` samples wrapped around from the opposite side.

    ``coordinates=True`` makes it a CoordConv network (Liu et al. 2018): two channels holding
    each pixel's row and column (from -1 to 1) are appended to the input, so absolute position
    is given to the network outright rather than left for it to find at the border.
    """

    def __init__(
        self,
        padding: str = "same",
        widths: tuple[int, ...] = (8, 8, 16, 16),
        kernel_size: int = 3,
        in_channels: int = 3,
        n_classes: int = 2,
        coordinates: bool = False,
    ) -> None:
        super().__init__()
        self.padding = check_choice("padding", padding, RED_GREEN_PADDINGS)
        if not isinstance(coordinates, bool):
            raise ValueError(f"coordinates must be True or False, got {coordinates!r}")
        kernel_size = check_int("kernel_size", kernel_size, minimum=1)
        in_channels = check_int("in_channels", in_channels, minimum=1)
        n_classes = check_int("n_classes", n_classes, minimum=2)
        widths = _widths(widths)
        pad = {"valid": 0, "full": kernel_size - 1}.get(self.padding, kernel_size // 2)
        mode = self.padding if self.padding in ("reflect", "circular") else "zeros"
        layers: list[nn.Module] = [AddCoordinates()] if coordinates else []
        channels = in_channels + 2 * coordinates
        for i, width in enumerate(widths):
            layers.append(
                nn.Conv2d(
                    channels,
                    width,
                    kernel_size,
                    stride=1 if i == 0 else 2,
                    padding=pad,
                    padding_mode=mode,
                    bias=False,
                )
            )
            layers.append(nn.ReLU())
            channels = width
        self.features = nn.Sequential(*layers)
        self.head = make_head("gmp", channels, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
