"""Padding and absolute position (chapter 5, ``chapters/05_padding_and_position.ipynb``).

- :func:`single_filter_net`: Kayhan & van Gemert's one-filter network (one conv, ReLU,
  global max pool, linear layer), built from :class:`helpers.models.SmallCNN`.
- :class:`PaddedCNN`: their four-layer Red-Green network with ``"valid"``, ``"same"``,
  ``"full"`` or ``"circular"`` padding (``SmallCNN`` has no full padding).
- :func:`hypercolumns`, :func:`coordinate_grid`, :func:`fit_linear_readout`,
  :func:`r_squared`: a linear read-out of pixel coordinates from frozen conv features
  (Islam et al. 2020).
- :func:`patch_frames`, :func:`plot_patch_frame`, :func:`patch_explorer`: move a patch
  across the image and record the network's evidence; the frames are plain NumPy arrays,
  so the same data feed the live widget, the static figure and a kernel-free slider.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from helpers._checks import check_choice, check_int, check_tensor
from helpers.data import place_on_canvas
from helpers.models import SmallCNN

RED_GREEN_PADDINGS = ("valid", "same", "full", "circular")


def single_filter_net(padding: str = "zeros", kernel_size: int = 5, in_channels: int = 1) -> SmallCNN:
    """One ``kernel_size`` filter without bias, ReLU, global max pooling and a linear layer (2 classes).

    ``padding`` is a :class:`~helpers.models.SmallCNN` padding (``"zeros"``, ``"circular"``,
    ``"valid"``, ...). The filter starts with zero mean and the linear layer with zero bias:
    with a single filter, a start whose strongest response lies inside the patch for both
    classes can stall training at a symmetric point (chapter 5 explains why).
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


