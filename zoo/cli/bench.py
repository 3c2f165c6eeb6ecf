"""`zoo bench MODEL [MODEL ...]`: models on the same held-out puzzles, accuracy against inference FLOPs per puzzle,
beside the FLOPs each model was trained with where its file records them."""

from __future__ import annotations

from zoo import compat, hub
from zoo.cli import options
from zoo.cli.report import ArgumentParser
from zoo.errors import ZooError
from zoo.evaluation import sizing
from zoo.evaluation.bench import BENCH_FILES, bench, claimed_bench, markdown, write
from zoo.evaluation.evaluate import evaluation_task, parse_task_overrides
from zoo.io import outputs


def run(words: list[str]) -> None:
    parser = ArgumentParser(
        prog="zoo bench",
        description="Evaluate several models on the same held-out puzzles and compare them on one compute axis: "
        "verified exact match (and coverage for models that sample) against inference FLOPs per puzzle (backward "
        "of energy descent included), with network calls, wall time, and the training FLOPs of models whose file "
        "records their training (.ckpt files of `zoo fit`, folders of `zoo export`). Writes bench.json, bench.md "
        "and bench.png.",
        epilog="The puzzles are the first model's task; --task.NAME VALUE changes difficulty options (e.g. "
        "--task.givens 9). Every model must read that task (same task and board size).",
    )
    parser.add_argument("models", nargs="+", help="models: .ckpt files, folders made by `zoo export`, or Hub repo ids")
    parser.add_argument(
        "--budgets", default=None, help="comma list for every model (default: each model's eval_budgets)"
    )
    parser.add_argument("--count", default="256", help="held-out puzzles (default 256)")
    parser.add_argument("--seed", default="0", help="seed of the puzzles and of sampling, 0 to 2**63 - 1 (default 0)")
    parser.add_argument("--batch-size", default="256", help="puzzles thought about at once (default 256)")
    parser.add_argument("--out", default="bench", help="directory for the results (default ./bench)")
    parser.add_argument("--force", action="store_true", help="replace a bench of other models in the --out folder")
    parser.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda when present)")
    args, extra = parser.parse_known_args(words)
    out = outputs.check_folder(args.out, force=args.force, names=BENCH_FILES, claimed=claimed_bench(args.models))
    count, seed = options.count(args.count), options.seed(args.seed)
    batch_size, device = options.positive(args.batch_size, "--batch-size"), options.device(args.device)
    budgets = options.budgets(args.budgets) if args.budgets is not None else None
    overrides = parse_task_overrides(extra)
    models = [(source, hub.load(source).to(device)) for source in args.models]
    task = evaluation_task(models[0][1], overrides)
    for source, model in models[1:]:
        try:
            compat.require_readable(model.task.spec(), task.spec(), source)
        except ZooError as error:
            raise ZooError(f"{error}: zoo bench compares models on the same puzzles", key="models") from None
    for _, model in models:
        sizing.check_thinking(model, budgets or sizing.default_budgets(model), batch_size, count)
    results = bench(models, task, budgets, count, seed, batch_size)
    path = write(results, out)
    print(markdown(results))
    print(f"results: {path}")
