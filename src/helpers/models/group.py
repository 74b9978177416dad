"""A C4 group CNN, exactly invariant to 90-degree rotations (chapter 8); its layers are in :mod:`helpers.groups`."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from helpers._checks import check_int
from helpers.groups import C4BatchNorm, GroupConvC4, LiftingConvC4, group_pool, rotation_safe_maxpool


class C4CNN(nn.Module):
    """A small C4 group CNN whose output is exactly invariant to 90-degree input rotations (chapter 8).

    Lifting conv -> ReLU -> pool, then ``len(widths) - 1`` blocks of group conv -> ReLU -> pool,
    then max over rotations (:func:`group_pool`), global average pooling over space and a
    linear classifier. ``pool=False`` skips the spatial pooling. ``batch_norm=True`` puts a
    :class:`helpers.groups.C4BatchNorm` between every C4 convolution (then without bias) and
    its ReLU, as ``SmallCNN(batch_norm=True)`` does. With ``widths=(w1, w2, ...)``
    it has about as many parameters as :class:`helpers.models.SmallCNN` with widths
    ``(2 * w1, 2 * w2, ...)`` but four times its convolution cost.
    """

    def __init__(
        self,
        in_channels: int = 1,
        n_classes: int = 10,
        widths: Sequence[int] = (8, 16, 16),
        kernel_size: int = 3,
        pool: bool = True,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(batch_norm, bool):
            raise ValueError(f"batch_norm must be True or False, got {batch_norm!r}")
        in_channels = check_int("in_channels", in_channels, minimum=1)
        n_classes = check_int("n_classes", n_classes, minimum=2)
        if isinstance(widths, (int, str)) or len(widths) == 0:
            raise ValueError(f"widths must be a non-empty sequence of channel counts, got {widths!r}")
        widths = [check_int(f"widths[{i}]", w, minimum=1) for i, w in enumerate(widths)]
        self.pool = bool(pool)
        self.lift = LiftingConvC4(in_channels, widths[0], kernel_size, bias=not batch_norm)
        self.gconvs = nn.ModuleList(
            GroupConvC4(a, b, kernel_size, bias=not batch_norm) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.norms = nn.ModuleList(C4BatchNorm(w) for w in widths) if batch_norm else None
        self.classifier = nn.Linear(widths[-1], n_classes)

    def group_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The C4 feature maps ``(N, C, 4, H, W)`` after every block (ReLU and pooling applied)."""
        maps = []
        y = x
        for i, layer in enumerate([self.lift, *self.gconvs]):
            y = layer(y)
            if self.norms is not None:
                y = self.norms[i](y)
            y = F.relu(y)
            if self.pool:
                y = rotation_safe_maxpool(y)
            maps.append(y)
        return maps

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The invariant penultimate vector ``(N, C)``: max over rotations, mean over space."""
        return group_pool(self.group_features(x)[-1], "max").mean(dim=(-2, -1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
