"""Interactive figures: live ipywidgets explorers, and kernel-free frame sliders.

An ipywidgets explorer needs a running kernel; beside each one a chapter shows a
:class:`FrameSlider` of precomputed frames, which works in the static HTML book too.
Chapter 1 uses :func:`shift_explorer` and :func:`frame_slider`; chapter 5 uses
:func:`patch_explorer` and :func:`frame_slider`.
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
import torch

from helpers.plotting import draw_patch_panels
from helpers.shifts import MODES, shift


def shift_explorer(
    image: torch.Tensor,
    views: dict[str, Callable[[torch.Tensor], torch.Tensor]] | None = None,
    max_offset: int | None = None,
):
    """Sliders for ``(dy, dx)`` and a shift-kind menu; shows the shifted image and each view of it.

    ``views`` maps a title to a function of the shifted ``(H, W)`` image returning an image.

    Chapter 1.
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


class FrameSlider:
    """A kernel-free interactive figure: precomputed frames behind an HTML range slider.

    The frames are PNG images embedded in the notebook output with a few lines of inline
    JavaScript, so the slider works in the static HTML book and in Jupyter alike, with no
    kernel. Build one with :func:`frame_slider`.

    Chapters 1 and 5.
    """

    def __init__(self, frames: list[bytes], labels: list[str], title: str, alt: str) -> None:
        if not frames or len(frames) != len(labels):
            raise ValueError("frames must be non-empty and match labels one to one")
        self.frames, self.labels, self.title, self.alt = frames, labels, title, alt

    def _repr_html_(self) -> str:
        import base64
        import hashlib
        import html
        import json

        key = "fs-" + hashlib.sha1(b"".join(self.frames)).hexdigest()[:10]
        sources = [f"data:image/png;base64,{base64.b64encode(f).decode()}" for f in self.frames]
        last = len(self.frames) - 1
        return f"""
<figure class="frame-slider" id="{key}">
  <img src="{sources[0]}" alt="{html.escape(self.alt)}" style="max-width:100%">
  <figcaption>
    <label for="{key}-range">{html.escape(self.title)}</label>
    <input type="range" id="{key}-range" min="0" max="{last}" value="0" step="1" style="width:60%">
    <output for="{key}-range">{html.escape(self.labels[0])}</output>
  </figcaption>
  <script>
  (function() {{
    var root = document.getElementById("{key}");
    var frames = {json.dumps(sources)}, labels = {json.dumps(self.labels)};
    var input = root.querySelector("input"), img = root.querySelector("img"), out = root.querySelector("output");
    input.addEventListener("input", function() {{
      img.src = frames[input.value]; out.textContent = labels[input.value];
    }});
  }})();
  </script>
</figure>"""


def frame_slider(figures: list, labels: list[str], title: str, alt: str, dpi: int = 80) -> FrameSlider:
    """Render matplotlib figures (closed afterwards) into a :class:`FrameSlider`.

    ``title`` labels the slider; ``alt`` describes the figure for screen readers.

    Chapters 1 and 5.
    """
    import io

    frames = []
    for fig in figures:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
        plt.close(fig)
        frames.append(buffer.getvalue())
    return FrameSlider(frames, list(labels), title, alt)


def patch_explorer(frames: dict[str, np.ndarray]):
    """An ipywidgets explorer over precomputed frames (row and column sliders) for chapter 5.

    Needs a running kernel; the chapter shows a static figure and a kernel-free slider
    built from the same frames beside it.
    """
    import ipywidgets as widgets

    pos = frames["positions"]
    lookup = {(int(r), int(c)): i for i, (r, c) in enumerate(pos)}
    rows, cols = sorted({int(r) for r in pos[:, 0]}), sorted({int(c) for c in pos[:, 1]})
    out = widgets.Output()
    ev = frames["evidence"]

    def draw(row: int, col: int) -> None:
        with out:
            out.clear_output(wait=True)
            i = lookup.get((row, col))
            if i is None:
                print(f"no frame at ({row}, {col})")
                return
            fig, axes = plt.subplots(1, 2, figsize=(6, 3))
            pooled = draw_patch_panels(axes, frames, i)
            verdict = "bottom-right" if ev[i] > 0 else "top-left"
            axes[1].set_title(f"max {pooled:.2f}; evidence {ev[i]:+.2f}: {verdict}", fontsize=9)
            for ax in axes:
                ax.axis("off")
            plt.show()

    step_r = rows[1] - rows[0] if len(rows) > 1 else 1
    step_c = cols[1] - cols[0] if len(cols) > 1 else 1
    controls = widgets.interactive(
        draw,
        row=widgets.IntSlider(min=rows[0], max=rows[-1], step=step_r, value=rows[0], continuous_update=False),
        col=widgets.IntSlider(min=cols[0], max=cols[-1], step=step_c, value=cols[0], continuous_update=False),
    )
    return widgets.VBox([controls, out])
