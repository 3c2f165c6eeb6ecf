"""The conformance suite: what every registered family must do. A new family gets all of it by registering.

For each family in `zoo.registry`: it ships a recipe; `think` returns full Thoughts with a trail; thinking is
seeded; answers at every budget come from one run and agree with `think`; every answer keeps the puzzle's givens
and holds only symbols, whatever the puzzle; export -> load gives identical answers; it trains with exactly the
regimes its capabilities allow; and a run killed with SIGKILL continues with `--ckpt_path last` to the same
weights as an uninterrupted one (slow).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

import zoo
from tests.conftest import RECIPES, REPO, TINY
from zoo import hub, known
from zoo.cli import main
from zoo.contract import keep_givens
from zoo.data import TaskDataModule
from zoo.errors import ZooError
from zoo.evaluation.budget import Budget
from zoo.models import ReasoningFamily
from zoo.regimes import missing_capabilities
from zoo.tasks.base import BLANK_TOKEN, FIRST_SYMBOL_TOKEN

FAMILIES = known.family_names()


def recipes_of(name: str) -> list[Path]:
    """The recipes that train family `name` from scratch (not fine-tuning recipes): those with its default regime
    first, GPU-scale ones last."""
    found = []
    for recipe in RECIPES:
        text = yaml.safe_load(recipe.read_text()) or {}
        model = text.get("model") or {}
        if "init_from" in text or not isinstance(model, dict) or not model.get("class_path"):
            continue
        if known.family(model["class_path"]).__name__ == name:
            found.append(recipe)
    default = type(known.family(name).default_regime()).__name__

    def regime(path: Path) -> str:
        return yaml.safe_load(path.read_text())["model"]["init_args"]["regime"]["class_path"].rpartition(".")[2]

    return sorted(found, key=lambda path: ("gpu" in path.name, regime(path) != default, str(path)))


def tiny(name: str, seed: int = 0) -> tuple[ReasoningFamily, torch.Tensor]:
    """A tiny model of family `name` on the task of its first recipe, and 6 of that task's puzzles [6, L]."""
    cls = known.family(name)
    task = yaml.safe_load(recipes_of(name)[0].read_text())["data"]["task"]
    torch.manual_seed(seed)
    model = cls(task, **cls.tiny_settings).eval()
    data = TaskDataModule(task, train_count=0, val_count=0, test_count=6, seed=1)
    data.setup()
    return model, next(iter(data.test_dataloader()))["inputs"]


@pytest.mark.parametrize("name", FAMILIES)
def test_every_family_ships_a_recipe(name: str) -> None:
    assert recipes_of(name), f"{name} is registered but no recipe under recipes/ trains it"


@pytest.mark.parametrize("name", FAMILIES)
def test_think_returns_a_full_thought_with_its_trail(name: str) -> None:
    model, inputs = tiny(name)
    samples = 3 if model.draws_samples else 1
    torch.manual_seed(5)
    thought = model.think(inputs, Budget(4, samples))
    batch, cells, vocab = *inputs.shape, model.task.vocab_size
    assert thought.answer.shape == (batch, cells) and thought.logits.shape == (batch, cells, vocab)
    assert thought.trail.shape == (4, batch, cells) and torch.equal(thought.trail[-1], thought.answer)
    assert thought.candidates.shape == (4, samples, batch, cells)
    assert thought.candidate_scores.shape[:3] == (4, samples, batch)
    assert thought.logits.isfinite().any(-1).all()  # real logits, not a placeholder
    torch.manual_seed(5)
    shorter = model.think(inputs, Budget(2, samples))
    assert torch.equal(shorter.trail, thought.trail[:2])  # thinking longer continues the same trajectory


@pytest.mark.parametrize("name", FAMILIES)
def test_thinking_is_seeded(name: str) -> None:
    model, inputs = tiny(name)
    budget = Budget(3, 4 if model.draws_samples else 1)
    runs = []
    for seed in (7, 7, 8):
        torch.manual_seed(seed)
        runs.append(model.think(inputs, budget))
    assert torch.equal(runs[0].candidates, runs[1].candidates)
    assert torch.equal(runs[0].candidate_scores, runs[1].candidate_scores)
    if model.draws_samples:
        assert not torch.equal(runs[0].candidate_scores, runs[2].candidate_scores)


@pytest.mark.parametrize("name", FAMILIES)
def test_every_budget_is_read_from_one_run(name: str) -> None:
    model, inputs = tiny(name)
    budgets = [Budget(1), Budget(3), Budget(3, 4)]
    torch.manual_seed(2)
    answers, samples = model.evaluate_budgets(inputs, budgets)
    assert set(answers) == {"1", "3", "3x4"} and set(samples) == {"3x4"}
    assert all(answer.shape == inputs.shape for answer in answers.values())
    assert samples["3x4"].shape == (4, *inputs.shape)
    torch.manual_seed(2)
    thought = model.think(inputs, Budget(3, 4 if model.draws_samples else 1))
    assert torch.equal(answers["3x4"], thought.answer)  # the same run, the same choice
    assert torch.equal(samples["3x4"], thought.candidates[-1].expand(4, -1, -1))


