"""``make robust``: every chapter that trains networks, and chapter 4b, whose seed draws the
views of its photographs, run with seeds nobody tuned the checks to (the defaults + 100) and
with one thread instead of two (another summation order, as another CPU would give). Every
check cell must pass.

Writes ``bench/robust.md`` and exits non-zero when a chapter fails; the failing cell's
message (the numbers a ``helpers.claims`` check prints) is in the table.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import nbformat
from nbclient.exceptions import CellExecutionError

from helpers.execution import execute, parameter_defaults

ROOT = Path(__file__).resolve().parents[1]
SEED_OFFSET = 100
THREADS = "1"


def training_chapters() -> list[Path]:
    """Every chapter whose parameters cell sets ``SEEDS`` (training seeds, or chapter 4b's draw of views)."""
    return [
        p
        for p in sorted((ROOT / "chapters").glob("*.ipynb"))
        if "SEEDS" in parameter_defaults(nbformat.read(p, as_version=4))
    ]


def main(prefixes: list[str]) -> int:
    rows, failed = [], 0
    chapters = [p for p in training_chapters() if not prefixes or p.name.startswith(tuple(prefixes))]
    for path in chapters:
        seeds = [s + SEED_OFFSET for s in parameter_defaults(nbformat.read(path, as_version=4))["SEEDS"]]
        start = time.perf_counter()
        try:
            run = execute(path, env={"HELPERS_THREADS": THREADS}, parameters={"SEEDS": seeds})
            outcome, seconds = "passed", run.seconds
        except CellExecutionError as error:
            failed += 1
            last = [line for line in str(error).strip().splitlines() if line.strip()][-1]
            outcome, seconds = f"**failed**: {last[:300]}", time.perf_counter() - start
        rows.append({"notebook": path.name, "seeds": seeds, "seconds": round(seconds, 1), "outcome": outcome})
        print(f"{path.name:45s} seeds {seeds} {seconds:6.1f} s  {outcome}", flush=True)
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}"
    if prefixes:  # a partial run keeps the earlier rows of the chapters it did not run
        ran = {r["notebook"] for r in rows}
        saved = ROOT / "bench" / "robust.json"
        earlier = json.loads(saved.read_text())["runs"] if saved.exists() else []
        rows = sorted([r for r in earlier if r["notebook"] not in ran] + rows, key=lambda r: r["notebook"])
    lines = [
        "# Robustness run",
        "",
        f"`make robust` on {machine}: every training chapter with its default seeds + {SEED_OFFSET} "
        f"and {THREADS} thread(s); every check cell must pass.",
        "",
        "| notebook | seeds | wall time (s) | outcome |",
        "|---|---|---:|---|",
        *[f"| {r['notebook']} | {r['seeds']} | {r['seconds']:.1f} | {r['outcome']} |" for r in rows],
        "",
    ]
    (ROOT / "bench" / "robust.md").write_text("\n".join(lines))
    (ROOT / "bench" / "robust.json").write_text(json.dumps({"machine": machine, "runs": rows}, indent=2) + "\n")
    print(f"{len(chapters) - failed} of {len(chapters)} chapters passed; table in bench/robust.md")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))  # optional chapter prefixes, e.g. `python bench/robust.py 03`
