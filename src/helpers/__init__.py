"""Helpers for the book *Are CNNs translation invariant?*.

Each module holds one kind of plumbing and names the chapters that use it:

- :mod:`helpers.repro`: seeds, thread count, device (every chapter)
- :mod:`helpers.shifts`: circular, zero-fill and crop shifts (chapters 1-8)
- :mod:`helpers.metrics`: batched invariance / equivariance errors (chapters 1-8)
- :mod:`helpers.data`: offline datasets (digits on a canvas, ...) (chapters 3-8)
- :mod:`helpers.models`: small CNNs shared by several chapters (chapters 3-8)
- :mod:`helpers.training`: training loop, prediction, accuracy (chapters 3-8)
- :mod:`helpers.plotting`: figures (every chapter)
- :mod:`helpers.widgets`: ipywidgets explorers (chapters 1, 5)
- :mod:`helpers.book`: glue numbers into the prose, exercise checkers
"""

__version__ = "0.1.0"
