"""Results of a run: the per-budget table, `results.json` and the accuracy-against-budget plot."""

from __future__ import annotations

import io
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L
import torch

from zoo.evaluation.budget import parse_budgets
from zoo.evaluation.flops import INFERENCE_FLOPS
from zoo.evaluation.training_cost import run_record
from zoo.io import outputs

RESULTS_FILE = "results.json"
PLOT_FILE = "budget_curve.png"


def describe_machine() -> str:
    """One line naming the hardware a figure came from."""
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name()} (CUDA {torch.version.cuda})"
    return f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}"


def format_table(results: dict[str, Any], markdown: bool = False) -> str:
    """The per-budget table of a results.json: budget, verified exact match (of the answer the model chose), and
    where measured the share of optimal answers, the plan and trace validity and trace length of a trace writer,
    the oracle pass@N, the majority vote, coverage, its cap and diversity; aligned text for a terminal, or
    Markdown for a model card."""
    names = (
        "exact_match",
        "optimal",
        "plan_valid",
        "trace_valid",
        "trace_length",
        "pass_at_n",
        "vote",
        "coverage",
        "coverage_cap",
        "diversity",
        "flops_per_puzzle",
    )
    columns = [name for name in names if name in results]
    shorter = {"flops_per_puzzle": "inference FLOPs"}  # named in full in the note under the table
    header = [
        "budget" + (" (steps x samples)" if markdown else ""),
        *(shorter.get(name, name.replace("_", " ")) for name in columns),
    ]
    note = f"\n\ninference FLOPs = {INFERENCE_FLOPS}" if "flops_per_puzzle" in columns else ""

    def cell(name: str, label: str) -> str:
        value = results[name].get(label)
        return "" if value is None else f"{value:.3g}" if name == "flops_per_puzzle" else f"{value:.3f}"

    rows = [[label, *(cell(name, label) for name in columns)] for label in results["exact_match"]]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|---|" + "---|" * len(columns)]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows]) + note
    widths = [8, *(max(13, len(name) + 2) for name in header[1:])]
    return "\n".join("".join(f"{text:>{width}}" for text, width in zip(row, widths)) for row in [header, *rows]) + note


def plot_budget_curve(exact_match: dict[str, float], path: Path, title: str) -> None:
    """Exact match against steps, one line per sample count, written as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    budgets = parse_budgets(",".join(exact_match))
    lines: dict[int, list[tuple[int, float]]] = {}
    for budget, rate in zip(budgets, exact_match.values()):
        lines.setdefault(budget.samples, []).append((budget.steps, rate))
    figure, axes = plt.subplots(figsize=(5, 3.5), dpi=120)
    for samples, points in sorted(lines.items()):
        points.sort()
        axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=f"{samples} sample(s)")
    axes.set_xscale("log", base=2)
    axes.set_xlabel("thinking steps (budget)")
    axes.set_ylabel("verified exact match")
    axes.set_ylim(0, 1.02)
    axes.set_title(title, fontsize=9)
    axes.grid(alpha=0.3)
    if len(lines) > 1:
        axes.legend()
    figure.tight_layout()
    image = io.BytesIO()
    figure.savefig(image, format="png")
    plt.close(figure)
    outputs.write_file(path, image.getvalue())


def _same_source(a: str, b: str) -> bool:
    """Whether two MODEL arguments name the same model: the same text, or paths of the same file or folder."""
    try:
        return a == b or os.path.samefile(os.path.expanduser(a), os.path.expanduser(b))
    except (OSError, ValueError):
        return False


def claimed_results(model: str, revision: str | None) -> Callable[[Path], str | None]:
    """For `outputs.check_folder`: what a folder holds that results of `zoo eval MODEL` (at `revision`) written
    there would replace or join, when it is not earlier results of the same; None where there is nothing."""

    def claimed(folder: Path) -> str | None:
        if (folder / "config.json").is_file():
            return "a model (config.json; results written there would become that model's)"
        if not (folder / RESULTS_FILE).exists():
            return f"a {PLOT_FILE} of another run" if (folder / PLOT_FILE).exists() else None
        try:
            existing = json.loads((folder / RESULTS_FILE).read_text())
        except (OSError, UnicodeDecodeError, ValueError, RecursionError):
            existing = None
        if not isinstance(existing, dict) or not isinstance(existing.get("exact_match"), dict):
            return f"a {RESULTS_FILE} that belief-zoo did not write"
        if "model" not in existing:
            return f"the {RESULTS_FILE} of a training run ({existing.get('family')})"
        if _same_source(str(existing["model"]), model) and existing.get("revision") == revision:
            return None
        return f"the results of `zoo eval {existing['model']}`"

    return claimed


def write_results(results: dict[str, Any], directory: Path) -> Path:
    """Write results.json and budget_curve.png into `directory` (made if missing); print the table and the path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = outputs.write_file(directory / RESULTS_FILE, json.dumps(results, indent=2) + "\n")
    title = f"{results.get('family', '')} on {results.get('task', '')}"
    plot_budget_curve(results["exact_match"], directory / PLOT_FILE, title)
    print(format_table(results))
    print(f"results: {path}")
    return path


