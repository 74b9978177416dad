"""Interactive explorers (ipywidgets) for the live notebook.

Each explorer has a static figure beside it in the chapter, so the HTML book makes the
same point without a kernel. Chapter 1 uses :func:`shift_explorer`.
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import torch

from helpers.shifts import MODES, shift


def shift_explorer(
    image: torch.Tensor,
    views: dict[str, Callable[[torch.Tensor], torch.Tensor]] | None = None,
    max_offset: int | None = None,
):
    """Sliders for ``(dy, dx)`` and a shift-kind menu; shows the shifted image and each view of it.

    ``views`` maps a title to a function of the shifted ``(H, W)`` image returning an image.
    """
    import ipywidgets as widgets

    if image.dim() != 2:
        raise ValueError(f"image must be 2-D (H, W), got shape {tuple(image.shape)}")
    views = views or {}
    max_offset = max_offset or min(image.shape) // 2
    out = widgets.Output()

    def draw(dy: int, dx: int, mode: str) -> None:
        margin = max_offset if mode == "crop" else None
        moved = shift(image, (dy, dx), mode=mode, margin=margin)
        panels = {"shifted input": moved, **{k: v(moved) for k, v in views.items()}}
        with out:
            out.clear_output(wait=True)
            fig, axes = plt.subplots(1, len(panels), figsize=(3 * len(panels), 3), squeeze=False)
            for ax, (title, panel) in zip(axes[0], panels.items(), strict=True):
                ax.imshow(panel.detach().cpu(), cmap="gray", interpolation="nearest")
                ax.set_title(title, fontsize=9)
                ax.axis("off")
            plt.show()

    slider = dict(min=-max_offset, max=max_offset, value=0, continuous_update=False)
    controls = widgets.interactive(
        draw,
        dy=widgets.IntSlider(description="dy", **slider),
        dx=widgets.IntSlider(description="dx", **slider),
        mode=widgets.Dropdown(options=list(MODES), value="circular", description="shift"),
    )
    return widgets.VBox([controls, out])
