"""Named configurations of :class:`~helpers.models.cnn.SmallCNN` that chapters 4 and 6 train."""

from __future__ import annotations

from collections.abc import Sequence

from helpers._checks import check_choice, check_int
from helpers.models.cnn import SmallCNN
from helpers.models.parts import class_layers

ANTI_ALIASING = ("baseline", "blurpool", "conv-blurpool", "aps")
LOCATION_HEADS = ("flatten", "gap")


def anti_aliased_cnn(method: str = "baseline", filt_size: int = 4, pad_type: str = "reflect", **kwargs) -> SmallCNN:
    """A :class:`SmallCNN` whose downsampling is ``method`` (chapter 4):

    ``"baseline"`` (``MaxPool2d(2)``), ``"blurpool"`` (:func:`helpers.antialias.max_blur_pool`),
    ``"conv-blurpool"`` (stride-1 conv + ReLU + :func:`helpers.antialias.blur_pool`) or ``"aps"``
    (:func:`helpers.antialias.max_aps_pool`, plain APS). ``filt_size`` and ``pad_type`` are the
    BlurPool's. Other keyword arguments go to ``SmallCNN``; APS is exactly shift-invariant only
    with ``padding="circular"`` and ``head="gap"``.
    """
    from helpers import antialias

    method = check_choice("method", method, ANTI_ALIASING)
    if "downsample" in kwargs:
        raise ValueError("downsample is set by method; do not pass it")
    factory = {
        "baseline": lambda: "maxpool",
        "blurpool": lambda: antialias.max_blur_pool(filt_size, pad_type),
        "conv-blurpool": lambda: antialias.blur_pool(filt_size, pad_type),
        "aps": lambda: antialias.max_aps_pool(),
    }[method]()
    return SmallCNN(downsample=factory, **kwargs)


def location_net(
    head: str = "flatten",
    n_classes: int = 5,
    canvas_size: int = 24,
    widths: Sequence[int] = (16, 32),
    hidden: int = 64,
    antialias: bool = False,
    blur_size: int = 3,
    padding: str = "zeros",
) -> SmallCNN:
    """Conv-ReLU-maxpool blocks with a two-layer classifier on top (chapter 6).

    ``head="flatten"`` feeds every position of the last feature map to a hidden layer of
    ``hidden`` units (as VGG's classifier does); ``head="gap"`` first averages the map over
    all positions. Both then apply ReLU and a linear layer to ``n_classes`` scores, so the
    two networks differ in that one step only. ``antialias=True`` replaces each
    ``MaxPool2d(2)`` by Zhang's max-blur-pool (binomial filter of ``blur_size`` taps; chapter 4).
    ``padding="circular"`` pads every convolution, and the blur of the max-blur-pool, by
    wrapping round: the network then lives on a torus and has no border (chapter 6's control).
    """
    head = check_choice("head", head, LOCATION_HEADS)
    hidden = check_int("hidden", hidden, minimum=1)
    canvas_size = check_int("canvas_size", canvas_size, minimum=4)
    method = "blurpool" if antialias else "baseline"
    blur_size = check_int("blur_size", blur_size, minimum=1)
    padding = check_choice("padding", padding, ("zeros", "circular"))
    pad_type = "circular" if padding == "circular" else "reflect"
    model = anti_aliased_cnn(method, blur_size, pad_type, widths=tuple(widths), n_classes=n_classes, head=head,
                             input_size=canvas_size, padding=padding)
    # The class layer SmallCNN drew is replaced, not left out: chapter 6's numbers were drawn
    # from the torch random stream with that draw in it.
    model.head[-1] = class_layers(model.head[-1].in_features, n_classes, hidden)
    return model
