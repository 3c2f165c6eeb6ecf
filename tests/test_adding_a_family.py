"""docs/adding-a-family.md works as written: its module registers a family that keeps to the contract (its
capability's protocol, no concrete regime), thinks, trains with DeepSupervision, refuses a regime it cannot serve,
exports and loads; its recipe trains through `zoo fit` and joins the README's table; its capability table is
the contract's; and its regime trains the toy through the protocols it requires, keeping its state."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from types import ModuleType

import pytest
import torch
import yaml

import zoo
import zoo.models
from tests.conftest import REPO, TINY
from tests.helpers import OnlyTheContract, doc_block, scratch_module
from tools import pairings
from zoo import hub, known, registry
from zoo.cli import main
from zoo.contract import CAPABILITIES, capability_methods
from zoo.data import TaskDataModule
from zoo.errors import ZooError
from zoo.evaluation.budget import Budget
from zoo.models import EnergyTransformer
from zoo.regimes import DeepSupervision, EnergyDescent, check_pairing

DOC = REPO / "docs" / "adding-a-family.md"
TASK = {"name": "sudoku", "size": 4, "givens": 8}
RECIPE = "# recipes/toy/sudoku4-deep-supervision.yaml"


def block(first_line: str) -> str:
    return doc_block(DOC, first_line)


def quoted(start: str) -> list[str]:
    """The pieces, between elisions ("..."), of the message the document quotes that starts with `start`."""
    quote = re.search(f'"({re.escape(start)}[^"]*)"', " ".join(DOC.read_text().split()))
    assert quote, f"{DOC} quotes no message starting {start!r}"
    return [piece.strip() for piece in quote.group(1).split("...")]


def import_block(first_line: str, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The document's block starting `first_line`, imported as module `name` for this test only."""
    return scratch_module(name, block(first_line), tmp_path, monkeypatch)


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> type:
    """The document's family, imported as zoo.models.toy and made known by the document's registration line,
    for this test only."""
    monkeypatch.setattr(registry.FAMILIES, "table", dict(registry.FAMILIES.table))
    import_block("# zoo/models/toy.py", "zoo.models.toy", tmp_path, monkeypatch)
    namespace: dict = {}
    exec(block("# zoo/models/__init__.py"), namespace)
    monkeypatch.setattr(zoo.models, "ToyReasoner", namespace["ToyReasoner"], raising=False)
    return namespace["ToyReasoner"]


@pytest.fixture
def unrolled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> type:
    """The document's regime, imported as zoo.regimes.unrolled and registered for this test only."""
    monkeypatch.setattr(registry.REGIMES, "table", dict(registry.REGIMES.table))
    return import_block("# zoo/regimes/unrolled.py", "zoo.regimes.unrolled", tmp_path, monkeypatch).UnrolledSupervision


def training_batch(size: int = 32) -> dict[str, torch.Tensor]:
    data = TaskDataModule(TASK, train_count=size, val_count=0, test_count=0, batch_size=size)
    return next(iter(data.train_dataloader()))


def test_the_toy_family_thinks_trains_and_exports(toy: type, tmp_path: Path) -> None:
    assert known.family("ToyReasoner") is toy and known.family("zoo.models.ToyReasoner") is toy
    torch.manual_seed(0)
    model = toy(TASK, **toy.tiny_settings)
    assert isinstance(model.regime, DeepSupervision)  # default_regime_name
    batch = training_batch()
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

    loaded = zoo.load(hub.save(model.eval(), tmp_path / "model"))
    assert type(loaded) is toy and loaded.hparams.refinements == model.hparams.refinements
    assert torch.equal(loaded.think(batch["inputs"], 3).trail, model.think(batch["inputs"], 3).trail)


