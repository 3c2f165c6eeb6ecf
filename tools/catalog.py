"""Build the catalog of pretrained models: train (or reuse) each showcase model from its committed recipe
with seed 0, measure it with `zoo eval` (seeded), export it into zoo/hub/bundled/NAME, and write
zoo/hub/catalog.json and docs/models.md.

    python -m tools.catalog                         # every showcase model (reuses runs/compare)
    python -m tools.catalog --names ebt-sudoku6     # some of them
    python -m tools.catalog --docs-only             # docs/models.md from catalog.json

The runs are the same as the first seed of `python -m benchmarks.compare` (same recipe, same seed, same
root), so a model trained for one is reused by the other. A model trained on a GPU machine (`trained_on`)
is not retrained here: its recipe was run there and `zoo export`ed into runs/catalog-gpu/NAME, and this
script measures and bundles that folder. Every figure is measured here, by `zoo eval` on the CPU.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks.compare import trained
from benchmarks.runs import arm_list, zoo
from benchmarks.runs import measure as fresh
from zoo import hub
from zoo.hub import catalog
from zoo.hub.layout import file_sha256, read_config
from zoo.hub.loading import load
from zoo.io import files

HUB_ORG = "belief-zoo"
CHECK_COUNT = 32  # puzzles of the quick re-evaluation the test suite repeats
DOCS = Path("docs/models.md")
GPU_EXPORTS = Path("runs/catalog-gpu")  # model folders trained and exported on a GPU machine
PUBLIC_SUDOKU = Path("../shared/data/sudoku-top95.txt")


NOTE_COVERAGE = (
    "every puzzle has two or more solutions: coverage at 8xN is the share of each puzzle's solutions that N "
    "samples reach, exact match whether the answer the value head picks is valid"
)


@dataclass(frozen=True)
class Showcase:
    recipe: str
    budgets: str
    count: int
    notes: str = ""
    trained_on: str | None = None  # a GPU machine: the model comes from GPU_EXPORTS/NAME, not from a run here
    public_file: Path | None = None  # puzzles in the task's text form that `zoo solve` also reports on
    public_budgets: tuple[str, ...] = ()
    also: tuple[str, ...] = ()  # further `zoo eval` option lists whose figures go into the notes
    study_run: str | None = None  # the run of a study this model is (its seed-0 run), reused rather than retrained
    options: str = ""  # the recipe overrides the run trained with (a study's arm)
    seed: int = 0  # the training seed of the run


SHOWCASE: dict[str, Showcase] = {
    "quickstart-sudoku6": Showcase("recipes/quickstart.yaml", "1,2,4,8,16", 256),
    "ebt-sudoku6": Showcase("recipes/ebt/sudoku6-energy-descent.yaml", "1,2,4,8,16,32,64,16x4,16x16", 256),
    "gram-nqueens8": Showcase(
        "recipes/gram/nqueens8-variational.yaml",
        "8x1,8x5,8x20",
        100,
        NOTE_COVERAGE,
    ),
    "trm-nqueens8": Showcase(
        "recipes/trm/nqueens8-deep-supervision.yaml",
        "1,2,4,8",
        100,
        "the deterministic pair of gram-nqueens8 (same network size): on puzzles with several completions it "
        "commits to one blend of them and rarely reaches a valid board; the baseline GRAM is measured against",
    ),
    "gram-sudoku4-multi": Showcase(
        "recipes/gram/sudoku4-multi-variational.yaml",
        "8x1,8x5,8x20",
        100,
        NOTE_COVERAGE,
    ),
    "trace-maze5-correct": Showcase(
        "recipes/trace/maze5-correct.yaml",
        "64,128,256,256x8",
        256,
        "steps are tokens written, and 256x8 writes 8 traces (the first greedy) and answers with the likeliest "
        "plan. docs/results/traces.md compares it with the swapped and plan-only arms over three seeds",
        study_run="runs/traces/correct-seed0",
    ),
    "trace-maze5-swapped": Showcase(
        "recipes/trace/maze5-swapped.yaml",
        "64,128,256,256x8",
        256,
        "trained on the searches of other mazes before each maze's own plan: it writes searches that are not "
        "its maze's, then a plan (docs/results/traces.md)",
        study_run="runs/traces/swapped-seed0",
    ),
    "trace-maze5-grpo": Showcase(
        "recipes/trace/maze5-grpo.yaml",
        "64,128,256,256x8",
        256,
        "trace-maze5-correct after GRPO on the 20% of written tokens with the highest entropy, rewarded by the "
        "maze's verifier; of the three arms' seed-0 runs it planned validly most often among sampled writings on "
        "validation mazes. docs/results/forking.md compares the arms and the SFT model over three seeds",
        study_run="runs/forking/top-seed0",
        options="--model.init_args.regime.init_args.tokens top",
    ),
    "trm-maze5": Showcase(
        "recipes/trm/maze5-deep-supervision.yaml",
        "1,2,4,8,16",
        256,
        "marks the path cells without writing a search: the derivation baseline of docs/results/traces.md",
        study_run="runs/traces/recursive-seed0",
    ),
    "trm-sudoku9": Showcase(
        "recipes/trm/sudoku9-small.yaml",
        "1,2,4,8,16",
        256,
        trained_on="one NVIDIA H200",
        public_file=PUBLIC_SUDOKU,
        public_budgets=("16", "64"),
        also=("--task.givens 30 --budgets 16",),
    ),
}


def solved(model: Path, puzzles: Path, budget: str, answers: Path) -> tuple[int, int]:
    """(verified, total) that `zoo solve` reports for the puzzles of a text file at one budget."""
    command = [sys.executable, "-m", "zoo.cli", "solve", str(model), str(puzzles), "--budget", budget]
    command += ["--out", str(answers)]
    print("$ zoo " + " ".join(command[3:]), flush=True)
    report = subprocess.run(command, check=True, capture_output=True, text=True).stderr
    found = re.search(r"(\d+) puzzles at budget \S+: (\d+) answers verified", report)
    if found is None:
        raise RuntimeError(f"zoo solve printed no count: {report}")
    return int(found.group(2)), int(found.group(1))


def build_entry(name: str, show: Showcase, root: Path, reuse: bool = False) -> dict:
    measure = reused if reuse else fresh
    measured_dir = Path("runs/catalog") / name
    folder = catalog.BUNDLED_DIR / name
    hub_id = f"{HUB_ORG}/{name}"
    card = {"repo_id": hub_id, "catalog_name": name, "name": name, "force": True, "overwrite_card": True}
    if show.trained_on is None:
        source = trained(show.recipe, 0, root) if show.study_run is None else study_checkpoint(show.study_run)
        results = renamed(measure(source, show.budgets, show.count, measured_dir / "eval"), name, measured_dir)
        zoo("export", str(source), str(folder), "--results", str(measured_dir / "eval" / "results.json"),
            "--repo-id", hub_id, "--catalog-name", name, "--name", name, "--force", "--overwrite-card")  # fmt: skip
    else:
        source = GPU_EXPORTS / name
        if not source.is_dir():
            raise SystemExit(f"{name} is trained on {show.trained_on}: export its run into {source} first")
        results = renamed(measure(source, show.budgets, show.count, measured_dir / "eval"), name, measured_dir)
        recipe = Path(show.recipe).read_text()
        hub.save(load(source), folder, results=results, recipe=recipe, recipe_source=f"`{show.recipe}`", **card)
    largest = show.budgets.split(",")[-1]
    check = measure(folder, largest, CHECK_COUNT, measured_dir / "check")
    config = read_config(folder)
    regime = config["hparams"].get("regime", {}).get("class_path", "").rpartition(".")[2]
    evaluation = {
        "command": f"zoo eval {name} --budgets {show.budgets} --count {show.count}",
        "puzzles": show.count,
        "seed": 0,
        "budgets": list(results["exact_match"]),  # the labels results use: 8x1 is "8"
        **{key: results[key] for key in ("exact_match", "coverage", "flops_per_puzzle") if key in results},
        "machine": results.get("machine"),
        "check": {"count": CHECK_COUNT, "budget": largest, "exact_match": check["exact_match"][largest]},
    }
    notes = [show.notes] if show.notes else []
    for k, options in enumerate(show.also):
        budgets, *rest = _budgets_and_rest(options)
        extra = measure(folder, budgets, show.count, measured_dir / f"also{k}", *rest)
        rates = ", ".join(f"{rate:.3f} at {budget}" for budget, rate in extra["exact_match"].items())
        notes.append(f"`zoo eval {name} {options} --count {show.count}`: exact match {rates}")
    if show.public_file is not None:
        public = {
            budget: solved(folder, show.public_file, budget, measured_dir / f"public-{budget}.txt")
            for budget in show.public_budgets
        }
        evaluation["public"] = {"file": show.public_file.name, "solved": {b: n for b, (n, _) in public.items()}}
        counts = ", ".join(f"{n} of {total} at {budget} steps" for budget, (n, total) in public.items())
        notes.append(f"`zoo solve {name} {show.public_file.name} --budget B`: {counts} verified")
    trained_with = " ".join(filter(None, ["zoo fit -c", show.recipe, show.options, f"--seed_everything {show.seed}"]))
    return {
        "family": config["family"],
        "regime": regime,
        "task": config["task"],
        "parameters": config["num_parameters"],
        "hub": hub_id,
        "bundled": True,
        "recipe": show.recipe,
        "seed": 0,
        "trained_with": trained_with + (f" (on {show.trained_on})" if show.trained_on else ""),
        "evaluation": evaluation,
        "files": {path.name: file_sha256(path) for path in sorted(folder.iterdir()) if path.is_file()},
        "notes": "; ".join(notes),
    }


def study_checkpoint(run: str) -> Path:
    """The last checkpoint of a study's run (the study trains it: its docstring says how)."""
    found = sorted(Path(run).rglob("checkpoints/last.ckpt"))  # beside a logger's version folder, if it kept one
    checkpoint = found[-1] if found else Path(run) / "checkpoints" / "last.ckpt"
    if not checkpoint.exists():
        raise SystemExit(
            f"{checkpoint} is missing: run the study that trains {run} first (the study's docstring, under "
            "benchmarks/, names its command)"
        )
    return checkpoint


