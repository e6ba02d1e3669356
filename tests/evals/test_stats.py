"""Intervals and paired tests of the eval report (`trident.evals.stats`)."""

from __future__ import annotations

import pytest

from trident.evals import stats


def test_clopper_pearson_matches_the_exact_interval() -> None:
    # reference values: the beta quantiles (scipy.stats.beta.ppf) for 95%
    assert stats.clopper_pearson(7, 10) == pytest.approx((0.347547, 0.933260), abs=1e-5)
    assert stats.clopper_pearson(0, 10) == pytest.approx((0.0, 0.308497), abs=1e-5)
    assert stats.clopper_pearson(10, 10) == pytest.approx((0.691503, 1.0), abs=1e-5)
    low, high = stats.clopper_pearson(21, 42)
    assert low + high == pytest.approx(1.0) and stats.binomial_cdf(20, 42, low) == pytest.approx(0.975)


def test_one_sample_a_problem_is_exact_several_are_bootstrapped_reproducibly() -> None:
    low, high, method = stats.pass1_interval([(1, 1), (1, 0), (1, 1)])
    assert method == stats.CLOPPER_PEARSON and (low, high) == stats.clopper_pearson(2, 3)
    rates = [(4, i % 5) for i in range(30)]
    first = stats.pass1_interval(rates)
    assert first[2] == stats.BOOTSTRAP and first == stats.pass1_interval(rates)
    mean = sum(c / n for n, c in rates) / len(rates)
    assert first[0] < mean < first[1]


def test_sign_test_is_mcnemars_exact_test() -> None:
    assert stats.sign_test(8, 1) == pytest.approx(20 / 512)  # 2 * (1 + 9) / 2^9
    assert stats.sign_test(0, 0) == 1.0 and stats.sign_test(5, 5) == 1.0
    assert stats.sign_test(1, 8) == stats.sign_test(8, 1)
    assert stats.sign_test(0, 3000) == 0.0  # any number of problems