@pytest.mark.parametrize("name", FAMILIES)
def test_a_long_descent_beside_wide_samples_takes_two_runs(name: str) -> None:
    """64 single-sample steps beside 16x16 would cost 1,024 step-samples in one run; they take 64 + 256, each
    budget read from the run that covers it, in the order asked for (a family that does not sample: one run)."""
    model, inputs = tiny(name)
    budgets = [Budget(1), Budget(4), Budget(2, 3)]
    torch.manual_seed(2)
    answers, samples = model.evaluate_budgets(inputs, budgets)
    torch.manual_seed(2)
    long_run = model.think(inputs, Budget(4))
    if model.draws_samples:
        wide_run = model.think(inputs, Budget(2, 3))
        assert torch.equal(samples["2x3"], wide_run.candidates[-1])
        assert torch.equal(answers["2x3"], wide_run.answer)
    assert torch.equal(answers["1"], long_run.trail[0])
    assert torch.equal(answers["4"], long_run.answer)


def test_covering_runs_cost_no_more_than_one_run_at_the_largest() -> None:
    from zoo.models.base import covering_runs

    wide, long = Budget(16, 16), Budget(64)
    runs = covering_runs([Budget(1), Budget(16), long, Budget(16, 4), wide], draws_samples=True)
    assert runs == [(long, [Budget(1), Budget(16), long]), (wide, [Budget(16, 4), wide])]
    assert covering_runs([Budget(1), Budget(16), long, wide], draws_samples=False) == [
        (long, [Budget(1), Budget(16), long, wide])
    ]
    # Many uncovered budgets that together cost more than the corner they span: one run at the corner.
    crowd = [Budget(steps, 17 - steps) for steps in range(1, 17)]
    assert covering_runs(crowd, draws_samples=True) == [(Budget(16, 16), crowd)]
    same = [Budget(8, 1), Budget(8, 5), Budget(8, 20)]
    assert covering_runs(same, draws_samples=True) == [(Budget(8, 20), same)]


def random_puzzles(task: dict[str, Any], count: int, given: float, seed: int) -> torch.Tensor:
    """`count` puzzles [count, L] of `task` whose cells are given at random with probability `given`, each a
    random symbol: few givens, and contradictory ones (a digit twice in a unit, attacking queens, x cells)."""
    spec = zoo.tasks.get(**task)
    generator = torch.Generator().manual_seed(seed)
    shape = (count, spec.num_cells)
    symbols = torch.randint(FIRST_SYMBOL_TOKEN, spec.vocab_size, shape, generator=generator)
    return torch.where(torch.rand(shape, generator=generator) < given, symbols, BLANK_TOKEN)


def assert_honest(inputs: torch.Tensor, answers: torch.Tensor, what: str) -> None:
    """Every answer [..., B, L] holds the given token of `inputs` [B, L] at each given cell and a symbol elsewhere."""
    given = (inputs >= FIRST_SYMBOL_TOKEN).expand_as(answers)
    changed = int((given & (answers != inputs)).sum())
    not_symbols = int((~given & (answers < FIRST_SYMBOL_TOKEN)).sum())
    assert not changed and not not_symbols, f"{what}: {changed} givens changed, {not_symbols} cells pad or blank"
    assert torch.equal(keep_givens(inputs, answers), answers)


@pytest.mark.parametrize(
    "task", [{"name": "sudoku", "size": 6}, {"name": "nqueens", "size": 8}], ids=["sudoku", "nqueens"]
)
@pytest.mark.parametrize("name", FAMILIES)
def test_every_answer_keeps_the_givens_and_holds_only_symbols(name: str, task: dict[str, Any]) -> None:
    cls = known.family(name)
    if not cls.reads(task):
        with pytest.raises(ZooError, match=f"{name} reads only .* puzzles, not {task['name']}: set data.task"):
            cls(task, **cls.tiny_settings)
        return
    torch.manual_seed(3)
    model = cls(task, **cls.tiny_settings).eval()
    inputs = torch.cat([random_puzzles(task, 6, given, seed=seed) for seed, given in enumerate((0.1, 0.3, 0.6))])
    samples = 3 if model.draws_samples else 1
    thought = model.think(inputs, Budget(3, samples))
    for field in ("answer", "trail", "candidates"):
        assert_honest(inputs, getattr(thought, field), field)
    assert torch.equal(thought.logits.argmax(-1), thought.answer)  # the logits say what the answer holds
    answers, sampled = model.evaluate_budgets(inputs, [Budget(1), Budget(3, 4)])
    for label, answer in (*answers.items(), *sampled.items()):
        assert_honest(inputs, answer, f"evaluate_budgets at {label}")
    assert_honest(inputs, model.predict_step({"inputs": inputs}, 0)["answers"], "predict_step")
    boards = model.task.decode(inputs)
    assert_honest(inputs, model.task.encode(model.solve(boards, Budget(2, samples))), "solve")


