"""`zoo eval MODEL`: verified exact match at each inference budget on held-out puzzles, table + plot.

MODEL is a .ckpt written by `zoo fit`, a folder made by `zoo export`, or a Hub repo id (org/name).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any, Sequence

import torch

from zoo import hub, tasks
from zoo.budget import Budget, parse_budgets
from zoo.data import TaskDataModule
from zoo.metrics import ExactMatchPerBudget, SolutionCoverage
from zoo.models import ReasoningFamily
from zoo.results import describe_machine, write_results


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
            raise SystemExit(f"zoo eval: unknown argument {flag!r} (task options are given as --task.NAME VALUE)")
        name, has_value, value = flag[len("--task."):].partition("=")
        if not has_value:
            if not items:
                raise SystemExit(f"zoo eval: {flag} needs a value")
            value = items.pop(0)
        overrides[name] = _parse_value(value)
    return overrides


def evaluation_task(model: ReasoningFamily, overrides: dict[str, Any]) -> tasks.Task:
    """The model's task with `overrides` applied; shape-changing overrides are refused with a reason."""
    task = tasks.get(**{**model.task.spec(), **overrides})
    if task.name != model.task.name or (task.num_cells, task.vocab_size) != (model.task.num_cells, model.task.vocab_size):
        raise SystemExit(
            f"zoo eval: this model was trained on {model.task.spec()} and cannot read {task.spec()} "
            "(another task or board size); override difficulty options only, e.g. --task.givens"
        )
    return task


@torch.no_grad()
def evaluate(
    model: ReasoningFamily, task: tasks.Task, budgets: list[Budget], count: int, seed: int, batch_size: int
) -> dict[str, dict[str, float]]:
    """On `count` held-out puzzles of `task`: verified exact match per budget label and, for families that
    sample, coverage@N and diversity per budget with N > 1."""
    torch.manual_seed(seed)  # sampling families draw their noise and initialisations from torch's generator
    data = TaskDataModule(task.spec(), train_count=0, val_count=0, test_count=count, seed=seed, eval_batch_size=batch_size)
    data.prepare_data()
    data.setup()
    exact = ExactMatchPerBudget(task, [b.label for b in budgets])
    coverage: dict[str, SolutionCoverage] = {}
    for batch in data.test_dataloader():
        inputs = batch["inputs"].to(model.device)
        exact.update(inputs, model.answers_per_budget(inputs, budgets))
        for label, samples in model.samples_per_budget(inputs, budgets).items():
            coverage.setdefault(label, SolutionCoverage(task)).update(inputs, samples)
    results = {"exact_match": {label: float(rate) for label, rate in exact.compute().items()}}
    for label, metric in coverage.items():
        for name, value in metric.compute().items():
            results.setdefault(name, {})[label] = float(value)
    return results


def default_out(model: str) -> Path:
    """Where results go by default: beside a .ckpt, in MODEL/eval for a folder, in ./eval/ORG--NAME for a repo id
    (never inside the Hugging Face cache)."""
    path = Path(model).expanduser()
    if path.is_file():
        return path.parent
    if path.is_dir():
        return path / "eval"
    return Path("eval") / model.replace("/", "--")


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="zoo eval",
        description="Exact match at each inference budget on held-out puzzles; writes results.json and a plot.",
        epilog="Task difficulty can be changed with --task.NAME VALUE, e.g. --task.givens 8.",
    )
    parser.add_argument("model", help="a .ckpt written by `zoo fit`, a folder made by `zoo export`, or a Hub repo id (org/name)")
    parser.add_argument("--revision", default=None, help="branch, tag or commit when MODEL is a Hub repo id")
    parser.add_argument("--budgets", default=None, help="comma list: steps ('1,2,4') or steps x samples ('8x1,8x4'); default: the model's eval_budgets")
    parser.add_argument("--count", type=int, default=500, help="held-out puzzles to evaluate (default 500)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out puzzles and of sampling (default 0)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--out", type=Path, default=None, help="directory for results.json and the plot (default: beside a .ckpt, "
                        "MODEL/eval for a folder, ./eval/ORG--NAME for a repo id)")
    parser.add_argument("--selection", choices=("value", "vote", "oracle", "puzzle", "cell"), default=None,
                        help="how a sampling family picks one answer among samples (oracle = the task's verifier)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args, extra = parser.parse_known_args(argv)
    try:
        model = hub.load(args.model, args.revision).to(args.device)
        budgets = parse_budgets(args.budgets) if args.budgets else model.eval_budgets
        task = evaluation_task(model, parse_task_overrides(extra))
    except (FileNotFoundError, ValueError) as error:
        raise SystemExit(f"zoo eval: {error}") from None
    if args.selection is not None:
        if "selection" not in model.hparams:
            raise SystemExit(f"zoo eval: {type(model).__name__} has no selection among samples")
        model.hparams.selection = args.selection
    started = time.monotonic()
    measured = evaluate(model, task, budgets, args.count, args.seed, args.batch_size)
    results = {
        "family": type(model).__name__,
        "task": task.spec(),
        "model": str(args.model),
        **({"revision": args.revision} if args.revision else {}),
        "selection": model.hparams.get("selection"),
        **measured,
        "puzzles": args.count,
        "seed": args.seed,
        "eval_seconds": round(time.monotonic() - started, 1),
        "machine": describe_machine(),
    }
    write_results(results, args.out or default_out(args.model))
