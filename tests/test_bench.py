"""One compute axis: what a budget costs in FLOPs per puzzle, and `zoo bench` comparing models on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from tests.conftest import zoo_error
from tests.helpers import build, write_checkpoint
from zoo import hub, known
from zoo.cli import main
from zoo.evaluation.budget import Budget
from zoo.evaluation.flops import count_flops
from zoo.nn.decoder import CausalDecoder


@pytest.mark.parametrize("name", known.family_names())
def test_flops_grow_linearly_with_steps_and_samples(name: str) -> None:
    model = build(name)
    one, two, three = (model.budget_cost(Budget(steps))["flops"] for steps in (2, 4, 6))
    if model.writes_traces:  # a decoder's next token attends to every token before it: each costs more
        assert 0 < one < two < three and two - one < three - two
    else:
        assert 0 < one < two < three and two - one == three - two  # a fixed cost per step
    if model.draws_samples:
        assert model.budget_cost(Budget(4, 3))["flops"] == 3 * two  # samples think side by side
    else:
        assert model.budget_cost(Budget(4, 3))["flops"] == two  # N copies of one answer cost nothing more
    assert model.budget_cost(Budget(4))["calls"] > model.budget_cost(Budget(2))["calls"]


def test_attention_counts_on_the_cpu_as_on_a_gpu() -> None:
    """torch counts CUDA's fused attention, not the CPU's; the zoo counts both alike: 4·H·T²·d per layer."""
    decoder = CausalDecoder(40, width=64, depth=1, heads=4, expansion=2.0)
    ids = torch.randint(1, 40, (1, 20))
    with FlopCounterMode(display=False) as counter:
        decoder.forward_right_padded(ids)
    products = counter.get_flop_counts()["Global"][torch.ops.aten.mm]
    assert count_flops(lambda: decoder.forward_right_padded(ids)) - products == 4 * 4 * 20 * 20 * 16


def test_zoo_bench_compares_models_on_the_same_puzzles(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    energy = hub.save(build("energy"), tmp_path / "energy")  # two families that sample: 2x3 means 3 draws
    generative = write_checkpoint(build("generative"), tmp_path / "generative.ckpt")
    out = tmp_path / "bench"
    main(["bench", str(energy), str(generative), "--budgets", "1,2,2x3", "--count", "8", "--out", str(out)])
    results = json.loads((out / "bench.json").read_text())
    assert results["puzzles"] == 8 and results["task"]["size"] == 4
    assert [entry["family"] for entry in results["models"]] == ["EnergyTransformer", "GenerativeRecursiveReasoner"]
    for entry in results["models"]:
        assert set(entry["budgets"]) == {"1", "2", "2x3"}
        row = entry["budgets"]["2x3"]
        assert row["flops_per_puzzle"] > entry["budgets"]["1"]["flops_per_puzzle"] > 0
        assert 0 <= row["exact_match"] <= 1 and row["seconds_per_puzzle"] > 0 and "coverage" in row
    table = (out / "bench.md").read_text()
    assert table.count("\n| ") == 6 and "FLOPs / puzzle" in table  # two models x three budgets
    assert (out / "bench.png").stat().st_size > 0
    assert "results: " in capsys.readouterr().out


def test_zoo_bench_refuses_missing_models_and_other_tasks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    small = hub.save(build("recursive"), tmp_path / "small")
    larger = hub.save(build("recursive", task={"name": "sudoku", "size": 6, "givens": 12}), tmp_path / "larger")
    assert "no folder or file at" in zoo_error(capsys, "bench", str(small), str(tmp_path / "nowhere.ckpt"))
    printed = zoo_error(capsys, "bench", str(small), str(larger), "--count", "4")
    assert "cannot read" in printed and "same puzzles" in printed
