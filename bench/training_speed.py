"""What the training engineering buys: seconds per run and epoch for the networks of chapters
3, 7 and 8, trained one run at a time or all five seeds together (``train_runs(...,
together=True)``), on one thread or two, or two runs at once on one thread each
(``train_runs(..., concurrent=2)``). Writes ``bench/training_speed.md``; part of ``make bench``.

Each setting trains the same five seeds for ``EPOCHS`` epochs on its chapter's image size and
batch size (``CASES``); the best of ``REPEATS`` runs is kept. Which way is faster depends on the
network: the chapters choose by these numbers.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import torch

from helpers.data import digits_on_canvas, mnist_sample_split
from helpers.models import C4CNN, DilatedCNN, SmallCNN
from helpers.training import train_runs

ROOT = Path(__file__).resolve().parents[1]
SEEDS = [0, 1, 2, 3, 4]
EPOCHS = 2
REPEATS = 2
WIDTHS = (8, 8, 16)


def _canvas_digits(canvas: int, digit: int, positions: str):
    data = digits_on_canvas("train", canvas_size=canvas, digit_size=digit, positions=positions, seed=0)
    return data.images, data.labels


def _mnist(n: int):
    x, y = mnist_sample_split("train")
    return x[:n], y[:n]


# chapter, network, builder, data, batch size
CASES = [
    ("3", "conv + GAP (stride 1)", lambda: DilatedCNN(widths=WIDTHS, dilations=(1, 1, 1), head="gap", init="kaiming"),
     lambda: _canvas_digits(16, 8, "random"), 32),
    ("3", "max pool + GAP", lambda: SmallCNN(widths=WIDTHS, downsample="maxpool", head="gap", init="kaiming"),
     lambda: _canvas_digits(16, 8, "random"), 32),
    ("7", "plain CNN, 20 x 20", lambda: SmallCNN(widths=(8, 16, 32)), lambda: _canvas_digits(20, 10, "center"), 64),
    ("8", "plain CNN + batch norm, 28 x 28 (1,000 digits)", lambda: SmallCNN(widths=(12, 24, 24), batch_norm=True),
     lambda: _mnist(1000), 64),
    ("8", "C4 CNN + batch norm, 28 x 28 (1,000 digits)", lambda: C4CNN(widths=(6, 12, 12), batch_norm=True),
     lambda: _mnist(1000), 64),
]


# how the runs are trained, the threads they use in all, and train_runs's options for it
WAYS = [
    ("one run at a time", 1, {}),
    ("one run at a time", 2, {}),
    ("all seeds together", 1, {"together": True}),
    ("all seeds together", 2, {"together": True}),
    ("two runs at once, one thread each", 2, {"concurrent": 2}),
]


def seconds_per_run_epoch(build, x, y, batch_size: int, threads: int, how: dict) -> float:
    torch.set_num_threads(threads)
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        train_runs({"net": build}, SEEDS, x, y, epochs=EPOCHS, batch_size=batch_size, lr=3e-2, progress=False, **how)
        best = min(best, time.perf_counter() - start)
    return best / (len(SEEDS) * EPOCHS)


def main() -> None:
    rows = []
    for chapter, name, build, data, batch_size in CASES:
        x, y = data()
        timings = {(how, threads): seconds_per_run_epoch(build, x, y, batch_size, threads, options)
                   for how, threads, options in WAYS}
        base = timings["one run at a time", 1]
        for (how, threads), seconds in timings.items():
            rows.append(f"| {chapter} | {name} | {len(y)} | {batch_size} | {how} | {threads} | {seconds * 1e3:.0f} "
                        f"| {base / seconds:.2f}x |")
            print(rows[-1], flush=True)
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}"
    lines = [
        "# Training speed",
        "",
        f"`bench/training_speed.py` on {machine}, torch {torch.__version__}: milliseconds per run and epoch",
        f"(best of {REPEATS}), {len(SEEDS)} seeds, {EPOCHS} epochs; speed-up against one run at a time on one thread.",
        "",
        "| chapter | network | digits | batch | how | threads | ms per run-epoch | speed-up |",
        "|---|---|---:|---:|---|---:|---:|---:|",
        *rows,
        "",
    ]
    (ROOT / "bench" / "training_speed.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
