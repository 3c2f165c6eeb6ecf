"""Large but valid evaluations: refused up front when they would not fit in memory (saying what they need and
what is free), shown with a progress bar, and interruptible without a traceback or half-written results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import zoo_error
from tests.helpers import build, write_checkpoint
from zoo.cli import main
from zoo.evaluation import evaluate, sizing
from zoo.evaluation.budget import Budget
from zoo.evaluation.resources import Available


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    return write_checkpoint(build("generative"), tmp_path / "run" / "last.ckpt")


def test_an_evaluation_that_would_not_fit_is_refused_with_its_size(
    checkpoint: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sizing, "available_memory", lambda device: Available(2**30, "free RAM"))  # 1 GiB free
    printed = zoo_error(capsys, "eval", str(checkpoint), "--budgets", "2000x64", "--count", "256")
    assert "budget 2000x64 needs about" in printed and "1.0 GiB is free" in printed
    assert "lower --batch-size to" in printed
    monkeypatch.setattr(sizing, "available_memory", lambda device: Available(2**16, "free RAM"))
    printed = zoo_error(capsys, "eval", str(checkpoint), "--budgets", "64x8", "--count", "4")
    assert "lower the budget" in printed  # not even one puzzle at a time fits
    assert not (checkpoint.parent / "results.json").exists()


def test_the_estimate_grows_with_what_thinking_keeps() -> None:
    model = build("generative")
    small = model.thinking_memory(8, Budget(4, 2))
    assert model.thinking_memory(16, Budget(4, 2)) == 2 * small
    assert model.thinking_memory(8, Budget(4, 4)) > small
    assert model.thinking_memory(8, Budget(40, 2)) > small
    assert build("energy").thinking_memory(8, Budget(4, 4)) > build("energy").thinking_memory(8, Budget(4, 2))
    deterministic = build("recursive")  # its N samples are N copies of one answer: they cost nothing
    assert deterministic.thinking_memory(8, Budget(4, 64)) == deterministic.thinking_memory(8, Budget(4, 1))


def test_a_large_evaluation_shows_progress(
    checkpoint: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(evaluate, "_PROGRESS_FROM", 1)  # everything counts as large
    main(["eval", str(checkpoint), "--budgets", "1,2", "--count", "6", "--batch-size", "2"])
    printed = capsys.readouterr().err
    assert "evaluating" in printed and "3/3" in printed  # three batches of two puzzles


def test_an_interrupted_evaluation_writes_nothing(
    checkpoint: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from zoo.models import GenerativeRecursiveReasoner

    calls = []

    def interrupted(self, inputs, budgets):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, inputs, budgets)

    original = GenerativeRecursiveReasoner.evaluate_budgets
    monkeypatch.setattr(GenerativeRecursiveReasoner, "evaluate_budgets", interrupted)
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", str(checkpoint), "--budgets", "1", "--count", "6", "--batch-size", "2"])
    printed = capsys.readouterr().err
    assert exit_info.value.code == 130 and "interrupted" in printed and "Traceback" not in printed
    assert not (checkpoint.parent / "results.json").exists()
    monkeypatch.setattr(GenerativeRecursiveReasoner, "evaluate_budgets", original)
    main(["eval", str(checkpoint), "--budgets", "1", "--count", "6", "--batch-size", "2"])
    assert json.loads((checkpoint.parent / "results.json").read_text())["puzzles"] == 6
