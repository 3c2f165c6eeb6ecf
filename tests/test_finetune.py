"""Fine-tuning: `init_from` starts a recipe's model from a folder, repo id or .ckpt (live and EMA weights,
optimiser fresh), accepts harder puzzles of the same board, and refuses another family, board or size."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from tests.conftest import REPO, TINY, zoo_error
from tests.helpers import assert_same_predictions, build, write_checkpoint
from zoo import hub
from zoo.checkpoints import load_checkpoint
from zoo.cli import main
from zoo.errors import ZooError
from zoo.models import RecursiveReasoner
from zoo.regimes import DeepSupervision

QUICKSTART = str(REPO / "recipes" / "quickstart.yaml")
FINETUNE = str(REPO / "recipes" / "finetune" / "quickstart-harder.yaml")
SMALL = ["--model.init_args.width", "16", "--model.init_args.expansion", "1.0"]


pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models run fastest on one thread


def fresh(task: dict, seed: int = 1, **sizes) -> RecursiveReasoner:
    """What a recipe builds: the same family and sizes as `build("recursive")`, its own random weights."""
    torch.manual_seed(seed)
    return RecursiveReasoner(task, DeepSupervision(max_steps=2), **{**RecursiveReasoner.tiny_settings, **sizes})


@pytest.mark.parametrize("source_kind", ["folder", "checkpoint"])
def test_init_from_loads_the_evaluation_weights_into_live_and_ema(source_kind: str, tmp_path: Path) -> None:
    source = build("recursive")  # its EMA differs from its live weights
    path = (
        hub.save(source, tmp_path / "model")
        if source_kind == "folder"
        else write_checkpoint(source, tmp_path / "last.ckpt")
    )
    harder = {"name": "sudoku", "size": 4, "givens": 6}  # same board, fewer givens
    model = fresh(harder)
    hub.init_from(model, path)
    ema = source.ema_model.state_dict()
    for weights in (model.model.state_dict(), model.ema_model.state_dict()):
        assert all(torch.equal(weights[k], ema[k]) for k in ema)
    assert model.task.spec()["givens"] == 6  # the recipe's task, not the source's
    assert_same_predictions(source, model.eval())


def test_init_from_refuses_another_family_board_or_size(tmp_path: Path) -> None:
    energy = hub.save(build("energy"), tmp_path / "energy")
    with pytest.raises(ZooError, match="holds an EnergyTransformer model, but a RecursiveReasoner is expected"):
        hub.init_from(fresh({"name": "sudoku", "size": 4}), energy)
    recursive = hub.save(build("recursive"), tmp_path / "recursive")
    with pytest.raises(ZooError, match="trained on task .*'size': 4.*cannot read .*'size': 6.*only difficulty options"):
        hub.init_from(fresh({"name": "sudoku", "size": 6}), recursive)
    with pytest.raises(
        hub.HubError, match="do not fit the recipe's RecursiveReasoner: width: 16 in .*, 24 in the recipe"
    ):
        hub.init_from(fresh({"name": "sudoku", "size": 4}, width=24), recursive)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A quick-start model as small as it gets, trained one step by `zoo fit` and exported by `zoo export`."""
    root = tmp_path_factory.mktemp("quickstart")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZOO_CACHE", str(tmp_path_factory.getbasetemp() / "zoo-cache"))
        main(
            [
                "fit",
                "-c",
                QUICKSTART,
                *TINY,
                *SMALL,
                "--trainer.max_steps",
                "1",
                "--trainer.val_check_interval",
                "1",
                "--trainer.logger",
                "false",
                "--trainer.default_root_dir",
                str(root / "run"),
            ]
        )
        main(["export", str(root / "run" / "checkpoints" / "last.ckpt"), str(root / "model")])
    return root / "model"


def test_finetune_recipe_starts_from_the_exported_weights(exported: Path, tmp_path: Path) -> None:
    # lr 0: one optimiser step moves nothing, so the fine-tuned checkpoint must hold the exported weights.
    main(
        [
            "fit",
            "-c",
            FINETUNE,
            *TINY,
            *SMALL,
            "--init_from",
            str(exported),
            "--model.init_args.lr",
            "0",
            "--trainer.max_steps",
            "1",
            "--trainer.val_check_interval",
            "1",
            "--trainer.logger",
            "false",
            "--trainer.default_root_dir",
            str(tmp_path),
        ]
    )
    checkpoint_path = tmp_path / "checkpoints" / "last.ckpt"
    tuned = load_checkpoint(checkpoint_path)
    assert tuned.task.spec()["givens"] == 9  # the recipe's harder puzzles
    source = hub.load(exported)
    weights = source.model.state_dict()
    for module in (tuned.model, tuned.ema_model):
        assert all(torch.equal(module.state_dict()[k], weights[k]) for k in weights)
    # The optimiser was fresh: its state has seen exactly this run's one step.
    state = torch.load(checkpoint_path, weights_only=True)["optimizer_states"][0]["state"]
    assert {int(s["step"]) for s in state.values()} == {1}


def test_finetune_recipe_refuses_a_model_of_another_board(
    exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    printed = zoo_error(
        capsys,
        "fit",
        "-c",
        FINETUNE,
        *TINY,
        *SMALL,
        "--init_from",
        str(exported),
        "--data.task.size",
        "4",
        "--data.task.givens",
        "8",
        "--trainer.fast_dev_run",
        "1",
        "--trainer.default_root_dir",
        str(tmp_path),
    )
    assert re.search("init_from .* was trained on task .*'size': 6.*'size': 4", printed), printed
    assert "(given as --init_from)" in printed


FINETUNE_RECIPES = sorted((REPO / "recipes" / "finetune").glob("*.yaml"))


@pytest.mark.parametrize("recipe", FINETUNE_RECIPES, ids=lambda path: path.stem)
def test_every_finetune_recipe_starts_from_its_catalog_model(recipe: Path, tmp_path: Path) -> None:
    import yaml

    from zoo.hub import catalog

    name = yaml.safe_load(recipe.read_text())["init_from"]
    assert catalog.find(name) is not None, f"{recipe.name} starts from {name!r}, which is not in the catalog"
    # lr 0: the one optimiser step moves nothing, so the run's weights must be the catalog model's.
    main(
        ["fit", "-c", str(recipe), *TINY, "--model.init_args.lr", "0", "--trainer.max_steps", "1",
         "--trainer.val_check_interval", "1", "--trainer.logger", "false", "--trainer.default_root_dir", str(tmp_path),
         "--model.init_args.eval_budgets", "[1]"]
    )  # fmt: skip
    tuned = load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")
    weights = hub.load(name).model.state_dict()
    assert all(torch.equal(tuned.model.state_dict()[key], weights[key]) for key in weights)