@pytest.mark.parametrize("name", FAMILIES)
def test_export_then_load_answers_the_same(name: str, tmp_path: Path) -> None:
    model, inputs = tiny(name)
    loaded = zoo.load(hub.save(model, tmp_path / "model"))
    assert type(loaded) is type(model) and not loaded.training
    budget = Budget(3, 2 if model.draws_samples else 1)
    thoughts = []
    for family in (model, loaded):
        torch.manual_seed(11)
        thoughts.append(family.think(inputs, budget))
    for field in ("answer", "logits", "trail", "candidates", "candidate_scores"):
        assert torch.equal(getattr(thoughts[0], field), getattr(thoughts[1], field)), field


@pytest.mark.parametrize("name", FAMILIES)
def test_it_trains_with_exactly_the_regimes_its_capabilities_allow(name: str) -> None:
    cls = known.family(name)
    task = yaml.safe_load(recipes_of(name)[0].read_text())["data"]["task"]
    for regime in known.regimes():
        if missing_capabilities(cls, regime):
            with pytest.raises(ZooError, match=f"{name} cannot be trained with {regime.__name__}, which needs"):
                cls(task, regime(), **cls.tiny_settings)
        else:
            assert isinstance(cls(task, regime(), **cls.tiny_settings).regime, regime)
    assert not missing_capabilities(cls, type(cls.default_regime()))


# ---- SIGKILL, then zoo fit --ckpt_path last ------------------------------------------------------------------

# 32 training puzzles in batches of 8: 4 batches an epoch; checkpoints every 3 steps and a kill after step 10
# make the run resume from step 9, mid-epoch, with training state in flight (a carry, a replay buffer).
RUN = [
    *TINY,
    "--data.augment_copies",
    "1",
    "--trainer.max_steps",
    "12",
    "--trainer.val_check_interval",
    "5",
    "--trainer.check_val_every_n_epoch",
    "null",
    "--trainer.limit_val_batches",
    "1",
    "--trainer.limit_test_batches",
    "1",
    "--trainer.logger",
    "true",
    "--trainer.callbacks.every_n_train_steps",
    "3",
]
# Settings that switch on a regime's state between batches, so that its restoring is checked too.
WITH_STATE: dict[str, list[str]] = {"EnergyDescent": ["--model.init_args.regime.init_args.replay_size", "16"]}
# A trace decoder validates and tests by writing: 16 tokens per maze check the resume as well as 256 do.
SHORT_WRITING = ["--model.init_args.eval_budgets", "[16]", "--model.init_args.val_budgets", "[16]"]
SHORTER: dict[str, list[str]] = {"TraceTransformer": SHORT_WRITING}


def final_checkpoint(root: Path) -> dict[str, Any]:
    """The newest step=12 checkpoint under `root` (the resumed run writes into a new logger version)."""
    found = sorted(root.rglob("*step=12.ckpt"), key=lambda path: path.stat().st_mtime)
    assert found, f"no step-12 checkpoint under {root}"
    return torch.load(found[-1], weights_only=True)


def assert_a_killed_run_resumes_to_the_same_weights(command: list[str], root: Path) -> None:
    """Run `zoo fit` COMMAND (12 steps, checkpoints every 3) whole under root/whole, and under root/cut killed by
    SIGKILL after step 10 then resumed with `--ckpt_path last`: both must end with the same weights and optimiser
    moments."""
    main([*command, "--trainer.default_root_dir", str(root / "whole")])

    killed = subprocess.run(
        [
            sys.executable,
            "-m",
            "zoo.cli",
            *command,
            "--trainer.default_root_dir",
            str(root / "cut"),
            "--trainer.callbacks+=tests.callbacks.KillAtStep",
            "--trainer.callbacks.step",
            "10",
        ],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert not list((root / "cut").rglob("*step=12.ckpt"))

    main([*command, "--trainer.default_root_dir", str(root / "cut"), "--ckpt_path", "last"])

    whole, resumed = final_checkpoint(root / "whole"), final_checkpoint(root / "cut")
    assert whole["global_step"] == resumed["global_step"] == 12
    for key, weights in whole["state_dict"].items():
        assert torch.equal(weights, resumed["state_dict"][key]), f"{key} differs after resuming"
    for mine, theirs in zip(
        whole["optimizer_states"][0]["state"].values(), resumed["optimizer_states"][0]["state"].values()
    ):
        assert torch.equal(mine["exp_avg"], theirs["exp_avg"])


@pytest.mark.slow
@pytest.mark.parametrize("name", FAMILIES)
def test_a_killed_run_resumes_to_the_same_weights(name: str, tmp_path: Path) -> None:
    recipe = recipes_of(name)[0]
    regime = yaml.safe_load(recipe.read_text())["model"]["init_args"]["regime"]["class_path"].rpartition(".")[2]
    command = ["fit", "-c", str(recipe), *RUN, *WITH_STATE.get(regime, []), *SHORTER.get(name, [])]
    assert_a_killed_run_resumes_to_the_same_weights(command, tmp_path)


def test_the_readme_table_of_families_and_regimes_comes_from_the_code() -> None:
    from tools import pairings

    readme = (REPO / "README.md").read_text()
    assert pairings.replace_block(readme, pairings.table(REPO / "recipes")) == readme, (
        "README.md's family x regime table is stale: run `python -m tools.pairings --write README.md`"
    )
