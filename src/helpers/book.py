"""Book plumbing: glue measured numbers into the prose, and check readers' exercise answers.

:func:`glue` wraps ``myst_nb.glue`` so a notebook also runs where myst-nb is missing
(Colab), :func:`glue_with_interval` glues a mean with its 95% interval, and
:func:`check_exercise` is the checker behind every coding exercise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from helpers.claims import Interval, bounded, mean_interval


def glue(name: str, value: Any, display: bool = False) -> None:
    """Record ``value`` under ``name`` for the prose, which quotes it as ``{eval}`name` `` or
    ``{eval}`f"{name:.1%}"` ``.

    Plain Python numbers are glued, so a tensor or NumPy scalar becomes a ``float``/``int``.
    Two readers see it: the HTML book (myst-nb's glue store, read by the ``{eval}`` role of
    ``_ext/prose_numbers.py``) and a live kernel, where ``value`` is bound to ``name`` in the
    notebook's namespace so that jupyterlab-myst evaluates the same expression to the same
    text. Without myst-nb (e.g. on Colab) the value is printed instead.

    Every chapter.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be a Python identifier (the prose evaluates it), got {name!r}")
    if hasattr(value, "item") and getattr(value, "size", 1) in (1, ()) or isinstance(value, torch.Tensor):
        value = value.item()
    _bind_in_notebook(name, value)
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # e.g. on Colab: show the value instead
        print(f"{name} = {value}")
        return
    myst_glue(name, value, display=display)


def _bind_in_notebook(name: str, value: Any) -> None:
    """``name = value`` in the running IPython kernel's namespace (nothing outside a kernel)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.user_ns[name] = value


def glue_with_interval(
    name: str, values: Any, spec: str = ".1%", within: tuple[float, float] | None = (0.0, 1.0)
) -> None:
    """Glue a mean under ``name`` and its 95% interval as text, ``"low to high"`` formatted by
    ``spec``, under ``name + "_interval"``: the one way the book glues an interval.

    ``values`` holds one number per seed, per photograph, ... (their mean and Student-t
    interval are glued), or is an :class:`helpers.claims.Interval` already computed, such as a
    difference from :func:`helpers.claims.difference_interval`. The prose writes
    ``{eval}`f"{name:.1%}"` ({eval}`name_interval`)``, which reads
    ``"93.1% (91.0% to 95.2%)"``, the format of :func:`helpers.claims.interval_text` in tables.
    ``within`` cuts the interval's ends to the values the measure can take (the default suits
    a fraction); pass ``None`` for a difference, a loss or another unbounded measure.
    Chapters 3-8 (every chapter that glues an interval).
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be an identifier-like glue name, got {name!r}")
    interval = bounded(values if isinstance(values, Interval) else mean_interval(values), within)
    glue(name, interval.mean)
    glue(f"{name}_interval", f"{interval.low:{spec}} to {interval.high:{spec}}")


def _same(a: Any, b: Any, atol: float) -> bool:
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        a, b = torch.as_tensor(a), torch.as_tensor(b)
        return a.shape == b.shape and torch.allclose(a.double(), b.double(), atol=atol, rtol=0)
    if isinstance(a, float) or isinstance(b, float):
        return abs(float(a) - float(b)) <= atol
    return a == b


def check_exercise(
    answer: Any,
    reference: Any,
    cases: Sequence[tuple] = (),
    atol: float = 1e-6,
    hint: str = "",
) -> bool:
    """Tell the reader whether ``answer`` is right; return ``True`` when it is.

    ``answer`` is either a value (compared with ``reference``) or a function (called on
    every argument tuple in ``cases`` and compared with ``reference`` on the same). An
    answer left as ``None`` is reported as not attempted.

    Every chapter.
    """
    if answer is None:
        print("Not attempted yet: replace None with your answer and run this cell again.")
        return False
    if callable(reference):
        if not callable(answer):
            print("Expected a function.")
            return False
        if not cases:
            raise ValueError("cases must hold at least one argument tuple when checking a function")
        for args in cases:
            try:
                got = answer(*args)
            except Exception as exc:  # the reader's code failed: say so instead of raising
                print(f"Your function raised {type(exc).__name__}: {exc}")
                return False
            if not _same(got, reference(*args), atol):
                print(f"Not quite: wrong result for an input of shape {_shape(args)}. {hint}".strip())
                return False
    elif not _same(answer, reference, atol):
        print(f"Not quite. {hint}".strip())
        return False
    print("Correct!")
    return True


def _shape(args: tuple) -> str:
    return ", ".join(str(tuple(a.shape)) if isinstance(a, torch.Tensor) else repr(a) for a in args)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], floatfmt: str = ".3g"):
    """A Markdown table from headers and rows, as an ``IPython.display.Markdown`` object: a cell's
    last expression shows it (Jupyter and the HTML book render it); elsewhere pass it to
    ``display``. Floats are formatted with ``floatfmt``, anything else with ``str``. Every chapter."""
    if any(len(r) != len(headers) for r in rows):
        raise ValueError(f"rows must each have {len(headers)} entries, as headers has")
    from IPython.display import Markdown

    def cell(v: Any) -> str:
        return format(v, floatfmt) if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return Markdown("\n".join(lines))
