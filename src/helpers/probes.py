"""Probes of what a network's features encode (chapter 5): a linear read-out of pixel position.

Islam et al. (2020) ask whether absolute position can be read out of frozen conv features.
:func:`hypercolumns` stacks every layer's feature map at input resolution, each pixel taking
the unit centred nearest to it (:func:`unit_centres`); :func:`fit_linear_readout` fits ridge
regression from those per-pixel features to the :func:`coordinate_grid`, and
:func:`r_squared` says how much of the position it recovers.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from helpers._checks import check_int, check_tensor


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


def unit_centres(model: nn.Module, size: int) -> list[torch.Tensor]:
    """Where each unit of every layer sits on a ``size``-pixel input (chapter 5).

    One tensor per ``nn.ReLU`` of ``model.features``: the input coordinate (row or column,
    the same for both) of the centre of each unit's window, from the padding, stride and
    kernel of every convolution and pooling below it. Full padding puts units outside the
    frame (centre -1 for a 3-tap filter with two rings of zeros); valid padding starts
    inside it (centre 1).
    """
    size = check_int("size", size, minimum=1)
    if not isinstance(getattr(model, "features", None), nn.Sequential):
        raise ValueError("model must have an nn.Sequential attribute 'features' (SmallCNN, PaddedCNN)")
    offset, step, length, centres = 0.0, 1.0, size, []
    for layer in model.features:
        if isinstance(layer, nn.Conv2d | nn.MaxPool2d | nn.AvgPool2d):
            k, s, p = (v if isinstance(v, int) else v[0] for v in (layer.kernel_size, layer.stride, layer.padding))
            offset += step * ((k - 1) / 2 - p)
            step *= s
            length = (length + 2 * p - k) // s + 1
        elif isinstance(layer, nn.ReLU):
            centres.append(offset + step * torch.arange(length, dtype=torch.float64))
    if not centres:
        raise ValueError("model.features holds no nn.ReLU whose output could be read")
    return centres


def _nearest_units(centres: torch.Tensor, size: int) -> torch.Tensor:
    """For each pixel 0 .. size-1, the index of the unit centred nearest to it (ties: the lower)."""
    return (torch.arange(size, dtype=torch.float64)[:, None] - centres[None, :]).abs().argmin(dim=1)


def aligned_maps(model: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """Every layer's feature map brought to the input's pixels: ``(N, width, H, W)`` each (chapter 5).

    Each pixel takes the features of the unit centred nearest to it (:func:`unit_centres`),
    so a map lines up with the image whatever its padding: the ring of units that full
    padding adds outside the frame is never read, and a valid map's first unit stays where
    its window is. (A plain resize of a 34-pixel full map or a 30-pixel valid map to 32
    would shift every unit away from its pixels.)
    """
    x = check_tensor("x", x, min_dim=4)
    if x.shape[-2] != x.shape[-1]:
        raise ValueError(f"x must hold square images, got {tuple(x.shape[-2:])}")
    size = x.shape[-1]
    device = next(model.parameters()).device
    with torch.no_grad():
        maps = feature_maps(model.eval(), x.to(device))
    aligned = []
    for m, centres in zip(maps, unit_centres(model, size), strict=True):
        index = _nearest_units(centres, size).to(m.device)
        aligned.append(m.index_select(-2, index).index_select(-1, index).cpu())
    return aligned


def hypercolumns(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Every layer's feature map at the input's pixels, stacked: ``(N, sum of widths, H, W)``.

    Each pixel carries the features of every layer above it (:func:`aligned_maps`), the
    input to the position read-out of chapter 5.
    """
    return torch.cat(aligned_maps(model, x), dim=1)


def coordinate_grid(size: int, n: int = 1) -> torch.Tensor:
    """Normalised pixel coordinates ``(n, 2, size, size)``: channel 0 the row, channel 1 the column, in [0, 1]. Chapter 5."""
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
    """Predictions ``(N, T, H, W)`` of a read-out from :func:`fit_linear_readout`. Chapter 5."""
    features = check_tensor("features", features, min_dim=4)
    weights, mean, scale = readout
    if features.shape[1] != mean.shape[0]:
        raise ValueError(f"features must have {mean.shape[0]} channels, got {features.shape[1]}")
    n, _, h, w = features.shape
    x = (_pixels(features) - mean) / scale
    pred = x @ weights[:-1] + weights[-1]
    return pred.reshape(n, h, w, -1).permute(0, 3, 1, 2).float()


