"""The contract between families and regimes is code: a regime calls nothing on a family beyond the protocols of
the capabilities it requires, its state between batches is typed and saved as before, and a family thinks
according to its own settings, whatever trained it."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import torch

from tests.helpers import OnlyTheContract, task_for
from zoo import known
from zoo.data import TaskDataModule
from zoo.errors import ZooError
from zoo.evaluation.budget import Budget
from zoo.models import EnergyTransformer, GenerativeRecursiveReasoner, RecursiveReasoner
from zoo.regimes import (
    GRPO,
    DeepSupervision,
    EnergyDescent,
    TruncatedEnergyDescent,
    VariationalRecursion,
    check_pairing,
    instantiate_regime,
    missing_capabilities,
)

TASK = {"name": "sudoku", "size": 4, "givens": 8}


def with_state(regime: type) -> Any:
    """The regime with settings that make it keep state between batches (a replay buffer, a KL reference), so that
    is exercised."""
    if issubclass(regime, EnergyDescent):
        return regime(replay_size=8, replay_fraction=0.5)
    return regime(kl=0.1) if issubclass(regime, GRPO) else regime()


def same(a: Any, b: Any) -> bool:
    """Equal tensors, or dicts of them (a state field may be a dict of weights)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[key], b[key]) for key in a)
    return torch.equal(a, b)


PAIRS = [
    (family, regime)
    for family in known.families()
    for regime in known.regimes()
    if not missing_capabilities(family, regime)
]


def batch(size: int = 8, task: dict[str, Any] = TASK) -> dict[str, torch.Tensor]:
    data = TaskDataModule(task, train_count=size, val_count=0, test_count=0, batch_size=size)
    return next(iter(data.train_dataloader()))


@pytest.mark.parametrize(("family", "regime"), PAIRS, ids=lambda cls: cls.__name__)
def test_a_regime_calls_only_what_its_protocols_hold(family: type, regime: type) -> None:
    torch.manual_seed(0)
    instance = with_state(regime)
    task = task_for(family)
    model = family(task, instance, **family.tiny_settings)
    seen = OnlyTheContract(model, instance.requires)
    state = None
    for _ in range(3):  # the second and third steps start from the state the step before left
        loss, stats, state = instance.training_loss(seen, batch(task=task), state)
        loss.backward()
        assert torch.isfinite(loss) and all(torch.isfinite(value).all() for value in stats.values())
    assert (state is None) == (instance.state_type is None or instance.saved_state(state) == {})
    groups = instance.parameter_groups(seen, model.parameter_groups(), 1e-3)
    grouped = [id(p) for group in groups for p in group["params"]]
    assert sorted(grouped) == sorted(id(p) for p in model.model.parameters() if p.requires_grad)


@pytest.mark.parametrize(("family", "regime"), PAIRS, ids=lambda cls: cls.__name__)
def test_regime_state_is_saved_in_the_checkpoint_format_and_restored(family: type, regime: type) -> None:
    instance = with_state(regime)
    if instance.state_type is None:
        pytest.skip(f"{regime.__name__} keeps no state between batches")
    torch.manual_seed(0)
    task = task_for(family)
    model = family(task, instance, **family.tiny_settings)
    _, _, state = instance.training_loss(model, batch(task=task), None)
    saved = instance.saved_state(state)
    assert list(saved) == [instance.state_name]  # {"_carry": {...}} / {"_replay": {...}}, as checkpoints held
    assert all(isinstance(value, torch.Tensor | dict) for value in saved[instance.state_name].values())
    restored = instance.restored_state(saved)
    assert all(same(getattr(restored, f.name), getattr(state, f.name)) for f in dataclasses.fields(state))
    # A checkpoint of another regime's kind, or of none, starts the state afresh rather than failing.
    assert instance.restored_state({}) is None
    assert instance.restored_state({instance.state_name: {"unknown": torch.zeros(1)}}) is None


