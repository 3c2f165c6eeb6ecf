"""EBT study (docs/results/ebt.md): what each training setting taken from the official EBT scripts adds, at our scale.

    python -m benchmarks.ebt_study                        # every arm, ~45 min on 2 CPU cores
    python -m benchmarks.ebt_study --arms recipe,full_unroll

The "recipe" arm is recipes/ebt/sudoku6-energy-descent.yaml (truncated unroll, replay buffer, gradient
clipping, random step size per puzzle, Langevin noise in the state, EMA); every other arm changes one thing.
Each trains through `zoo fit` and is measured by `zoo eval` on the same 256 held-out puzzles; results go to
benchmarks/results/ebt-study-<device>.json and a markdown table is printed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.machine import device_slug
from benchmarks.runs import arm_list, load_study, measure, parameters, save_study, train
from zoo.evaluation.results import describe_machine

RECIPE = "recipes/ebt/sudoku6-energy-descent.yaml"
REGIME = "--model.init_args.regime.init_args."
ARMS: dict[str, list[str]] = {
    "recipe": [],
    "full_unroll": ["--model.init_args.regime.class_path", "zoo.regimes.EnergyDescent"],
    "per_position_step_size": [REGIME + "step_size_per", "position"],
    "no_random_step_size": [REGIME + "random_step_size", "1.0"],
    "no_random_step_count": [REGIME + "random_steps", "false"],
    "no_langevin_noise": [REGIME + "noise_scale", "0.0"],
    "no_replay": [REGIME + "replay_size", "0"],
    "no_gradient_clipping": ["--trainer.gradient_clip_val", "null"],
    "no_ema": ["--model.init_args.ema_decay", "0.0"],
}
BUDGETS = "1,2,4,8,16,32,64,16x4,16x16"
COUNT = 256


def run_arm(name: str, root: Path, count: int) -> dict:
    """Train one arm (a finished run under `root` is reused) and measure it."""
    overrides = [*ARMS[name], "--trainer.limit_val_batches", "0"]
    checkpoint, fit_seconds = train(name, RECIPE, overrides, root)
    results = measure(checkpoint, BUDGETS, count, root / name / "eval")
    return {
        "overrides": ARMS[name],
        "parameters": parameters(checkpoint),
        "fit_seconds": round(fit_seconds, 1),
        "exact_match": results["exact_match"],
        "flops_per_puzzle": results.get("flops_per_puzzle"),
        "command": f"zoo fit -c {RECIPE} {' '.join(ARMS[name])}; zoo eval CKPT --budgets {BUDGETS} --count {count}",
    }


def markdown(study: dict) -> str:
    labels = BUDGETS.split(",")
    lines = [
        "| arm | fit s | " + " | ".join(labels) + " |",
        "|---|---|" + "---|" * len(labels),
    ]
    for name, arm in study["arms"].items():
        exact = arm["exact_match"]
        cells = [f"{exact[k]:.3f}" if k in exact else "–" for k in labels]
        seconds = "" if arm.get("fit_seconds") is None else f"{arm['fit_seconds']:.0f}"
        lines.append(f"| {name} | {seconds} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arms", type=arm_list(ARMS), default=",".join(ARMS))
    parser.add_argument("--count", type=int, default=COUNT)
    parser.add_argument("--root", type=Path, default=Path("runs/ebt-study"))
    parser.add_argument("--out", type=Path, default=None)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    out = args.out or Path("benchmarks/results") / f"ebt-study-{device_slug()}.json"
    study = load_study(out)
    study["machine"] = describe_machine()
    study["arms"] = {name: arm for name, arm in study.get("arms", {}).items() if name in ARMS}
    for name in args.arms:
        study["arms"][name] = run_arm(name, args.root, args.count)
        save_study(study, out)
    print(markdown(study))
    print(f"written: {out}")


if __name__ == "__main__":
    main()
