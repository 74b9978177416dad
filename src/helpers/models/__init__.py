"""Every network the book trains, built from shared parts (:mod:`helpers.models.parts`).

- :class:`SmallCNN`: conv-ReLU blocks, a downsampling, a padding, a head (chapters 3-8);
  :func:`anti_aliased_cnn` (chapter 4) and :func:`location_net` (chapter 6) configure it;
- :class:`DilatedCNN`: a large receptive field without pooling (chapter 3);
- :func:`single_filter_net`, :class:`PaddedCNN`: Kayhan & van Gemert's networks (chapter 5);
- :class:`C4CNN`: a rotation-invariant group CNN (chapter 8).

Layers that are the subject of a chapter live with it: BlurPool and APS in
:mod:`helpers.antialias`, the C4 layers in :mod:`helpers.groups`.
"""

from helpers.models.cnn import DOWNSAMPLES, DilatedCNN, PaddedCNN, SmallCNN, single_filter_net
from helpers.models.group import C4CNN
from helpers.models.parts import (
    HEADS,
    PADDINGS,
    classifier,
    count_flops,
    count_parameters,
    kaiming_init_,
    make_head,
    penultimate,
    replace_classifier,
    with_padding,
)
from helpers.models.variants import anti_aliased_cnn, location_net

__all__ = [
    "C4CNN",
    "DOWNSAMPLES",
    "HEADS",
    "PADDINGS",
    "DilatedCNN",
    "PaddedCNN",
    "SmallCNN",
    "anti_aliased_cnn",
    "classifier",
    "count_flops",
    "count_parameters",
    "kaiming_init_",
    "location_net",
    "make_head",
    "penultimate",
    "replace_classifier",
    "single_filter_net",
    "with_padding",
]