def test_the_toy_keeps_to_the_contract(toy: type) -> None:
    check_pairing(toy, DeepSupervision)
    with pytest.raises(ZooError) as refused:
        toy(TASK, EnergyDescent())
    assert all(piece in str(refused.value) for piece in quoted("ToyReasoner cannot be trained with EnergyDescent"))
    lacking = type("ToyReasoner", (toy,), {"supervision_step": None})
    with pytest.raises(ZooError) as refused:
        check_pairing(lacking, DeepSupervision)
    assert all(piece in str(refused.value) for piece in quoted("ToyReasoner declares the capability supervision_step"))

    tree = ast.parse(block("# zoo/models/toy.py"))
    imported = {
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("zoo")
        for alias in node.names
    }
    assert {module for module, _ in imported} <= {
        "zoo.contract",
        "zoo.errors",
        "zoo.models.base",
        "zoo.models.training",
        "zoo.regimes.base",
        "zoo.registry",
    }
    assert {name for module, name in imported if module == "zoo.regimes.base"} == {"Regime"}
    regime_reads = [node for node in ast.walk(tree) if isinstance(node, ast.Attribute) and "regime" in node.attr]
    assert not regime_reads, "the toy reads the regime it is trained with"

    torch.manual_seed(0)
    model = toy(TASK, DeepSupervision(max_steps=2), **toy.tiny_settings)
    seen, state = OnlyTheContract(model, DeepSupervision.requires), None
    for _ in range(3):  # a halted puzzle is replaced, the others continue from the carry
        loss, stats, state = model.regime.training_loss(seen, training_batch(8), state)
        loss.backward()
        assert torch.isfinite(loss) and all(torch.isfinite(value).all() for value in stats.values())


def test_the_capability_table_is_the_contract() -> None:
    rows = {
        cells[0].strip("`"): cells[1:]
        for line in DOC.read_text().splitlines()
        if line.startswith("| `") and len(cells := [cell.strip() for cell in line.strip("|").split("|")]) == 4
    }
    assert set(rows) == set(CAPABILITIES)
    for name, protocol in CAPABILITIES.items():
        documented, members, regimes = rows[name]
        assert documented == f"`{protocol.__name__}`"
        assert set(re.findall(r"`(\w+)", members)) == set(capability_methods(protocol)), name
        needing = {regime.__name__ for regime in known.regimes() if name in regime.requires}
        assert set(re.findall(r"`(\w+)`", regimes)) == needing, name


def test_the_documented_regime_trains_the_toy_through_its_protocols(toy: type, unrolled: type) -> None:
    assert known.regime("UnrolledSupervision") is unrolled
    check_pairing(toy, unrolled)
    with pytest.raises(ZooError, match="EnergyTransformer cannot be trained with UnrolledSupervision"):
        check_pairing(EnergyTransformer, unrolled)
    torch.manual_seed(0)
    regime = unrolled(max_steps=3, warmup=2)
    model = toy(TASK, regime, **toy.tiny_settings)
    seen, state, steps = OnlyTheContract(model, regime.requires), None, []
    for _ in range(4):
        loss, stats, state = regime.training_loss(seen, training_batch(8), state)
        loss.backward()
        steps.append(int(stats["steps"]))
    assert steps == [1, 2, 3, 3] and int(state.batches) == 4

    saved = regime.saved_state(state)
    assert list(saved) == ["_curriculum"] and torch.equal(regime.restored_state(saved).batches, state.batches)


def test_the_toy_recipe_trains_through_zoo_fit_and_joins_the_readme_table(toy: type, tmp_path: Path) -> None:
    recipe = tmp_path / "recipes" / "toy" / "sudoku4-deep-supervision.yaml"
    recipe.parent.mkdir(parents=True)
    recipe.write_text(block(RECIPE))
    row = next(line for line in pairings.table(tmp_path / "recipes").splitlines() if line.startswith("| `ToyReasoner`"))
    assert "| ✓: `recipes/toy/sudoku4-deep-supervision.yaml` |" in row and "— (needs energy_descent)" in row

    root = tmp_path / "run"
    main(["fit", "-c", str(recipe), *TINY, "--trainer.max_steps", "3", "--trainer.default_root_dir", str(root)])
    results = yaml.safe_load(next(root.rglob("results.json")).read_text())
    assert results["family"] == "ToyReasoner" and set(results["exact_match"]) == {"1", "2", "4", "8"}
