"""The tables of docs/results/traces.md, rendered from benchmarks/results/traces-cpu.json
(`python -m benchmarks.traces`): per arm and generator the spread over training seeds of each figure."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from tools.figure_tables import markdown_table, shown

TRACE_ARMS = ("correct", "swapped", "none")
GENERATOR_ORDER = ("wilson", "kruskal", "dfs", "drunkard", "random_walls")
MAIN_BUDGET = {"recursive": "16"}  # the budget each arm's tables report (the trace arms: greedy, 256 tokens)
TRACE_BUDGET = "256"
KINDS = ("parse", "invalid_create", "close_not_open", "not_lowest_f", "goal_not_closed")


def spread(values: list[float]) -> dict[str, Any]:
    return {"mean": statistics.fmean(values), "min": min(values), "max": max(values), "runs": values}


def _figure(arm: dict[str, Any], generator: str, metric: str, label: str) -> dict[str, Any] | None:
    """The spread over seeds of `metric` at budget `label` on `generator`'s test mazes (None if not measured)."""
    values = [run["test"][generator].get(metric, {}).get(label) for run in arm["runs"].values()]
    return spread(values) if values and None not in values else None


def _seeds(arm: dict[str, Any]) -> str:
    return ", ".join(sorted(arm["runs"]))


def plans(metric: str) -> Callable[[dict[str, Any]], str]:
    """Per arm, `metric` (exact_match: a valid path by the task's verifier; optimal: a shortest one) on each
    generator's test mazes at the arm's main budget."""

    def render(data: dict[str, Any]) -> str:
        generators = [g for g in GENERATOR_ORDER if g in next(iter(data["arms"].values()))["runs"]["0"]["test"]]
        rows = []
        for name, arm in data["arms"].items():
            label = MAIN_BUDGET.get(name, TRACE_BUDGET)
            cells = [shown(_figure(arm, generator, metric, label)) for generator in generators]
            rows.append([f"{name} (budget {label}; seeds {_seeds(arm)})", *cells])
        header = ["arm", *(f"{g}{' (training)' if g == 'wilson' else ''}" for g in generators)]
        return markdown_table(header, rows)

    return render


def writing(data: dict[str, Any]) -> str:
    """Per trace arm and generator: what the decoder wrote at the main budget, judged by the A* validator."""
    rows = []
    for name in TRACE_ARMS:
        arm = data["arms"].get(name)
        if arm is None:
            continue
        for generator in GENERATOR_ORDER:
            if generator not in arm["runs"]["0"]["test"]:
                continue
            plan = shown(_figure(arm, generator, "plan_valid", TRACE_BUDGET))
            if name == "none":  # it writes no search: nothing for the validator to replay
                rows.append([name, generator, plan, "no search written", "0", *["–"] * len(KINDS)])
                continue
            errors = [run["test"][generator]["trace_errors"][TRACE_BUDGET] for run in arm["runs"].values()]
            shares = [shown(spread([error[kind] for error in errors])) for kind in KINDS]
            length = _figure(arm, generator, "trace_length", TRACE_BUDGET)
            trace = shown(_figure(arm, generator, "trace_valid", TRACE_BUDGET))
            rows.append([name, generator, plan, trace, f"{length['mean']:.1f}" if length else "", *shares])
    header = ["arm", "mazes", "plan valid", "trace valid", "trace length", "parse", "invalid create",
              "close not open", "not lowest f", "goal not closed"]  # fmt: skip
    return markdown_table(header, rows)


def compute(data: dict[str, Any]) -> str:
    """Per arm and budget on held-out Wilson mazes: inference FLOPs per maze and the share of valid plans."""
    rows = []
    for name, arm in data["arms"].items():
        first = next(iter(arm["runs"].values()))["test"]["wilson"]
        for label, flops in first["flops_per_puzzle"].items():
            rows.append(
                [
                    name,
                    label,
                    f"{flops:.2e}",
                    shown(_figure(arm, "wilson", "exact_match", label)),
                    shown(_figure(arm, "wilson", "optimal", label)),
                ]
            )
    rows.sort(key=lambda row: float(row[2]))
    return markdown_table(["arm", "budget", "inference FLOPs per maze", "valid plan", "shortest plan"], rows)


def seconds(stat: dict[str, Any]) -> str:
    return f"{stat['mean']:.0f} ({stat['min']:.0f}–{stat['max']:.0f})"


def runs(data: dict[str, Any]) -> str:
    """How each arm was trained and measured."""
    rows = [
        [
            name,
            f"`{arm['recipe']}`",
            f"{next(iter(arm['runs'].values()))['parameters']:,}",
            seconds(spread([run["fit_seconds"] for run in arm["runs"].values()])),
        ]
        for name, arm in data["arms"].items()
    ]
    table = markdown_table(["arm", "recipe", "parameters", "`zoo fit` seconds"], rows)
    return (
        f"{table}\n\nMeasured with `{data['command']}` on {data['machine']}, {data['runs_at_a_time']} runs at a time "
        f"with {data['threads_per_run']} thread each; {data['test_mazes_per_generator']} test mazes per generator "
        "(`benchmarks/results/traces-cpu.json`)."
    )


RENDERERS: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {
    "traces-valid": ("traces-cpu.json", plans("exact_match")),
    "traces-optimal": ("traces-cpu.json", plans("optimal")),
    "traces-writing": ("traces-cpu.json", writing),
    "traces-compute": ("traces-cpu.json", compute),
    "traces-runs": ("traces-cpu.json", runs),
}
