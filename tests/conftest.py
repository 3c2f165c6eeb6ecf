"""Shared fixtures: an isolated data cache, and a tiny recipe for fast end-to-end runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

# The Triton interpreter must be on before anything imports triton (Lightning does), so that kernel tests
# and kernel-vs-reference checks can run on the CPU in this same process. Dispatch stays on the reference
# for CPU tensors unless a test forces Triton.
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

REPO = Path(__file__).resolve().parents[1]
RECIPES = sorted((REPO / "recipes").rglob("*.yaml"))
QUICKSTART_RECIPE = str(REPO / "recipes" / "quickstart.yaml")

# Overrides that shrink any recipe to a seconds-long CPU run without changing what it builds.
TINY = [
    "--trainer.accelerator",
    "cpu",
    "--trainer.devices",
    "1",
    "--trainer.precision",
    "32-true",
    "--trainer.enable_progress_bar",
    "false",
    "--trainer.enable_model_summary",
    "false",
    "--data.train_count",
    "32",
    "--data.val_count",
    "8",
    "--data.test_count",
    "8",
    "--data.batch_size",
    "8",
    "--data.eval_batch_size",
    "8",
    "--data.num_workers",
    "0",
]


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Generated puzzles go to one temporary cache per test session, never to the user's home."""
    cache = tmp_path_factory.getbasetemp() / "zoo-cache"
    monkeypatch.setenv("ZOO_CACHE", str(cache))
    return cache


def zoo_error(capsys: pytest.CaptureFixture[str], *words: str) -> str:
    """Run `zoo WORDS` expecting a user error: exit status 2 and no traceback. Returns what it printed on stderr."""
    from zoo.cli import main

    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(list(words))
    printed = _without_logging_errors(capsys.readouterr().err)
    assert exit_info.value.code == 2, printed
    assert "Traceback" not in printed, printed
    return printed


def _without_logging_errors(text: str) -> str:
    """stderr without the '--- Logging error ---' reports of a logging handler that an earlier test's captured
    stream left behind (a test artefact: Lightning binds its handler to the stream of the first test that logs)."""
    kept, skipping = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith("--- Logging error ---"):
            skipping = True
        elif skipping and line.startswith("Arguments:"):
            skipping = False
        elif not skipping:
            kept.append(line)
    return "".join(kept)
