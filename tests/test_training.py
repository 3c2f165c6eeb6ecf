"""End-to-end training behaviour: the loss falls, a seed fixes the numbers, eval reports per budget."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

from tests.conftest import REPO, TINY, zoo_error
from tests.helpers import training_losses
from zoo.checkpoints import load_checkpoint
from zoo.cli import main

QUICKSTART = str(REPO / "recipes" / "quickstart.yaml")
SMALL_MODEL = ["--model.init_args.width", "32", "--model.init_args.expansion", "1.0"]


def fit(root: Path, *extra: str) -> dict:
    main(
        [
            "fit",
            "-c",
            QUICKSTART,
            *TINY,
            *SMALL_MODEL,
            "--trainer.default_root_dir",
            str(root),
            "--trainer.logger",
            "false",
            "--trainer.val_check_interval",
            "10",
            *extra,
        ]
    )
    return json.loads((root / "results.json").read_text())


def test_short_training_lowers_the_loss(tmp_path: Path) -> None:
    from zoo.data import TaskDataModule
    from zoo.models import RecursiveReasoner
    from zoo.regimes import DeepSupervision

    torch.manual_seed(0)
    task = {"name": "sudoku", "size": 4, "givens": 8}
    data = TaskDataModule(task, train_count=64, val_count=0, test_count=0, batch_size=32)
    model = RecursiveReasoner(task, DeepSupervision(max_steps=2), width=32, cycles=1, latent_updates=1, ema_decay=0)
    losses = training_losses(model, next(iter(data.train_dataloader())))
    assert sum(losses[-5:]) / 5 < 0.6 * sum(losses[:5]) / 5


def test_same_seed_same_numbers(tmp_path: Path) -> None:
    first = fit(tmp_path / "a", "--trainer.max_steps", "12")
    second = fit(tmp_path / "b", "--trainer.max_steps", "12")
    fit(tmp_path / "c", "--trainer.max_steps", "12", "--seed_everything", "1")
    assert first["exact_match"] == second["exact_match"]
    assert first["cell_accuracy_at_largest_budget"] == second["cell_accuracy_at_largest_budget"]
    weights_a = load_checkpoint(next((tmp_path / "a").rglob("*.ckpt"))).state_dict()
    weights_b = load_checkpoint(next((tmp_path / "b").rglob("*.ckpt"))).state_dict()
    weights_c = load_checkpoint(next((tmp_path / "c").rglob("*.ckpt"))).state_dict()
    assert all(torch.equal(weights_a[k], weights_b[k]) for k in weights_a)
    assert not all(torch.equal(weights_a[k], weights_c[k]) for k in weights_a)


def test_eval_reports_each_budget_next_to_the_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fit(tmp_path, "--trainer.max_steps", "10")
    checkpoint = next(tmp_path.rglob("*.ckpt"))
    main(["eval", str(checkpoint), "--budgets", "1,3", "--count", "16", "--task.givens", "12"])
    results = json.loads((checkpoint.parent / "results.json").read_text())
    assert list(results["exact_match"]) == ["1", "3"]
    assert results["task"]["givens"] == 12 and results["puzzles"] == 16
    assert (checkpoint.parent / "budget_curve.png").stat().st_size > 0
    table = capsys.readouterr().out
    assert "budget" in table and "exact match" in table


def test_eval_refuses_another_board_size_and_missing_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fit(tmp_path, "--trainer.max_steps", "10")
    checkpoint = str(next(tmp_path.rglob("*.ckpt")))
    printed = zoo_error(capsys, "eval", checkpoint, "--task.size", "9", "--task.givens", "30")
    assert re.search("cannot read .*override difficulty options only", printed)
    assert re.search("no folder or file at .*zoo fit", zoo_error(capsys, "eval", str(tmp_path / "missing.ckpt")))
    assert "bad budget" in zoo_error(capsys, "eval", checkpoint, "--budgets", "1,two")


class Payload:
    """Any class: unpickling it would import and run code from the file's say-so."""


def test_eval_refuses_pickled_objects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "evil.ckpt"
    torch.save({"zoo": {"family": "x"}, "payload": Payload()}, bad)
    assert "never unpickles code" in zoo_error(capsys, "eval", str(bad))


def test_validation_measures_its_own_budgets_and_test_every_one(tmp_path: Path) -> None:
    """`val_budgets` keeps an expensive budget (many samples, a long descent) out of the validation runs
    inside fit; the final test still measures every `eval_budgets` entry, and the setting is saved."""
    main(
        [
            "fit",
            "-c",
            QUICKSTART,
            *TINY,
            *SMALL_MODEL,
            "--trainer.default_root_dir",
            str(tmp_path),
            "--trainer.val_check_interval",
            "5",
            "--trainer.max_steps",
            "10",
            "--model.init_args.eval_budgets",
            "[1, 2, 4]",
            "--model.init_args.val_budgets",
            "[2]",
            "--trainer.logger",
            "lightning.pytorch.loggers.CSVLogger",
            "--trainer.logger.save_dir",
            str(tmp_path),
        ]
    )
    results = json.loads(next(tmp_path.rglob("results.json")).read_text())
    assert set(results["exact_match"]) == {"1", "2", "4"}
    logged = next(tmp_path.rglob("metrics.csv")).read_text().splitlines()[0].split(",")
    assert "val/exact@2" in logged
    assert not {"val/exact@1", "val/exact@4"} & set(logged)
    model = load_checkpoint(next(tmp_path.rglob("*.ckpt")))
    assert [b.label for b in model.val_budgets] == ["2"]


def test_validating_during_a_fit_leaves_a_sampling_familys_training_alone(tmp_path: Path) -> None:
    """How often a run validates must not change what it learns: validation must not draw from the stream
    a sampling family's training draws its noise from (the eval loaders once took their worker seed there)."""
    recipe = str(REPO / "recipes" / "gram" / "sudoku4-multi-variational.yaml")
    few = [*("--data.train_count", "16", "--data.val_count", "2", "--data.test_count", "2")]
    few += [*("--data.batch_size", "4", "--data.eval_batch_size", "2")]
    budgets = ["--model.init_args.eval_budgets", "[2x2]", "--model.init_args.val_budgets", "[2x2]"]
    for name, every in (("twice", "2"), ("at-the-end", "4")):
        main(
            ["fit", "-c", recipe, *TINY, *few, *budgets, "--trainer.max_steps", "4"]
            + ["--trainer.val_check_interval", every, "--trainer.default_root_dir", str(tmp_path / name)]
            + ["--trainer.logger", "false"]
        )
    twice = load_checkpoint(tmp_path / "twice" / "checkpoints" / "last.ckpt").state_dict()
    at_the_end = load_checkpoint(tmp_path / "at-the-end" / "checkpoints" / "last.ckpt").state_dict()
    assert all(torch.equal(twice[k], at_the_end[k]) for k in twice)
