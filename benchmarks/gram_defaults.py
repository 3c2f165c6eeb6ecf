"""GRAM's defaults judged on validation puzzles (docs/results/gram.md).

    python -m benchmarks.gram_defaults

The defaults of `recipes/gram/nqueens8-variational.yaml` (no posterior mixer, the value head trained on prior
rollouts) were first chosen by figures on test puzzles. This study measures each choice again the way choices
are made now: each arm trains 800 steps (the length of that exploration; "defaults-3000" is the recipe's own
length) with seed 0 and is measured by `zoo eval --split validation` on 60 validation puzzles (of the 68
distinct ones the split holds), which share no puzzle (nor augmented copy) with the test puzzles reported
elsewhere. Writes benchmarks/results/gram-defaults-<device>.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.machine import device_slug
from benchmarks.runs import measure, parameters, save_study, train
from zoo.evaluation.results import describe_machine

RECIPE = "recipes/gram/nqueens8-variational.yaml"
SHORT = ["--trainer.max_steps", "800"]
ARMS: dict[str, list[str]] = {
    "defaults-800": SHORT,
    "posterior_mixer-800": [*SHORT, "--model.init_args.posterior_mixer", "true"],
    "value_on_posterior-800": [*SHORT, "--model.init_args.regime.init_args.value_on", "posterior"],
    "defaults-3000": [],  # the recipe as committed: the same run as benchmarks.compare's seed 0
}
BUDGETS = "8x1,8x5,8x20"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path("runs/gram-explore"))
    parser.add_argument("--count", type=int, default=60)  # the validation split holds 68 distinct puzzles
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--only-trained", action="store_true", help="leave out arms not trained yet")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    out = args.out or Path("benchmarks/results") / f"gram-defaults-{device_slug()}.json"
    study = {
        "command": "python -m benchmarks.gram_defaults",
        "machine": describe_machine(),
        "split": "validation",
        "puzzles": args.count,
        "recipe": RECIPE,
        "arms": {},
    }
    for name, overrides in ARMS.items():
        if args.only_trained and not (args.root / name / "results.json").exists():
            study["not_run"] = [*study.get("not_run", []), name]
            continue
        options = ["--seed_everything", "0", "--trainer.limit_val_batches", "0", *overrides]
        checkpoint, _ = train(name, RECIPE, options, args.root)
        arm = {"overrides": overrides, "parameters": parameters(checkpoint)}
        results = measure(
            checkpoint,
            BUDGETS,
            args.count,
            args.root / name / "eval-validation",
            "--split",
            "validation",
            "--selection",
            "value",
        )  # the oracle's choice is the pass@N that every evaluation reports beside the value head's
        arm["value"] = {key: results.get(key) for key in ("exact_match", "pass_at_n", "coverage", "diversity")}
        study["arms"][name] = arm
        save_study(study, out)
    print(f"written: {out}")


if __name__ == "__main__":
    main()
