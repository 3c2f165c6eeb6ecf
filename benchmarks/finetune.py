"""Before and after each fine-tuning recipe of recipes/finetune/: the catalog model it starts from, measured by
`zoo eval` on the recipe's harder puzzles, then the fine-tuned model on the same puzzles (same task, seed and
count, so the same held-out puzzles). Writes benchmarks/results/finetune-cpu.json, which docs/models.md
shows (`python -m tools.catalog --docs-only`).

    python -m benchmarks.finetune                          # every recipe (reuses finished runs)
    python -m benchmarks.finetune --names ebt-sudoku6-harder
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from benchmarks.runs import arm_list, load_study, measure, save_study, train

RESULTS = Path("benchmarks/results/finetune-cpu.json")


@dataclass(frozen=True)
class Finetune:
    budgets: str
    count: int

    def recipe(self, name: str) -> str:
        return f"recipes/finetune/{name}.yaml"


FINETUNES: dict[str, Finetune] = {
    "quickstart-harder": Finetune("1,2,4,8,16", 256),
    "ebt-sudoku6-harder": Finetune("4,16,32,16x4,16x16", 256),
    "gram-sudoku4-multi-fewer-givens": Finetune("8x1,8x5,8x20", 100),
}


def task_options(recipe: str) -> list[str]:
    """`zoo eval` options that set a model's task to the recipe's (say --task.givens 9)."""
    task = yaml.safe_load(Path(recipe).read_text())["data"]["task"]
    return [word for key, value in task.items() if key != "name" for word in (f"--task.{key}", str(value))]


def summary(results: dict) -> dict:
    return {key: results[key] for key in ("exact_match", "coverage") if key in results}


def run_one(name: str, tune: Finetune, root: Path) -> dict:
    recipe = tune.recipe(name)
    source = yaml.safe_load(Path(recipe).read_text())["init_from"]
    options = task_options(recipe)
    before = measure(Path(source), tune.budgets, tune.count, root / name / "before", *options)
    checkpoint, fit_seconds = train(name, recipe, [], root)
    after = measure(checkpoint, tune.budgets, tune.count, root / name / "after")
    return {
        "recipe": recipe,
        "init_from": source,
        "task": after["task"],
        "puzzles": tune.count,
        "before": summary(before),
        "after": summary(after),
        "fit_seconds": fit_seconds,
        "machine": after.get("machine"),
        "commands": [
            f"zoo eval {source} --budgets {tune.budgets} --count {tune.count} {' '.join(options)}",
            f"zoo fit -c {recipe}",
            f"zoo eval CKPT --budgets {tune.budgets} --count {tune.count}",
        ],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--names", type=arm_list(FINETUNES), default=",".join(FINETUNES))
    parser.add_argument("--root", type=Path, default=Path("runs/finetune-study"))
    args = parser.parse_args(argv)
    study = load_study(RESULTS)
    for name in args.names:
        study["arms"][name] = run_one(name, FINETUNES[name], args.root)
        save_study(study, RESULTS)
        print(json.dumps(study["arms"][name], indent=2))


if __name__ == "__main__":
    main()
