"""The unbiased pass@k estimator (Chen et al. 2021), as LiveCodeBench computes it."""

from __future__ import annotations

from collections.abc import Iterable


def pass_at_k(n: int, c: int, k: int) -> float:
    """1 - C(n-c, k) / C(n, k), computed as a stable product; 1.0 when every k-subset holds a pass."""
    if not 0 <= c <= n or k < 1:
        raise ValueError(f"pass@k needs 0 <= c <= n and k >= 1 (got n={n}, c={c}, k={k})")
    if k > n:
        raise ValueError(f"pass@{k} is undefined with only {n} samples")
    if n - c < k:
        return 1.0
    estimate = 1.0
    for m in range(n - c + 1, n + 1):
        estimate *= 1.0 - k / m
    return 1.0 - estimate


def mean_pass_at_k(counts: Iterable[tuple[int, int]], k: int) -> float:
    """pass@k averaged over problems, each given as (samples, correct samples)."""
    values = [pass_at_k(n, c, k) for n, c in counts]
    if not values:
        raise ValueError("pass@k over no problems")
    return sum(values) / len(values)