def reused(model: Path, budgets: str, count: int, out: Path, *extra: str) -> dict:
    """The results.json a former `zoo eval` left in `out`, else a fresh `zoo eval` (--reuse-evals)."""
    if (out / "results.json").exists():
        return json.loads((out / "results.json").read_text())
    return fresh(model, budgets, count, out, *extra)


def renamed(results: dict, name: str, measured_dir: Path) -> dict:
    """The results with the model named by its catalog name (as `zoo eval NAME` names it), saved back."""
    results = {**results, "model": name}
    files.write_text(measured_dir / "eval" / "results.json", json.dumps(results, indent=2) + "\n")
    return results


def _budgets_and_rest(options: str) -> tuple[str, ...]:
    """ "--task.givens 30 --budgets 16" -> ("16", "--task.givens", "30"): `measure`'s budgets, then the rest."""
    words = options.split()
    at = words.index("--budgets")
    return (words[at + 1], *words[:at], *words[at + 2 :])


def models_page(entries: list[catalog.CatalogEntry]) -> str:
    """docs/models.md: the table, then per model its thinking curve and the commands behind its figures."""
    from zoo.cli.models import table

    lines = [
        "# Pretrained models",
        "",
        "Generated by `python -m tools.catalog` from `zoo/hub/catalog.json`; do not edit by hand. Every model "
        "below ships with the package (`zoo/hub/bundled/`) and works offline by its name: `zoo eval NAME`, "
        "`zoo solve NAME FILE`, `zoo bench NAME ...`, `--init_from NAME`, `zoo.load(NAME)`. `zoo models` prints "
        "this table; `zoo models NAME` a model's card. Each entry names the Hub repo it is published under "
        "(`zoo push --catalog belief-zoo` uploads them all).",
        "",
        "```text",
        table(entries),
        "```",
    ]
    for entry in entries:
        evaluation = entry.evaluation
        lines += [
            "",
            f"## {entry.name}",
            "",
            f"`{entry.family}` ({entry.regime}) on `{json.dumps(entry.task)}`, {entry.parameters:,} parameters; "
            f"Hub repo id `{entry.hub}`.",
            "",
            f"![{entry.name}: exact match against budget](../zoo/hub/bundled/{entry.name}/budget_curve.png)",
            "",
            f"- trained with: `{entry.trained_with}`",
            f"- measured with: `{evaluation['command']}` ({evaluation['puzzles']} held-out puzzles, seed "
            f"{evaluation['seed']}, {evaluation.get('machine') or 'CPU'})",
        ]
        if entry.notes:
            lines += [f"- {note}" for note in entry.notes.split("; ")]
    return "\n".join(lines + finetune_section()) + "\n"


