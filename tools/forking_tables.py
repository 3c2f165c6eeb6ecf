"""The tables and plots of docs/results/forking.md, rendered from benchmarks/results/forking-cpu.json
(`python -m benchmarks.forking`): per RL arm the spread over seeds of each figure, beside the SFT model.

    python -m tools.forking_tables      # redraw docs/results/forking-passk.png and forking-reward.png
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tools.figure_tables import RESULTS, markdown_table, shown, verdict

FILE = "forking-cpu.json"
ARM_ORDER = ("all", "top", "bottom")
ARM_NAMES = {"all": "all tokens", "top": "top 20% by entropy", "bottom": "bottom 80% by entropy"}
WINDOW = 15  # the reward table's columns: the mean over windows of this many steps
LAST_POINTS = 5  # the final reward: the mean of the last logged points (each a mean over one step's rollouts)
PLOTS = Path("docs/results")


def spread(values: list[float]) -> dict[str, Any]:
    return {"mean": statistics.fmean(values), "min": min(values), "max": max(values), "runs": values}


def arms(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, data["arms"][name]) for name in ARM_ORDER if name in data["arms"]]


def final_reward(run: dict[str, Any]) -> float:
    return statistics.fmean(run["curve"]["reward"][-LAST_POINTS:])


def arm_figure(arm: dict[str, Any], pick: Callable[[dict[str, Any]], float]) -> dict[str, Any]:
    return spread([pick(run) for run in arm["runs"].values()])


def _seeds(arm: dict[str, Any]) -> str:
    return ", ".join(sorted(arm["runs"]))


def tuning(data: dict[str, Any]) -> str:
    """The setting, chosen on validation mazes: the all-token arm (seed 0) with each, beside the SFT model."""
    tuned = data["tuning"]
    sft = tuned["settings"]["sft"]
    rows = [["SFT (no RL)", "", shown(sft["sampled_plan_valid"]), shown(sft["greedy_plan_valid"]), ""]]
    for name, found in tuned["settings"].items():
        if name != "sft":
            chosen = "chosen" if name == data.get("setting") else ""
            rows.append([name, f"{found['fit_seconds']:.0f}", shown(found["sampled_plan_valid"]),
                         shown(found["greedy_plan_valid"]), chosen])  # fmt: skip
    header = ["setting", "`zoo fit` seconds", "valid plans among sampled writings", "valid plan, greedy", ""]
    return f"{markdown_table(header, rows)}\n\n{tuned['validation_mazes']} validation mazes; `{tuned['command']}`."


def held_out(data: dict[str, Any]) -> str:
    """Greedy writings on held-out mazes: plan validity, optimality and trace validity, SFT then each arm."""
    sft = data["sft"]["test"]["greedy"]
    keys = ("plan_valid", "plan_optimal", "trace_valid", "trace_length")
    rows = [["SFT (`trace-maze5-correct`)", *(shown(sft[key]) for key in keys), ""]]
    for name, arm in arms(data):
        cells = [shown(arm_figure(arm, lambda run, key=key: run["greedy"][key])) for key in keys]
        rows.append([f"GRPO, {ARM_NAMES[name]} (seeds {_seeds(arm)})", *cells, shown(arm_figure(arm, final_reward))])
    header = ["model", "valid plan", "shortest plan", "valid trace", "tokens written", "final training reward"]
    return markdown_table(header, rows)


def validation(data: dict[str, Any]) -> str:
    """Each arm's seed-0 run on validation mazes (the catalog's model is the best of them): valid plans among
    sampled writings and greedy."""
    rows, best = [], None
    for name, arm in arms(data):
        found = arm["runs"]["0"]["validation"]
        rows.append([ARM_NAMES[name], shown(found["sampled_plan_valid"]), shown(found["greedy_plan_valid"])])
        if best is None or found["sampled_plan_valid"] > best[1]:
            best = (name, found["sampled_plan_valid"])
    table = markdown_table(["arm (seed 0)", "valid plans among sampled writings", "valid plan, greedy"], rows)
    return table if best is None else f"{table}\n\nThe most valid sampled plans: `{best[0]}` ({best[1]:.3f})."


def pass_at_k(data: dict[str, Any]) -> str:
    """pass@k for k = 1 … 256 on held-out mazes: the SFT model and each arm (spread over seeds)."""
    sft = data["sft"]["test"]["pass_at_k"]
    named = arms(data)
    rows = []
    for k in sft:
        cells = [shown(arm_figure(arm, lambda run, k=k: run["pass_at_k"][k])) for _, arm in named]
        rows.append([k, shown(sft[k]), *cells])
    return markdown_table(["k", "SFT", *(ARM_NAMES[name] for name, _ in named)], rows)


def comparisons(data: dict[str, Any]) -> str:
    """The papers' expectations, each judged by whether the seeds' ranges are apart."""
    found = dict(arms(data))
    if not {"all", "top", "bottom"} <= set(found):
        return "(every arm is needed for the comparisons)"
    valid = {name: arm_figure(arm, lambda run: run["greedy"]["plan_valid"]) for name, arm in found.items()}
    reward = {name: arm_figure(arm, final_reward) for name, arm in found.items()}
    rows = []
    for figure, values in (("held-out valid plan (greedy)", valid), ("final training reward", reward)):
        for a, b in (("top", "all"), ("all", "bottom"), ("top", "bottom")):
            rows.append(
                [figure, f"A = {a}, B = {b}", shown(values[a]), shown(values[b]), verdict(values[a], values[b])]
            )
    sft = data["sft"]["test"]["pass_at_k"]
    for k in ("1", "256"):
        for name, arm in found.items():
            rl = arm_figure(arm, lambda run, k=k: run["pass_at_k"][k])
            fixed = {"mean": sft[k], "min": sft[k], "max": sft[k], "runs": [sft[k]]}
            rows.append([f"pass@{k}", f"A = {name}, B = SFT", shown(rl), shown(sft[k]), verdict(rl, fixed)])
    return markdown_table(["figure", "arms", "A", "B", "verdict"], rows)


def rewards(data: dict[str, Any]) -> str:
    """The mean reward of the training rollouts over windows of steps, per arm (spread over seeds)."""
    named = arms(data)
    steps = next(iter(named[0][1]["runs"].values()))["curve"]["step"]
    windows = [(start, min(start + WINDOW - 1, steps[-1])) for start in range(steps[0], steps[-1] + 1, WINDOW)]
    rows = []
    for name, arm in named:
        cells = []
        for first, last in windows:
            means = []
            for run in arm["runs"].values():
                curve = run["curve"]
                picked = [r for s, r in zip(curve["step"], curve["reward"]) if first <= s <= last]
                means.append(statistics.fmean(picked))
            cells.append(shown(spread(means)))
        rows.append([ARM_NAMES[name], *cells])
    return markdown_table(["arm", *(f"steps {first}–{last}" for first, last in windows)], rows)


def seconds(stat: dict[str, Any]) -> str:
    return f"{stat['mean']:.0f} ({stat['min']:.0f}–{stat['max']:.0f})"


def runs(data: dict[str, Any]) -> str:
    """How the study ran."""
    rows = [
        [ARM_NAMES[name], f"`{' '.join(arm['overrides'])}`", seconds(arm_figure(arm, lambda run: run["fit_seconds"]))]
        for name, arm in arms(data)
    ]
    table = markdown_table(["arm", "override of the recipe", "`zoo fit` seconds"], rows)
    mazes = data["test_mazes"]
    return (
        f"{table}\n\nRecipe `{data['recipe']}`; measured with `{data['command']}` on {data['machine']}, "
        f"{data['runs_at_a_time']} runs at a time with {data['threads_per_run']} thread each. Held out: "
        f"{mazes['greedy']} test mazes for greedy writing, {mazes['sampled']} for pass@k "
        f"({data['budgets']['sampled']}: 256 writings of up to 256 tokens each). The SFT model plans validly on "
        f"{data['sft']['validation_plan_valid']:.3f} of 256 validation mazes (greedy). "
        f"Wall time {data['wall_seconds'] / 60:.0f} minutes (`benchmarks/results/{FILE}`)."
    )


def draw(data: dict[str, Any], folder: Path) -> None:
    """forking-passk.png (pass@k against k, one line per model) and forking-reward.png (training reward curves),
    each arm its mean over seeds with the seeds' range shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5.5, 3.8), dpi=120)
    sft = data["sft"]["test"]["pass_at_k"]
    ks = [int(k) for k in sft]
    axis.plot(ks, list(sft.values()), marker="o", color="black", label="SFT")
    for name, arm in arms(data):
        series = [[run["pass_at_k"][str(k)] for k in ks] for run in arm["runs"].values()]
        axis.plot(ks, [statistics.fmean(column) for column in zip(*series)], marker="o", label=f"GRPO, {name}")
        axis.fill_between(ks, [min(c) for c in zip(*series)], [max(c) for c in zip(*series)], alpha=0.2)
    axis.set_xscale("log", base=2)
    axis.set(xlabel="k (writings drawn per maze)", ylabel="pass@k", ylim=(0, 1.02))
    axis.set_title(f"{data['test_mazes']['sampled']} held-out 5x5 Wilson mazes", fontsize=9)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(folder / "forking-passk.png")
    plt.close(figure)

    figure, axis = plt.subplots(figsize=(5.5, 3.8), dpi=120)
    for name, arm in arms(data):
        curves = [run["curve"] for run in arm["runs"].values()]
        steps = curves[0]["step"]
        series = [curve["reward"] for curve in curves]
        axis.plot(steps, [statistics.fmean(column) for column in zip(*series)], label=f"GRPO, {name}")
        axis.fill_between(steps, [min(c) for c in zip(*series)], [max(c) for c in zip(*series)], alpha=0.2)
    axis.set(xlabel="training step", ylabel="mean reward of the step's rollouts", ylim=(0, 1.02))
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(folder / "forking-reward.png")
    plt.close(figure)


RENDERERS: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {
    "forking-tuning": (FILE, tuning),
    "forking-held-out": (FILE, held_out),
    "forking-pass-at-k": (FILE, pass_at_k),
    "forking-validation": (FILE, validation),
    "forking-comparisons": (FILE, comparisons),
    "forking-rewards": (FILE, rewards),
    "forking-runs": (FILE, runs),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=PLOTS, help="folder for the two plots")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    draw(json.loads((RESULTS / FILE).read_text()), args.out)


if __name__ == "__main__":
    main()
