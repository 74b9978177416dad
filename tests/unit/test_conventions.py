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
    ids = [cell.get("id") for cell in nb["cells"]]
    assert None not in ids, f"{path.name}: cell {ids.index(None)} has no id (nbformat 4.5 requires one)"
    assert len(set(ids)) == len(ids), f"{path.name}: two cells share an id"
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
    assert re.search(r"^# Chapter \d+b?: ", markdown, re.M), "title '# Chapter N: ...' ('4b' for a chapter inserted after 4)"
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


# Outputs no second run reproduces: wall-clock times, and live ipywidgets explorers (their
# figures go to the widget in Jupyter, to the cell under nbval; a static figure is compared).
UNREPRODUCIBLE = re.compile(r"perf_counter|time\.time\(|_wallclock|\.seconds\b|\w+_explorer\(")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_only_unreproducible_outputs_escape_the_comparison(path):
    """``make notebooks`` compares every output of a second run with the build's, except in cells
    tagged ``nbval-ignore-output``: those, and only those, print or glue wall-clock times or
    show a live widget."""
    for index, cell in enumerate(_load(path)["cells"]):
        if cell["cell_type"] != "code":
            continue
        tagged = "nbval-ignore-output" in cell.get("metadata", {}).get("tags", [])
        timed = bool(UNREPRODUCIBLE.search(_source(cell)))
        assert tagged == timed, (
            f"{path.name} cell {index}: "
            + ("shows what no second run reproduces, but is compared" if timed else "is excluded from the comparison")
        )
        if tagged:  # an excluded cell glues wall-clock values only: every other number is compared
            glued = re.findall(r"glue\(\s*f?[\"']([^\"']+)[\"']", _source(cell))
            assert all(name.endswith("_wallclock") for name in glued), f"{path.name} cell {index}: glues {glued}"
        for other in ("nbval-skip", "nbval-check-output", "raises-exception"):
            assert other not in cell.get("metadata", {}).get("tags", []), f"{path.name} cell {index}: {other}"


def test_nbval_kernel_sees_what_the_build_kernels_see():
    from helpers.execution import KERNEL_ENVIRONMENT

    makefile = (ROOT / "Makefile").read_text()
    line = re.search(r"^KERNEL_ENV := (.*)$", makefile, re.M).group(1)
    assert dict(item.split("=", 1) for item in line.split()) == KERNEL_ENVIRONMENT


def _public_helpers():
    import importlib
    import inspect
    import pkgutil

    import helpers

    for info in pkgutil.walk_packages(helpers.__path__, "helpers."):
        if info.name.rsplit(".", 1)[-1].startswith("_") or info.name == "helpers.execution":
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            public = not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
            if public and obj.__module__ == info.name:
                yield f"{info.name}.{name}", inspect.getdoc(obj) or ""


def test_every_public_helper_names_the_chapters_that_use_it():
    """As libfmp does: a reader of a docstring learns where the book uses it."""
    unnamed = [name for name, doc in _public_helpers() if not re.search(r"[Cc]hapters? \d|[Ee]very chapter|[Nn]o chapter", doc)]
    assert not unnamed, f"docstrings that name no chapter: {unnamed}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_imports_only_what_it_uses(path):
    """A chapter's imports are a map of what it uses from the helpers; a stale one misleads."""
    import ast

    cells = [c for c in _load(path)["cells"] if c["cell_type"] == "code"]
    tree = ast.parse("\n".join(_source(c) for c in cells if "remove-cell" not in c["metadata"].get("tags", [])))
    imported = {
        (alias.asname or alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert not imported - used, f"{path.name} imports what it never uses: {sorted(imported - used)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_intervals_are_glued_one_way(path):
    """An interval reaches the prose only through ``glue_with_interval`` (``name`` and
    ``name_interval``): no glue of hand-made ends (``_low``, ``_high``, a ``low to high`` string)
    and no glue of a formatted ``mean (low to high)`` text. A glue named ``*_range`` may hold
    the lowest and highest of observed values ("4.4% to 8.8% across the seeds")."""
    code = "\n".join(_source(c) for c in _load(path)["cells"] if c["cell_type"] == "code")
    by_hand = re.findall(r'glue\(f?"[^"]*_(?:low|high|text)"', code)
    formatted = re.findall(r"glue\([^\n]*(?:\.format\(|interval_text\()", code)
    # "a to b" text is allowed only for a range of observed values (lowest to highest), named so
    formatted += [g for g in re.findall(r'glue\(f?"([^"]*)",[^\n]*\} to \{', code) if not g.endswith("_range")]
    assert not by_hand and not formatted, f"{path.name} glues an interval by hand: {by_hand + formatted}"
    prose = "\n".join(_source(c) for c in _load(path)["cells"] if c["cell_type"] == "markdown")
    for name in re.findall(r"\{eval\}`([A-Za-z0-9_]+)_interval`", prose):
        assert re.search(rf'\{{eval\}}`(?:f"\{{)?{name}[:`}}]', prose), f"{path.name}: {name}_interval quoted without its mean"
