"""GRAM study (docs/results/gram.md): accuracy@1, accuracy@N, coverage@N and diversity for N = 1, 5, 20 of
the generative recursive reasoner against its ablations and the deterministic baseline of equal size.

    python -m benchmarks.gram_study                     # every arm, about an hour on 2 CPU cores
    python -m benchmarks.gram_study --arms gram,deterministic

Each arm trains through `zoo fit` (a finished run under --root is reused) and is measured by `zoo eval` on
the same held-out puzzles; results go to benchmarks/results/gram-study-<device>.json and a markdown table
is printed. The arms "gram", "deterministic", "gram_sudoku4_multi" and "deterministic_sudoku4_multi" are
the committed recipes with seed 0, the same runs as benchmarks.compare's first seed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.machine import device_slug
from benchmarks.runs import arm_list, load_study, measure, parameters, save_study, train
from zoo.evaluation.results import describe_machine

GRAM_NQUEENS = "recipes/gram/nqueens8-variational.yaml"
ARMS: dict[str, tuple[str, list[str]]] = {
    "gram": (GRAM_NQUEENS, []),
    "zero_mean_noise": (GRAM_NQUEENS, ["--model.init_args.noise", "zero_mean"]),
    "no_noise": ("recipes/gram/nqueens8-deep-supervision.yaml", []),  # the regime swap: nothing sampled
    "no_posterior": (GRAM_NQUEENS, ["--model.init_args.regime.init_args.posterior", "false"]),
    "posterior_mixer": (GRAM_NQUEENS, ["--model.init_args.posterior_mixer", "true"]),
    "value_on_posterior": (GRAM_NQUEENS, ["--model.init_args.regime.init_args.value_on", "posterior"]),
    "deterministic": ("recipes/trm/nqueens8-deep-supervision.yaml", []),
    "gram_sudoku4_multi": ("recipes/gram/sudoku4-multi-variational.yaml", []),
    "deterministic_sudoku4_multi": ("recipes/trm/sudoku4-multi-deep-supervision.yaml", []),
}
BUDGETS = "8x1,8x5,8x20"
SELECTORS = {
    "gram": ["value", "vote", "oracle"],
    "posterior_mixer": ["value", "oracle"],
    "value_on_posterior": ["value", "oracle"],
    "gram_sudoku4_multi": ["value", "oracle"],
}


def run_arm(name: str, root: Path, count: int) -> dict:
    recipe, overrides = ARMS[name]
    checkpoint, fit_seconds = train(name, recipe, [*overrides, "--trainer.limit_val_batches", "0"], root)
    arm = {
        "recipe": recipe,
        "overrides": overrides,
        "parameters": parameters(checkpoint),
        "fit_seconds": round(fit_seconds, 1),
    }
    samples_differ = "deterministic" not in name and name != "no_noise"
    selectors = SELECTORS.get(name, ["value"] if samples_differ else [None])
    for selector in selectors:
        extra = ["--selection", selector] if selector else []
        results = measure(checkpoint, BUDGETS, count, root / name / f"eval-{selector or 'none'}", *extra)
        arm[selector or "deterministic"] = {key: results.get(key) for key in ("exact_match", "coverage", "diversity")}
    arm["command"] = (
        f"zoo fit -c {recipe} {' '.join(overrides)}; zoo eval CKPT --budgets {BUDGETS} --count {count} [--selection S]"
    )
    return arm


def markdown(study: dict) -> str:
    lines = [
        "| arm | selector | params | acc@1 | acc@5 | acc@20 | cov@5 | cov@20 | diversity@20 |",
        "|---" * 9 + "|",
    ]
    for name, arm in study["arms"].items():
        for selector, measured in arm.items():
            if not isinstance(measured, dict) or "exact_match" not in measured:
                continue
            exact, coverage, diversity = (
                measured["exact_match"],
                measured.get("coverage") or {},
                measured.get("diversity") or {},
            )
            cells = [
                exact.get("8"),
                exact.get("8x5"),
                exact.get("8x20"),
                coverage.get("8x5"),
                coverage.get("8x20"),
                diversity.get("8x20"),
            ]
            shown = " | ".join("–" if c is None else f"{c:.3f}" for c in cells)
            lines.append(f"| {name} | {selector} | {arm['parameters']:,} | {shown} |")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arms", type=arm_list(ARMS), default=",".join(ARMS))
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--root", type=Path, default=Path("runs/gram-study"))
    parser.add_argument("--out", type=Path, default=None)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    out = args.out or Path("benchmarks/results") / f"gram-study-{device_slug()}.json"
    study = load_study(out)
    study["machine"] = describe_machine()
    for name in args.arms:
        study["arms"][name] = run_arm(name, args.root, args.count)
        save_study(study, out)
    print(markdown(study))
    print(f"written: {out}")


if __name__ == "__main__":
    main()
