"""Do belief models need different training? Derivation vs belief families on one compute axis.

    python -m benchmarks.compare                              # every setting: 3 training seeds x 2 test draws
    python -m benchmarks.compare --settings nqueens8 --seeds 0 --draws 0     # one run of one setting (no spread)

For each setting, every arm trains from its committed recipe with each training seed (a finished run under
--root is reused), then `zoo bench` measures the arms of one seed on the same held-out test puzzles, once per
test-puzzle draw (the draw is the seed of the puzzle generator: another sample of the test split, disjoint
from training by construction). Figures are summarised per arm and budget as the mean and range over every
(seed, draw). Writes benchmarks/results/compare-<device>.json and one plot per setting (seed 0, draw 0)
under docs/results/; `python -m tools.figures` turns the file into the tables of docs/results/README.md.

No setting of any arm was chosen on these test puzzles: the recipes' settings come from the papers, from
validation puzzles (`zoo eval --split validation`), or were fixed before this comparison (each recipe says).
"""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.machine import device_slug
from benchmarks.runs import arm_list, save_study, train
from zoo import hub
from zoo.evaluation.bench import bench, plot
from zoo.evaluation.budget import parse_budgets
from zoo.evaluation.evaluate import evaluation_task
from zoo.evaluation.results import describe_machine

QUICKSTART = "recipes/quickstart.yaml"
EBT = "recipes/ebt/sudoku6-energy-descent.yaml"
EBT_OFFICIAL = "recipes/ebt/sudoku6-official-noise.yaml"
# per (seed, draw) figures summarised per arm and budget; FLOPs are the same for every run
METRICS = ("exact_match", "pass_at_n", "vote", "coverage", "coverage_cap", "diversity")


@dataclass(frozen=True)
class Setting:
    """Held-out puzzles, budgets and task overrides of one comparison, and its arms (name -> recipe)."""

    puzzles: int
    budgets: str
    arms: dict[str, str]
    overrides: dict[str, Any] = field(default_factory=dict)


SETTINGS: dict[str, Setting] = {
    "sudoku6": Setting(
        256,
        "1,2,4,8,16,32,16x4,16x16",
        {"recursive": QUICKSTART, "ebt": EBT, "ebt-official-noise": EBT_OFFICIAL},
    ),
    "sudoku6-harder": Setting(256, "1,2,4,8,16,32,16x4,16x16", {"recursive": QUICKSTART, "ebt": EBT}, {"givens": 9}),
    "nqueens8": Setting(
        100,
        "8x1,8x5,8x20",
        {
            "gram": "recipes/gram/nqueens8-variational.yaml",
            "recursive": "recipes/trm/nqueens8-deep-supervision.yaml",
            "recursive-nearest": "recipes/trm/nqueens8-nearest-solution.yaml",
        },
    ),
    "sudoku4-multi": Setting(
        100,
        "8x1,8x5,8x20",
        {
            "gram": "recipes/gram/sudoku4-multi-variational.yaml",
            "recursive": "recipes/trm/sudoku4-multi-deep-supervision.yaml",
            "recursive-nearest": "recipes/trm/sudoku4-multi-nearest-solution.yaml",
        },
    ),
}


def run_name(recipe: str, seed: int) -> str:
    return f"{Path(recipe).parent.name}-{Path(recipe).stem}-seed{seed}"


def trained(recipe: str, seed: int, root: Path) -> Path:
    """The last checkpoint of `recipe` trained with `seed` under `root` (trained now if missing)."""
    name = run_name(recipe, seed)
    checkpoint, _ = train(name, recipe, ["--seed_everything", str(seed), "--trainer.limit_val_batches", "0"], root)
    return checkpoint


