"""pass@k: the unbiased estimator against a brute-force count over subsets, and what `zoo eval` keeps of it."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from tests.helpers import build
from zoo.evaluation.budget import Budget
from zoo.evaluation.evaluate import evaluate
from zoo.evaluation.passk import ks_up_to, pass_at_k, pass_at_k_curve


def brute_force(n: int, c: int, k: int) -> float:
    """The share of the k-subsets of n samples (the first c verified) that hold a verified one."""
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(i < c for i in subset) for subset in subsets) / len(subsets)


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_pass_at_k_is_the_share_of_k_subsets_holding_a_verified_sample(n: int) -> None:
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert math.isclose(pass_at_k(n, c, k), brute_force(n, c, k), abs_tol=1e-12), (n, c, k)


def test_pass_at_k_stays_exact_where_the_binomials_are_huge() -> None:
    assert pass_at_k(256, 0, 256) == 0.0 and pass_at_k(256, 1, 256) == 1.0
    assert math.isclose(pass_at_k(256, 1, 1), 1 / 256)
    assert math.isclose(pass_at_k(256, 3, 64), 1 - math.comb(253, 64) / math.comb(256, 64), rel_tol=1e-9)
    with pytest.raises(ValueError, match="1 <= k <= n"):
        pass_at_k(4, 1, 5)


def test_the_curve_reports_powers_of_two_and_n() -> None:
    assert ks_up_to(1) == [1] and ks_up_to(8) == [1, 2, 4, 8] and ks_up_to(20) == [1, 2, 4, 8, 16, 20]
    curve = pass_at_k_curve(4, [0, 4, 1])
    assert list(curve) == ["1", "2", "4"]
    assert math.isclose(curve["1"], (0 + 1 + 0.25) / 3) and curve["4"] == pytest.approx(2 / 3)


def test_eval_keeps_each_puzzles_verified_count_and_the_curve_follows_from_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path))
    model = build("generative").eval()
    torch.manual_seed(0)
    results = evaluate(model, model.task, [Budget(2), Budget(2, 4)], count=12, seed=1, batch_size=12)
    kept = results["samples_verified"]["2x4"]
    assert kept["n"] == 4 and len(kept["verified"]) == 12 and all(0 <= c <= 4 for c in kept["verified"])
    assert results["pass_at_k"]["2x4"] == pass_at_k_curve(4, kept["verified"])
    assert results["pass_at_k"]["2x4"]["4"] == pytest.approx(results["pass_at_n"]["2x4"])
    assert "2" not in results["pass_at_k"], "one sample has no curve"
