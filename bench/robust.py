"""``make robust``: every chapter that trains networks, and chapter 4b, whose seed draws the
views of its photographs, run with seeds nobody chose and with one thread instead of two
(another summation order, as another CPU would give). Every check cell must pass.

The seeds are drawn afresh on every run from the operating system's random source, so no
claim can be tuned until a fixed set of seeds passes: a claim that fails on some draw is a
claim about the seeds it was tried on. One draw of five seeds serves every chapter (chapter
4b takes the first). ``ROBUST_SEEDS="812,33,4051,7,96"`` replays a draw. Every failing check
cell of a chapter is reported (the run goes on past a failure), with the numbers a
``helpers.claims`` check prints.

Each run is added to ``bench/robust.json``; ``bench/robust.md`` lists every draw, newest
first. Exits non-zero when a chapter fails. ``python bench/robust.py 03 05`` runs only the
chapters whose names start so.
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import platform
import secrets
import sys
from pathlib import Path

import nbformat

from helpers.execution import execute, parameter_defaults

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "robust.json"
THREADS = "1"
N_SEEDS = 5
SEED_RANGE = 1_000_000  # seeds are drawn from 0 .. SEED_RANGE - 1


def training_chapters() -> list[Path]:
    """Every chapter whose parameters cell sets ``SEEDS`` (training seeds, or chapter 4b's draw of views)."""
    return [
        p
        for p in sorted((ROOT / "chapters").glob("*.ipynb"))
        if "SEEDS" in parameter_defaults(nbformat.read(p, as_version=4))
    ]


def draw_seeds(replay: str | None) -> tuple[list[int], str]:
    """The run's seeds and where they came from: ``replay`` (``"a,b,c,d,e"``) or a fresh draw."""
    if replay:
        try:
            seeds = [int(s) for s in replay.replace(" ", "").split(",") if s]
        except ValueError as error:
            raise ValueError(f"ROBUST_SEEDS must be comma-separated integers, got {replay!r}") from error
        if len(seeds) != N_SEEDS or min(seeds) < 0 or len(set(seeds)) != N_SEEDS:
            raise ValueError(f"ROBUST_SEEDS must hold {N_SEEDS} different integers >= 0, got {replay!r}")
        return seeds, "replayed (ROBUST_SEEDS)"
    seeds: list[int] = []
    while len(seeds) < N_SEEDS:
        seed = secrets.randbelow(SEED_RANGE)
        if seed not in seeds:
            seeds.append(seed)
    return seeds, "drawn by the operating system's random source"


def run_chapter(path: Path, seeds: list[int]) -> dict:
    n = len(parameter_defaults(nbformat.read(path, as_version=4))["SEEDS"])
    chosen = seeds[:n]
    run = execute(path, env={"HELPERS_THREADS": THREADS}, parameters={"SEEDS": chosen}, keep_going=True)
    failures = [" ".join(e.split())[:400] for e in run.errors]
    return {"notebook": path.name, "seeds": chosen, "seconds": round(run.seconds, 1), "failures": failures}


def record(draw: dict) -> list[dict]:
    """Add ``draw`` to ``bench/robust.json`` (under a lock: two runs may finish at once); return every draw."""
    with open(RESULTS.with_suffix(".tmp"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        earlier = json.loads(RESULTS.read_text()).get("draws", []) if RESULTS.exists() else []
        draws = [*earlier, draw]
        RESULTS.write_text(json.dumps({"draws": draws}, indent=1) + "\n")
        (ROOT / "bench" / "robust.md").write_text(markdown(draws))
    return draws


def markdown(draws: list[dict]) -> str:
    lines = [
        "# Robustness runs",
        "",
        "`make robust`: every training chapter (and chapter 4b, whose seed draws its views) with five seeds",
        f"drawn afresh for each run and {THREADS} thread(s); every check cell must pass. Newest run first;",
        "a failing cell's message holds the numbers behind the claim. `bench/robust.py` says how to replay a draw.",
        "",
    ]
    for draw in reversed(draws):
        passed = sum(not c["failures"] for c in draw["chapters"])
        lines += [
            f"## {draw['date']}: seeds {draw['seeds']} ({draw['source']})",
            "",
            f"{draw['machine']}, {draw['threads']} thread(s): {passed} of {len(draw['chapters'])} chapters passed.",
            "",
            "| notebook | seeds | wall time (s) | outcome |",
            "|---|---|---:|---|",
        ]
        for c in draw["chapters"]:
            outcome = "passed" if not c["failures"] else "**failed**: " + "<br>".join(
                f.replace("|", "\\|") for f in c["failures"])
            lines.append(f"| {c['notebook']} | {c['seeds']} | {c['seconds']:.1f} | {outcome} |")
        lines.append("")
    return "\n".join(lines)


def main(prefixes: list[str]) -> int:
    seeds, source = draw_seeds(os.environ.get("ROBUST_SEEDS"))
    print(f"seeds {seeds}, {source}; replay with ROBUST_SEEDS={','.join(map(str, seeds))}", flush=True)
    chapters = [p for p in training_chapters() if not prefixes or p.name.startswith(tuple(prefixes))]
    results = []
    for path in chapters:
        result = run_chapter(path, seeds)
        results.append(result)
        outcome = "passed" if not result["failures"] else "FAILED:\n  " + "\n  ".join(result["failures"])
        print(f"{path.name:45s} seeds {result['seeds']} {result['seconds']:6.1f} s  {outcome}", flush=True)
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}"
    draw = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "seeds": seeds,
            "source": source, "threads": THREADS, "machine": machine, "chapters": results}
    record(draw)
    failed = sum(bool(r["failures"]) for r in results)
    print(f"{len(chapters) - failed} of {len(chapters)} chapters passed; every draw is in bench/robust.md")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
