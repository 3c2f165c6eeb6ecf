"""`zoo eval` reads the test puzzles unless told `--split validation`, so settings can be chosen on puzzles that
the reported figures never share."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tests.helpers import build, write_checkpoint
from zoo.cli import main
from zoo.data import split_of
from zoo.errors import ZooError
from zoo.evaluation.budget import Budget
from zoo.evaluation.evaluate import evaluate


def evaluated_puzzles(split: str, count: int = 24) -> list[bytes]:
    """The puzzles `evaluate` thinks about on `split`, recorded as their invariants (all splits agree on them)."""
    model = build("recursive").eval()
    seen: list[torch.Tensor] = []
    original = model.evaluate_budgets

    def recording(inputs: torch.Tensor, budgets: list[Budget]):  # type: ignore[no-untyped-def]
        seen.append(inputs)
        return original(inputs, budgets)

    model.evaluate_budgets = recording
    evaluate(model, model.task, [Budget(2)], count, seed=0, batch_size=8, split=split)
    boards = model.task.decode(torch.cat(seen))
    assert len(boards) == count
    assert {split_of(model.task, board) for board in boards} == {"val" if split == "validation" else "test"}
    return [model.task.invariant(board) for board in boards]


def test_validation_and_test_puzzles_never_meet() -> None:
    assert not set(evaluated_puzzles("validation")) & set(evaluated_puzzles("test"))


def test_an_unknown_split_is_refused() -> None:
    model = build("recursive")
    with pytest.raises(ZooError, match="split must be one of test, validation, got 'train'"):
        evaluate(model, model.task, [Budget(1)], 4, seed=0, batch_size=4, split="train")


def test_zoo_eval_says_which_split_it_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checkpoint = write_checkpoint(build("recursive"), tmp_path / "model.ckpt")
    for split in ("validation", "test"):
        out = tmp_path / split
        main(["eval", str(checkpoint), "--split", split, "--count", "8", "--budgets", "1,2", "--out", str(out)])
        assert json.loads((out / "results.json").read_text())["split"] == split
        assert capsys.readouterr().out.startswith(f"8 {split} puzzles of ")