def spread(values: list[float]) -> dict[str, Any]:
    """Mean, lowest and highest of `values`, and the values themselves."""
    return {"mean": statistics.fmean(values), "min": min(values), "max": max(values), "runs": values}


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per arm: family, regime, parameters, training FLOPs (mean over seeds) and, per budget, the spread of each
    metric over every (seed, draw) run, with the inference FLOPs per puzzle."""
    arms: dict[str, Any] = {}
    for run in runs:
        for entry in run["models"]:
            arm = arms.setdefault(
                entry["model"],
                {
                    "family": entry["family"],
                    "regime": entry["regime"],
                    "parameters": entry["parameters"],
                    "training_flops": [],
                    "budgets": {},
                },
            )
            if entry.get("training_flops") is not None and run["draw"] == runs[0]["draw"]:
                arm["training_flops"].append(entry["training_flops"])
            for label, row in entry["budgets"].items():
                slot = arm["budgets"].setdefault(label, {"flops_per_puzzle": row["flops_per_puzzle"]})
                for metric in METRICS:
                    if metric in row:
                        slot.setdefault(metric, []).append(row[metric])
    for arm in arms.values():
        flops = arm.pop("training_flops")
        arm["training_flops"] = statistics.fmean(flops) if flops else None
        for slot in arm["budgets"].values():
            for metric in METRICS:
                if metric in slot:
                    slot[metric] = spread(slot[metric])
    return arms


def measure_setting(
    name: str, setting: Setting, seeds: list[int], draws: list[int], root: Path, only_trained: bool = False
) -> dict[str, Any]:
    """Train (or reuse) every arm for every seed and bench each seed's arms on every draw of test puzzles. With
    `only_trained`, an arm whose run of a seed is not there is left out of that seed (its seeds are recorded)."""
    runs = []
    for seed in seeds:
        chosen = {
            arm: recipe
            for arm, recipe in setting.arms.items()
            if not only_trained or (root / run_name(recipe, seed) / "results.json").exists()
        }
        if not chosen:
            continue
        models = [(arm, hub.load(trained(recipe, seed, root))) for arm, recipe in chosen.items()]
        task = evaluation_task(models[0][1], setting.overrides)
        for draw in draws:
            run = bench(models, task, parse_budgets(setting.budgets), setting.puzzles, seed=draw, batch_size=256)
            run.pop("seed")  # bench's seed is the draw's: the puzzles' generator seed, not the training seed
            runs.append({"seed": seed, "draw": draw, **run})
            if not runs[:-1]:
                plot(run, Path("docs/results") / f"compare-{name}.png")
    return {
        "task": runs[0]["task"],
        "puzzles": setting.puzzles,
        "seeds": seeds,
        "draws": draws,
        "recipes": setting.arms,
        "arm_seeds": {
            arm: sorted({run["seed"] for run in runs if any(e["model"] == arm for e in run["models"])})
            for arm in setting.arms
        },
        "arms": summarise(runs),
        "runs": runs,
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    numbers = lambda text: [int(s) for s in text.split(",")]  # noqa: E731
    parser.add_argument("--settings", type=arm_list(SETTINGS), default=",".join(SETTINGS))
    parser.add_argument("--seeds", type=numbers, default=[0, 1, 2], help="training seeds")
    parser.add_argument("--draws", type=numbers, default=[0, 1], help="test-puzzle draws (generator seeds)")
    parser.add_argument("--root", type=Path, default=Path("runs/compare"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--only-trained", action="store_true", help="leave out (arm, seed) pairs not trained yet instead of training"
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    out = args.out or Path("benchmarks/results") / f"compare-{device_slug()}.json"
    for name in args.settings:
        measured = measure_setting(name, SETTINGS[name], args.seeds, args.draws, args.root, args.only_trained)
        # Read again just before writing: another process measuring other settings into the same file (one per
        # core) may have written since this one started.
        study = json.loads(out.read_text()) if out.exists() else {"settings": {}}
        study |= {"machine": describe_machine(), "command": "python -m benchmarks.compare"}
        study["settings"][name] = measured
        save_study(study, out)
        print(f"{name}: measured, written to {out}", flush=True)
    print("tables: python -m tools.figures")


if __name__ == "__main__":
    main()
