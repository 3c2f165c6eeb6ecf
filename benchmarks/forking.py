"""Forking-token study (docs/results/forking.md): GRPO from the catalog's correct-trace decoder
(`trace-maze5-correct`, 5x5 Wilson mazes) with the policy-gradient loss on every written token (`all`), on the
20% of highest entropy (`top`) or on the other 80% (`bottom`); the same steps and three seeds each. It keeps
each run's reward curve, its held-out plan validity and optimality (greedy), and pass@k up to k = 256 of the SFT
model and of every RL run.

    python -m benchmarks.forking --tune                 # the settings, on validation mazes
    python -m benchmarks.forking --setting lr1e-4       # every arm and seed with that setting
    python -m benchmarks.forking --setting lr1e-4 --arms top --seeds 0 --jobs 1

First it checks on validation mazes that the SFT model's greedy plan validity leaves RL room (20% to 80%).
`--tune` trains the all-token arm (seed 0) with each of `TUNED` and measures it on validation mazes only:
the share of valid plans among sampled writings (what the reward counts) and greedy. Each run trains through
`zoo fit` (a finished run under --root is reused) with one thread, `--jobs` at a time,
and is measured by `zoo eval` on the test split. Results go to benchmarks/results/forking-<device>.json;
`python -m tools.figures` renders docs/results/forking.md's tables and plot from it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.machine import device_slug
from benchmarks.runs import arm_list, load_study, measure, save_study, train
from zoo.evaluation.results import describe_machine

RECIPE = "recipes/trace/maze5-grpo.yaml"
SFT = "trace-maze5-correct"  # the recipe's init_from
TOKENS = "--model.init_args.regime.init_args.tokens"
ARMS: dict[str, list[str]] = {"all": [TOKENS, "all"], "top": [TOKENS, "top"], "bottom": [TOKENS, "bottom"]}
GREEDY = "256"  # one greedy writing of up to 256 tokens: validity and optimality
SAMPLED = "256x256"  # 256 writings per maze: pass@k for k = 1 ... 256
# Settings tried on validation (the all-token arm, seed 0); each as the same number of writings drawn (2,400
# mazes x 8): 8 mazes a step for 300 steps, or 32 for 75.
TUNED: dict[str, list[str]] = {
    "lr1e-4": ["--model.init_args.lr", "1e-4"],
    "lr3e-4": ["--model.init_args.lr", "3e-4"],
    "lr1e-3": ["--model.init_args.lr", "1e-3"],
    "lr1e-4-batch32": ["--model.init_args.lr", "1e-4", "--data.batch_size", "32", "--trainer.max_steps", "75"],
}
TUNING = "256,256x16"  # greedy, and 16 writings per maze (the first greedy) for the sampled validity
ROOM = (0.2, 0.8)  # the SFT model's validation plan validity that leaves RL room (the bounds)
VALIDATION_COUNT = 128  # validation mazes for the tuning and for picking the catalog's run
KEPT = ("plan_valid", "plan_optimal", "trace_valid", "trace_length")


def figures(model: str | Path, out: Path, greedy_count: int, sampled_count: int) -> dict:
    """A model's test figures: greedy validity and optimality on `greedy_count` mazes, pass@k on `sampled_count`
    (a measurement already under `out` is reused)."""
    greedy = reused(out / "greedy") or measure(model, GREEDY, greedy_count, out / "greedy", "--force")
    sampled = reused(out / "sampled") or measure(
        model, SAMPLED, sampled_count, out / "sampled", "--batch-size", "8", "--force"
    )
    return {
        "greedy": {key: greedy[key][GREEDY] for key in KEPT},
        "pass_at_k": sampled["pass_at_k"][SAMPLED],
        "eval_seconds": round(greedy["eval_seconds"] + sampled["eval_seconds"], 1),
    }


def reused(out: Path) -> dict | None:
    results = out / "results.json"
    return json.loads(results.read_text()) if results.exists() else None


def curve(run_dir: Path) -> dict[str, list[float]]:
    """The training curve `zoo fit` logged: step, mean reward of the rollouts, mean entropy of written tokens."""
    metrics = max(run_dir.rglob("metrics.csv"), key=lambda path: path.stat().st_mtime)
    with metrics.open() as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("train/reward")]
    return {
        "step": [int(row["step"]) + 1 for row in rows],
        "reward": [round(float(row["train/reward"]), 4) for row in rows],
        "entropy": [round(float(row["train/entropy"]), 5) for row in rows],
    }


def overrides(arm: str, seed: int, setting: str) -> list[str]:
    """The recipe's overrides for one run: the arm, the seed, the setting, a reward logged every step."""
    return [
        *ARMS[arm],
        *TUNED[setting],
        *("--seed_everything", str(seed), "--trainer.log_every_n_steps", "1"),
        *("--model.init_args.eval_budgets", f"[{GREEDY}]"),
    ]


def validation(model: str | Path, out: Path, count: int) -> dict:
    return reused(out) or measure(model, TUNING, count, out, "--split", "validation", "--force")


