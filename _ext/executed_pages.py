"""What the kernels that execute the chapters for the HTML book see.

myst-nb starts each chapter's kernel from the build's own process, so the kernel inherits
its environment. Two settings make the executed pages show what a reader should see:

- ``MPLBACKEND`` is set to matplotlib's inline backend. A non-interactive backend inherited
  from the shell (``MPLBACKEND=Agg``) would otherwise reach the kernel, and ipykernel then
  keeps it: every figure is drawn and none is shown.
- ``HELPERS_PROGRESS=0`` hides the training progress bars (``helpers.training``); they
  belong in a live kernel or a terminal, not in a page.

The build's tests (``tests/book``) check both: every figure a chapter makes is on its page,
and no page holds a progress bar.
"""

from __future__ import annotations

import os

from helpers.execution import KERNEL_ENVIRONMENT


def setup(app):
    os.environ.update(KERNEL_ENVIRONMENT)  # before any notebook is executed (the read phase)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