def r_squared(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Coefficient of determination, averaged over the target channels (dim 1): 1 is perfect, 0 is no better than the mean. Chapter 5."""
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


def readout_r2_by_layer(model: nn.Module, x: torch.Tensor, n_fit: int, ridge: float = 1e-2) -> list[float]:
    """R^2 of the position read-out from each layer's feature map alone, then from all of them (chapter 5).

    The first ``n_fit`` images of ``x`` fit a read-out of the :func:`coordinate_grid` per
    layer (its map at the input's pixels, as :func:`hypercolumns` builds it); the rest score it.
    Returns one value per ``nn.ReLU`` of ``model.features``, then the hypercolumn's value.
    """
    x = check_tensor("x", x, min_dim=4)
    n_fit = check_int("n_fit", n_fit, minimum=1)
    if n_fit >= len(x):
        raise ValueError(f"n_fit must leave images to score the read-out on: got {n_fit} of {len(x)}")
    maps = aligned_maps(model, x)
    targets = coordinate_grid(x.shape[-1], len(x))
    scores = []
    for features in [*maps, torch.cat(maps, dim=1)]:
        readout = fit_linear_readout(features[:n_fit], targets[:n_fit], ridge)
        scores.append(r_squared(apply_linear_readout(features[n_fit:], readout), targets[n_fit:]))
    return scores


def coverage(model: nn.Module, size: int) -> torch.Tensor:
    """How many paths lead from each input pixel to the last feature maps of ``model`` (chapter 5).

    Every convolution of a copy of ``model.features`` gets all-equal positive weights, so the
    ReLUs pass everything and the gradient of the summed last maps with respect to a
    ``size x size`` input counts, per pixel, the filter positions (over every layer) that
    read it. Returned as ``(size, size)``, divided by its largest value. Kayhan & van Gemert:
    with valid padding a border pixel is read by fewer positions than a central one.
    """
    size = check_int("size", size, minimum=2)
    if not isinstance(getattr(model, "features", None), nn.Sequential):
        raise ValueError("model must have an nn.Sequential attribute 'features' (SmallCNN, PaddedCNN)")
    features = copy.deepcopy(model.features).cpu().float()
    convs = [m for m in features.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError("model.features holds no nn.Conv2d")
    with torch.no_grad():
        for conv in convs:
            conv.weight.fill_(1.0 / conv.weight[0].numel())
            if conv.bias is not None:
                conv.bias.zero_()
    x = torch.ones(1, convs[0].in_channels, size, size, requires_grad=True)
    features(x).sum().backward()
    paths = x.grad[0].sum(0)
    return paths / paths.max()


@torch.no_grad()
def twin_gap(model: nn.Module, x: torch.Tensor, x_moved: torch.Tensor) -> float:
    """Largest change of a logit between each image of ``x`` and its twin in ``x_moved``,
    relative to the largest logit (chapter 5). Zero: the model cannot tell the twins apart,
    so no training can teach it to.
    """
    x, x_moved = check_tensor("x", x, min_dim=4), check_tensor("x_moved", x_moved, min_dim=4)
    if x.shape != x_moved.shape:
        raise ValueError(f"x and x_moved must have the same shape, got {tuple(x.shape)} and {tuple(x_moved.shape)}")
    device = next(model.parameters()).device
    model.eval()
    logits, moved = model(x.to(device)), model(x_moved.to(device))
    return ((logits - moved).abs().max() / logits.abs().max().clamp_min(1e-12)).item()


@torch.no_grad()
def blind_rows(model: nn.Module, size: int, channels: int = 3, seed: int = 4) -> int:
    """How many of a ``size x size`` image's bottom rows ``model.features`` ignores (chapter 5).

    The bottom ``k`` rows of four noise images are redrawn, for growing ``k``, until the last
    feature maps change; strided valid convolutions can leave the last rows out of every window.
    """
    size = check_int("size", size, minimum=2)
    channels = check_int("channels", channels, minimum=1)
    if not isinstance(getattr(model, "features", None), nn.Module):
        raise ValueError("model must have an attribute 'features' (SmallCNN, PaddedCNN)")
    device = next(model.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(4, channels, size, size, generator=gen)
    reference = model.eval().features(x.to(device))
    for k in range(1, size + 1):
        y = x.clone()
        y[:, :, size - k :, :] = torch.rand(4, channels, k, size, generator=gen)
        if not torch.equal(model.features(y.to(device)), reference):
            return k - 1
    return size
