"""Sizing thinking before it starts, the same for `zoo solve`, `zoo eval`, `zoo bench` and `model.solve`:
which budgets a model can think at, whether the memory they need is there, and how long they will take.

The budget ceiling itself is `Budget`'s, so it holds wherever a budget is made.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from zoo.errors import ZooError
from zoo.evaluation.budget import Budget
from zoo.evaluation.resources import available_memory

if TYPE_CHECKING:
    from torch import Tensor

    from zoo.models.base import ReasoningFamily

# Seconds of thinking from which `zoo solve` says up front how long it will take.
LONG_SECONDS = 60.0
# Timed steps (one batch at one step each) from which a solve is timed before it starts; below, timing would
# cost a large share of the work itself.
_TIMED_FROM = 8


def default_budgets(model: ReasoningFamily) -> list[Budget]:
    """The model's `eval_budgets`, with samples dropped where it does not sample (its N samples would be copies)."""
    if model.draws_samples:
        return list(model.eval_budgets)
    return list(dict.fromkeys(Budget(budget.steps) for budget in model.eval_budgets))


def check_thinking(
    model: ReasoningFamily,
    budgets: Sequence[Budget],
    batch_size: int,
    count: int,
    *,
    budget_key: str = "budgets",
    batch_option: str = "--batch-size",
) -> None:
    """Refuse, before any work, thinking about `count` puzzles `batch_size` at a time at `budgets` when the model
    cannot sample but a budget asks for samples, or when the memory it needs is more than this process may use.
    The message says what to lower: `batch_option`, or the budget (`budget_key` names its setting)."""
    sampled = [budget.label for budget in budgets if budget.samples > 1]
    if sampled and not model.draws_samples:
        raise ZooError(
            f"{type(model).__name__} is deterministic: a budget of several samples ({', '.join(sampled)}) has "
            "nothing to sample; give steps only, e.g. 16",
            key=budget_key,
        )
    largest = Budget(max(b.steps for b in budgets), max(b.samples for b in budgets))
    batch = min(batch_size, count)
    needed = model.thinking_memory(batch, largest)
    available = available_memory(model.device)
    if available is None or needed <= available.bytes:
        return
    fits = available.bytes // max(model.thinking_memory(1, largest), 1)
    gib = 2**30
    raise ZooError(
        f"thinking about {batch} puzzles at once at budget {largest.label} needs about {needed / gib:.1f} GiB "
        f"and {available.bytes / gib:.1f} GiB is free on {model.device} (bounded by {available.bound}): "
        + (f"lower {batch_option} to {fits} or less" if fits >= 1 else "lower the budget (steps x samples)"),
        key="batch_size" if fits >= 1 else budget_key,
    )


@torch.no_grad()
def seconds_per_step(model: ReasoningFamily, batch: Tensor, samples: int) -> float:
    """Wall seconds of one thinking step on the puzzles `batch` [B, L] with `samples` samples."""
    started = time.perf_counter()
    model.think(batch, Budget(1, samples))
    if batch.is_cuda:
        torch.cuda.synchronize(batch.device)
    return time.perf_counter() - started


def expected_seconds(model: ReasoningFamily, batch: Tensor, budget: Budget, count: int) -> float | None:
    """About how long thinking about `count` puzzles at `budget`, in batches like `batch` [B, L], takes: one step
    on `batch` timed, times the steps and batches. None when the work is too small to be worth timing."""
    steps = budget.steps * math.ceil(count / len(batch))
    if steps < _TIMED_FROM:
        return None
    return seconds_per_step(model, batch, budget.samples) * steps


def forecast(model: ReasoningFamily, batch: Tensor, budget: Budget, count: int) -> float:
    """`expected_seconds` (0 when not timed), said in one line on stderr when it is long."""
    seconds = expected_seconds(model, batch, budget, count) or 0.0
    if seconds >= LONG_SECONDS:
        print(
            f"zoo: thinking about {count} puzzles at budget {budget.label} will take about {duration(seconds)} on "
            f"{model.device} (timed on one step); a smaller budget is faster",
            file=sys.stderr,
        )
    return seconds


def duration(seconds: float) -> str:
    """'45 s', '12 min', '3.5 h'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
