"""``make bench``: run every chapter in a fresh kernel; record wall time and peak memory.

Writes ``bench/results.md`` and ``bench/results.json`` and exits non-zero when a notebook
or the whole book is over budget (90 s and 1.5 GB per notebook, 8 minutes in all, on the
reference machine: 2 CPU cores).
"""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

from helpers.execution import execute

ROOT = Path(__file__).resolve().parents[1]
BUDGET_SECONDS, BUDGET_MB, BUDGET_TOTAL = 90.0, 1536.0, 480.0


def main() -> int:
    rows = []
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        run = execute(path)
        ok = run.seconds <= BUDGET_SECONDS and run.peak_rss_mb <= BUDGET_MB
        rows.append(
            {
                "notebook": path.name,
                "seconds": round(run.seconds, 1),
                "peak_rss_mb": round(run.peak_rss_mb),
                "within_budget": ok,
            }
        )
        print(
            f"{path.name:45s} {run.seconds:6.1f} s {run.peak_rss_mb:7.0f} MB {'ok' if ok else 'OVER BUDGET'}",
            flush=True,
        )
    total = sum(r["seconds"] for r in rows)
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}"
    summary = {
        "machine": machine,
        "total_seconds": round(total, 1),
        "total_within_budget": total <= BUDGET_TOTAL,
        "budget": {"seconds": BUDGET_SECONDS, "peak_rss_mb": BUDGET_MB, "total_seconds": BUDGET_TOTAL},
        "notebooks": rows,
    }
    (ROOT / "bench" / "results.json").write_text(json.dumps(summary, indent=2) + "\n")
    lines = [
        "# Notebook benchmark",
        "",
        f"Each notebook executed in a fresh kernel by `make bench` on {machine}.",
        f"Budget: {BUDGET_SECONDS:.0f} s and {BUDGET_MB:.0f} MB peak (kernel RSS) per notebook, {BUDGET_TOTAL:.0f} s for the book.",
        "",
        "| notebook | wall time (s) | peak RSS (MB) | within budget |",
        "|---|---:|---:|---|",
        *[
            f"| {r['notebook']} | {r['seconds']:.1f} | {r['peak_rss_mb']} | {'yes' if r['within_budget'] else '**no**'} |"
            for r in rows
        ],
        f"| **whole book** | **{total:.1f}** | | {'yes' if total <= BUDGET_TOTAL else '**no**'} |",
        "",
    ]
    (ROOT / "bench" / "results.md").write_text("\n".join(lines))
    print(f"total {total:.1f} s; tables in bench/results.md and bench/results.json")
    return 0 if all(r["within_budget"] for r in rows) and total <= BUDGET_TOTAL else 1


if __name__ == "__main__":
    sys.exit(main())