def test_check_pairing_refuses_a_family_that_declares_a_capability_it_does_not_implement() -> None:
    class Pretender(RecursiveReasoner):
        capabilities = frozenset({"supervision_step", "energy_descent"})

    with pytest.raises(ZooError, match="declares the capability energy_descent but does not implement initial_logits"):
        check_pairing(Pretender, EnergyDescent)
    check_pairing(RecursiveReasoner, DeepSupervision)


def test_a_setting_that_moved_to_the_family_is_named_where_it_now_goes() -> None:
    with pytest.raises(ZooError, match="step_size is a setting of the family now.*model.init_args.step_size"):
        instantiate_regime({"class_path": "EnergyDescent", "init_args": {"step_size": 10.0}})


def test_an_energy_transformer_thinks_the_same_whatever_trained_it() -> None:
    torch.manual_seed(0)
    full = EnergyTransformer(
        TASK, EnergyDescent(noise_scale=0.0), clip=0.5, init_scale=0.3, **EnergyTransformer.tiny_settings
    )
    truncated = EnergyTransformer(
        TASK, TruncatedEnergyDescent(noise_scale=0.7), clip=0.5, init_scale=0.3, **EnergyTransformer.tiny_settings
    )
    truncated.load_state_dict(full.state_dict())
    inputs = batch(4)["inputs"]
    answers = []
    for model in (full, truncated):
        torch.manual_seed(3)
        answers.append(model.eval().think(inputs, Budget(3, 2)).logits)
    assert torch.equal(answers[0], answers[1])


@pytest.mark.parametrize("regime", [DeepSupervision(), VariationalRecursion()], ids=lambda r: type(r).__name__)
def test_whether_a_gram_samples_is_its_own_setting(regime: Any) -> None:
    sampling = GenerativeRecursiveReasoner(TASK, regime, noise="learned", **GenerativeRecursiveReasoner.tiny_settings)
    plain = GenerativeRecursiveReasoner(TASK, regime, noise="none", **GenerativeRecursiveReasoner.tiny_settings)
    assert sampling.draws_samples and not plain.draws_samples


def test_settings_saved_before_they_moved_load_as_the_family_s() -> None:
    saved = {
        "task": TASK,
        "regime": {"class_path": "EnergyDescent", "init_args": {"steps": 3, "step_size": 7.0, "clip": 0.25}},
    }
    upgraded = EnergyTransformer.upgrade_settings(saved, version=1)
    assert (upgraded["step_size"], upgraded["clip"]) == (7.0, 0.25)
    assert upgraded["regime"]["init_args"] == {"steps": 3}
    assert EnergyTransformer.upgrade_settings(dict(saved), version=2)["regime"] == saved["regime"]  # no move
    gram = {"task": TASK, "regime": {"class_path": "zoo.regimes.DeepSupervision"}, "noise": "learned"}
    assert GenerativeRecursiveReasoner.upgrade_settings(gram, version=1)["noise"] == "none"
    assert GenerativeRecursiveReasoner.upgrade_settings(dict(gram), version=2)["noise"] == "learned"


def test_a_settings_version_from_a_newer_zoo_or_a_damaged_one_is_named() -> None:
    from zoo.checkpoints import family_arguments
    from zoo.errors import DamagedFileError

    saved = {"task": TASK, "regime": {"class_path": "EnergyDescent", "init_args": {}}}
    assert family_arguments(EnergyTransformer, {**saved, "_settings_version": 2}, "config.json")["task"] == TASK
    with pytest.raises(ZooError, match="written by a newer belief-zoo .*settings version 3.*upgrade belief-zoo"):
        family_arguments(EnergyTransformer, {**saved, "_settings_version": 3}, "config.json")
    with pytest.raises(DamagedFileError, match="_settings_version = 'two'"):
        family_arguments(EnergyTransformer, {**saved, "_settings_version": "two"}, "config.json")
