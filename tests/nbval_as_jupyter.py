"""A pytest plugin for ``make notebooks``: nbval runs each cell as Jupyter does, with history.

nbval sends every cell with ``store_history=False``. IPython decides whether a trailing ``;``
silences a cell's last value by looking at the latest history entry, so under plain nbval
``check_exercise(...);`` shows ``False`` where Jupyter, the book's build and a reader show
nothing, and the comparison with the build fails. With history stored, nbval's run is a
reader's run.
"""

from __future__ import annotations

from nbval.kernel import RunningKernel


def _execute_cell_input(self, cell_input, allow_stdin=None):
    return self.kc.execute(cell_input, store_history=True, allow_stdin=allow_stdin, stop_on_error=False)


RunningKernel.execute_cell_input = _execute_cell_input
