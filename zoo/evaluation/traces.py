"""What a trace-writing family wrote, summed over an evaluation: plan and trace validity, trace length, and how
often each error kind of the A* validator appears (`zoo.tasks.maze.judge_trace` judges each trace)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from zoo.tasks.maze import TraceJudgement

#: the validator's error kinds, in the order tables show them
ERROR_KINDS = ("parse", "invalid_create", "close_not_open", "not_lowest_f", "goal_not_closed")


class TraceStatistics:
    """Per budget label: the share of chosen traces whose plan is a valid path (`plan_valid`, order checked) and
    a shortest one (`plan_optimal`), whose search replays as A* (`trace_valid`), their mean search length in
    tokens (`trace_length`), and per error kind the share of traces showing it at least once (`trace_errors`)."""

    def __init__(self, labels: Sequence[str]) -> None:
        self.labels = list(labels)
        self.count: Counter[str] = Counter()
        self.sums: dict[str, Counter[str]] = {label: Counter() for label in self.labels}

    def update(self, judged: dict[str, list[TraceJudgement]]) -> None:
        """judged: budget label -> the judgement of each maze's chosen trace."""
        for label in self.labels:
            sums = self.sums[label]
            for judgement in judged[label]:
                sums["plan_valid"] += judgement.plan_valid
                sums["plan_optimal"] += judgement.plan_optimal
                sums["trace_valid"] += judgement.trace_valid
                sums["trace_length"] += judgement.trace_length
                sums.update(f"error:{kind}" for kind in set(judgement.errors))
            self.count[label] += len(judged[label])

    def compute(self) -> dict[str, dict[str, object]]:
        """{"plan_valid": {label: share}, "plan_optimal", "trace_valid", "trace_length": {label: mean},
        "trace_errors": {label: {kind: share}}}."""
        results: dict[str, dict[str, object]] = {}
        for label in self.labels:
            total, sums = max(self.count[label], 1), self.sums[label]
            for name in ("plan_valid", "plan_optimal", "trace_valid", "trace_length"):
                results.setdefault(name, {})[label] = sums[name] / total
            results.setdefault("trace_errors", {})[label] = {
                kind: sums[f"error:{kind}"] / total for kind in ERROR_KINDS
            }
        return results
