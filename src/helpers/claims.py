"""Claims about trained networks, checked with a margin that another machine cannot erase
(chapters 3-8).

Small networks trained on another CPU (other vector units, another summation order) follow
other trajectories, and so do networks trained from other seeds. A check that orders two
numbers seed by seed, with no margin, passes on one machine and fails on the next. The
checks here compare **means over seeds**: a claim "a exceeds b by more than ``margin``" holds
only when the whole 95% interval (Student's t) of the difference of the means lies above
``margin``, so the seeds' own spread is part of the test. Values from the same seed (same
batches, same test digits) are compared pairwise. A failing check prints every
per-seed value, both means, the interval and the margin.

``make robust`` runs every chapter with other seeds and another thread count to show that
the chapters' claims survive both.
"""

from __future__ import annotations

import json
import math
import numbers
import os
from dataclasses import dataclass

import numpy as np
import torch

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """A mean with its confidence interval, from ``n`` values. Chapters 3-8."""

    mean: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        return f"{self.mean:.4g} (95% interval {self.low:.4g} to {self.high:.4g}, n={self.n})"

    def format(self, spec: str = ".1%") -> str:
        """``"mean (low to high)"`` with each number formatted by ``spec``, for tables."""
        return f"{self.mean:{spec}} ({self.low:{spec}} to {self.high:{spec}})"


