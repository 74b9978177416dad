"""helpers.claims: comparisons of means over seeds, with a margin wider than the seeds' spread."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.claims import (
    NO_ORDER,
    check_greater,
    check_less,
    difference_interval,
    interval_text,
    mean_interval,
    reading,
    seed_and_sample_interval,
)


def test_mean_interval_matches_students_t():
    values = [0.80, 0.82, 0.84]
    interval = mean_interval(values)
    half = 4.302652729911275 * np.std(values, ddof=1) / np.sqrt(3)  # t(0.975, df=2)
    assert interval.mean == pytest.approx(0.82)
    assert interval.low == pytest.approx(0.82 - half) and interval.high == pytest.approx(0.82 + half)
    assert interval.n == 3
    one = mean_interval(0.5)
    assert one.low == one.mean == one.high == 0.5


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-10, 10), min_size=2, max_size=8), st.floats(-5, 5))
def test_interval_contains_the_mean_and_moves_with_a_constant(values, offset):
    interval = mean_interval(values)
    assert interval.low <= interval.mean <= interval.high
    moved = mean_interval([v + offset for v in values])
    assert moved.mean == pytest.approx(interval.mean + offset, abs=1e-9)
    assert moved.high - moved.low == pytest.approx(interval.high - interval.low, abs=1e-9)


def test_a_clear_gap_passes_silently():
    # returns None: a check cell ending with a check shows no output on the page
    assert check_greater(torch.tensor([0.90, 0.91, 0.92]), torch.tensor([0.50, 0.55, 0.60]), 0.2, claim="gap") is None
    assert check_less([0.1, 0.12], 0.5, 0.1, claim="below a bound") is None


def test_a_gap_within_the_spread_fails_and_prints_every_number():
    # every seed is ordered, but the seeds scatter more than the gap: not a claim another machine keeps
    larger, smaller = [0.70, 0.95, 0.80], [0.60, 0.94, 0.79]
    assert all(a > b for a, b in zip(larger, smaller, strict=True))
    with pytest.raises(AssertionError) as failure:
        check_greater(larger, smaller, claim="pooling helps")
    message = str(failure.value)
    assert "pooling helps" in message and "0.95" in message and "0.94" in message and "margin 0" in message


def test_the_margin_is_required_on_top_of_the_spread():
    same_spread = [0.80, 0.81, 0.82]
    check_greater(same_spread, 0.70, 0.05, claim="clear")
    with pytest.raises(AssertionError):
        check_greater(same_spread, 0.70, 0.10, claim="the gap of 0.11 minus its spread is not above 0.10")


def test_difference_interval_pairs_seeds_or_adds_both_spreads():
    a, b = [1.0, 2.0, 3.0], [0.0, 1.0, 2.0]  # each seed: exactly 1 more
    paired = difference_interval(a, b)
    assert paired.low == paired.high == pytest.approx(1.0)
    unpaired = difference_interval(a, b, paired=False)
    bound = difference_interval(a, 1.0)
    assert unpaired.mean == bound.mean == pytest.approx(1.0)
    assert unpaired.high - unpaired.low > bound.high - bound.low > 0
    with pytest.raises(ValueError, match="paired values must match one to one"):
        difference_interval(a, [1.0, 2.0], paired=True)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: check_greater([], [1.0], claim="x"), "larger must hold at least one value"),
        (lambda: check_greater([1.0], [float("nan")], claim="x"), "smaller must hold finite numbers"),
        (lambda: check_greater([1.0], [0.0], -0.1, claim="x"), "margin must be a finite number >= 0"),
        (lambda: check_greater([1.0], [0.0], claim=" "), "claim must say"),
        (lambda: check_greater(["a"], [0.0], claim="x"), "larger must be a number or a sequence"),
        (lambda: mean_interval([1.0, 2.0], confidence=1.5), "confidence must be a number strictly between"),
    ],
)
def test_bad_input_raises_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_interval_formats_for_tables():
    assert mean_interval([0.5, 0.5]).format() == "50.0% (50.0% to 50.0%)"
    assert mean_interval(0.25).format(".2f") == "0.25 (0.25 to 0.25)"


def test_every_seed_rule_compares_seed_by_seed():
    wide = ([0.98, 0.97, 0.99], [0.90, 0.80, 0.93])  # each seed at least 0.06 ahead, spread 0.13
    with pytest.raises(AssertionError):
        check_greater(*wide, 0.05, claim="the mean rule cannot pin this down with three seeds")
    check_greater(*wide, 0.05, claim="every seed is ahead by more than 0.05", every_seed=True)
    with pytest.raises(AssertionError, match=r"per-seed differences \[0.08, 0.17, 0.06\]"):
        check_greater(*wide, 0.07, claim="one seed is only 0.06 ahead", every_seed=True)
    check_less([0.1, 0.2], 0.25, claim="below a bound, every seed", every_seed=True)
    with pytest.raises(ValueError, match="seed by seed"):
        check_greater([1.0, 2.0], [0.0, 0.0, 0.0], claim="x", every_seed=True)


def test_interval_text_cuts_the_interval_to_the_possible_values():
    values = [0.99, 1.0, 1.0, 0.98, 1.0]
    assert interval_text(values, within=None).endswith("100.5%)")
    assert interval_text(values) == interval_text(values, within=(0, 1)) == "99.4% (98.3% to 100.0%)"
    assert interval_text([0.0, 0.0, 0.03, 0.0, 0.0], within=(0, 1)).startswith("0.6% (0.0% to")
    with pytest.raises(ValueError, match="within"):
        interval_text(values, within=(1, 0))
    with pytest.raises(ValueError, match="within=None"):  # a difference formatted as if it were a fraction
        interval_text([-0.2, -0.1, -0.15])
    assert interval_text([-0.2, -0.1, -0.15], within=None).startswith("-15.0% (")


def test_at_least_counts_the_seeds_that_clear_the_margin():
    larger, smaller = [0.9, 0.8, 0.85, 0.6, 0.95], [0.7, 0.7, 0.7, 0.7, 0.7]
    check_greater(larger, smaller, 0.05, at_least=4, claim="in at least four of five seeds")
    with pytest.raises(AssertionError, match=r"\(4 above\)"):
        check_greater(larger, smaller, 0.05, at_least=5, claim="in every seed")
    with pytest.raises(ValueError, match="at_least"):
        check_greater(larger, smaller, at_least=6, claim="more seeds than there are")
    with pytest.raises(ValueError, match="at_least"):
        check_greater(larger, smaller, at_least=3, every_seed=True, claim="two rules at once")


def test_every_check_can_be_logged_for_bench_claim_margins(tmp_path, monkeypatch):
    log = tmp_path / "claims.jsonl"
    monkeypatch.setenv("HELPERS_CLAIMS_LOG", str(log))
    check_greater([0.9, 0.8, 0.85], 0.5, claim="logged")
    with pytest.raises(AssertionError):
        check_less([0.9, 0.8], 0.5, claim="logged too")
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["claim"] for r in records] == ["logged", "logged too"] and [r["passed"] for r in records] == [True, False]


def test_reading_says_what_the_two_ends_of_the_interval_allow():
    above = difference_interval([0.9, 0.8, 0.85], [0.5, 0.5, 0.55])
    below = difference_interval([0.5, 0.5, 0.55], [0.9, 0.8, 0.85])
    both = difference_interval([0.9, 0.4, 0.6], [0.6, 0.6, 0.6])
    assert both.low < 0 < both.high
    assert reading(above, "helps", "hurts") == "helps"
    assert reading(below, "helps", "hurts") == "hurts"  # an interval wholly below zero is not "reaches zero"
    assert reading(both, "helps", "hurts") == NO_ORDER
    assert reading(both, "helps", "hurts", neither="cannot tell") == "cannot tell"
    with pytest.raises(ValueError, match="difference must be an Interval"):
        reading(0.3, "helps", "hurts")


def test_seed_and_sample_interval_reduces_to_the_one_way_cases():
    rng = np.random.default_rng(0)
    column = rng.normal(size=(5, 1))
    assert seed_and_sample_interval(column) == mean_interval(column[:, 0])  # one sample: seeds only
    by_seed = rng.normal(size=(5, 1)) + np.zeros((5, 40))  # every digit alike: the seeds' interval
    one_way = mean_interval(by_seed.mean(1))
    both = seed_and_sample_interval(by_seed)
    assert (both.low, both.high) == pytest.approx((one_way.low, one_way.high))
    by_digit = rng.normal(size=(1, 40)) + np.zeros((5, 40))  # every seed alike: the digits' interval
    one_way = mean_interval(by_digit.mean(0))
    both = seed_and_sample_interval(by_digit)
    assert (both.low, both.high) == pytest.approx((one_way.low, one_way.high))
    assert seed_and_sample_interval(np.ones((3, 4))).low == 1.0  # no spread at all
    assert seed_and_sample_interval(np.ones((3, 4)) * 1.2, within=(0.0, 1.0 + 0.5)).mean == pytest.approx(1.2)


@pytest.mark.parametrize("seed", [0, 1])
def test_seed_and_sample_interval_covers_when_the_digits_vary(seed):
    """A crossed design: seed effects, digit effects and noise. The two-way interval covers the
    true mean about 95% of the time; the seeds-only interval, blind to the digit draw, does not."""
    rng = np.random.default_rng(seed)
    trials, covered, covered_seeds_only = 400, 0, 0
    for _ in range(trials):
        table = (rng.normal(0, 0.02, size=(5, 1)) + rng.normal(0, 0.3, size=(1, 250))
                 + rng.normal(0, 0.3, size=(5, 250)))
        both, seeds_only = seed_and_sample_interval(table), mean_interval(table.mean(1))
        covered += both.low <= 0 <= both.high
        covered_seeds_only += seeds_only.low <= 0 <= seeds_only.high
        assert both.low <= seeds_only.low + 1e-12 and both.high >= seeds_only.high - 1e-12  # never narrower
    assert 0.91 <= covered / trials <= 0.99
    assert covered_seeds_only / trials < 0.8


@pytest.mark.parametrize(
    ("values", "message"),
    [(np.ones(5), "table"), (np.ones((1, 5)), "2 seeds"), (np.full((2, 3), np.nan), "finite"), ("abc", "table")],
)
def test_seed_and_sample_interval_rejects_bad_input(values, message):
    with pytest.raises(ValueError, match=message):
        seed_and_sample_interval(values)
