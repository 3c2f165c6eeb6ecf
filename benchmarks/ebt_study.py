"""EBT study (docs/results/ebt.md): thinking curve, the paper's regulariser ablation at our scale, and a
same-parameter, same-training-steps comparison with the deterministic recursive reasoner.

    python -m benchmarks.ebt_study                 # ~40 min on 2 CPU cores
    python -m benchmarks.ebt_study --arms full     # one arm

Each arm trains through `zoo fit` on the 6x6 recipe and is measured by `zoo eval` on the same 256
held-out puzzles; results go to benchmarks/results/ebt-study-<machine>.json and a markdown table is printed.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from benchmarks.runs import arm_list, device_slug, load_study, measure, parameters, save_study, train
from zoo.results import describe_machine

RECIPE = "recipes/ebt/sudoku6-energy-descent.yaml"
BASELINE_RECIPE = "recipes/quickstart.yaml"
REGIME = "--model.init_args.regime.init_args."
ARMS: dict[str, list[str]] = {
    "full": [],
    "no_random_step_size": [REGIME + "random_step_size", "1.0"],
    "no_random_step_count": [REGIME + "random_steps", "false"],
    "no_langevin_noise": [REGIME + "noise_scale", "0.0"],
}
EBT_BUDGETS = "1,2,4,8,16,32,1x4,4x4,16x4,1x16,4x16,16x16"  # the thinking curve (full arm)
ABLATION_BUDGETS = "4,16,32,16x8"  # thinking longer (4 -> 32 steps) and best-of-N (16 -> 16x8)
ABLATION_COUNT = 128  # the first 128 of the same held-out puzzles: an ablation arm costs a quarter of the curve
TRM_BUDGETS = "1,2,4,8,16"


def train_and_eval(
    name: str, recipe: str, overrides: list[str], budgets: str, root: Path, count: int, previous: dict | None = None
) -> dict:
    checkpoint = root / name / "checkpoints" / "last.ckpt"
    if previous and "exact_match" in previous and "ablation_exact_match" not in previous:
        ablation = measure(checkpoint, ABLATION_BUDGETS, ABLATION_COUNT, root / name / "eval-ablation")
        return {**previous, "ablation_exact_match": ablation["exact_match"]}
    fit_seconds = None
    if not checkpoint.exists():  # a re-run measures again without training again
        checkpoint, fit_seconds = train(name, recipe, overrides, root)
    results = measure(checkpoint, budgets, count, root / name / "eval")
    arm = {
        "overrides": overrides,
        "parameters": parameters(checkpoint),
        "fit_seconds": None if fit_seconds is None else round(fit_seconds, 1),
        "exact_match": results["exact_match"],
        "command": f"zoo fit -c {recipe} {' '.join(overrides)}; zoo eval CKPT --budgets {budgets} --count {count}",
    }
    if recipe == RECIPE:
        ablation = measure(checkpoint, ABLATION_BUDGETS, ABLATION_COUNT, root / name / "eval-ablation")
        arm["ablation_exact_match"] = ablation["exact_match"]
    return arm


def matched_width(ebt_parameters: int) -> int:
    """Width of the recursive reasoner whose parameter count is closest to the EBT's."""
    from zoo.models import RecursiveReasoner

    task = {"name": "sudoku", "size": 6, "givens": 10}

    def count(width: int) -> int:
        model = RecursiveReasoner(task, width=width, expansion=2.0, cycles=2, latent_updates=2)
        return sum(p.numel() for p in model.model.parameters())

    return min(range(32, 257, 8), key=lambda width: abs(count(width) - ebt_parameters))


def ablation_markdown(study: dict) -> str:
    lines = ["| arm | exact@4 | exact@32 | thinking longer | exact@16 | exact@16x8 | + best-of-8 |", "|---" * 7 + "|"]
    for name, arm in study["arms"].items():
        exact = arm.get("ablation_exact_match")
        if not exact:
            continue
        longer, best = exact["32"] - exact["4"], exact["16x8"] - exact["16"]
        lines.append(
            f"| {name} | {exact['4']:.3f} | {exact['32']:.3f} | {longer:+.3f} "
            f"| {exact['16']:.3f} | {exact['16x8']:.3f} | {best:+.3f} |"
        )
    return "\n".join(lines)


def markdown(study: dict) -> str:
    lines = ["| arm | params | 1 | 2 | 4 | 8 | 16 | 32 | 16x4 | 16x16 |", "|---" * 10 + "|"]
    for name, arm in study["arms"].items():
        exact = arm["exact_match"]
        cells = [f"{exact[k]:.3f}" if k in exact else "–" for k in ("1", "2", "4", "8", "16", "32", "16x4", "16x16")]
        lines.append(f"| {name} | {arm['parameters']:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--arms", type=arm_list([*ARMS, "recursive_baseline"]), default=",".join([*ARMS, "recursive_baseline"])
    )
    parser.add_argument("--count", type=int, default=256)
    parser.add_argument("--root", type=Path, default=Path("runs/ebt-study"))
    parser.add_argument("--out", type=Path, default=None)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    out = args.out or Path("benchmarks/results") / f"ebt-study-{device_slug()}.json"
    study = load_study(out)
    study["machine"] = describe_machine()
    for name in args.arms:
        if name == "recursive_baseline":
            ebt = study["arms"].get("full") or train_and_eval("full", RECIPE, [], EBT_BUDGETS, args.root, args.count)
            study["arms"]["full"] = ebt
            width = matched_width(ebt["parameters"])
            overrides = [
                "--model.init_args.width",
                str(width),
                "--trainer.max_steps",
                str(ebt_steps()),
                "--trainer.val_check_interval",
                "200",
                *same_data_as_ebt(),
            ]
            study["arms"][name] = train_and_eval(name, BASELINE_RECIPE, overrides, TRM_BUDGETS, args.root, args.count)
        else:
            budgets, count = (EBT_BUDGETS, args.count) if name == "full" else (ABLATION_BUDGETS, ABLATION_COUNT)
            previous = study["arms"].get(name)
            study["arms"][name] = train_and_eval(name, RECIPE, ARMS[name], budgets, args.root, count, previous)
        save_study(study, out)
    print(markdown(study))
    print(ablation_markdown(study))
    print(f"written: {out}")


def same_data_as_ebt() -> list[str]:
    """Overrides that give the baseline the EBT recipe's task and data settings."""
    from omegaconf import OmegaConf

    data = OmegaConf.load(RECIPE).data
    words: list[str] = []
    for key, value in data.task.items():
        words += [f"--data.task.{key}", str(value)]
    for key in ("train_count", "augment_copies", "batch_size", "seed"):
        words += [f"--data.{key}", str(data[key])]
    return words


def ebt_steps() -> int:
    """Training steps of the EBT recipe, so the baseline trains for as many."""
    match = re.search(r"max_steps:\s*(\d+)", Path(RECIPE).read_text())
    assert match, f"no max_steps in {RECIPE}"
    return int(match.group(1))


if __name__ == "__main__":
    main()
