"""Verified exact match at each inference budget on held-out puzzles (what `zoo eval` measures).

Long evaluations show a progress bar; `zoo.evaluation.sizing` refuses, before one starts, budgets and batches that would
not fit in the memory this process may use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from zoo import compat, tasks
from zoo.data import TaskDataModule
from zoo.errors import ZooError
from zoo.evaluation.budget import Budget
from zoo.evaluation.metrics import ExactMatchPerBudget, SolutionCoverage, verified
from zoo.evaluation.passk import pass_at_k_curve
from zoo.evaluation.traces import TraceStatistics
from zoo.io import progress
from zoo.models import ReasoningFamily

# Puzzle-steps (puzzles x steps x samples) from which an evaluation shows progress even without a terminal.
_PROGRESS_FROM = 100_000


def _parse_value(text: str) -> Any:
    """'8' -> 8, 'false' -> False, '0.5' -> 0.5, anything else stays text."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_task_overrides(extra: Sequence[str]) -> dict[str, Any]:
    """`--task.givens 8 --task.unique=false` -> {"givens": 8, "unique": False}."""
    overrides: dict[str, Any] = {}
    items = list(extra)
    while items:
        flag = items.pop(0)
        if not flag.startswith("--task."):
            raise ZooError(
                f"unknown argument {flag!r}: task options are given as --task.NAME VALUE; see `zoo eval --help`"
            )
        name, has_value, value = flag[len("--task.") :].partition("=")
        if not has_value:
            if not items:
                raise ZooError(f"{flag} needs a value", key=f"task.{name}")
            value = items.pop(0)
        overrides[name] = _parse_value(value)
    return overrides


def evaluation_task(model: ReasoningFamily, overrides: dict[str, Any]) -> tasks.Task:
    """The model's task with `overrides` applied, checked to be readable by the model and generatable."""
    try:
        task = tasks.get(**{**model.task.spec(), **overrides})
        task.check_generatable()
    except ZooError as error:
        raise error.under("task") from None
    try:
        compat.require_readable(model.task.spec(), task.spec(), "this model")
    except ZooError as error:
        raise ZooError(
            f"{error}: override difficulty options only, e.g. --task.givens",
            key=f"task.{next(iter(overrides), 'name')}",
        ) from None
    return task


# The held-out splits `zoo eval` reads: choices are made on validation, reported figures come from test.
EVAL_SPLITS = {"test": "test", "validation": "val"}


@torch.no_grad()
def evaluate(
    model: ReasoningFamily,
    task: tasks.Task,
    budgets: list[Budget],
    count: int,
    seed: int,
    batch_size: int,
    split: str = "test",
) -> dict[str, dict[str, float]]:
    """On `count` held-out puzzles of `task` from `split` ("test", or "validation" for choosing settings):
    verified exact match per budget label; the share of optimal answers for tasks that judge optimality
    (mazes); for families that sample, coverage@N and diversity per budget with N > 1, and (families whose
    samples differ) pass@k for k up to N with each puzzle's count of verified samples; for families that write
    traces, what `TraceStatistics` sums. Large evaluations show a progress bar."""
    if split not in EVAL_SPLITS:
        raise ZooError(f"split must be one of {', '.join(EVAL_SPLITS)}, got {split!r}", key="split")
    torch.manual_seed(seed)  # sampling families draw their noise and initialisations from torch's generator
    counts = {f"{name}_count": count if name == EVAL_SPLITS[split] else 0 for name in ("val", "test")}
    data = TaskDataModule(task.spec(), train_count=0, **counts, seed=seed, eval_batch_size=batch_size)
    data.prepare_data()
    data.setup()
    loader = data.val_dataloader() if split == "validation" else data.test_dataloader()
    labels = [b.label for b in budgets]
    exact = ExactMatchPerBudget(task, labels)
    optimal = ExactMatchPerBudget(task, labels, optimal=True) if hasattr(task, "optimal") else None
    traces = TraceStatistics(labels) if model.writes_traces else None
    coverage: dict[str, SolutionCoverage] = {}
    verified_counts: dict[str, list[int]] = {}
    work = count * max(b.steps for b in budgets) * max(b.samples for b in budgets)
    batches = progress.bar(work=work, large=_PROGRESS_FROM, iterable=loader, desc="evaluating", unit="batch")
    for batch in batches:
        inputs = batch["inputs"].to(model.device)
        # Per budget one run: answers, coverage and the traces judged agree.
        if traces is not None:
            answers, samples, judged = model.evaluate_traces(inputs, budgets)
            traces.update(judged)
        else:
            answers, samples = model.evaluate_budgets(inputs, budgets)
        exact.update(inputs, answers)
        if optimal is not None:
            optimal.update(inputs, answers)
        for label, candidates in samples.items():
            coverage.setdefault(label, SolutionCoverage(task)).update(inputs, candidates)
            if model.draws_samples:  # how many of each puzzle's N samples are verified, for pass@k
                counts = torch.stack([verified(task, inputs, candidate) for candidate in candidates]).sum(0)
                verified_counts.setdefault(label, []).extend(counts.tolist())
    results: dict[str, Any] = {"exact_match": {label: float(rate) for label, rate in exact.compute().items()}}
    if optimal is not None:
        results["optimal"] = {label: float(rate) for label, rate in optimal.compute().items()}
    if traces is not None:
        results.update(traces.compute())
    for label, metric in coverage.items():
        for name, value in metric.compute().items():
            results.setdefault(name, {})[label] = float(value)
    if verified_counts:
        sizes = {b.label: b.samples for b in budgets}
        results["samples_verified"] = {
            label: {"n": sizes[label], "verified": counts} for label, counts in verified_counts.items()
        }
        results["pass_at_k"] = {
            label: pass_at_k_curve(sizes[label], counts) for label, counts in verified_counts.items()
        }
    results["flops_per_puzzle"] = {b.label: model.budget_cost(b)["flops"] for b in budgets}
    return results