def finetune_section() -> list[str]:
    """Before/after figures of the fine-tuning recipes (benchmarks/results/finetune-cpu.json), if measured."""
    from benchmarks.finetune import RESULTS

    if not RESULTS.exists():
        return []
    study = json.loads(RESULTS.read_text())
    lines = [
        "",
        "## Fine-tuning from the catalog",
        "",
        "Each recipe in `recipes/finetune/` starts from a catalog model (`init_from: NAME`) and continues it on "
        "harder puzzles. Before: the catalog model on the recipe's held-out puzzles; after: the fine-tuned model "
        "on the same puzzles. Measured by `python -m benchmarks.finetune` "
        f"({next(iter(study['arms'].values())).get('machine') or 'CPU'}; fit times taken while other jobs shared "
        "the cores). One training seed and one draw of 256 (Sudoku 6x6) or 100 (4x4) test puzzles, so no spread is "
        "measured: the seeds of the source recipes differ by more than these before/after differences at small "
        "budgets (docs/results/README.md), so none of them is claimed as a gain. Each recipe's comment says more.",
        "",
        "| recipe | from | task | budget | before | after | fit |",
        "|---|---|---|---|---|---|---|",
    ]
    for arm in study["arms"].values():
        # Where puzzles have several solutions, how many of them the samples reach (coverage) matters too.
        metrics = ["exact_match"] + (["coverage"] if arm["task"].get("unique") is False else [])
        for metric in metrics:
            for budget, after in arm["after"][metric].items():
                lines.append(
                    f"| `{arm['recipe']}` | `{arm['init_from']}` | `{json.dumps(arm['task'])}` | {budget} "
                    f"({metric.replace('_', ' ')}) | {arm['before'][metric][budget]:.3f} | {after:.3f} | "
                    f"{arm['fit_seconds']:.0f} s |"
                )
    return lines


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--names", type=arm_list(SHOWCASE), default=",".join(SHOWCASE))
    parser.add_argument("--root", type=Path, default=Path("runs/compare"), help="where the training runs are")
    parser.add_argument(
        "--reuse-evals", action="store_true", help="keep `zoo eval` results already in runs/catalog (same models)"
    )
    parser.add_argument("--docs-only", action="store_true", help="only regenerate docs/models.md")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if not args.docs_only:
        raw = json.loads(catalog.CATALOG_FILE.read_text()) if catalog.CATALOG_FILE.exists() else {"models": {}}
        for name in args.names:
            raw["models"][name] = build_entry(name, SHOWCASE[name], args.root, args.reuse_evals)
            files.write_text(catalog.CATALOG_FILE, json.dumps(raw, indent=2) + "\n")
    files.write_text(DOCS, models_page(list(catalog.entries().values())))
    print(f"written: {catalog.CATALOG_FILE}, {DOCS}")


if __name__ == "__main__":
    main()