class ResultsWriter(L.Callback):
    """Writes `results.json` (test metrics per budget, with the machine and wall time) into the run directory;
    after a fit, with the "training" entry of `zoo.evaluation.training_cost` (counted on a copy of the model,
    torch's random state forked: the training and test numbers stay as they were)."""

    def __init__(self) -> None:
        self._started = time.monotonic()
        self._fit_seconds: float | None = None
        self._load: list[float] = []

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._started = time.monotonic()
        self._load = [os.getloadavg()[0]]

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._fit_seconds = time.monotonic() - self._started
        self._load.append(os.getloadavg()[0])

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        directory = Path(trainer.log_dir or trainer.default_root_dir)  # a collective under DDP: every rank asks
        if not trainer.is_global_zero or not getattr(pl_module, "test_results", None):
            return
        results = {
            "family": type(pl_module).__name__,
            "task": pl_module.task.spec(),
            **pl_module.test_results,
            "global_step": trainer.global_step,
            "fit_seconds": None if self._fit_seconds is None else round(self._fit_seconds, 1),
            # The one-minute load average as the fit began and ended: near the process's own thread count at the
            # end when it ran alone, higher when other work shared the machine (and the fit time with it).
            "load_average_fit_start_end": [round(load, 2) for load in self._load] if self._fit_seconds else None,
            "machine": describe_machine(),
        }
        record = run_record(trainer) if self._fit_seconds is not None else None
        if record is not None:
            results["training"] = record.entry(pl_module)
        write_results(results, directory)


class PredictionsWriter(L.Callback):
    """`zoo predict` writes what it predicted: one line per puzzle, `PUZZLE<TAB>ANSWER<TAB>verified|wrong`, both
    in the task's text form, to `path` (default: predictions.txt in the run directory; with several processes
    each writes its own shard, predictions.rankN.txt). A `path` that exists is replaced only with `force`; it is
    checked under the output rule of `zoo.io.outputs` before any puzzle is thought about."""

    def __init__(self, path: str | None = None, force: bool = False) -> None:
        self.path = path
        self.force = force
        self._lines: list[str] = []

    def _given_path(self, trainer: L.Trainer) -> Path | None:
        if not self.path:
            return None
        path = outputs.expand(self.path, "--predictions.path")
        return path.with_suffix(f".rank{trainer.global_rank}{path.suffix}") if trainer.world_size > 1 else path

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        path = self._given_path(trainer) if stage == "predict" else None
        if path is not None:
            outputs.check_file(path, force=self.force, flag="--predictions.path")

    def on_predict_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._lines = []

    def on_predict_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int, **_: Any
    ) -> None:
        task = pl_module.task
        puzzles, answers = task.decode(outputs["inputs"].cpu()), task.decode(outputs["answers"].cpu())
        for puzzle, answer in zip(puzzles, answers):
            verdict = "verified" if task.verify(puzzle, answer) else "wrong"
            self._lines.append(f"{task.format(puzzle)}\t{task.format(answer)}\t{verdict}")

    def on_predict_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        directory = Path(trainer.log_dir or trainer.default_root_dir)  # a collective under DDP: every rank asks
        path = self._given_path(trainer)
        if path is None:
            path = directory / "predictions.txt"
            if trainer.world_size > 1:
                path = path.with_suffix(f".rank{trainer.global_rank}{path.suffix}")
        header = f"# puzzle\tanswer\tverdict; task {json.dumps(pl_module.task.spec())}\n"
        outputs.write_file(path, header + "".join(line + "\n" for line in self._lines))
        verified = sum(line.endswith("\tverified") for line in self._lines)
        print(f"predictions: {path} ({verified} of {len(self._lines)} answers verified)")
