"""pass@k against values computed by hand from 1 - C(n-c, k) / C(n, k)."""

from __future__ import annotations

import math

import pytest

from trident.evals.lcb.passk import mean_pass_at_k, pass_at_k


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (10, 3, 1, 0.3),  # pass@1 is c/n
        (10, 3, 5, 1 - 21 / 252),  # C(7,5)=21, C(10,5)=252
        (10, 0, 5, 0.0),
        (10, 6, 5, 1.0),  # n-c=4 < k: every 5-subset holds a pass
        (5, 1, 2, 1 - 6 / 10),  # C(4,2)=6, C(5,2)=10
        (200, 17, 10, 1 - math.comb(183, 10) / math.comb(200, 10)),
    ],
)
def test_values(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_mean_over_problems() -> None:
    assert mean_pass_at_k([(10, 3), (10, 10)], 1) == pytest.approx(0.65)


@pytest.mark.parametrize(("n", "c", "k"), [(5, 6, 1), (5, 1, 0), (3, 1, 4), (5, -1, 1)])
def test_bad_arguments_are_refused(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)
    with pytest.raises(ValueError):
        mean_pass_at_k([], 1)
