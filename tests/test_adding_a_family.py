"""docs/adding-a-family.md works as written: its module registers a family that thinks, trains with
DeepSupervision, refuses a regime it cannot serve, exports and loads, and its recipe trains through `zoo fit`."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
import torch
import yaml

import zoo
from tests.conftest import REPO, TINY
from zoo import hub, registry
from zoo.cli import main
from zoo.data import TaskDataModule
from zoo.errors import ZooError
from zoo.evaluation.budget import Budget
from zoo.regimes import EnergyDescent

DOC = REPO / "docs" / "adding-a-family.md"


def block(first_line: str) -> str:
    """The fenced code block of the document that starts with `first_line`."""
    for body in re.findall(r"```\w*\n(.*?)```", DOC.read_text(), re.DOTALL):
        if body.startswith(first_line):
            return body
    raise AssertionError(f"no code block starting {first_line!r} in {DOC}")


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> type:
    """The document's module, imported from a scratch file, registered for this test only."""
    monkeypatch.setattr(registry, "_FAMILIES", dict(registry._FAMILIES))
    path = tmp_path / "toy_family.py"
    path.write_text(block("# zoo/models/toy.py"))
    spec = importlib.util.spec_from_file_location("toy_family", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "toy_family", module)
    spec.loader.exec_module(module)
    return module.ToyReasoner


TASK = {"name": "sudoku", "size": 4, "givens": 8}


def test_the_toy_family_thinks_trains_and_exports(toy: type, tmp_path: Path) -> None:
    assert "ToyReasoner" in registry.family_names()
    torch.manual_seed(0)
    model = toy(TASK, **toy.tiny_settings)
    batch = next(
        iter(TaskDataModule(TASK, train_count=32, val_count=0, test_count=0, batch_size=32).train_dataloader())
    )
    thought = model.eval().think(batch["inputs"], Budget(3))
    assert thought.trail.shape == (3, 32, 16) and thought.logits.shape == (32, 16, model.task.vocab_size)

    model.train()
    model.log = lambda *args, **kwargs: None  # no Trainer: the steps are driven by hand
    optimizer = torch.optim.AdamW(model.parameter_groups(), lr=3e-3)
    losses = []
    for step in range(40):
        loss = model.training_step(batch, step)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert sum(losses[-5:]) < sum(losses[:5])  # DeepSupervision trains it

    with pytest.raises(ZooError, match="ToyReasoner cannot be trained with EnergyDescent.*energy_descent"):
        toy(TASK, EnergyDescent())
    loaded = zoo.load(hub.save(model.eval(), tmp_path / "model"))
    assert type(loaded) is toy
    assert torch.equal(loaded.think(batch["inputs"], 3).trail, model.think(batch["inputs"], 3).trail)


def test_the_toy_recipe_trains_through_zoo_fit(toy: type, tmp_path: Path) -> None:
    recipe = yaml.safe_load(block("# recipes/toy/sudoku4-deep-supervision.yaml"))
    recipe["model"]["class_path"] = "ToyReasoner"  # the scratch module is not zoo.models; the name is registered
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(recipe))
    main(
        ["fit", "-c", str(path), *TINY, "--trainer.max_steps", "3", "--trainer.default_root_dir", str(tmp_path / "run")]
    )
    results = yaml.safe_load(next((tmp_path / "run").rglob("results.json")).read_text())
    assert results["family"] == "ToyReasoner" and set(results["exact_match"]) == {"1", "2", "4", "8"}
