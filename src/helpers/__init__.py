"""Helpers for the book *Are CNNs translation invariant?*.

Each module holds one kind of plumbing and names the chapters that use it:

- :mod:`helpers.repro`: seeds, thread count, device (every chapter)
- :mod:`helpers.shifts`: circular, zero-fill and crop shifts (chapters 1-8)
- :mod:`helpers.metrics`: batched invariance / equivariance errors (chapters 1-8)
- :mod:`helpers.data`: offline datasets (digits on a canvas, ...) (chapters 3-8)
- :mod:`helpers.models`: small CNNs shared by several chapters (chapters 3-8)
- :mod:`helpers.training`: training loop, prediction, accuracy (chapters 3-8)
- :mod:`helpers.claims`: checks on trained networks, with margins other machines keep (chapters 3-8)
- :mod:`helpers.plotting`: figures (every chapter)
- :mod:`helpers.widgets`: ipywidgets explorers (chapters 1, 5)
- :mod:`helpers.book`: glue numbers into the prose, exercise checkers
- :mod:`helpers.receptive`: receptive fields, a dilated CNN (chapter 3)
- :mod:`helpers.aliasing`, :mod:`helpers.antialias`: aliasing demos, BlurPool, adaptive
  polyphase sampling (chapters 4, 6)
- :mod:`helpers.position`: padding variants, position read-out, patch frames (chapter 5)
- :mod:`helpers.locations`: networks and sweeps for untrained locations (chapter 6)
- :mod:`helpers.augment`: per-sample torchvision augmentation, batched sweeps (chapter 7)
- :mod:`helpers.groups`: C4 lifting and group convolutions, group pooling (chapter 8)
- :mod:`helpers.datasets`: optional MNIST / Fashion-MNIST / CIFAR-10 for scaled-up runs
- :mod:`helpers.execution`: run a notebook, measure it, collect glued values and figures
  (bench, robust, tests)
"""

__version__ = "0.1.0"
