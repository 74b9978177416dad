"""What the training engineering buys: seconds per run and epoch for chapter 3's networks,
trained one run at a time or all five seeds together (``train_runs(..., together=True)``),
on one thread or two. Writes ``bench/training_speed.md``; part of ``make bench``.

Each setting trains the same five seeds for ``EPOCHS`` epochs on chapter 3's data size
(1,258 digits on a 16-pixel canvas, batches of 32); the best of ``REPEATS`` runs is kept.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import torch

from helpers.data import digits_on_canvas
from helpers.models import DilatedCNN, SmallCNN
from helpers.training import train_runs

ROOT = Path(__file__).resolve().parents[1]
SEEDS = [0, 1, 2, 3, 4]
EPOCHS = 2
REPEATS = 2
WIDTHS = (8, 8, 16)
NETWORKS = {  # one network of each kind chapter 3 trains
    "conv + GAP (stride 1)": lambda: DilatedCNN(widths=WIDTHS, dilations=(1, 1, 1), head="gap", init="kaiming"),
    "max pool + GAP": lambda: SmallCNN(widths=WIDTHS, downsample="maxpool", head="gap", init="kaiming"),
}


def seconds_per_run_epoch(build, x, y, together: bool, threads: int) -> float:
    torch.set_num_threads(threads)
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        train_runs({"net": build}, SEEDS, x, y, together=together, epochs=EPOCHS, batch_size=32, lr=3e-2,
                   progress=False)
        best = min(best, time.perf_counter() - start)
    return best / (len(SEEDS) * EPOCHS)


def main() -> None:
    data = digits_on_canvas("train", canvas_size=16, digit_size=8, seed=0)
    x, y = data.images, data.labels
    rows = []
    for name, build in NETWORKS.items():
        timings = {(together, threads): seconds_per_run_epoch(build, x, y, together, threads)
                   for together in (False, True) for threads in (1, 2)}
        base = timings[False, 1]
        for (together, threads), seconds in timings.items():
            how = "all seeds together" if together else "one run at a time"
            rows.append(f"| {name} | {how} | {threads} | {seconds * 1e3:.0f} | {base / seconds:.2f}x |")
            print(rows[-1], flush=True)
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}"
    lines = [
        "# Training speed",
        "",
        f"`bench/training_speed.py` on {machine}, torch {torch.__version__}: milliseconds per run and epoch",
        f"(best of {REPEATS}), {len(SEEDS)} seeds, {EPOCHS} epochs, 1,258 digits of 16 x 16 pixels, batches of 32.",
        "",
        "| network | how | threads | ms per run-epoch | speed-up |",
        "|---|---|---:|---:|---:|",
        *rows,
        "",
    ]
    (ROOT / "bench" / "training_speed.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
