"""How likely is each check on trained networks to pass on another draw of seeds?

Run chapters with ``HELPERS_CLAIMS_LOG=path`` set (``helpers.claims`` then appends every
check it makes), then ``python bench/claim_margins.py path``. For every claim, the measured
per-seed differences stand in for the truth: new draws of as many seeds are simulated from a
normal distribution with their mean and spread, and the share of draws on which the check
would pass is printed, lowest first. A claim far below 99% passes for the seeds it was tried
on and fails on others: reword it or give it a margin it keeps. ``make robust`` is the real
test; this only says where to look.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from scipy.stats import t as student

DRAWS = 20000


def pass_rate(record: dict, rng: np.random.Generator) -> float:
    a, b = np.asarray(record["larger"], float), np.asarray(record["smaller"], float)
    margin = record["margin"]
    if a.size > 1 and b.size > 1 and a.size != b.size:  # unpaired: not simulated
        return float("nan")
    d = a - b  # per seed (a bound on one side broadcasts)
    n = d.size
    if n < 2:
        return 1.0 if d.mean() > margin else 0.0
    sims = rng.normal(d.mean(), max(d.std(ddof=1), 1e-12), size=(DRAWS, n))
    if record.get("at_least"):
        return float(((sims > margin).sum(axis=1) >= record["at_least"]).mean())
    if record["every_seed"]:
        return float((sims > margin).all(axis=1).mean())
    low = sims.mean(1) - student.ppf(0.975, n - 1) * sims.std(axis=1, ddof=1) / np.sqrt(n)
    return float((low > margin).mean())


def main(paths: list[str]) -> None:
    rng = np.random.default_rng(0)
    rows = []
    for path in paths:
        for line in Path(path).read_text().splitlines():
            record = json.loads(line)
            rows.append((pass_rate(record, rng), path, record["claim"]))
    for rate, path, claim in sorted(rows, key=lambda r: (np.nan_to_num(r[0], nan=2.0), r[2])):
        print(f"{rate:7.1%}  {path.split('/')[-1]:30s} {claim}")


if __name__ == "__main__":
    main(sys.argv[1:])
