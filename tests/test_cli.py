"""The `zoo` command: every recipe parses and runs a step; configs compose; errors say what to do."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

from tests.conftest import RECIPES, REPO, TINY, zoo_error
from zoo.cli import main

QUICKSTART = REPO / "recipes" / "quickstart.yaml"
# One short budget and one with samples: the smoke run checks that each recipe trains, validates and tests,
# not how far a GPU-scale model can think on the CPU.
SMALL_BUDGETS = ["--model.init_args.eval_budgets", "[1, 2x2]"]
FEW_PUZZLES = [
    *("--data.train_count", "8", "--data.val_count", "2", "--data.test_count", "2"),
    *("--data.batch_size", "4", "--data.eval_batch_size", "2"),
]
# A 30x30 maze's sequence is about 5,800 tokens: one of them is enough to take a step of its width-256 decoder,
# and an RL step's two writings need not run to the 4,608 tokens an untrained decoder would fill.
ONE_SEQUENCE = ["--data.batch_size", "1", "--data.eval_batch_size", "1"]
SHORTER = {
    "trace/maze30-correct-gpu.yaml": ONE_SEQUENCE,
    "trace/maze30-grpo-gpu.yaml": [
        *ONE_SEQUENCE,
        *("--model.init_args.regime.init_args.samples", "2", "--model.init_args.regime.init_args.max_tokens", "16"),
        *("--model.init_args.val_budgets", "[1]"),
    ],
}


def run_zoo(*words: str) -> None:
    main(list(words))


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: str(p.relative_to(REPO / "recipes")))
def test_every_recipe_parses(recipe: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_zoo("fit", "-c", str(recipe), "--print_config")
    assert exit_info.value.code in (0, None)
    printed = capsys.readouterr().out
    assert "class_path: zoo.models." in printed
    assert "task:" in printed


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: str(p.relative_to(REPO / "recipes")))
def test_every_recipe_runs_one_step(recipe: Path, tmp_path: Path) -> None:
    # Fine-tuning recipes name a model to start from (init_from); here they start from scratch.
    # tests/test_finetune.py runs them from a real exported model. The GPU recipes' models keep their size, so
    # the puzzles are few: generating 9x9 ones and thinking with a width-512 model on the CPU take the time.
    run_zoo(
        "fit",
        "-c",
        str(recipe),
        *TINY,
        *FEW_PUZZLES,
        "--trainer.fast_dev_run",
        "1",
        "--trainer.default_root_dir",
        str(tmp_path),
        "--init_from",
        "null",
        *SMALL_BUDGETS,
        *SHORTER.get(str(recipe.relative_to(REPO / "recipes")), []),
    )


def test_fit_writes_results_json_per_budget(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_zoo(
        "fit",
        "-c",
        str(QUICKSTART),
        *TINY,
        "--trainer.max_steps",
        "4",
        "--trainer.default_root_dir",
        str(tmp_path),
        "--trainer.logger",
        "false",
    )
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results["exact_match"]) == {"1", "2", "4", "8", "16"}
    assert all(0.0 <= rate <= 1.0 for rate in results["exact_match"].values())
    assert results["task"] == {"name": "sudoku", "size": 6, "givens": 10, "unique": True}
    assert results["fit_seconds"] > 0
    load = results["load_average_fit_start_end"]  # says whether the fit time was taken alone on the machine
    assert len(load) == 2 and all(value >= 0 for value in load)
    assert (tmp_path / "budget_curve.png").stat().st_size > 0
    assert f"results: {tmp_path / 'results.json'}" in capsys.readouterr().out


def test_config_files_compose_and_interpolate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    override = tmp_path / "override.yaml"
    override.write_text(
        "data:\n  batch_size: 24\n  eval_batch_size: ${data.batch_size}\nmodel:\n  init_args:\n    width: 48\n"
    )
    with pytest.raises(SystemExit):
        run_zoo("fit", "-c", str(QUICKSTART), "-c", str(override), "--print_config")
    printed = capsys.readouterr().out
    assert "batch_size: 24" in printed and "eval_batch_size: 24" in printed
    assert "width: 48" in printed
    assert "latent_updates: 2" in printed  # the first file still counts


def test_missing_recipe_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert "recipe file not found: recipes/no-such-recipe.yaml" in zoo_error(
        capsys, "fit", "-c", "recipes/no-such-recipe.yaml"
    )


def test_unknown_key_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = tmp_path / "typo.yaml"
    recipe.write_text(QUICKSTART.read_text().replace("latent_updates: 2", "latent_updatez: 2"))
    assert "latent_updatez" in zoo_error(capsys, "fit", "-c", str(recipe), "--print_config")


def test_checkpoint_of_another_task_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_zoo(
        "fit",
        "-c",
        str(QUICKSTART),
        *TINY,
        "--trainer.max_steps",
        "1",
        "--trainer.val_check_interval",
        "1",
        "--trainer.logger",
        "false",
        "--trainer.default_root_dir",
        str(tmp_path / "a"),
        "--data.task.size",
        "4",
        "--data.task.givens",
        "8",
    )
    checkpoint = next((tmp_path / "a").rglob("*.ckpt"))
    printed = zoo_error(
        capsys,
        "fit",
        "-c",
        str(QUICKSTART),
        *TINY,
        "--trainer.max_steps",
        "2",
        "--trainer.logger",
        "false",
        "--trainer.default_root_dir",
        str(tmp_path / "b"),
        "--ckpt_path",
        str(checkpoint),
    )
    assert re.search(r"trained on task .*'size': 4.*set data.task to match", printed), printed
    assert "(given as --ckpt_path)" in printed


def test_checkpoint_of_another_family_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_zoo(
        "fit",
        "-c",
        str(QUICKSTART),
        *TINY,
        "--trainer.max_steps",
        "1",
        "--trainer.val_check_interval",
        "1",
        "--trainer.logger",
        "false",
        "--trainer.default_root_dir",
        str(tmp_path / "a"),
    )
    checkpoint_path = next((tmp_path / "a").rglob("*.ckpt"))
    checkpoint = torch.load(checkpoint_path, weights_only=True)
    checkpoint["zoo"]["family"] = "EnergyTransformer"
    torch.save(checkpoint, checkpoint_path)
    printed = zoo_error(
        capsys,
        "fit",
        "-c",
        str(QUICKSTART),
        *TINY,
        "--trainer.max_steps",
        "2",
        "--trainer.logger",
        "false",
        "--trainer.default_root_dir",
        str(tmp_path / "b"),
        "--ckpt_path",
        str(checkpoint_path),
    )
    assert re.search(
        "holds an EnergyTransformer model, but a RecursiveReasoner is expected here.*same family", printed
    ), printed


def test_help_lists_every_verb(capsys: pytest.CaptureFixture[str]) -> None:
    from zoo.cli import LIGHTNING_VERBS, VERBS, ZOO_VERBS

    assert set(VERBS) == {*LIGHTNING_VERBS, *ZOO_VERBS}
    with pytest.raises(SystemExit) as done:
        run_zoo("--help")
    printed = capsys.readouterr().out
    assert done.value.code == 0 and "Lightning Trainer" not in printed
    for verb, what in VERBS.items():
        assert f"  {verb:<9} {what}" in printed
