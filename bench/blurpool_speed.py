"""``make bench`` (part): our BlurPool is at least as fast as the reference package's.

A wall-clock comparison, so it lives with the benchmark and not in the unit tests: on a loaded
machine it could fail for reasons that have nothing to do with the code. Best of many
interleaved repeats on one thread, up to three attempts, 15% tolerance. Exits non-zero when
ours is slower.
"""

from __future__ import annotations

import math
import sys
import time

import antialiased_cnns as reference
import torch

from helpers.antialias import BlurPool


def _best_of(fns: dict, x: torch.Tensor, repeats: int) -> dict:
    """Best time of each function over ``repeats`` interleaved calls (so load hits both alike)."""
    best = dict.fromkeys(fns, math.inf)
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn(x)
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main() -> int:
    torch.set_num_threads(1)
    x = torch.randn(16, 16, 32, 32, generator=torch.Generator().manual_seed(0))
    failed = []
    for filt_size in (3, 4, 5):
        fns = {"ours": BlurPool(16, filt_size), "reference": reference.BlurPool(16, filt_size=filt_size)}
        with torch.no_grad():
            _best_of(fns, x, 3)  # warm up
            for _ in range(3):
                best = _best_of(fns, x, 30)
                if best["ours"] <= 1.15 * best["reference"]:
                    break
        ok = best["ours"] <= 1.15 * best["reference"]
        print(f"BlurPool filter {filt_size}: ours {best['ours'] * 1e3:.2f} ms, "
              f"reference {best['reference'] * 1e3:.2f} ms {'ok' if ok else 'SLOWER'}")
        if not ok:
            failed.append(filt_size)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
