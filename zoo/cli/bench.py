"""`zoo bench MODEL [MODEL ...]`: models on the same held-out puzzles, accuracy against FLOPs per puzzle."""

from __future__ import annotations

from pathlib import Path

from zoo import compat, hub
from zoo.bench import bench, markdown, write
from zoo.budget import parse_budgets
from zoo.cli.eval import device_of
from zoo.cli.report import ArgumentParser, at_least_one
from zoo.errors import ZooError
from zoo.evaluate import check_memory, evaluation_task, parse_task_overrides


def run(words: list[str]) -> None:
    parser = ArgumentParser(
        prog="zoo bench",
        description="Evaluate several models on the same held-out puzzles and compare them on one compute axis: "
        "verified exact match (and coverage for models that sample) against FLOPs per puzzle, with network calls "
        "and wall time. Writes bench.json, bench.md and bench.png.",
        epilog="The puzzles are the first model's task; --task.NAME VALUE changes difficulty options (e.g. "
        "--task.givens 9). Every model must read that task (same task and board size).",
    )
    parser.add_argument("models", nargs="+", help="models: .ckpt files, folders made by `zoo export`, or Hub repo ids")
    parser.add_argument(
        "--budgets", default=None, help="comma list for every model (default: each model's eval_budgets)"
    )
    parser.add_argument("--count", type=at_least_one, default=256, help="held-out puzzles (default 256)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the puzzles and of sampling (default 0)")
    parser.add_argument("--batch-size", type=at_least_one, default=256)
    parser.add_argument("--out", type=Path, default=Path("bench"), help="directory for the results (default ./bench)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    args, extra = parser.parse_known_args(words)
    if args.seed < 0:
        raise ZooError(f"--seed must be 0 or more, got {args.seed}", key="seed")
    import torch

    device = device_of(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    overrides = parse_task_overrides(extra)
    models = [(source, hub.load(source).to(device)) for source in args.models]
    task = evaluation_task(models[0][1], overrides)
    for source, model in models[1:]:
        try:
            compat.require_readable(model.task.spec(), task.spec(), source)
        except ZooError as error:
            raise ZooError(f"{error}: zoo bench compares models on the same puzzles", key="models") from None
    budgets = parse_budgets(args.budgets) if args.budgets else None
    for _, model in models:
        check_memory(model, budgets or model.eval_budgets, min(args.batch_size, args.count))
    results = bench(models, task, budgets, args.count, args.seed, args.batch_size)
    path = write(results, args.out)
    print(markdown(results))
    print(f"results: {path}")
