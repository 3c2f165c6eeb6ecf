"""Trace study (docs/results/traces.md): a decoder trained on correct A* traces, on swapped traces (another
maze's search before this maze's plan) and on no trace (the plan alone), three training seeds each, beside the
recursive reasoner that marks the path without writing anything; all on 5x5 Wilson mazes, measured on held-out
Wilson mazes and on the other generators (out of distribution).

    python -m benchmarks.traces                          # every arm and seed, 70 minutes on 2 CPU cores
    python -m benchmarks.traces --arms correct --seeds 0 --jobs 1

Each run trains through `zoo fit` (a finished run under --root is reused) with one thread, `--jobs` runs at a
time, and is measured by `zoo eval` on the test split of every generator. Results go to
benchmarks/results/traces-<device>.json; `python -m tools.figures` renders the tables of docs/results/traces.md.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.machine import device_slug
from benchmarks.runs import arm_list, load_study, measure, parameters, save_study, train
from zoo.checkpoints import load_checkpoint
from zoo.evaluation.budget import parse_budgets
from zoo.evaluation.results import describe_machine
from zoo.tasks.maze import GENERATORS

ARMS: dict[str, str] = {
    "correct": "recipes/trace/maze5-correct.yaml",
    "swapped": "recipes/trace/maze5-swapped.yaml",
    "none": "recipes/trace/maze5-none.yaml",
    "recursive": "recipes/trm/maze5-deep-supervision.yaml",
}
BUDGETS = {"recursive": "1,2,4,8,16"}
TRACE_BUDGETS = "64,128,256,256x8"
KEPT = (
    "exact_match",
    "optimal",
    "plan_valid",
    "plan_optimal",
    "trace_valid",
    "trace_length",
    "trace_errors",
    "flops_per_puzzle",
    "pass_at_n",
)


def run(arm: str, seed: int, root: Path, count: int) -> dict:
    """Train one seed of one arm, then measure it on the test split of every generator."""
    recipe = ARMS[arm]
    name = f"{arm}-seed{seed}"
    checkpoint, fit_seconds = train(name, recipe, ["--seed_everything", str(seed)], root)
    measured = {}
    for generator in GENERATORS:
        out = root / name / f"eval-{generator}"
        budgets = BUDGETS.get(arm, TRACE_BUDGETS)
        results = measure(checkpoint, budgets, count, out, "--task.generator", generator)
        measured[generator] = {key: results[key] for key in KEPT if key in results}
    return {"fit_seconds": round(fit_seconds, 1), "parameters": parameters(checkpoint), "test": measured}


def refresh_flops(study: dict, root: Path) -> None:
    """Count each run's inference FLOPs per maze again, from its checkpoint, into every generator's figures
    (they depend on the model, not on the mazes measured), for when the counter changed after a study."""
    for arm, entry in study["arms"].items():
        for seed, measured in entry["runs"].items():
            model = load_checkpoint(root / f"{arm}-seed{seed}" / "checkpoints" / "last.ckpt").eval()
            labels = ",".join(next(iter(measured["test"].values()))["flops_per_puzzle"])
            flops = {budget.label: model.budget_cost(budget)["flops"] for budget in parse_budgets(labels)}
            for figures in measured["test"].values():
                figures["flops_per_puzzle"] = dict(flops)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arms", type=arm_list(ARMS), default=list(ARMS))
    parser.add_argument("--seeds", default="0,1,2", help="training seeds, a comma list")
    parser.add_argument("--count", type=int, default=256, help="test mazes per generator")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (one thread each)")
    parser.add_argument("--root", type=Path, default=Path("runs/traces"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--refresh-flops", action="store_true", help="only count the FLOPs of the runs in the file again, from --root"
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    os.environ["OMP_NUM_THREADS"] = "1"  # inherited by every zoo process: runs side by side share the cores
    out = args.out or Path(f"benchmarks/results/traces-{device_slug()}.json")
    study = load_study(out)
    if args.refresh_flops:
        refresh_flops(study, args.root)
        study["flops_counted_again"] = "python -m benchmarks.traces --refresh-flops"
        save_study(study, out)
        return
    seeds = [int(seed) for seed in args.seeds.split(",")]
    jobs = [(arm, seed) for seed in seeds for arm in args.arms]  # every arm early: partial results cover all
    started = time.monotonic()
    with ThreadPoolExecutor(args.jobs) as pool:
        done = list(pool.map(lambda job: (job, run(*job, args.root, args.count)), jobs))
    for (arm, seed), measured in done:
        entry = study["arms"].setdefault(arm, {"recipe": ARMS[arm], "runs": {}})
        entry["recipe"] = ARMS[arm]
        entry["runs"][str(seed)] = measured
    study.update(
        {
            "command": "python -m benchmarks.traces",
            "machine": describe_machine(),
            "threads_per_run": 1,
            "runs_at_a_time": args.jobs,
            "test_mazes_per_generator": args.count,
            "budgets": {"trace": TRACE_BUDGETS, **BUDGETS},
            "wall_seconds": round(time.monotonic() - started, 1),
        }
    )
    save_study(study, out)
    print(json.dumps({arm: sorted(entry["runs"]) for arm, entry in study["arms"].items()}))


if __name__ == "__main__":
    main()
