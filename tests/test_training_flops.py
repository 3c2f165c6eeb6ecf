"""Training compute on the compute axis: FLOPs of an optimiser step times the steps taken, counted without touching
the model or torch's random state, recorded by `zoo fit`, carried by checkpoints and model folders into
`zoo bench`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tests.conftest import QUICKSTART_RECIPE, TINY
from tests.helpers import TASK, build, write_checkpoint
from zoo import hub
from zoo.cli import main
from zoo.errors import DamagedFileError
from zoo.evaluation.training_cost import TrainingRecord, training_batch, training_entry, training_flops_per_step
from zoo.models import RecursiveReasoner

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models run fastest on one thread


def test_the_training_flops_are_the_steps_times_the_flops_of_a_step() -> None:
    model = build("energy")  # draws its descent steps per batch: the mean over the counted steps
    per_step = training_flops_per_step(model, model.task, batch_size=4)
    entry = TrainingRecord(steps=5, batch_size=4, batches_per_step=2).entry(model)
    assert per_step > 0
    assert entry["flops_per_step"] == pytest.approx(2 * per_step)  # two processes each ran a batch of 4
    assert entry["flops"] == pytest.approx(5 * entry["flops_per_step"])
    assert entry["batch_size"] == 8 and entry["steps"] == 5


def test_counting_leaves_the_model_and_the_random_state_as_they_were() -> None:
    model = build("recursive").train()
    batch = training_batch(model.task, 4)
    model.regime_state = model.regime.training_loss(model, batch, None)[2]  # a carry in flight, as mid-training
    carried = {name: value.clone() for name, value in vars(model.regime_state).items()}
    weights = {name: value.clone() for name, value in model.state_dict().items()}
    torch.manual_seed(7)
    with torch.random.fork_rng():
        expected = torch.rand(3)
    training_flops_per_step(model, model.task, batch_size=4)
    assert torch.equal(torch.rand(3), expected)
    assert all(torch.equal(value, weights[name]) for name, value in model.state_dict().items())
    assert all(torch.equal(value, carried[name]) for name, value in vars(model.regime_state).items())
    assert all(parameter.grad is None for parameter in model.parameters()) and model.training


def test_a_wider_recursive_reasoner_costs_more_per_step() -> None:
    narrow, wide = (
        RecursiveReasoner(TASK, **{**RecursiveReasoner.tiny_settings, "width": width}) for width in (16, 32)
    )
    assert training_flops_per_step(wide, TASK, 4) > training_flops_per_step(narrow, TASK, 4) > 0


def test_zoo_fit_records_its_training_and_export_carries_it(tmp_path: Path) -> None:
    run = tmp_path / "run"
    small = ["--model.init_args.width", "16", "--model.init_args.expansion", "1.0", "--trainer.logger", "false"]
    three_steps = ["--trainer.max_steps", "3", "--trainer.val_check_interval", "3"]
    main(["fit", "-c", QUICKSTART_RECIPE, *TINY, *small, *three_steps, "--trainer.default_root_dir", str(run)])
    training = json.loads((run / "results.json").read_text())["training"]
    assert training["steps"] == 3 and training["batch_size"] == 8
    assert training["flops"] == pytest.approx(3 * training["flops_per_step"]) and training["flops_per_step"] > 0

    checkpoint = next(run.rglob("*.ckpt"))
    loaded = hub.load(checkpoint)  # what the checkpoint says, counted afresh
    assert (loaded.training_record.steps, loaded.training_record.batch_size) == (3, 8)
    assert training_entry(loaded) == training
    folder = hub.export(checkpoint, tmp_path / "export").folder
    assert json.loads((folder / "config.json").read_text())["training"] == training
    assert "Trained for 3 steps of batch 8: " in (folder / "README.md").read_text()


def test_zoo_bench_gives_the_training_flops_its_models_record(tmp_path: Path) -> None:
    model = build("recursive")
    checkpoint = write_checkpoint(model, tmp_path / "model.ckpt")  # 3 steps
    saved = torch.load(checkpoint, weights_only=True)
    torch.save({**saved, "datamodule_hyper_parameters": {"task": TASK, "batch_size": 4}}, checkpoint)
    exported = hub.export(checkpoint, tmp_path / "exported").folder
    unrecorded = hub.save(build("recursive"), tmp_path / "unrecorded")  # built in memory: no training known
    out = tmp_path / "bench"
    models = [str(checkpoint), str(exported), str(unrecorded)]
    main(["bench", *models, "--budgets", "1", "--count", "4", "--out", str(out)])
    entries = json.loads((out / "bench.json").read_text())["models"]
    expected = 3 * training_flops_per_step(model, TASK, 4)
    assert [entry["training_flops"] for entry in entries] == [pytest.approx(expected)] * 2 + [None]
    table = (out / "bench.md").read_text()
    assert "| training FLOPs |" in table and "inference FLOPs per puzzle (backward of energy descent included)" in table


def test_a_model_folder_keeps_its_training_entry_and_a_damaged_one_is_named(tmp_path: Path) -> None:
    folder = hub.save(build("recursive"), tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    assert "training" not in config  # built in memory: nothing known
    entry = {"steps": 40, "batch_size": 16, "flops_per_step": 2.5e6, "flops": 1e8}
    (folder / "config.json").write_text(json.dumps({**config, "training": entry}))
    loaded = hub.load(folder)
    assert training_entry(loaded) == entry  # read, not counted again
    assert json.loads((hub.save(loaded, tmp_path / "again") / "config.json").read_text())["training"] == entry
    (folder / "config.json").write_text(json.dumps({**config, "training": {**entry, "steps": "forty"}}))
    with pytest.raises(DamagedFileError, match="training.steps = 'forty', not an int"):
        hub.load(folder)


def test_only_a_regime_that_draws_its_step_count_is_averaged_over_many_steps() -> None:
    from zoo.regimes import DeepSupervision, TruncatedEnergyDescent, VariationalRecursion

    assert not DeepSupervision().step_cost_varies and not VariationalRecursion().step_cost_varies
    assert TruncatedEnergyDescent().step_cost_varies and not TruncatedEnergyDescent(random_steps=False).step_cost_varies
