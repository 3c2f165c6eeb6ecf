"""pass@k, the unbiased estimator (Chen et al. 2021): from n samples of a puzzle of which c are verified, the
chance that k of them drawn without replacement hold at least one verified answer,

    pass@k = 1 - C(n - c, k) / C(n, k) = 1 - prod_{i = n - c + 1}^{n} (1 - k / i),

averaged over puzzles. The product form never forms the huge binomials of n = 256. `zoo eval` keeps n and
every puzzle's c in results.json (`samples_verified`), so anyone can recompute the curve.

    >>> round(pass_at_k(n=4, c=1, k=2), 3)  # 1 - C(3, 2) / C(4, 2)
    0.5
"""

from __future__ import annotations

from collections.abc import Sequence


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k of one puzzle with `c` verified answers among `n` samples (1 <= k <= n, 0 <= c <= n)."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:  # every draw of k holds a verified answer
        return 1.0
    missed = 1.0
    for i in range(n - c + 1, n + 1):
        missed *= 1.0 - k / i
    return 1.0 - missed


def ks_up_to(n: int) -> list[int]:
    """The k a curve reports for n samples: the powers of two up to n, and n itself."""
    ks = [1 << power for power in range(n.bit_length()) if 1 << power <= n]
    return ks if ks[-1] == n else [*ks, n]


def pass_at_k_curve(n: int, verified: Sequence[int]) -> dict[str, float]:
    """{str(k): pass@k averaged over puzzles} for each k of `ks_up_to(n)`, given each puzzle's verified count."""
    if not verified:
        return {}
    return {str(k): sum(pass_at_k(n, c, k) for c in verified) / len(verified) for k in ks_up_to(n)}
