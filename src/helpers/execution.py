"""Execute a chapter notebook in a fresh kernel: wall time, the kernel's peak memory, and
every glued value. Used by ``make bench`` (``bench/bench.py``) and by the determinism test
(``tests/book/test_determinism.py``), not by the chapters themselves.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

# Glued names ending like this hold wall-clock measurements, which no run can reproduce.
WALLCLOCK_SUFFIX = "_wallclock"


@dataclass
class Execution:
    """What one run of a notebook produced."""

    path: Path
    seconds: float
    peak_rss_mb: float
    glued: dict[str, str] = field(default_factory=dict)
    tables: list[str] = field(default_factory=list)


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


def reproducible(values: dict[str, str]) -> dict[str, str]:
    """Glued values without the wall-clock ones."""
    return {k: v for k, v in values.items() if not k.endswith(WALLCLOCK_SUFFIX)}


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):  # the high-water mark of the resident set
            return int(line.split()[1]) / 1024
    return float("nan")


def execute(path: str | Path, timeout: int = 600) -> Execution:
    """Run the notebook at ``path`` top to bottom in a fresh ``python3`` kernel, in its folder."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    with client.setup_kernel():
        pid = client.km.provisioner.process.pid
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        seconds = time.perf_counter() - start
        peak = _peak_rss_mb(pid)
    as_dict = json.loads(nbformat.writes(nb))
    return Execution(path, seconds, peak, glued_values(as_dict), markdown_outputs(as_dict))
