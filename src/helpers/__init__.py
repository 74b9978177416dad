"""Helpers for the book *Are CNNs translation invariant?*.

Each module holds one concept and names the chapters that use it:

- :mod:`helpers.repro`: seeds, thread count, device (every chapter)
- :mod:`helpers.shifts`: circular, zero-fill and crop shifts (chapters 1-8)
- :mod:`helpers.metrics`: batched invariance / equivariance errors, consistency (chapters 1-8)
- :mod:`helpers.data`: offline datasets (digits on a canvas, corner patches, Red-Green),
  placements, relabelling (chapters 3-8)
- :mod:`helpers.models`: every network the book trains, from shared parts (chapters 3-8)
- :mod:`helpers.training`: ``train_runs`` (every recipe with every seed), the training loop,
  prediction, accuracy (chapters 3-8)
- :mod:`helpers.claims`: checks on trained networks, with margins other machines keep (chapters 3-8)
- :mod:`helpers.plotting`: figures (every chapter)
- :mod:`helpers.widgets`: ipywidgets explorers and kernel-free sliders (chapters 1, 5)
- :mod:`helpers.page_network`: trained networks written into the page and run there by a short
  JavaScript forward pass, with no kernel: the live figure (chapter 4)
- :mod:`helpers.book`: glue numbers (and a mean with its interval) into the prose, results tables, exercise checkers
- :mod:`helpers.receptive`: receptive fields: closed form, layer table, gradient (chapter 3)
- :mod:`helpers.aliasing`, :mod:`helpers.antialias`: aliasing demos, BlurPool, adaptive
  polyphase sampling (chapters 4, 6)
- :mod:`helpers.imagenet`: EfficientNet-Lite0 with its ImageNet weights (offline), photographs,
  views and windows, circular padding and a BlurPool retrofit, per-stage errors (chapter 4b)
- :mod:`helpers.probes`: a linear read-out of position from frozen features (chapter 5)
- :mod:`helpers.sweeps`: an object at every place on a canvas, in one batch (chapters 5, 6)
- :mod:`helpers.augment`: per-sample torchvision augmentation, rotated and scaled copies,
  random placement (chapters 6, 7, 8)
- :mod:`helpers.groups`: C4 lifting and group convolutions, group pooling (chapter 8)
- :mod:`helpers.datasets`: MNIST / Fashion-MNIST / CIFAR-10 files for runs beyond the offline
  digits (no chapter yet)
- :mod:`helpers.execution`: run a notebook, measure it, read back the build's executions
  (bench, robust, ``make test``)
"""

__version__ = "0.1.0"
