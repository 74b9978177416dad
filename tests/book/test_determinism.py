"""Every number a chapter reports is identical when the notebook runs twice.

The strict build (``make build-strict``) executes every notebook once with a clean cache and
keeps the executed notebooks in its execution cache (``_build/.jupyter_cache``); this test
executes each notebook again in a fresh kernel (``conftest.second_execution``, shared with
the figure test) and compares every glued value and every
printed results table.
Wall-clock values (glued as ``*_wallclock``) are the only exception.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import NOTEBOOKS, ROOT, second_execution

from helpers.execution import glued_values, markdown_outputs, reproducible

CACHE = ROOT / "_build" / ".jupyter_cache"


def _first_run(path: Path) -> dict:
    """The build's execution of ``path``, from the execution cache."""
    import nbformat
    from jupyter_cache import get_cache

    if not CACHE.exists():
        raise RuntimeError(f"{CACHE} missing: run `make build-strict` first")
    _, merged = get_cache(str(CACHE)).merge_match_into_notebook(nbformat.read(path, as_version=4))
    return json.loads(nbformat.writes(merged))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_second_run_reports_the_same_numbers(path):
    first = _first_run(path)
    second = second_execution(path)
    first_glued = reproducible(glued_values(first))
    assert first_glued, f"{path.name} glues no values"
    assert reproducible(second.glued) == first_glued
    assert second.tables == markdown_outputs(first)
