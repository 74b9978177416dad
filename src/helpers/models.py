"""Small CNNs shared by the chapters that train networks (3-8).

:class:`SmallCNN` is one configurable network so that chapters compare architectures
that differ in exactly one choice: how they downsample, how they pad, and how the
head turns feature maps into class scores.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from helpers._checks import check_choice, check_int

HEADS = ("gap", "gmp", "flatten")
DOWNSAMPLES = ("maxpool", "avgpool", "stride", "none")
PADDINGS = ("zeros", "circular", "reflect", "replicate", "valid")

DownsampleFactory = Callable[[int], nn.Module]


class SmallCNN(nn.Module):
    """``len(widths)`` conv-ReLU blocks, each optionally followed by a 2x downsampling, then a head.

    - ``downsample``: ``"maxpool"`` / ``"avgpool"`` (kernel 2, stride 2), ``"stride"``
      (the block's conv has stride 2), ``"none"``, or a factory ``channels -> nn.Module``
      (e.g. a BlurPool, chapter 4).
    - ``padding``: a ``Conv2d`` padding mode, or ``"valid"`` for no padding.
    - ``head``: ``"gap"`` global average pooling, ``"gmp"`` global max pooling, or
      ``"flatten"`` (a linear layer over every position; needs ``input_size``).
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
    ) -> None:
        super().__init__()
        in_channels = check_int("in_channels", in_channels, minimum=1)
        n_classes = check_int("n_classes", n_classes, minimum=2)
        kernel_size = check_int("kernel_size", kernel_size, minimum=1)
        if not widths:
            raise ValueError("widths must name at least one block")
        padding = check_choice("padding", padding, PADDINGS)
        head = check_choice("head", head, HEADS)
        if not callable(downsample):
            downsample = check_choice("downsample", downsample, DOWNSAMPLES)
        if head == "flatten" and input_size is None:
            raise ValueError("input_size must be given when head='flatten'")

        layers: list[nn.Module] = []
        size, channels = input_size, in_channels
        pad = 0 if padding == "valid" else kernel_size // 2
        for width in widths:
            stride = 2 if downsample == "stride" else 1
            layers.append(
                nn.Conv2d(
                    channels,
                    width,
                    kernel_size,
                    stride=stride,
                    padding=pad,
                    padding_mode="zeros" if padding == "valid" else padding,
                )
            )
            layers.append(nn.ReLU())
            if size is not None:
                size = (size + 2 * pad - kernel_size) // stride + 1
            if downsample in ("maxpool", "avgpool"):
                layers.append(nn.MaxPool2d(2) if downsample == "maxpool" else nn.AvgPool2d(2))
                size = None if size is None else size // 2
            elif callable(downsample):
                layers.append(downsample(width))
                size = None if size is None else -(-size // 2)
            channels = width
        self.features = nn.Sequential(*layers)
        if head == "flatten":
            if size is None or size < 1:
                raise ValueError(f"input_size={input_size} leaves no feature map for the flatten head")
            self.head = nn.Sequential(nn.Flatten(), nn.Linear(channels * size * size, n_classes))
        else:
            pool = nn.AdaptiveAvgPool2d(1) if head == "gap" else nn.AdaptiveMaxPool2d(1)
            self.head = nn.Sequential(pool, nn.Flatten(), nn.Linear(channels, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