class PaddedCNN(nn.Module):
    """Kayhan & van Gemert's Red-Green network (chapter 5): four bias-free convs, global max pool, linear.

    The convolutions have strides 1, 2, 2, 2 and ``kernel_size`` taps; ``padding`` is

    - ``"valid"``: no padding (each layer shrinks the map);
    - ``"same"``: ``kernel_size // 2`` zeros (the usual choice);
    - ``"full"``: ``kernel_size - 1`` zeros, so every input pixel meets every filter tap;
    - ``"circular"``: ``kernel_size // 2`` samples wrapped around from the opposite side.
    """

    def __init__(
        self,
        padding: str = "same",
        widths: tuple[int, ...] = (8, 8, 16, 16),
        kernel_size: int = 3,
        in_channels: int = 3,
        n_classes: int = 2,
    ) -> None:
        super().__init__()
        self.padding = check_choice("padding", padding, RED_GREEN_PADDINGS)
        kernel_size = check_int("kernel_size", kernel_size, minimum=1)
        in_channels = check_int("in_channels", in_channels, minimum=1)
        n_classes = check_int("n_classes", n_classes, minimum=2)
        if len(widths) == 0:
            raise ValueError("widths must name at least one layer")
        pad = {"valid": 0, "same": kernel_size // 2, "full": kernel_size - 1, "circular": kernel_size // 2}
        layers: list[nn.Module] = []
        channels = in_channels
        for i, width in enumerate(widths):
            width = check_int(f"widths[{i}]", width, minimum=1)
            layers.append(
                nn.Conv2d(
                    channels,
                    width,
                    kernel_size,
                    stride=1 if i == 0 else 2,
                    padding=pad[self.padding],
                    padding_mode="circular" if self.padding == "circular" else "zeros",
                    bias=False,
                )
            )
            layers.append(nn.ReLU())
            channels = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(channels, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def feature_maps(model: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """The output of every ``nn.ReLU`` in ``model.features``, in order (chapter 5)."""
    x = check_tensor("x", x, min_dim=4)
    if not isinstance(getattr(model, "features", None), nn.Sequential):
        raise ValueError("model must have an nn.Sequential attribute 'features' (SmallCNN, PaddedCNN)")
    maps = []
    for layer in model.features:
        x = layer(x)
        if isinstance(layer, nn.ReLU):
            maps.append(x)
    if not maps:
        raise ValueError("model.features holds no nn.ReLU whose output could be read")
    return maps


@torch.no_grad()
def hypercolumns(model: nn.Module, x: torch.Tensor, size: int | None = None) -> torch.Tensor:
    """Every layer's feature map resized (nearest) to ``size`` and stacked: ``(N, sum of widths, size, size)``.

    Each pixel then carries the features of every layer above it, the input to the
    position read-out of chapter 5. ``size`` defaults to the input's height.
    """
    x = check_tensor("x", x, min_dim=4)
    size = x.shape[-2] if size is None else check_int("size", size, minimum=1)
    device = next(model.parameters()).device
    maps = feature_maps(model.eval(), x.to(device))
    return torch.cat([F.interpolate(m, size=(size, size), mode="nearest") for m in maps], dim=1)


def coordinate_grid(size: int, n: int = 1) -> torch.Tensor:
    """Normalised pixel coordinates ``(n, 2, size, size)``: channel 0 the row, channel 1 the column, in [0, 1]."""
    size = check_int("size", size, minimum=2)
    n = check_int("n", n, minimum=1)
    ramp = torch.arange(size, dtype=torch.float32) / (size - 1)
    grid = torch.stack([ramp[:, None].expand(size, size), ramp[None, :].expand(size, size)])
    return grid.expand(n, 2, size, size).clone()


def _pixels(maps: torch.Tensor) -> torch.Tensor:
    """``(N, C, H, W)`` -> ``(N * H * W, C)`` in float64."""
    return maps.permute(0, 2, 3, 1).reshape(-1, maps.shape[1]).double().cpu()


def fit_linear_readout(
    features: torch.Tensor, targets: torch.Tensor, ridge: float = 1e-2
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Ridge regression from per-pixel ``features (N, C, H, W)`` to ``targets (N, T, H, W)``.

    Features are standardised first, each channel's spread clamped at a tenth of the largest
    channel's, so that a channel that is almost always zero in the fitting images cannot
    blow up on others; ``ridge`` is the penalty per sample. Returns ``(weights, mean, scale)``
    for :func:`apply_linear_readout`. Chapter 5 reads pixel coordinates out this way.
    """
    features = check_tensor("features", features, min_dim=4)
    targets = check_tensor("targets", targets, min_dim=4)
    if features.shape[0] != targets.shape[0] or features.shape[2:] != targets.shape[2:]:
        raise ValueError(
            f"features {tuple(features.shape)} and targets {tuple(targets.shape)} must agree on N, H and W"
        )
    if ridge < 0:
        raise ValueError(f"ridge must be >= 0, got {ridge}")
    x, y = _pixels(features), _pixels(targets)
    spread = x.std(0)
    mean, scale = x.mean(0), spread.clamp_min(max(0.1 * spread.max().item(), 1e-12))
    x = torch.cat([(x - mean) / scale, torch.ones(len(x), 1, dtype=x.dtype)], dim=1)
    penalty = ridge * len(x) * torch.eye(x.shape[1], dtype=x.dtype)
    penalty[-1, -1] = 0.0  # the intercept is not penalised
    weights = torch.linalg.solve(x.T @ x + penalty, x.T @ y)
    return weights, mean, scale


def apply_linear_readout(features: torch.Tensor, readout: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """Predictions ``(N, T, H, W)`` of a read-out from :func:`fit_linear_readout`."""
    features = check_tensor("features", features, min_dim=4)
    weights, mean, scale = readout
    if features.shape[1] != mean.shape[0]:
        raise ValueError(f"features must have {mean.shape[0]} channels, got {features.shape[1]}")
    n, _, h, w = features.shape
    x = (_pixels(features) - mean) / scale
    pred = x @ weights[:-1] + weights[-1]
    return pred.reshape(n, h, w, -1).permute(0, 3, 1, 2).float()


def r_squared(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Coefficient of determination, averaged over the target channels (dim 1): 1 is perfect, 0 is no better than the mean."""
    pred = check_tensor("pred", pred, min_dim=2)
    target = check_tensor("target", target, min_dim=2)
    if pred.shape != target.shape:
        raise ValueError(
            f"pred and target must have the same shape, got {tuple(pred.shape)} and {tuple(target.shape)}"
        )
    p = pred.transpose(0, 1).reshape(pred.shape[1], -1).double()
    t = target.transpose(0, 1).reshape(target.shape[1], -1).double().to(p.device)
    residual = ((p - t) ** 2).sum(1)
    total = ((t - t.mean(1, keepdim=True)) ** 2).sum(1).clamp_min(1e-12)
    return (1.0 - residual / total).mean().item()


def all_positions(image_size: int, patch_size: int, step: int = 1) -> torch.Tensor:
    """Every top-left ``(row, col)`` that keeps a ``patch_size`` patch inside, on a grid of ``step``: ``(P, 2)``."""
    image_size = check_int("image_size", image_size, minimum=1)
    patch_size = check_int("patch_size", patch_size, minimum=1)
    step = check_int("step", step, minimum=1)
    if patch_size > image_size:
        raise ValueError(f"patch_size must be <= image_size ({image_size}), got {patch_size}")
    coords = torch.arange(0, image_size - patch_size + 1, step)
    return torch.cartesian_prod(coords, coords)


@torch.no_grad()
def patch_frames(
    model: nn.Module,
    patch: torch.Tensor,
    image_size: int = 32,
    positions: torch.Tensor | None = None,
    step: int = 1,
) -> dict[str, np.ndarray]:
    """Place ``patch`` at every position, run the single-filter ``model`` once on the whole stack.

    ``patch`` is ``(h, w)`` or ``(1, h, w)``; ``positions`` an ``(F, 2)`` tensor of top-left
    corners (default: :func:`all_positions` with ``step``). Returns NumPy arrays, one entry
    per frame (chapter 5's explorer, static figure and slider all draw from them):

    - ``positions`` ``(F, 2)``; ``images`` ``(F, H, W)``: the input;
    - ``responses`` ``(F, H', W')``: the filter's map after ReLU (channel 0 of ``model.features``);
    - ``evidence`` ``(F,)``: logit of "bottom-right" minus logit of "top-left";
    - ``pooled`` ``(F,)``: the largest response (what the global max pool keeps);
    - ``peak`` ``(F, 2)``: where it is, or ``(-1, -1)`` when the response is zero everywhere.
    """
    patch = check_tensor("patch", patch, min_dim=2)
    if patch.dim() == 3 and patch.shape[0] == 1:
        patch = patch[0]
    if patch.dim() != 2:
        raise ValueError(f"patch must be (h, w) or (1, h, w), got shape {tuple(patch.shape)}")
    image_size = check_int("image_size", image_size, minimum=1)
    if positions is None:
        if patch.shape[0] != patch.shape[1]:
            raise ValueError("patch must be square when positions is not given")
        positions = all_positions(image_size, patch.shape[0], step)
    positions = check_tensor("positions", positions, min_dim=2)
    if positions.dim() != 2 or positions.shape[1] != 2:
        raise ValueError(f"positions must have shape (F, 2), got {tuple(positions.shape)}")
    images = place_on_canvas(
        patch.cpu()[None, None].expand(len(positions), 1, *patch.shape), positions.cpu(), image_size
    )
    device = next(model.parameters()).device
    model.eval()
    responses = model.features(images.to(device))[:, 0]
    logits = model.head(responses[:, None])
    pooled, flat = responses.flatten(1).max(1)
    width = responses.shape[-1]
    peak = torch.stack([flat // width, flat % width], dim=1)
    peak[pooled <= 0] = -1
    return {
        "positions": positions.cpu().numpy().astype(np.int64),
        "images": images[:, 0].numpy(),
        "responses": responses.cpu().numpy(),
        "evidence": (logits[:, 1] - logits[:, 0]).cpu().numpy(),
        "pooled": pooled.cpu().numpy(),
        "peak": peak.cpu().numpy().astype(np.int64),
    }


def evidence_map(frames: dict[str, np.ndarray]) -> np.ndarray:
    """The frames' evidence as a ``(rows, cols)`` map over patch positions (frames on a full grid)."""
    pos = frames["positions"]
    rows, cols = np.unique(pos[:, 0]), np.unique(pos[:, 1])
    if len(pos) != len(rows) * len(cols):
        raise ValueError("frames must cover a full grid of positions (see all_positions)")
    out = np.full((len(rows), len(cols)), np.nan)
    out[np.searchsorted(rows, pos[:, 0]), np.searchsorted(cols, pos[:, 1])] = frames["evidence"]
    return out


def plot_patch_frame(frames: dict[str, np.ndarray], index: int, title: str = "") -> plt.Figure:
    """Three panels for frame ``index``: the input, the filter's response (peak marked), the evidence so far.

    The response is scaled to its own maximum (the pooled value, printed above it). The
    third panel plots the evidence of frames ``0 .. index`` against the step along the
    path, on fixed axes, so a sequence of frames reads like a film (chapter 5).
    """
    n = len(frames["evidence"])
    index = check_int("index", index, minimum=0)
    if index >= n:
        raise ValueError(f"index must be < {n} (the number of frames), got {index}")
    fig, axes = plt.subplots(1, 3, figsize=(9, 2.9), gridspec_kw={"width_ratios": [1, 1, 1.4]})
    (row, col), (pr, pc) = frames["positions"][index], frames["peak"][index]
    axes[0].imshow(frames["images"][index], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    axes[0].set_title(f"patch at ({row}, {col})", fontsize=9)
    pooled = float(frames["pooled"][index])
    axes[1].imshow(
        frames["responses"][index], cmap="magma", vmin=0, vmax=pooled or 1.0, interpolation="nearest"
    )
    if pr >= 0:
        axes[1].plot(pc, pr, "c+", ms=12, mew=2)
    axes[1].set_title(
        f"response, max {pooled:.2f} (+)" if pooled > 0 else "response: zero everywhere", fontsize=9
    )
    for ax in axes[:2]:
        ax.set_xticks([])
        ax.set_yticks([])
    ev = frames["evidence"]
    axes[2].plot(np.arange(index + 1), ev[: index + 1], "o-", ms=3, color="C0")
    axes[2].axhline(0, color="0.6", lw=0.8)
    pad = 0.1 * (float(ev.max() - ev.min()) or 1.0)
    axes[2].set_xlim(-0.5, n - 0.5)
    axes[2].set_ylim(float(ev.min()) - pad, float(ev.max()) + pad)
    axes[2].set_xlabel("step along the path")
    axes[2].set_ylabel("evidence for bottom-right")
    axes[2].grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


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
            axes[0].imshow(frames["images"][i], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            axes[0].set_title(f"patch at ({row}, {col})", fontsize=9)
            pooled = float(frames["pooled"][i])
            axes[1].imshow(
                frames["responses"][i], cmap="magma", vmin=0, vmax=pooled or 1.0, interpolation="nearest"
            )
            pr, pc = frames["peak"][i]
            if pr >= 0:
                axes[1].plot(pc, pr, "c+", ms=12, mew=2)
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
