"""binder/ stays consistent with the root requirements.txt and with `make setup`."""

from __future__ import annotations

import json
import re
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _lines(path: Path) -> list[str]:
    return [line.split("#")[0].strip() for line in path.read_text().splitlines() if line.split("#")[0].strip()]


def test_binder_installs_the_book_requirements_by_reference_not_by_copy():
    lines = _lines(ROOT / "binder" / "requirements.txt")
    included = [line.split(maxsplit=1)[1] for line in lines if line.startswith("-r ")]
    assert included == ["../requirements.txt"]
    assert (ROOT / "binder" / included[0]).resolve() == (ROOT / "requirements.txt").resolve()
    own = [line for line in lines if not line.startswith(("-r ", "--extra-index-url")) and line != "."]
    assert not own, f"binder/requirements.txt pins packages of its own: {own}"
    for line in _lines(ROOT / "requirements.txt"):
        Requirement(line)  # every line of the included list is a plain requirement


def test_binder_installs_cpu_torch_and_the_helpers():
    lines = _lines(ROOT / "binder" / "requirements.txt")
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    assert "." in lines  # the helpers package, from the repository root


def test_jupyterlab_attaches_every_cell_on_binder_and_under_make_lab():
    """jupyterlab-myst evaluates a Markdown cell's {eval} numbers only once the cell is attached:
    with JupyterLab's default windowing, "Run All" leaves the cells out of view unevaluated."""
    overrides = json.loads((ROOT / "binder" / "overrides.json").read_text())
    assert overrides["@jupyterlab/notebook-extension:tracker"]["windowingMode"] == "none"
    post_build = (ROOT / "binder" / "postBuild").read_text()
    assert re.search(r"cp binder/overrides.json \"\$\{NB_PYTHON_PREFIX\}/share/jupyter/lab/settings/overrides.json\"", post_build)
    assert (ROOT / "binder" / "postBuild").stat().st_mode & 0o111, "postBuild must be executable"
    makefile = (ROOT / "Makefile").read_text()
    assert "cp binder/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json" in makefile
