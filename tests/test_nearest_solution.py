"""Training toward the nearest solution: the data carries every solution, the regime scores the closest one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import REPO, zoo_error
from tests.helpers import training_losses
from zoo import tasks
from zoo.data import TaskDataModule
from zoo.errors import ZooError
from zoo.models import RecursiveReasoner
from zoo.regimes import DeepSupervision, VariationalRecursion

QUEENS = {"name": "nqueens", "size": 8, "placed": 2, "min_solutions": 2}
MULTI_SUDOKU = {"name": "sudoku", "size": 4, "givens": 6, "unique": False}


@pytest.mark.parametrize("spec", [QUEENS, MULTI_SUDOKU])
def test_each_example_carries_every_solution_of_its_augmented_puzzle(spec: dict, tmp_path: Path) -> None:
    data = TaskDataModule(spec, train_count=12, val_count=0, test_count=0, augment_copies=4, seed=3, solutions=16)
    task = tasks.get(**spec)
    dataset = data.dataset("train")
    for index in range(len(dataset)):
        item = dataset[index]
        puzzle = task.decode(item["inputs"][None])[0]
        found = {tuple(s.reshape(-1)) for s in task.solutions(puzzle)}
        served = [tuple(board.reshape(-1)) for board in task.decode(item["solutions"])]
        assert served[0] == tuple(task.decode(item["targets"][None])[0].reshape(-1))  # the stored one first
        assert set(served) == found  # all of them (padding repeats the stored one), each valid for this copy


def test_the_set_is_cut_at_k_keeping_the_stored_solution(tmp_path: Path) -> None:
    data = TaskDataModule(QUEENS, train_count=4, val_count=0, test_count=0, seed=1, solutions=1)
    item = data.dataset("train")[0]
    assert item["solutions"].shape[0] == 1 and torch.equal(item["solutions"][0], item["targets"])


def test_nearest_loss_takes_the_closest_solution_and_counts_any_as_exact() -> None:
    solutions = torch.tensor([[[0, 1, 1]], [[1, 0, 1]]]).transpose(0, 1)  # [B=1, K=2, L=3]
    logits = torch.full((1, 3, 2), -5.0)
    logits[0, torch.arange(3), torch.tensor([1, 0, 1])] = 5.0  # confidently the second solution
    loss, exact = DeepSupervision.nearest_solution_loss(logits, solutions)
    stored = torch.nn.functional.cross_entropy(logits[0], solutions[0, 0])
    assert exact.tolist() == [True]
    assert loss < 0.01 < stored  # the stored (first) solution would have been penalised heavily


def test_a_blend_of_two_solutions_is_worse_than_committing_to_one() -> None:
    solutions = torch.tensor([[[0, 1], [1, 0]]])  # [1, 2, 2]
    blend = torch.zeros(1, 2, 2)  # 50/50 at every cell
    commit = torch.tensor([[[4.0, -4.0], [-4.0, 4.0]]])
    assert (
        DeepSupervision.nearest_solution_loss(commit, solutions)[0]
        < DeepSupervision.nearest_solution_loss(blend, solutions)[0]
    )


def test_nearest_training_steps_and_lowers_the_loss(tmp_path: Path) -> None:
    torch.manual_seed(0)
    data = TaskDataModule(MULTI_SUDOKU, train_count=64, val_count=0, test_count=0, batch_size=32, solutions=8)
    regime = DeepSupervision(max_steps=2, target="nearest")
    model = RecursiveReasoner(MULTI_SUDOKU, regime, width=32, cycles=1, latent_updates=1, ema_decay=0)
    losses = training_losses(model, next(iter(data.train_dataloader())))
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:5])


def test_nearest_without_the_solutions_in_the_batch_says_which_data_setting_to_set(tmp_path: Path) -> None:
    data = TaskDataModule(MULTI_SUDOKU, train_count=8, val_count=0, test_count=0, batch_size=8)
    model = RecursiveReasoner(MULTI_SUDOKU, DeepSupervision(target="nearest"), width=16)
    model.log = lambda *args, **kwargs: None
    with pytest.raises(ZooError, match="data.solutions"):
        model.training_step(next(iter(data.train_dataloader())), 0)


def test_unknown_targets_and_nearest_under_the_variational_regime_are_refused() -> None:
    with pytest.raises(ZooError, match="stored, nearest"):
        DeepSupervision(target="closest")
    with pytest.raises(ZooError, match="DeepSupervision only"):
        VariationalRecursion(target="nearest")


def test_the_nearest_recipes_differ_from_their_baselines_only_in_the_target() -> None:
    for setting in ("nqueens8", "sudoku4-multi"):
        base = (REPO / f"recipes/trm/{setting}-deep-supervision.yaml").read_text()
        fair = (REPO / f"recipes/trm/{setting}-nearest-solution.yaml").read_text()
        body = [line for line in fair.splitlines() if not line.startswith("#")]
        expected = [line for line in base.splitlines() if not line.startswith("#")]
        added = [line.strip() for line in body if line not in expected]
        assert sorted(added) == sorted(
            ["target: nearest", "solutions: 16", f"default_root_dir: runs/trm-{setting}-nearest"]
        )


def test_a_damaged_target_in_a_recipe_is_one_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    recipe = REPO / "recipes/trm/sudoku4-multi-nearest-solution.yaml"
    message = zoo_error(capsys, "fit", "-c", str(recipe), "--model.init_args.regime.init_args.target", "closest")
    assert "target must be one of stored, nearest" in message