def _values(name: str, values: object) -> np.ndarray:
    """Per-seed values as a 1-D float array; a plain number is one value with no spread."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().double().numpy()
    if isinstance(values, numbers.Real) and not isinstance(values, bool):
        values = [float(values)]
    try:
        array = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a number or a sequence of numbers, got {type(values).__name__}") from error
    if array.size == 0:
        raise ValueError(f"{name} must hold at least one value")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must hold finite numbers, got {array.tolist()}")
    return array


def _t_quantile(df: float, confidence: float) -> float:
    from scipy.stats import t

    return float(t.ppf(0.5 + confidence / 2, df))


def _check_confidence(confidence: float) -> float:
    if not isinstance(confidence, numbers.Real) or not 0 < confidence < 1:
        raise ValueError(f"confidence must be a number strictly between 0 and 1, got {confidence!r}")
    return float(confidence)


def mean_interval(
    values: object, confidence: float = CONFIDENCE, within: tuple[float, float] | None = None
) -> Interval:
    """The mean of ``values`` (e.g. one number per seed) and its Student-t confidence interval,
    with its ends cut to ``within`` when given (:func:`bounded`).

    One value gives an interval of zero width. Used by chapters 3-8 for the numbers they report.
    """
    array, confidence = _values("values", values), _check_confidence(confidence)
    mean = float(array.mean())
    if array.size == 1:
        return bounded(Interval(mean, mean, mean, 1), within)
    half = _t_quantile(array.size - 1, confidence) * float(array.std(ddof=1)) / math.sqrt(array.size)
    return bounded(Interval(mean, mean - half, mean + half, int(array.size)), within)


def interval_text(
    values: object,
    spec: str = ".1%",
    confidence: float = CONFIDENCE,
    within: tuple[float, float] | None = (0.0, 1.0),
) -> str:
    """The mean and its 95% interval as text, ``"93.1% (91.0% to 95.2%)"``: the book's one format
    for an interval in a table or a sentence (chapters 3-8). Glued numbers use the same format
    through ``helpers.book.glue_with_interval``.

    ``within`` is the range of values the measure can take, and the interval's ends are cut to
    it (five seeds near 100% otherwise give an upper end above 100%); the mean is never changed.
    The default, 0 to 1, suits a fraction or an accuracy; pass ``None`` for a difference, a loss
    or any other unbounded measure (a mean outside ``within`` raises, so a forgotten ``None``
    shows).
    """
    return mean_interval(values, confidence, within).format(spec)


def seed_and_sample_interval(
    values: object, confidence: float = CONFIDENCE, within: tuple[float, float] | None = None
) -> Interval:
    """The mean of a ``(seeds, samples)`` table (e.g. whether each seed's network got each test
    digit right) and a confidence interval that counts both as drawn at random: another set of
    seeds *and* another set of test digits (chapter 6, for the numbers the verdict page uses).

    A crossed two-way design with one value per cell: the grand mean's variance is estimated as
    ``(MS_seeds + MS_samples - MS_residual) / (seeds * samples)`` from the mean squares of the
    two-way analysis of variance (the samples' term left out when it is negative), with
    Satterthwaite's degrees of freedom. The interval is never narrower than the seeds-only one
    (:func:`mean_interval` on the per-seed means): it adds a source of variation, it does not
    trade the seeds' few degrees of freedom for the samples' many. With one sample per seed it
    is the seeds-only interval.
    ``within`` as for :func:`bounded`.
    """
    confidence = _check_confidence(confidence)
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().double().numpy()
    try:
        table = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"values must be a (seeds, samples) table of numbers, got {type(values).__name__}") from error
    if table.ndim != 2 or table.shape[0] < 2 or table.shape[1] < 1:
        raise ValueError(f"values must be a (seeds, samples) table with at least 2 seeds, got shape {table.shape}")
    if not np.isfinite(table).all():
        raise ValueError("values must hold finite numbers")
    n_seeds, n_samples = table.shape
    if n_samples == 1:
        return mean_interval(table[:, 0], confidence, within)
    grand = float(table.mean())
    seed_means, sample_means = table.mean(1), table.mean(0)
    ms_seeds = n_samples * float(((seed_means - grand) ** 2).sum()) / (n_seeds - 1)
    ms_samples = n_seeds * float(((sample_means - grand) ** 2).sum()) / (n_samples - 1)
    residual = table - seed_means[:, None] - sample_means[None, :] + grand
    df_residual = (n_seeds - 1) * (n_samples - 1)
    ms_residual = float((residual**2).sum()) / df_residual
    terms = [(ms_seeds, n_seeds - 1)]
    if ms_samples > ms_residual:
        terms += [(ms_samples, n_samples - 1), (-ms_residual, df_residual)]
    combined = sum(ms for ms, _ in terms)
    if combined <= 0:
        return bounded(Interval(grand, grand, grand, n_seeds), within)
    df = combined**2 / sum(ms**2 / df for ms, df in terms)
    half = _t_quantile(df, confidence) * math.sqrt(combined / (n_seeds * n_samples))
    seeds_only = mean_interval(seed_means, confidence)
    half = max(half, seeds_only.high - grand)
    return bounded(Interval(grand, grand - half, grand + half, n_seeds), within)


def bounded(interval: Interval, within: tuple[float, float] | None) -> Interval:
    """``interval`` with its ends cut to ``within = (lowest, highest)``, the values the measure
    can take; ``None`` leaves it as it is. The mean is never changed, and a mean outside
    ``within`` raises ``ValueError`` (the measure is not what ``within`` says). Chapters 3-8
    (through :func:`interval_text` and ``helpers.book.glue_with_interval``)."""
    if within is None:
        return interval
    if not (isinstance(within, tuple) and len(within) == 2 and within[0] < within[1]):
        raise ValueError(f"within must be a (lowest, highest) pair with lowest < highest, got {within!r}")
    low, high = within
    if not low - 1e-12 <= interval.mean <= high + 1e-12:
        raise ValueError(f"within={within!r} does not hold the mean {interval.mean:.4g}: pass within=None "
                         "for a difference or an unbounded measure")
    return Interval(interval.mean, max(interval.low, low), min(interval.high, high), interval.n)


def difference_interval(
    larger: object, smaller: object, confidence: float = CONFIDENCE, paired: bool | None = None
) -> Interval:
    """mean(larger) - mean(smaller), with its confidence interval.

    ``paired`` (the default when both sides hold as many values): value ``i`` of each side
    comes from the same seed (same batches, same test digits), so the interval is that of the
    per-seed differences. Otherwise the two spreads add (Welch's standard error, with the
    degrees of freedom of the smaller sample: the cautious choice). A plain number on one side
    is a bound with no spread.

    Chapters 3-8 (through the checks).
    """
    a, b, confidence = _values("larger", larger), _values("smaller", smaller), _check_confidence(confidence)
    if paired is None:
        paired = a.size == b.size > 1
    if paired:
        if a.size != b.size:
            raise ValueError(f"paired values must match one to one, got {a.size} and {b.size}")
        return mean_interval(a - b, confidence)
    gap = float(a.mean() - b.mean())
    sizes = [v.size for v in (a, b) if v.size > 1]
    if not sizes:
        return Interval(gap, gap, gap, 1)
    variance = sum(v.var(ddof=1) / v.size for v in (a, b) if v.size > 1)
    half = _t_quantile(min(sizes) - 1, confidence) * math.sqrt(variance)
    return Interval(gap, gap - half, gap + half, min(sizes))


NO_ORDER = "an interval that contains zero: these seeds cannot tell them apart"


def reading(difference: Interval, above: str, below: str, neither: str = NO_ORDER) -> str:
    """The words a difference's interval allows: ``above`` when all of it lies above zero,
    ``below`` when all of it lies below, ``neither`` when it contains zero. Gluing this beside
    the interval keeps the prose from reading an interval the wrong way round.

    Chapters 3-7.
    """
    if not isinstance(difference, Interval):
        raise ValueError(f"difference must be an Interval (from difference_interval), got {type(difference).__name__}")
    if difference.low > 0:
        return above
    return below if difference.high < 0 else neither


def _describe(name: str, values: np.ndarray) -> str:
    if values.size == 1:
        return f"{name}: {values[0]:.4g}"
    return f"{name}: per seed {np.round(values, 4).tolist()}, mean {mean_interval(values)}"


def check_greater(
    larger: object,
    smaller: object,
    margin: float = 0.0,
    *,
    claim: str,
    confidence: float = CONFIDENCE,
    paired: bool | None = None,
    every_seed: bool = False,
    at_least: int | None = None,
) -> None:
    """Assert that ``larger`` exceeds ``smaller`` by more than ``margin``, on means over seeds.

    Either side is one number per seed (a tensor, array or list) or a plain number (a bound).
    Passes when the lower end of :func:`difference_interval` is above ``margin``; otherwise
    raises ``AssertionError`` with ``claim`` and every number behind it. Returns nothing, so a
    check cell that ends with one shows no output. The checks of chapters 3-8 use it.

    ``every_seed=True`` asks instead that each seed's difference exceed ``margin``: the rule for
    a gap that is wide next to the seeds' spread, where a handful of seeds cannot pin the mean
    down to the interval the first rule needs.

    ``at_least=k`` asks that at least ``k`` seeds' differences exceed ``margin``, for a claim
    about most seeds ("in at least four of five seeds"): the claim's words must say so. It suits
    an effect that each seed shows with high probability but whose mean, over five seeds with a
    wide spread, an interval cannot always separate from zero.
    """
    if not isinstance(margin, numbers.Real) or isinstance(margin, bool) or not math.isfinite(margin) or margin < 0:
        raise ValueError(f"margin must be a finite number >= 0, got {margin!r}")
    if not isinstance(claim, str) or not claim.strip():
        raise ValueError("claim must say, in words, what is being checked")
    a, b = _values("larger", larger), _values("smaller", smaller)
    if at_least is not None:
        differences = a - b
        if every_seed or not isinstance(at_least, int) or not 1 <= at_least <= differences.size:
            raise ValueError(f"at_least must be a number of seeds from 1 to {differences.size}, without every_seed")
        count = int((differences > margin).sum())
        passed, needed = count >= at_least, f"at least {at_least} seeds' differences above the margin {margin:.4g}"
        detail = f"per-seed differences {np.round(differences, 4).tolist()} ({count} above)"
    elif every_seed:
        if a.size > 1 and b.size > 1 and a.size != b.size:
            raise ValueError(f"every_seed compares seed by seed: got {a.size} and {b.size} values")
        differences = a - b
        passed, needed = bool((differences > margin).all()), f"every seed's difference above the margin {margin:.4g}"
        detail = f"per-seed differences {np.round(differences, 4).tolist()}"
    else:
        gap = difference_interval(a, b, confidence, paired)
        passed, needed = gap.low > margin, f"the whole interval above the margin {margin:.4g}"
        detail = f"difference {gap}"
    _log_claim(claim, a, b, margin, every_seed, paired, passed, at_least)
    if not passed:
        raise AssertionError(
            f"claim not supported: {claim}\n  {_describe('larger', a)}\n  {_describe('smaller', b)}\n"
            f"  {detail}; needed: {needed}"
        )


# Set to a file's path to have every check append what it compared (``bench/claim_margins.py``
# reads it: how likely each claim is to pass on another draw of seeds).
CLAIMS_LOG_ENV = "HELPERS_CLAIMS_LOG"


def _log_claim(claim: str, a: np.ndarray, b: np.ndarray, margin: float, every_seed: bool, paired, passed: bool,
               at_least: int | None) -> None:
    path = os.environ.get(CLAIMS_LOG_ENV)
    if not path:
        return
    record = {"claim": claim, "larger": a.tolist(), "smaller": b.tolist(), "margin": margin,
              "every_seed": every_seed, "at_least": at_least, "paired": paired, "passed": passed}
    with open(path, "a") as log:
        log.write(json.dumps(record) + "\n")


def check_less(smaller: object, larger: object, margin: float = 0.0, **options) -> None:
    """Assert that ``smaller`` is below ``larger`` by more than ``margin``; ``options`` (``claim``,
    ``every_seed``, ...) as for :func:`check_greater`. The checks of chapters 3-8 use it."""
    check_greater(larger, smaller, margin, **options)