def tune(root: Path, count: int, jobs: int) -> dict[str, dict]:
    """Per setting, the all-token arm (seed 0) on `count` validation mazes: valid plans among the sampled
    writings (pass@1 of 16) and greedy."""

    def measured(setting: str) -> tuple[dict, float]:
        checkpoint, fit_seconds = train(setting, RECIPE, overrides("all", 0, setting), root, logged=True)
        return validation(checkpoint, root / setting / "validation", count), fit_seconds

    with ThreadPoolExecutor(jobs) as pool:
        done = dict(zip(TUNED, pool.map(measured, TUNED)))
    tuned = {}
    for setting, (found, fit_seconds) in done.items():
        tuned[setting] = {
            "sampled_plan_valid": found["pass_at_k"]["256x16"]["1"],
            "greedy_plan_valid": found["plan_valid"]["256"],
            "fit_seconds": round(fit_seconds, 1),
        }
    sft = validation(SFT, root / "sft-validation", count)
    tuned["sft"] = {
        "sampled_plan_valid": sft["pass_at_k"]["256x16"]["1"],
        "greedy_plan_valid": sft["plan_valid"]["256"],
    }
    return tuned


def run(arm: str, seed: int, setting: str, root: Path, greedy_count: int, sampled_count: int) -> dict:
    """Train one RL arm at one seed and measure it."""
    name = f"{arm}-seed{seed}"
    checkpoint, fit_seconds = train(name, RECIPE, overrides(arm, seed, setting), root, logged=True)
    measured = figures(checkpoint, root / name / "eval", greedy_count, sampled_count)
    figures_of_run = {"fit_seconds": round(fit_seconds, 1), "curve": curve(root / name), **measured}
    if seed == 0:  # the catalog's model is a seed-0 run: the arm whose run plans best on validation mazes
        checked = validation(checkpoint, root / name / "validation", VALIDATION_COUNT)
        figures_of_run["validation"] = {
            "sampled_plan_valid": checked["pass_at_k"]["256x16"]["1"],
            "greedy_plan_valid": checked["plan_valid"]["256"],
        }
    return figures_of_run


def room_for_rl(root: Path, count: int) -> float:
    """The SFT model's greedy plan validity on validation mazes; stops the study when it leaves RL no room."""
    validation = measure(SFT, GREEDY, count, root / "sft" / "validation", "--split", "validation", "--force")
    valid = validation["plan_valid"][GREEDY]
    if not ROOM[0] <= valid <= ROOM[1]:
        raise SystemExit(f"{SFT} plans validly on {valid:.3f} of validation mazes, outside {ROOM}: pick another")
    return valid


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arms", type=arm_list(ARMS), default=list(ARMS))
    parser.add_argument("--seeds", default="0,1,2", help="RL seeds, a comma list")
    parser.add_argument("--greedy-count", type=int, default=256, help="test mazes for greedy validity")
    parser.add_argument("--sampled-count", type=int, default=32, help="test mazes for pass@k (256 writings each)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (one thread each)")
    parser.add_argument("--setting", choices=list(TUNED), default=None, help="of every run (chosen with --tune)")
    parser.add_argument("--tune", action="store_true", help="only measure the settings, on validation mazes")
    parser.add_argument("--tune-count", type=int, default=VALIDATION_COUNT, help="validation mazes per setting")
    parser.add_argument("--root", type=Path, default=Path("runs/forking"))
    parser.add_argument("--out", type=Path, default=None)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    os.environ["OMP_NUM_THREADS"] = "1"  # inherited by every zoo process: runs side by side share the cores
    out = args.out or Path(f"benchmarks/results/forking-{device_slug()}.json")
    study = load_study(out)
    started = time.monotonic()
    if args.tune:
        study["tuning"] = {
            "command": "python -m benchmarks.forking --tune",
            "validation_mazes": args.tune_count,
            "settings": tune(args.root.with_name(args.root.name + "-tune"), args.tune_count, args.jobs),
        }
        save_study(study, out)
        return
    if args.setting is None:
        raise SystemExit("give --setting (choose it with --tune first)")
    study["sft"] = {"name": SFT, "validation_plan_valid": room_for_rl(args.root, args.greedy_count)}
    seeds = [int(seed) for seed in args.seeds.split(",")]
    jobs = [("sft", None)] + [(arm, seed) for seed in seeds for arm in args.arms]  # every arm early

    def work(job: tuple[str, int | None]) -> dict:
        arm, seed = job
        if seed is None:
            return figures(SFT, args.root / "sft" / "test", args.greedy_count, args.sampled_count)
        return run(arm, seed, args.setting, args.root, args.greedy_count, args.sampled_count)

    with ThreadPoolExecutor(args.jobs) as pool:
        done = list(zip(jobs, pool.map(work, jobs)))
    for (arm, seed), measured in done:
        if seed is None:
            study["sft"]["test"] = measured
            continue
        entry = study["arms"].setdefault(arm, {"overrides": ARMS[arm], "runs": {}})
        entry["runs"][str(seed)] = measured
    study.update(
        {
            "command": f"python -m benchmarks.forking --setting {args.setting}",
            "setting": args.setting,
            "setting_overrides": TUNED[args.setting],
            "recipe": RECIPE,
            "machine": describe_machine(),
            "threads_per_run": 1,
            "runs_at_a_time": args.jobs,
            "test_mazes": {"greedy": args.greedy_count, "sampled": args.sampled_count},
            "budgets": {"greedy": GREEDY, "sampled": SAMPLED},
            "wall_seconds": round(time.monotonic() - started, 1),
        }
    )
    save_study(study, out)
    print(json.dumps({arm: sorted(entry["runs"]) for arm, entry in study["arms"].items()}))


if __name__ == "__main__":
    main()
