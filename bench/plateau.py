"""``make plateau``: is every trained network at its plateau? Run a chapter with its default
epochs and with twice as many, and compare every glued accuracy and stability number.

If the networks were still learning, doubling the epochs would move the numbers the chapter's
conclusions rest on. The table lists each of them at both budgets; every check cell must also
pass at twice the epochs. Usage: ``python bench/plateau.py [CHAPTER_PREFIX ...]`` (default:
the chapters rebuilt on converged runs, listed in ``CHAPTERS``). Writes ``bench/plateau.md``.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import nbformat

from helpers.execution import execute, parameter_defaults

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ["03", "04", "05", "06", "07", "08"]
# The glued numbers a verdict rests on: accuracies, the share of labels a shift keeps (chapter 3),
# consistency and the chance a shift changes the label (chapter 4), the Red-Green accuracies and
# the position read-out of trained features and the share of same-padded networks that take the
# height shortcut (chapter 5), the share of accuracy kept away from the
# trained place (chapter 6), and the training fit.
MEASURES = ("_acc", "_stable", "_worst_fit", "_accuracy", "_consistency", "_pchange", "_similar", "_swapped",
            "_readout_trained", "_kept", "_fit", "_shortcut")


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def compare(path: Path) -> tuple[list[str], bool]:
    """Markdown rows for one chapter, and whether it passed at twice the epochs."""
    defaults = parameter_defaults(nbformat.read(path, as_version=4))
    budgets = {name: value for name, value in defaults.items() if name.endswith("EPOCHS")}  # EPOCHS, PATCH_EPOCHS, ...
    if not budgets:  # e.g. chapter 4b, which trains nothing: "plateau.py 04" matches it too
        print(f"{path.name}: no *EPOCHS parameter, nothing trained: skipped")
        return [], True
    epochs = "/".join(str(v) for v in budgets.values())
    default = execute(path)
    doubled = execute(path, parameters={name: 2 * v for name, v in budgets.items()}, keep_going=True)
    doubled_epochs = "/".join(str(2 * v) for v in budgets.values())
    failures = [f"| {path.name} | **failed at {doubled_epochs} epochs**: {e.splitlines()[0][:200]} | | | |"
                for e in doubled.errors]
    for error in doubled.errors:
        print(error, file=sys.stderr)
    rows = []
    for key, value in default.glued.items():
        a, b = _number(value), _number(doubled.glued.get(key, ""))
        if any(m in key for m in MEASURES) and a is not None and b is not None:
            rows.append(f"| {path.name} | `{key}` | {a:.3f} | {b:.3f} | {b - a:+.3f} |")
    seconds = f"{default.seconds:.0f} s and {doubled.seconds:.0f} s"
    print(f"{path.name}: {len(rows)} numbers compared, {len(failures)} failing cells at {doubled_epochs} epochs ({seconds})")
    return [f"| {path.name} | epochs | {epochs} | {doubled_epochs} | ({seconds}) |", *failures, *rows], not failures


def main(prefixes: list[str]) -> int:
    paths = [p for prefix in prefixes for p in sorted((ROOT / "chapters").glob(f"{prefix}*.ipynb"))]
    lines, ok = [], True
    for path in paths:
        rows, passed = compare(path)
        lines += rows
        ok &= passed
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}"
    saved = ROOT / "bench" / "plateau.md"
    if saved.exists():  # a partial run keeps the earlier rows of the chapters it did not run
        ran = {f"| {p.name} |" for p in paths}
        earlier = [r for r in saved.read_text().splitlines() if r.startswith("| 0") and r[: r.index(" |", 2) + 2] not in ran]
        lines = sorted(earlier + lines, key=lambda r: r.split(" | ")[0])
    text = [
        "# Plateau check",
        "",
        f"`python bench/plateau.py` on {machine}: each chapter at its default epochs and at twice",
        "as many (same seeds). Every check cell passed at both budgets unless the table says so.",
        "",
        "| notebook | number | default epochs | twice the epochs | change |",
        "|---|---|---:|---:|---:|",
        *lines,
        "",
    ]
    (ROOT / "bench" / "plateau.md").write_text("\n".join(text))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or CHAPTERS))
