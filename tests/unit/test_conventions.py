"""The book's conventions, checked on every notebook in chapters/ (see CONTRIBUTING.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
TOC = (ROOT / "_toc.yml").read_text()
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def test_there_are_chapters():
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stripped_and_uses_python3(path):
    nb = _load(path)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name}: stored outputs (run nbstripout)"
            assert cell.get("execution_count") is None, f"{path.name}: stored execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_in_toc(path):
    stem = path.relative_to(ROOT).with_suffix("").as_posix()
    assert re.search(rf"file:\s*{re.escape(stem)}\s*$", TOC, re.M), f"{stem} missing from _toc.yml"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_follows_template(path):
    nb = _load(path)
    markdown = "\n".join(_source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert re.search(r"^# Chapter \d+: ", markdown, re.M), "title '# Chapter N: ...'"
    for heading in ("What you will learn", "Summary", "Exercises"):
        assert re.search(rf"^#+ {heading}", markdown, re.M), f"{path.name}: no '{heading}' section"
    code = [_source(c) for c in nb["cells"] if c["cell_type"] == "code"]
    assert any(re.search(r"^\s*assert\b", c, re.M) for c in code), f"{path.name}: no check cell"
    assert "dropdown" in markdown or any(
        "hide-input" in c.get("metadata", {}).get("tags", []) for c in nb["cells"]
    ), f"{path.name}: exercises need hidden solutions"


def test_colab_cell_is_identical_everywhere_and_points_at_the_repository():
    first_cells = {}
    for path in NOTEBOOKS:
        cell = _load(path)["cells"][0]
        assert cell["cell_type"] == "code", f"{path.name}: first cell must be the Colab cell"
        assert "remove-cell" in cell.get("metadata", {}).get("tags", []), (
            f"{path.name}: Colab cell not hidden"
        )
        first_cells[path.name] = _source(cell)
    assert len(set(first_cells.values())) == 1, f"Colab cells differ: {sorted(first_cells)}"
    cell = next(iter(first_cells.values()))
    assert "google.colab" in cell
    url = CONFIG["repository"]["url"].rstrip("/")
    assert f"git+{url}" in cell, "Colab cell must install from _config.yml's repository.url"
    assert "open(" not in cell and "_config" not in cell, "the Colab cell reads no other place"


def test_helpers_come_from_src():
    import helpers

    assert Path(helpers.__file__).resolve().parent == ROOT / "src" / "helpers"
    strays = [p for p in ROOT.glob("**/helpers.py") if ".venv" not in p.parts and "_build" not in p.parts]
    strays += [p for p in (ROOT / "chapters").glob("helpers") if p.is_dir()]
    strays += [p for p in [ROOT / "helpers"] if p.exists()]
    assert not strays, f"these would shadow src/helpers: {strays}"


def test_no_machine_specific_paths():
    machine = str(ROOT.parent) + "/"
    for path in [*NOTEBOOKS, *(ROOT / "src").rglob("*.py"), ROOT / "_config.yml", ROOT / "README.md"]:
        assert machine not in path.read_text(), f"{path} holds {machine}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_training_notebooks_have_a_parameters_cell(path):
    cells = _load(path)["cells"]
    trains = any(re.search(r"\btrain\(", _source(c)) for c in cells if c["cell_type"] == "code")
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if trains:
        assert len(tagged) == 1, f"{path.name} trains networks: it needs one cell tagged 'parameters' (papermill)"
        assert re.search(r"^SEEDS\s*=", _source(tagged[0]), re.M), f"{path.name}: the parameters cell sets SEEDS"
