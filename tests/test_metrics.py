"""Metrics on hand-made cases: a valid answer counts even when it is not the stored one."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zoo import tasks
from zoo.evaluation.metrics import CellAccuracy, ExactMatchPerBudget, SolutionCoverage

TASK = tasks.get("sudoku", size=4, givens=6, unique=False)
GRID_A = np.array([[1, 2, 3, 4], [3, 4, 1, 2], [2, 1, 4, 3], [4, 3, 2, 1]])
GRID_B = np.array([[1, 2, 3, 4], [3, 4, 1, 2], [2, 3, 4, 1], [4, 1, 2, 3]])  # same first two rows


def test_verified_exact_match_accepts_any_valid_answer() -> None:
    puzzle = GRID_A.copy()
    puzzle[2:] = 0  # both grids complete these givens
    inputs = TASK.encode(np.stack([puzzle, puzzle, puzzle]))
    wrong = GRID_A.copy()
    wrong[3, 3] = 2
    predictions = TASK.encode(np.stack([GRID_A, GRID_B, wrong]))
    metric = ExactMatchPerBudget(TASK, ["1"])
    metric.update(inputs, {"1": predictions})
    assert metric.compute()["1"].item() == pytest.approx(2 / 3)


def test_answer_that_changes_a_given_is_wrong() -> None:
    puzzle = np.zeros((4, 4), dtype=int)
    puzzle[2, 1] = 1  # GRID_A has it, GRID_B does not
    metric = ExactMatchPerBudget(TASK, ["1"])
    metric.update(TASK.encode(np.stack([puzzle, puzzle])), {"1": TASK.encode(np.stack([GRID_A, GRID_B]))})
    assert metric.compute()["1"].item() == 0.5


def test_cell_accuracy_counts_blank_cells_only() -> None:
    puzzle = GRID_A.copy()
    puzzle[0] = 0  # 4 blanks
    answer = GRID_A.copy()
    answer[0, 0], answer[1, 1] = 2, 1  # one blank wrong; one given overwritten (not a blank)
    metric = CellAccuracy()
    metric.update(TASK.encode(puzzle[None]), TASK.encode(answer[None]), TASK.encode(GRID_A[None]))
    assert metric.compute().item() == 3 / 4


def test_exact_match_per_budget_keeps_budgets_apart() -> None:
    puzzle = GRID_A.copy()
    puzzle[2:] = 0
    inputs = TASK.encode(np.stack([puzzle, puzzle]))
    wrong = TASK.encode(np.zeros((4, 4), dtype=int))
    metric = ExactMatchPerBudget(TASK, ["1", "4"])
    metric.update(
        inputs, {"1": torch.stack([wrong, TASK.encode(GRID_A)]), "4": TASK.encode(np.stack([GRID_B, GRID_A]))}
    )
    rates = metric.compute()
    assert rates["1"].item() == 0.5 and rates["4"].item() == 1.0


def test_the_coverage_cap_is_what_one_distinct_answer_can_reach() -> None:
    """N copies of one valid answer reach exactly the cap (the mean of 1 / min(N, solutions)); N distinct valid
    answers pass it wherever a puzzle has more than one solution."""
    task = tasks.get("nqueens", size=6, placed=0)  # the empty 6x6 board: 4 solutions
    puzzles, _ = task.generate(1, seed=0)
    solutions = task.solutions(puzzles[0])
    inputs = task.encode(puzzles)
    for count in (2, 3, 8):
        copies, distinct = SolutionCoverage(task), SolutionCoverage(task)
        copies.update(inputs, task.encode(np.stack([solutions[0]] * count))[:, None])
        picked = [solutions[k % len(solutions)] for k in range(count)]
        distinct.update(inputs, task.encode(np.stack(picked))[:, None])
        cap = 1 / min(count, len(solutions))
        assert copies.compute()["coverage"] == pytest.approx(cap) == copies.compute()["coverage_cap"]
        assert distinct.compute()["coverage"] == pytest.approx(1.0)
        assert cap < 1.0


def test_pass_at_n_is_any_valid_sample_and_the_vote_is_the_most_frequent_one() -> None:
    """Three puzzles of four samples each: a lone valid answer outvoted by a wrong one (pass, no vote); a valid
    majority (both); a 2-2 tie settled by the first drawn, which is wrong here (pass, no vote)."""
    puzzle = GRID_A.copy()
    puzzle[2:] = 0
    wrong = GRID_A.copy()
    wrong[3, 3] = 2
    per_puzzle = [
        [wrong, GRID_A, wrong, wrong],
        [GRID_B, wrong, GRID_B, GRID_A],
        [wrong, GRID_A, GRID_A, wrong],
    ]
    samples = TASK.encode(np.stack([np.stack(column) for column in zip(*per_puzzle)]).reshape(-1, 4, 4))
    metric = SolutionCoverage(TASK)
    metric.update(TASK.encode(np.stack([puzzle] * 3)), samples.view(4, 3, -1))
    result = metric.compute()
    assert result["pass_at_n"].item() == pytest.approx(1.0)
    assert result["vote"].item() == pytest.approx(1 / 3)
