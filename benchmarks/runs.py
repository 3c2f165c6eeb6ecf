"""Shared plumbing of the studies: train an arm through `zoo fit`, measure it with `zoo eval`."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from zoo.checkpoints import load_checkpoint
from zoo.io.files import write_text


def arm_list(known: Iterable[str]) -> Callable[[str], list[str]]:
    """argparse type: a comma list of arm names, each one of `known`."""
    names = list(known)

    def parse(text: str) -> list[str]:
        arms = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in arms if name not in names]
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown arm(s) {', '.join(unknown)}; the arms are {', '.join(names)}")
        return arms

    return parse


def zoo(*words: str) -> None:
    """Run the `zoo` command in a fresh process, echoing it."""
    print("$ zoo " + " ".join(words), flush=True)
    subprocess.run([sys.executable, "-m", "zoo.cli", *words], check=True, stdout=subprocess.DEVNULL)


def train(name: str, recipe: str, overrides: list[str], root: Path, logged: bool = False) -> tuple[Path, float]:
    """`zoo fit` one arm into root/name, unless a finished run is there already (then it is reused); returns
    its last checkpoint and the training wall time `zoo fit` recorded in its results.json. `logged` keeps the
    training curves (Lightning's CSV logger: lightning_logs/version_0/metrics.csv, beside the checkpoints)."""
    run_dir = root / name
    if not fitted(run_dir):
        zoo(
            "fit",
            "-c",
            recipe,
            *overrides,
            "--trainer.default_root_dir",
            str(run_dir),
            "--trainer.logger",
            "true" if logged else "false",
            "--trainer.enable_progress_bar",
            "false",
        )
    results = max(fitted(run_dir), key=lambda path: path.stat().st_mtime)
    return results.parent / "checkpoints" / "last.ckpt", json.loads(results.read_text())["fit_seconds"]


def fitted(run_dir: Path) -> list[Path]:
    """The results.json files `zoo fit` wrote under run_dir: beside their checkpoints (not a later `zoo eval`'s)."""
    return [path for path in run_dir.rglob("results.json") if (path.parent / "checkpoints").is_dir()]


def measure(checkpoint: Path | str, budgets: str, count: int, out: Path, *extra: str) -> dict:
    """`zoo eval` a checkpoint (or a catalog name); returns its results.json."""
    zoo("eval", str(checkpoint), "--budgets", budgets, "--count", str(count), "--out", str(out), *extra)
    return json.loads((out / "results.json").read_text())


def parameters(checkpoint: Path) -> int:
    return sum(p.numel() for p in load_checkpoint(checkpoint).model.parameters())


def load_study(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {"arms": {}}


def save_study(study: dict, path: Path) -> None:
    """Write a study's JSON whole (a reader never sees half a file, a kill leaves the old one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(study, indent=2) + "\n")
