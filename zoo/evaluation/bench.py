"""Several models on the same held-out puzzles: accuracy and coverage against inference compute (`zoo bench`).

Compute is measured on one axis for every family: floating-point operations per puzzle at each budget
(`ReasoningFamily.budget_cost`, counted by `torch.utils.flop_counter`, backward included where thinking
differentiates), beside calls of the reasoning network and wall time per puzzle on this machine. Each model's
training FLOPs, counted the same way (`zoo.evaluation.training_cost`), come from what its file records: a
model loaded from a .ckpt of `zoo fit` or from a model folder carries a `training_record`; one built in memory
has none, and its training FLOPs are None.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from zoo import tasks
from zoo.data import TaskDataModule
from zoo.evaluation.budget import Budget
from zoo.evaluation.evaluate import evaluate
from zoo.evaluation.flops import INFERENCE_FLOPS, TRAINING_FLOPS
from zoo.evaluation.results import describe_machine
from zoo.evaluation.sizing import default_budgets
from zoo.evaluation.training_cost import training_entry
from zoo.io import outputs
from zoo.models import ReasoningFamily


@torch.no_grad()
def seconds_per_puzzle(model: ReasoningFamily, task: tasks.Task, budget: Budget, seed: int, count: int) -> float:
    """Wall time of thinking at `budget`, per puzzle, over `count` held-out puzzles in one batch (after a warm-up)."""
    data = TaskDataModule(task.spec(), train_count=0, val_count=0, test_count=count, seed=seed, eval_batch_size=count)
    data.setup()
    inputs = next(iter(data.test_dataloader()))["inputs"].to(model.device)
    model.evaluate_budgets(inputs[:1], [budget])
    started = time.perf_counter()
    model.evaluate_budgets(inputs, [budget])
    return (time.perf_counter() - started) / len(inputs)


def bench(
    models: list[tuple[str, ReasoningFamily]],
    task: tasks.Task,
    budgets: list[Budget] | None,
    count: int,
    seed: int,
    batch_size: int,
    timing_count: int = 32,
) -> dict[str, Any]:
    """Evaluate each (name, model) on the same `count` held-out puzzles of `task` at `budgets` (default: each
    model's own evaluation budgets); per budget: exact match, coverage and diversity (N > 1), inference FLOPs and
    network calls per puzzle, and wall seconds per puzzle (timed on `timing_count` puzzles); per model: its
    training FLOPs where its `training_record` says how it was trained (None elsewhere)."""
    entries = []
    for name, model in models:
        chosen = budgets or default_budgets(model)
        measured = evaluate(model, task, chosen, count, seed, batch_size)
        per_budget = {}
        for budget in chosen:
            cost = model.budget_cost(budget)
            per_budget[budget.label] = {
                "steps": budget.steps,
                "samples": budget.samples,
                "exact_match": measured["exact_match"][budget.label],
                **{
                    key: measured[key][budget.label]
                    for key in ("pass_at_n", "pass_at_k", "vote", "coverage", "coverage_cap", "diversity")
                    if budget.label in measured.get(key, {})
                },
                "flops_per_puzzle": cost["flops"],
                "network_calls": cost["calls"],
                "seconds_per_puzzle": seconds_per_puzzle(model, task, budget, seed, min(timing_count, count)),
            }
        training = training_entry(model)
        entries.append(
            {
                "model": name,
                "family": type(model).__name__,
                "regime": type(model.regime).__name__,
                "parameters": sum(p.numel() for p in model.model.parameters()),
                "training_flops": None if training is None else training["flops"],
                "budgets": per_budget,
            }
        )
    return {"task": task.spec(), "puzzles": count, "seed": seed, "machine": describe_machine(), "models": entries}


def markdown(results: dict[str, Any]) -> str:
    """One row per (model, budget), and notes naming the FLOPs columns in full. Coverage cap: the most coverage
    one distinct answer reaches on these puzzles (the ceiling of a model whose samples are copies)."""
    lines = [
        "| model | family | budget | exact match | coverage | coverage cap | inference FLOPs / puzzle | network calls "
        "| ms / puzzle | training FLOPs |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for entry in results["models"]:
        trained = "" if entry["training_flops"] is None else f"{entry['training_flops']:.3g}"
        for label, row in entry["budgets"].items():
            coverage, cap = (f"{row[key]:.3f}" if key in row else "" for key in ("coverage", "coverage_cap"))
            lines.append(
                f"| {entry['model']} | {entry['family']} | {label} | {row['exact_match']:.3f} | {coverage} | {cap} | "
                f"{row['flops_per_puzzle']:.3g} | {row['network_calls']} | {1000 * row['seconds_per_puzzle']:.2f} | "
                f"{trained} |"
            )
    notes = [
        f"inference FLOPs / puzzle = {INFERENCE_FLOPS}.",
        f"{TRAINING_FLOPS}: blank where the model's file does not record its training.",
    ]
    return "\n".join(lines) + "\n\n" + "\n\n".join(notes)


def plot(results: dict[str, Any], path: Path) -> None:
    """Exact match against inference FLOPs per puzzle (log x), one line per model (and per sample count); coverage in a
    second panel when any model samples."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sampled = any("coverage" in row for entry in results["models"] for row in entry["budgets"].values())
    figure, axes = plt.subplots(1, 2 if sampled else 1, figsize=(10 if sampled else 5.5, 3.8), dpi=120, squeeze=False)
    for entry in results["models"]:
        lines: dict[int, list[dict[str, Any]]] = {}
        for row in entry["budgets"].values():
            lines.setdefault(row["samples"], []).append(row)
        for samples, rows in sorted(lines.items()):
            rows.sort(key=lambda row: row["flops_per_puzzle"])
            label = entry["model"] + (f" ({samples} samples)" if samples > 1 else "")
            flops = [row["flops_per_puzzle"] for row in rows]
            axes[0][0].plot(flops, [row["exact_match"] for row in rows], marker="o", label=label)
            if sampled and samples > 1:
                axes[0][1].plot(flops, [row.get("coverage", float("nan")) for row in rows], marker="o", label=label)
    titles = ["verified exact match", "coverage@N"] if sampled else ["verified exact match"]
    for axis, title in zip(axes[0], titles):
        axis.set_xscale("log")
        axis.set_xlabel(INFERENCE_FLOPS, fontsize=8)
        axis.set_ylabel(title)
        axis.set_ylim(0, 1.02)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    figure.suptitle(f"{results['puzzles']} held-out puzzles of {results['task']}", fontsize=9)
    figure.tight_layout()
    image = io.BytesIO()
    figure.savefig(image, format="png")
    plt.close(figure)
    outputs.write_file(path, image.getvalue())


BENCH_FILES = ("bench.json", "bench.md", "bench.png")


def claimed_bench(models: Sequence[str]) -> Callable[[Path], str | None]:
    """For `outputs.check_folder`: the bench of other models that a bench of `models` written into a folder
    would replace; None where there is none (or it is of the same models)."""

    def claimed(folder: Path) -> str | None:
        if not (folder / BENCH_FILES[0]).exists():
            found = [name for name in BENCH_FILES[1:] if (folder / name).exists()]
            return f"{' and '.join(found)} of another run" if found else None
        try:
            names = [entry["model"] for entry in json.loads((folder / BENCH_FILES[0]).read_text())["models"]]
        except (OSError, UnicodeDecodeError, ValueError, RecursionError, KeyError, TypeError):
            return f"a {BENCH_FILES[0]} that belief-zoo did not write"
        return None if names == list(models) else f"the bench of {', '.join(map(str, names))}"

    return claimed


def write(results: dict[str, Any], directory: Path) -> Path:
    """bench.json, bench.md and bench.png in `directory` (made if missing); the JSON's path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = outputs.write_file(directory / "bench.json", json.dumps(results, indent=2) + "\n")
    outputs.write_file(directory / "bench.md", markdown(results) + "\n")
    plot(results, directory / "bench.png")
    return path
