"""Execute a chapter notebook in a fresh kernel: wall time, the kernel's peak memory, every
glued value and the figures it shows; and read back what the book's build executed.

Used by ``make bench`` (``bench/bench.py``), ``make robust`` (``bench/robust.py``) and
``make test``: :func:`write_executed` gives nbval the build's executed notebooks (the
second execution of ``make test`` is nbval's, compared with them), and ``tests/book``
counts their figures. Not used by the chapters themselves.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

# Glued names ending like this hold wall-clock measurements, which no run can reproduce.
WALLCLOCK_SUFFIX = "_wallclock"
# What a reader's kernel does whatever the calling shell exports: figures drawn inline (an
# inherited MPLBACKEND=Agg would draw every figure and show none), no progress bars.
KERNEL_ENVIRONMENT = {"MPLBACKEND": "module://matplotlib_inline.backend_inline", "HELPERS_PROGRESS": "0"}
# Cells with these tags show no output in the HTML book.
HIDDEN_OUTPUT_TAGS = {"remove-output", "remove-cell"}
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")


@dataclass
class Execution:
    """What one run of a notebook produced."""

    path: Path
    seconds: float
    peak_rss_mb: float
    glued: dict[str, str] = field(default_factory=dict)
    tables: list[str] = field(default_factory=list)
    figures: int = 0
    errors: list[str] = field(default_factory=list)


def glued_values(nb: dict) -> dict[str, str]:
    """``{name: text}`` for every value glued with myst-nb in an executed notebook."""
    values = {}
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name is None:
                continue
            data = output.get("data", {})
            text = next((v for k, v in data.items() if k.endswith("text/plain")), "")
            values[name] = "".join(text) if isinstance(text, list) else text
    return values


def markdown_outputs(nb: dict) -> list[str]:
    """Every Markdown output (the result tables chapters print), in order."""
    found = []
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/markdown")
            if text is not None:
                found.append("".join(text) if isinstance(text, list) else text)
    return found


def shown_figures(nb: dict) -> int:
    """How many figures an executed notebook shows on its page: image outputs plus kernel-free
    frame sliders (``helpers.widgets.FrameSlider``), outside cells whose output the book hides."""
    count = 0
    for cell in nb["cells"]:
        if HIDDEN_OUTPUT_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            html = data.get("text/html", "")
            html = "".join(html) if isinstance(html, list) else html
            count += any(kind in data for kind in IMAGE_TYPES) or 'class="frame-slider"' in html
    return count


def executed_notebook(path: str | Path, cache: str | Path) -> dict:
    """The notebook at ``path`` with the outputs the build's execution cache holds for it
    (glue outputs included, which the build's ``jupyter_execute`` copies leave out)."""
    import nbformat
    from jupyter_cache import get_cache

    cache = Path(cache)
    if not cache.exists():
        raise RuntimeError(f"{cache} missing: run `make build-strict` first")
    try:
        _, merged = get_cache(str(cache)).merge_match_into_notebook(nbformat.read(path, as_version=4))
    except KeyError as error:  # no cached execution matches today's code cells
        raise RuntimeError(f"{path}: the build's cache holds no execution of it; run `make build-strict`") from error
    return json.loads(nbformat.writes(merged))


def write_executed(notebooks: list[Path], cache: str | Path, folder: str | Path) -> list[Path]:
    """Write every notebook with its cached outputs into ``folder``; return the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        target = folder / Path(path).name
        target.write_text(json.dumps(executed_notebook(path, cache), indent=1, ensure_ascii=False) + "\n")
        written.append(target)
    return written


def reproducible(values: dict[str, str]) -> dict[str, str]:
    """Glued values without the wall-clock ones."""
    return {k: v for k, v in values.items() if not k.endswith(WALLCLOCK_SUFFIX)}


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):  # the high-water mark of the resident set
            return int(line.split()[1]) / 1024
    return float("nan")


def parameter_defaults(nb: dict) -> dict[str, object]:
    """The names and literal values assigned in the notebook's cell tagged ``parameters``."""
    import ast

    for cell in nb["cells"]:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            return {
                node.targets[0].id: ast.literal_eval(node.value)
                for node in ast.parse(source).body
                if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
            }
    return {}


def _inject(nb, parameters: dict[str, object]) -> None:
    """Insert a cell setting ``parameters`` right after the ``parameters`` cell (as papermill does)."""
    import nbformat

    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not tagged:
        raise ValueError("parameters were given, but the notebook has no cell tagged 'parameters'")
    unknown = set(parameters) - set(parameter_defaults(nb))
    if unknown:
        raise ValueError(f"parameters must be names set in the parameters cell, got unknown {sorted(unknown)}")
    source = "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(tagged[0] + 1, cell)


def execute(
    path: str | Path,
    timeout: int = 3600,
    env: dict[str, str] | None = None,
    parameters: dict[str, object] | None = None,
    keep_going: bool = False,
) -> Execution:
    """Run the notebook at ``path`` top to bottom in a fresh ``python3`` kernel, in its folder.

    The kernel gets this process's environment with :data:`KERNEL_ENVIRONMENT` and then
    ``env`` on top. ``parameters`` override values of the cell tagged ``parameters``.
    ``timeout`` is per cell, in seconds (chapter 8's training cell at twice its epochs on one
    thread runs for well over ten minutes).
    A failing cell raises ``nbclient.exceptions.CellExecutionError``; with ``keep_going`` the
    run goes on and ``Execution.errors`` lists the last line of every failure instead
    (``bench/plateau.py`` wants every failing check at once).
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    if parameters:
        _inject(nb, parameters)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
        allow_errors=keep_going,
    )
    start = time.perf_counter()
    with client.setup_kernel(env={**os.environ, **KERNEL_ENVIRONMENT, **(env or {})}):
        pid = client.km.provisioner.process.pid
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        seconds = time.perf_counter() - start
        peak = _peak_rss_mb(pid)
    as_dict = json.loads(nbformat.writes(nb))
    errors = [f"{o['ename']}: {o['evalue']}" for c in as_dict["cells"] for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    return Execution(
        path, seconds, peak, glued_values(as_dict), markdown_outputs(as_dict), shown_figures(as_dict), errors
    )


if __name__ == "__main__":  # python -m helpers.execution CACHE FOLDER NOTEBOOK...  (make notebooks)
    import sys

    for written in write_executed([Path(p) for p in sys.argv[3:]], sys.argv[1], sys.argv[2]):
        print(f"executed by the build: {written}")
