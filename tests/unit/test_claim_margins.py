"""``bench/claim_margins.py`` estimates how often a check would pass on another draw of seeds."""

import importlib.util
from pathlib import Path

import numpy as np

spec = importlib.util.spec_from_file_location("claim_margins", Path(__file__).parents[2] / "bench" / "claim_margins.py")
claim_margins = importlib.util.module_from_spec(spec)
spec.loader.exec_module(claim_margins)


def record(larger, smaller, margin=0.0, every_seed=False, at_least=None):
    return {"claim": "c", "larger": larger, "smaller": smaller, "margin": margin, "every_seed": every_seed,
            "at_least": at_least}


def test_a_wide_gap_passes_nearly_always_and_a_gap_at_the_margin_rarely():
    rng = np.random.default_rng(0)
    wide = record([0.90, 0.92, 0.91, 0.93, 0.90], [0.5] * 5)
    at_margin = record([0.51, 0.49, 0.52, 0.48, 0.50], [0.5] * 5)
    assert claim_margins.pass_rate(wide, rng) > 0.99
    assert claim_margins.pass_rate(at_margin, rng) < 0.1


def test_every_seed_is_harder_to_pass_than_at_least_four():
    rng = np.random.default_rng(0)
    larger, smaller = [0.60, 0.58, 0.62, 0.55, 0.61], [0.5] * 5
    every = claim_margins.pass_rate(record(larger, smaller, 0.05, every_seed=True), rng)
    four = claim_margins.pass_rate(record(larger, smaller, 0.05, at_least=4), rng)
    assert every < four


def test_unpaired_sides_of_different_sizes_are_not_simulated():
    assert np.isnan(claim_margins.pass_rate(record([0.9, 0.8, 0.85], [0.5, 0.6]), np.random.default_rng(0)))
