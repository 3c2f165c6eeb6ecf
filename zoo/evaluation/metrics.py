"""torchmetrics for reasoning puzzles: cell accuracy, verified exact match, exact match per budget.

Exact match is *verified*: an answer counts when it satisfies the puzzle's rules and keeps its givens,
whether or not it equals the stored solution (multi-solution puzzles have more than one right answer).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torchmetrics import Metric

from zoo.tasks import Task
from zoo.tasks.base import BLANK_TOKEN


class CellAccuracy(Metric):
    """Fraction of the puzzle's blank cells whose predicted symbol equals the stored solution's."""

    full_state_update = False

    def __init__(self) -> None:
        super().__init__()
        self.add_state("correct", torch.tensor(0), dist_reduce_fx="sum")
        self.add_state("total", torch.tensor(0), dist_reduce_fx="sum")

    def update(self, inputs: Tensor, predictions: Tensor, targets: Tensor) -> None:
        """inputs, predictions, targets: token ids [B, L]."""
        blank = inputs == BLANK_TOKEN
        self.correct += ((predictions == targets) & blank).sum()
        self.total += blank.sum()

    def compute(self) -> Tensor:
        return self.correct.float() / self.total.clamp(min=1)


def verified(task: Task, inputs: Tensor, predictions: Tensor, optimal: bool = False) -> Tensor:
    """Whether each predicted board solves its puzzle (with `optimal`, also by the task's `optimal`, e.g. a
    shortest path of a maze). inputs, predictions: [B, L] -> bool [B]."""
    puzzles = task.decode(inputs.cpu())
    answers = task.decode(predictions.cpu())
    check = task.optimal if optimal else task.verify
    flags = [check(puzzle, answer) for puzzle, answer in zip(puzzles, answers)]
    return torch.tensor(flags, dtype=torch.bool, device=inputs.device)


class ExactMatchPerBudget(Metric):
    """Verified exact match at each of several inference budgets, in one metric (one state row per budget); with
    `optimal`, the share of answers the task's `optimal` also accepts (tasks that have one: mazes)."""

    full_state_update = False

    def __init__(self, task: Task, budget_labels: Sequence[str], optimal: bool = False) -> None:
        super().__init__()
        self.task, self.optimal = task, optimal
        self.budget_labels = list(budget_labels)
        self.add_state("correct", torch.zeros(len(self.budget_labels), dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("total", torch.tensor(0), dist_reduce_fx="sum")

    def update(self, inputs: Tensor, predictions: dict[str, Tensor]) -> None:
        """inputs: [B, L]; predictions: budget label -> answers [B, L] for every label given at construction."""
        missing = set(self.budget_labels) - set(predictions)
        if missing:
            raise KeyError(f"no predictions for budgets {sorted(missing)}")
        for index, label in enumerate(self.budget_labels):
            self.correct[index] += verified(self.task, inputs, predictions[label], self.optimal).sum()
        self.total += inputs.shape[0]

    def compute(self) -> dict[str, Tensor]:
        rates = self.correct.float() / self.total.clamp(min=1)
        return {label: rates[index] for index, label in enumerate(self.budget_labels)}


class SolutionCoverage(Metric):
    """How much of a puzzle's solution set N samples reach, how varied they are, and what other ways of choosing
    one of them would have scored.

    pass_at_n = share of puzzles with at least one valid answer among the N (an oracle choosing by the task's
    verifier: an upper bound on any selector); vote = share whose most frequent answer (ties: the first drawn) is
    valid, the majority vote at the same N;
    coverage@N = distinct valid answers ÷ min(N, number of solutions), averaged over puzzles;
    diversity = distinct answers (valid or not) ÷ N. Solutions are enumerated exactly by the task (up to N).
    coverage_cap = 1 ÷ min(N, number of solutions) averaged over puzzles (0 for a puzzle without one): the most
    coverage one distinct answer can reach, so the ceiling of a deterministic model, whose N samples are copies.
    """

    full_state_update = False

    def __init__(self, task: Task) -> None:
        super().__init__()
        self.task = task
        self.add_state("coverage", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("diversity", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("coverage_cap", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("pass_at_n", torch.tensor(0), dist_reduce_fx="sum")
        self.add_state("vote", torch.tensor(0), dist_reduce_fx="sum")
        self.add_state("total", torch.tensor(0), dist_reduce_fx="sum")

    def update(self, inputs: Tensor, samples: Tensor) -> None:
        """inputs: [B, L] puzzles; samples: [N, B, L] N answers to each."""
        count = samples.shape[0]
        puzzles = self.task.decode(inputs.cpu())
        answers = self.task.decode(samples.cpu())  # [N, B, n, n]
        for index, puzzle in enumerate(puzzles):
            drawn = [answer.tobytes() for answer in answers[:, index]]
            distinct = {key: answer for key, answer in zip(drawn, answers[:, index])}
            verdicts = {key: self.task.verify(puzzle, answer) for key, answer in distinct.items()}
            valid = sum(verdicts.values())
            self.pass_at_n += int(valid > 0)
            self.vote += int(verdicts[max(distinct, key=drawn.count)])  # max keeps the first drawn among ties
            reachable = min(count, len(self.task.solutions(puzzle, limit=count)))
            self.coverage += valid / max(reachable, 1)
            self.coverage_cap += 1 / reachable if reachable else 0.0
            self.diversity += len(distinct) / count
        self.total += len(puzzles)

    def compute(self) -> dict[str, Tensor]:
        total = self.total.clamp(min=1)
        return {
            "pass_at_n": self.pass_at_n.float() / total,
            "vote": self.vote.float() / total,
            "coverage": (self.coverage / total).float(),
            "coverage_cap": (self.coverage_cap / total).float(),
            "diversity": (self.diversity / total).float(),
        }
