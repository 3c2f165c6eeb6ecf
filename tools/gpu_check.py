"""Short runs of every GPU-scale recipe on CUDA, counting the fused-kernel launches each family makes.

    python -m tools.gpu_check --out /tmp/gpu-check       # on a machine with a CUDA GPU

For each recipe named ``*-gpu.yaml`` (and TRM's 9×9 Sudoku recipe) the check trains a few hundred
steps on a small generated split, tests on a small test split at every budget of the recipe, and
records: wall time, steps reached, steps per second, the test exact match per budget, and how many
times each fused Triton launcher ran (forward and backward). A family whose recipe uses a fused op
but never launches its kernel on CUDA fails the check. ``recipes.json`` under ``--out`` holds it all.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent

# recipe -> fused ops it must launch on CUDA (module names in triton_kernels)
RECIPES = {
    "recipes/ebt/sudoku9-energy-descent-gpu.yaml": {"simplex_descent", "noisy_softmax"},
    "recipes/gram/nqueens10-variational-gpu.yaml": {"gaussian_latent"},
    "recipes/trm/sudoku9-deep-supervision.yaml": set(),
    "recipes/trace/maze30-correct-gpu.yaml": set(),
    "recipes/trace/maze30-grpo-gpu.yaml": {"token_entropy"},
}
# Writing 4,608 tokens per maze at every test budget would take the check's whole time: the trace recipes
# write 512, and RL starts from the untrained decoder (its init_from is a run of the SFT recipe).
SHORTER_WRITING = ["--model.init_args.eval_budgets", "[512]", "--model.init_args.val_budgets", "[512]"]
EXTRA = {
    "recipes/trace/maze30-correct-gpu.yaml": SHORTER_WRITING,
    "recipes/trace/maze30-grpo-gpu.yaml": [
        *SHORTER_WRITING,
        *("--init_from", "null", "--model.init_args.regime.init_args.max_tokens", "512"),
    ],
}
# the package exports each op's function under its module's name, so the modules come from importlib
KERNEL_MODULES = {
    name: importlib.import_module(f"triton_kernels.{name}")
    for name in ("gaussian_latent", "langevin", "noisy_softmax", "simplex_descent", "token_entropy")
}


def count_launches(counts: Counter) -> None:
    """Wrap every module's ``_launch_fwd``/``_launch_bwd`` so each call is counted under ``module.fwd|bwd``."""
    for name, module in KERNEL_MODULES.items():
        for kind in ("fwd", "bwd"):
            attr = f"_launch_{kind}"
            original = getattr(module, attr)

            def counted(*args, _original=original, _key=f"{name}.{kind}", **kwargs):
                counts[_key] += 1
                return _original(*args, **kwargs)

            setattr(module, attr, counted)


def short_run(recipe: str, root: Path, max_steps: int, max_seconds: int, train_count: int) -> list[str]:
    """Command-line words for a short fit of ``recipe`` under ``root``."""
    return [
        "fit",
        "-c",
        str(REPO / recipe),
        "--trainer.max_steps",
        str(max_steps),
        "--trainer.max_time",
        f"00:00:{max_seconds // 60:02d}:{max_seconds % 60:02d}",
        "--trainer.val_check_interval",
        str(max_steps),
        "--trainer.default_root_dir",
        str(root),
        "--data.train_count",
        str(train_count),
        "--data.val_count",
        "64",
        "--data.test_count",
        "256",
        "--data.augment_copies",
        "4",
        "--model.init_args.warmup_steps",
        "50",
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for recipes.json and the runs")
    parser.add_argument("--max-steps", type=int, default=300)
    parser.add_argument("--max-seconds", type=int, default=75, help="training time cap per recipe")
    parser.add_argument("--train-count", type=int, default=1024)
    return parser


def main(argv: list[str] | None = None) -> dict:
    args = build_parser().parse_args(argv)
    if not torch.cuda.is_available():
        raise SystemExit("tools.gpu_check needs a CUDA device")

    from zoo.cli import main as zoo

    counts: Counter = Counter()
    count_launches(counts)
    report = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "recipes": {}}
    for recipe, must_launch in RECIPES.items():
        root = args.out / "runs" / Path(recipe).stem
        counts.clear()
        torch.cuda.reset_peak_memory_stats()
        words = [*short_run(recipe, root, args.max_steps, args.max_seconds, args.train_count), *EXTRA.get(recipe, [])]
        entry: dict = {"command": "zoo " + " ".join(words)}
        start = time.perf_counter()
        try:
            zoo(words)
            entry["ok"] = True
        except BaseException as exc:  # SystemExit from the CLI included: record it, go on
            entry["ok"] = isinstance(exc, SystemExit) and exc.code in (0, None)
            entry["error"] = traceback.format_exc()[-3000:]
        entry["wall_s"] = round(time.perf_counter() - start, 1)
        entry["peak_gpu_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
        entry["launches"] = dict(counts)
        missing = sorted(op for op in must_launch if counts[f"{op}.fwd"] == 0)
        entry["fused_ops_never_launched"] = missing
        results = sorted(root.rglob("results.json"))
        if results:
            entry["results"] = json.loads(results[-1].read_text())
        entry["ok"] = entry["ok"] and not missing and bool(results)
        report["recipes"][recipe] = entry
        print(json.dumps({recipe: {k: v for k, v in entry.items() if k != "results"}}, indent=1), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "recipes.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    report = main()
    sys.exit(0 if all(entry["ok"] for entry in report["recipes"].values()) else 1)
