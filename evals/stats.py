"""Uncertainty in eval scores: confidence intervals on pass@1 and paired tests between scenarios.

- pass@1 with one scored sample per problem is a binomial proportion over problems: its 95%
  interval is the exact Clopper-Pearson one.
- With several samples per problem, pass@1 is a mean of per-problem pass rates: its interval is a
  percentile bootstrap over problems (problems resampled with replacement, 10,000 times, from a
  fixed seed, so the same results give the same interval).
- Two scenarios graded on the same problems are compared problem by problem: the problems one solves
  more often than the other (with one sample each, the problems that flip) and a two-sided exact
  sign test on those discordant problems, which with one sample per problem is McNemar's exact test.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

LEVEL = 0.95
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0
CLOPPER_PEARSON = "Clopper-Pearson exact binomial over problems"
BOOTSTRAP = f"percentile bootstrap over problems ({BOOTSTRAP_RESAMPLES} resamples, seed {BOOTSTRAP_SEED})"
MCNEMAR = "McNemar's exact test (one sample per problem)"
SIGN_TEST = "exact sign test on problems whose pass rate differs (McNemar's with one sample each)"


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p)."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    terms = [
        math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q
        for i in range(k + 1)
    ]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def _solve(f: Callable[[float], float], target: float, increasing: bool) -> float:
    """The p in [0, 1] where a monotone function of p crosses `target` (bisection)."""
    lo, hi = 0.0, 1.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if (f(mid) < target) == increasing:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def clopper_pearson(successes: int, trials: int, level: float = LEVEL) -> tuple[float, float]:
    """The exact two-sided interval for a binomial proportion."""
    if trials <= 0:
        return (0.0, 1.0)
    alpha = 1 - level
    # lower: P(X >= k | p) = alpha/2; upper: P(X <= k | p) = alpha/2
    lower = (
        0.0
        if successes == 0
        else _solve(lambda p: 1 - binomial_cdf(successes - 1, trials, p), alpha / 2, increasing=True)
    )
    upper = (
        1.0
        if successes == trials
        else _solve(lambda p: binomial_cdf(successes, trials, p), alpha / 2, increasing=False)
    )
    return (lower, upper)


def bootstrap_mean(values: Sequence[float], level: float = LEVEL) -> tuple[float, float]:
    """A percentile bootstrap interval for the mean of `values` (fixed seed: reproducible)."""
    if not values:
        return (0.0, 1.0)
    rng = random.Random(BOOTSTRAP_SEED)
    count = len(values)
    means = sorted(sum(rng.choices(values, k=count)) / count for _ in range(BOOTSTRAP_RESAMPLES))
    tail = (1 - level) / 2
    low = means[math.floor(tail * (BOOTSTRAP_RESAMPLES - 1))]
    high = means[math.ceil((1 - tail) * (BOOTSTRAP_RESAMPLES - 1))]
    return (low, high)


def pass1_interval(per_problem: Sequence[tuple[int, int]], level: float = LEVEL) -> tuple[float, float, str]:
    """A 95% interval (fractions) for pass@1 from (samples, passed) per problem, and its method."""
    if per_problem and all(n == 1 for n, _ in per_problem):
        low, high = clopper_pearson(sum(c for _, c in per_problem), len(per_problem), level)
        return (low, high, CLOPPER_PEARSON)
    rates = [c / n for n, c in per_problem if n > 0]
    low, high = bootstrap_mean(rates, level)
    return (low, high, BOOTSTRAP)


def sign_test(better: int, worse: int) -> float:
    """Two-sided exact p-value: `better` of `better + worse` discordant pairs under p = 1/2."""
    total = better + worse
    if total == 0:
        return 1.0
    tail = sum(math.comb(total, i) for i in range(min(better, worse) + 1))  # exact integers
    p_value: float = 2 * tail / 2**total  # int / int: exact, correctly rounded, any size
    return min(1.0, p_value)


QUANTILES = (0.5, 0.9, 0.95, 0.99)


def distribution(values: Sequence[float]) -> dict[str, float]:
    """count, mean, the quantiles of QUANTILES (linear interpolation between order statistics, as
    numpy's default) and min/max of `values`, in their unit, rounded to ms; empty: count 0 only."""
    ordered = sorted(values)
    if not ordered:
        return {"count": 0}
    out = {"count": float(len(ordered)), "mean": sum(ordered) / len(ordered), "min": ordered[0]}
    for q in QUANTILES:
        position = q * (len(ordered) - 1)
        below = math.floor(position)
        above = min(below + 1, len(ordered) - 1)
        out[f"p{round(100 * q)}"] = ordered[below] + (ordered[above] - ordered[below]) * (position - below)
    out["max"] = ordered[-1]
    return {key: (int(value) if key == "count" else round(value, 3)) for key, value in out.items()}
