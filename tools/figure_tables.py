"""The results tables of README.md and docs/, each rendered from one JSON file under benchmarks/results/.

`RENDERERS` maps a block name (the NAME of `<!-- figures: NAME -->` in a page) to (the file it reads, the
function that turns the file's content into Markdown). `tools.figures` writes and checks the blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path("benchmarks/results")
INFERENCE_FLOPS = "inference FLOPs per puzzle (backward of energy descent included)"
COLUMNS = {  # metric key -> column header
    "exact_match": "exact match",
    "pass_at_n": "oracle pass@N",
    "vote": "majority vote",
    "coverage": "coverage",
    "coverage_cap": "coverage cap",
    "diversity": "diversity",
}


def shown(stat: dict[str, Any] | float | None) -> str:
    """A figure: a plain value to 3 decimals, or a spread as `mean (min–max)` when it has several runs."""
    if stat is None:
        return ""
    if not isinstance(stat, dict):
        return f"{stat:.3f}"
    if len(stat["runs"]) == 1 or stat["min"] == stat["max"]:
        return f"{stat['mean']:.3f}"
    return f"{stat['mean']:.3f} ({stat['min']:.3f}–{stat['max']:.3f})"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(
        ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(row) + " |" for row in rows]
    )


# ---- the quick start (README) --------------------------------------------------------------------------


def quickstart(data: dict[str, Any]) -> str:
    results = data["results"]
    labels = list(results["exact_match"])
    table = markdown_table(
        ["supervision steps (budget)", *labels],
        [["verified exact match", *(f"{results['exact_match'][label]:.3f}" for label in labels)]],
    )
    return (
        f"{table}\n\nMeasured with `{data['command']}` on {data['measured']} ({results['machine']}; "
        f"{data['conditions']}): "
        f"{results['puzzles']} test puzzles (the recipe's own test split, generator seed 0), "
        f"{data['wall_seconds']:.0f} s wall in all, of which `zoo fit`'s training took {results['fit_seconds']:.0f} s "
        f"(`benchmarks/results/quickstart-cpu.json`)."
    )


# ---- the comparison of families (docs/results/README.md) -------------------------------------------------


def comparison(setting: str) -> Callable[[dict[str, Any]], str]:
    def render(data: dict[str, Any]) -> str:
        study = data["settings"][setting]
        metrics = [
            m for m in COLUMNS if any(m in slot for arm in study["arms"].values() for slot in arm["budgets"].values())
        ]
        rows = []
        for name, arm in study["arms"].items():
            trained = "" if arm.get("training_flops") is None else f"{arm['training_flops']:.2g}"
            for label, slot in arm["budgets"].items():
                rows.append(
                    [
                        name,
                        label,
                        *(shown(slot.get(metric)) for metric in metrics),
                        f"{slot['flops_per_puzzle']:.2g}",
                        trained,
                    ]
                )
        header = ["arm", "budget", *(COLUMNS[m] for m in metrics), "inference FLOPs", "training FLOPs"]
        arms = "; ".join(
            f"**{name}**: {arm['family']} + {arm['regime']}, {arm['parameters']:,} parameters, "
            f"`{study['recipes'][name]}`, training seeds {_listed(study['arm_seeds'][name])}"
            for name, arm in study["arms"].items()
        )
        return (
            f"{study['puzzles']} test puzzles per draw of `{_task(study['task'])}`, test-puzzle draws "
            f"{_listed(study['draws'])}: each figure is the mean over every (training seed, draw) run of the arm, "
            f"the lowest and highest in brackets.\n\n{arms}.\n\n" + markdown_table(header, rows)
        )

    return render


# Comparisons the results page draws: (setting, A, B), each side (arm, budget, metric).
VERDICTS = [
    ("sudoku6", ("recursive", "16", "exact_match"), ("ebt", "16x16", "exact_match")),
    ("sudoku6", ("recursive", "2", "exact_match"), ("ebt", "32", "exact_match")),
    ("sudoku6-harder", ("recursive", "16", "exact_match"), ("ebt", "16x16", "exact_match")),
    ("sudoku6", ("ebt", "16x16", "exact_match"), ("ebt", "16x16", "pass_at_n")),
    ("sudoku6", ("ebt", "16x16", "exact_match"), ("ebt", "16x16", "vote")),
    ("sudoku6", ("ebt", "16x16", "exact_match"), ("ebt-official-noise", "16x16", "exact_match")),
    ("nqueens8", ("gram", "8", "exact_match"), ("recursive-nearest", "8", "exact_match")),
    ("nqueens8", ("recursive-nearest", "8", "exact_match"), ("recursive", "8", "exact_match")),
    ("nqueens8", ("gram", "8x20", "exact_match"), ("gram", "8x20", "pass_at_n")),
    ("nqueens8", ("gram", "8x20", "coverage"), ("recursive-nearest", "8x20", "coverage")),
    ("nqueens8", ("recursive-nearest", "8x20", "coverage"), ("recursive-nearest", "8x20", "coverage_cap")),
    ("sudoku4-multi", ("gram", "8", "exact_match"), ("recursive-nearest", "8", "exact_match")),
    ("sudoku4-multi", ("recursive-nearest", "8", "exact_match"), ("recursive", "8", "exact_match")),
    ("sudoku4-multi", ("gram", "8x20", "coverage"), ("recursive-nearest", "8x20", "coverage")),
]


def verdict(a: dict[str, Any], b: dict[str, Any]) -> str:
    """Whether the ranges over runs of two figures are apart (then the difference of their means), or not."""
    if a["min"] > b["max"]:
        return f"A higher by {a['mean'] - b['mean']:.3f}"
    if a["max"] < b["min"]:
        return f"B higher by {b['mean'] - a['mean']:.3f}"
    return "no measurable difference (the ranges overlap)"


def verdicts(data: dict[str, Any]) -> str:
    rows = []
    for setting, *sides in VERDICTS:
        arms = data["settings"].get(setting, {}).get("arms", {})
        if any(arm not in arms for arm, _, _ in sides):
            continue
        figures, names = [], []
        for arm, budget, metric in sides:
            slot = arms[arm]["budgets"][budget]
            figures.append(slot[metric])
            names.append(f"{arm} at {budget}: {COLUMNS[metric]} ({slot['flops_per_puzzle']:.2g} FLOPs)")
        rows.append([setting, names[0], shown(figures[0]), names[1], shown(figures[1]), verdict(*figures)])
    header = ["setting", "A", "figure", "B", "figure", "A against B, over every (seed, draw) run"]
    return markdown_table(header, rows)


# ---- the EBT study (docs/results/ebt.md) -------------------------------------------------------------------


def ebt_arms(data: dict[str, Any]) -> str:
    labels = list(next(iter(data["arms"].values()))["exact_match"])
    rows = [
        [name, f"{arm['fit_seconds']:.0f}", *(shown(arm["exact_match"].get(label)) for label in labels)]
        for name, arm in data["arms"].items()
    ]
    return (
        markdown_table(["arm", "fit s", *labels], rows)
        + f"\n\n`{data['command']}` ({data['machine']}): {data['note']}."
    )


def ebt_target(data: dict[str, Any]) -> str:
    one, best = data["one_sample_budget"], data["best_of_n_budget"]
    rows = []
    for run in data["runs"]:
        load = run["load_average_fit_start_end"]
        rows.append(
            [
                run["arm"],
                str(run["seed"]),
                f"{run['fit_seconds']:.0f}",
                f"{load[0]:.1f} / {load[1]:.1f}",
                *(
                    shown(run[key][budget]) if key in run else "–"  # a length candidate has no test figures
                    for key, budget in (
                        ("exact_match", one),
                        ("fit_final_test", one),
                        ("exact_match", best),
                        ("pass_at_n", best),
                        ("vote", best),
                    )
                ),
                *(shown(run["validation"]["exact_match"][b]) if "validation" in run else "–" for b in (one, best)),
            ]
        )
    header = [
        "arm",
        "seed",
        "`zoo fit` s",
        "load at fit start / end",
        f"test @ {one}",
        f"test @ {one}, fit's own test",
        f"test @ {best}, lowest energy",
        f"oracle pass@N @ {best}",
        f"majority vote @ {best}",
        f"validation @ {one}",
        f"validation @ {best}",
    ]
    target = data["target"]
    return markdown_table(header, rows) + (
        f"\n\n{data['puzzles']} test and {data['puzzles']} validation puzzles (generator seed 0); the fit's own "
        "test reads the same test puzzles with the descent's starting noise drawn from another state. Targets: ≥ "
        f"{target['one_sample']} with one sample (at {one} steps), ≥ {target['best_of_n']} best-of-N (at {best}), "
        f"`zoo fit` ≤ {target['fit_seconds']} s. The one-minute load average as each fit began and ended shows "
        "whether the machine was otherwise idle (about 2 at the end: the fit's own threads, alone). "
        f"`{data['command']}` on {data['machine']}."
    )


# ---- the GRAM study (docs/results/gram.md) -----------------------------------------------------------------


def gram_arms(data: dict[str, Any]) -> str:
    rows = []
    for name, arm in data["arms"].items():
        for selector, measured in arm.items():
            if not isinstance(measured, dict) or "exact_match" not in measured:
                continue
            exact, coverage, diversity = (measured[key] or {} for key in ("exact_match", "coverage", "diversity"))
            figures = [exact.get("8"), exact.get("8x5"), exact.get("8x20"), coverage.get("8x5"), coverage.get("8x20")]
            rows.append(
                [
                    name,
                    selector,
                    f"{arm['parameters']:,}",
                    *(shown(v) if v is not None else "–" for v in figures),
                    shown(diversity.get("8x20")),
                ]
            )
    header = ["arm", "selector", "params", "acc@1", "acc@5", "acc@20", "cov@5", "cov@20", "diversity@20"]
    return markdown_table(header, rows)


def gram_defaults(data: dict[str, Any]) -> str:
    rows = []
    for name, arm in data["arms"].items():
        value = arm["value"]
        figures = [
            value["exact_match"]["8"],
            value["exact_match"]["8x20"],
            value["pass_at_n"]["8x20"],
            value["coverage"]["8x5"],
            value["coverage"]["8x20"],
        ]
        overrides = f"`{' '.join(arm['overrides'])}`" if arm["overrides"] else "none (3,000 steps)"
        rows.append([name, overrides, *(shown(v) for v in figures)])
    header = ["arm", "overrides of the recipe", "acc@1", "acc@20 value", "oracle pass@20", "cov@5", "cov@20"]
    missing = f" Not run for lack of time: {', '.join(data['not_run'])}." if data.get("not_run") else ""
    return markdown_table(header, rows) + (
        f"\n\n{data['puzzles']} {data['split']} puzzles, seed 0, one training seed per arm; `{data['command']}` on "
        f"{data['machine']}.{missing}"
    )


# ---- kernels (docs/kernels.md) -----------------------------------------------------------------------------


# (op, pass) -> the target of docs/kernels.md, on the fraction of copy bandwidth or on the speed-up over compile
KERNEL_TARGETS: dict[tuple[str, str], tuple[str, float]] = {
    ("langevin_step", "fwd"): ("fraction_of_copy", 0.90),
    ("simplex_descent", "fwd"): ("fraction_of_copy", 0.80),
    ("gaussian_latent", "fwd"): ("fraction_of_copy", 0.80),
    ("gaussian_latent", "fwd+bwd"): ("fraction_of_copy", 0.70),
}


def kernel_target(op: str, case: str, step: str) -> tuple[str, float] | None:
    if op == "noisy_softmax" and step == "fwd":  # σ = 0 against copy, σ > 0 against torch.compile
        return ("fraction_of_copy", 0.80) if "σ=0" in case else ("speedup_vs_compile", 2.5)
    return KERNEL_TARGETS.get((op, step))


def kernels(data: dict[str, Any]) -> str:
    cells: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in data["results"]:
        cells.setdefault((row["op"], row["case"], row["pass"]), {})[row["variant"]] = row
    rows = []
    for (op, case, step), variants in cells.items():
        fused = variants.get("triton", {})
        target = kernel_target(op, case, step)
        if target is None:
            goal = met = ""
        else:
            key, least = target
            goal = f"≥ {least:.2f}" if key == "fraction_of_copy" else f"≥ {least}× compile"
            met = "yes" if fused.get(key, 0.0) >= least else "**no**"
        rows.append(
            [
                f"`{op}` {case}",
                step,
                *(f"{variants[v]['gbps']:,.0f}" if v in variants else "" for v in ("eager", "compile", "triton")),
                f"{fused.get('fraction_of_copy', float('nan')):.2f}",
                f"{fused.get('speedup_vs_compile', float('nan')):.2f}×",
                goal,
                met,
            ]
        )
    header = [
        f"op ({data['dtype']})",
        "pass",
        "eager GB/s",
        "torch.compile GB/s",
        "Triton GB/s",
        "Triton ÷ copy",
        "vs compile",
        "target",
        "met",
    ]
    machine = data["machine"]
    return (
        markdown_table(header, rows)
        + f"\n\n`{data['command']}` on one {machine['device']} ({machine['torch']}, {machine['triton']}), "
        f"{data['when']}; copy bandwidth in the same run {data['copy_gbps']:,.0f} GB/s."
    )


def gpu_recipes(data: dict[str, Any]) -> str:
    rows = []
    for recipe, run in data["recipes"].items():
        launches = ", ".join(f"`{op}` {count:,}" for op, count in run["launches"].items()) or "none"
        results = run["results"]
        rows.append(
            [
                f"`{recipe}`",
                f"{results['global_step']}",
                f"{results['fit_seconds']:.1f}",
                f"{run['peak_gpu_memory_gib']:.1f}",
                launches,
            ]
        )
    header = ["recipe", "steps", "`zoo fit` s", "peak GPU memory GiB", "fused launches"]
    return markdown_table(header, rows) + f"\n\nOne {data['device']}, torch {data['torch']}."


def _task(spec: dict[str, Any]) -> str:
    return ", ".join(f"{key} {value}" for key, value in spec.items())


def _listed(values: list[int]) -> str:
    return ", ".join(str(v) for v in values)


RENDERERS: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {
    "quickstart": ("quickstart-cpu.json", quickstart),
    **{
        f"compare-{name}": ("compare-cpu.json", comparison(name))
        for name in ("sudoku6", "sudoku6-harder", "nqueens8", "sudoku4-multi")
    },
    "compare-verdicts": ("compare-cpu.json", verdicts),
    "ebt-arms": ("ebt-study-cpu.json", ebt_arms),
    "ebt-target": ("ebt-target-cpu.json", ebt_target),
    "gram-arms": ("gram-study-cpu.json", gram_arms),
    "gram-defaults": ("gram-defaults-cpu.json", gram_defaults),
    "kernels-fp32": ("nvidia-h200.json", kernels),
    "gpu-recipes": ("gpu-recipes-nvidia-h200.json", gpu_recipes),
}
