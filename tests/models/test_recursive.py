"""RecursiveReasoner: thinking trail, carry semantics, EMA at evaluation, halting regime."""

from __future__ import annotations

import pytest
import torch

from zoo.evaluation.budget import Budget, parse_budgets
from zoo.models import RecursiveReasoner
from zoo.regimes import DeepSupervision

TASK = {"name": "sudoku", "size": 4, "givens": 8}


def model(**options) -> RecursiveReasoner:
    torch.manual_seed(0)
    built = RecursiveReasoner(
        TASK, DeepSupervision(max_steps=3, halt_exploration=0.0), width=16, cycles=2, latent_updates=2, **options
    )
    built.log = lambda *args, **kwargs: None
    return built


def batch(size: int, seed: int) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return {
        "inputs": torch.randint(1, 6, (size, 16), generator=generator),
        "targets": torch.randint(2, 6, (size, 16), generator=generator),
    }


def test_think_returns_one_answer_per_step() -> None:
    reasoner = model().eval()
    inputs = batch(5, 0)["inputs"]
    thought = reasoner.think(inputs, Budget(steps=3))
    assert thought.trail.shape == (3, 5, 16) and thought.halt_logits.shape == (3, 5)
    assert torch.equal(thought.answer, thought.trail[-1])
    assert thought.logits.shape == (5, 16, reasoner.task.vocab_size)
    # Thinking longer continues the same trajectory: the first steps do not depend on the budget.
    assert torch.equal(reasoner.think(inputs, 2).trail, thought.trail[:2])
    with pytest.raises(ValueError, match="deterministic"):
        reasoner.think(inputs, Budget(steps=2, samples=4))


def test_carry_keeps_running_samples_and_replaces_halted_ones() -> None:
    reasoner = model()
    first, second = batch(4, 1), batch(4, 2)
    reasoner.training_step(first, 0)
    carry = reasoner.regime_state
    assert torch.equal(carry.steps, torch.ones(4, dtype=torch.long))
    carry.halted = torch.tensor([True, False, True, False])
    reasoner.training_step(second, 1)
    after = reasoner.regime_state
    assert torch.equal(after.inputs[[0, 2]], second["inputs"][[0, 2]])  # halted: fresh puzzles
    assert torch.equal(after.inputs[[1, 3]], first["inputs"][[1, 3]])  # running: kept
    assert after.steps.tolist() == [1, 2, 1, 2]


def test_samples_halt_at_max_steps() -> None:
    regime = DeepSupervision(max_steps=3, halt_exploration=0.0)
    never = torch.full((4,), -10.0)
    assert regime.halted(never, torch.tensor([1, 2, 3, 4])).tolist() == [False, False, True, True]
    assert regime.halted(torch.full((2,), 10.0), torch.tensor([1, 1])).tolist() == [True, True]
    explorer = DeepSupervision(max_steps=16, halt_exploration=1.0)
    assert not explorer.halted(torch.full((64,), 10.0), torch.ones(64, dtype=torch.long)).any()


def test_evaluation_uses_ema_weights_and_training_the_live_ones() -> None:
    reasoner = model(ema_decay=0.9)
    with torch.no_grad():
        for parameter in reasoner.model.parameters():
            parameter.add_(1.0)
    assert reasoner.train().inference_model is reasoner.model
    assert reasoner.eval().inference_model is reasoner.ema_model
    assert not torch.equal(reasoner.model.answer_head.weight, reasoner.ema_model.answer_head.weight)
    without = model(ema_decay=0).eval()
    assert without.ema_model is None and without.inference_model is without.model


def test_ema_follows_the_trained_weights() -> None:
    reasoner = model(ema_decay=0.999)
    with torch.no_grad():
        reasoner.model.answer_head.weight.fill_(1.0)
        reasoner.ema_model.answer_head.weight.fill_(0.0)
    reasoner._update_ema()  # after the first optimiser step the warmed-up decay is 2/11
    expected = torch.full_like(reasoner.ema_model.answer_head.weight, 9 / 11)
    assert torch.allclose(reasoner.ema_model.answer_head.weight, expected)


def test_budgets_parse_and_reject_nonsense() -> None:
    assert parse_budgets("1,2,8x4") == [Budget(1), Budget(2), Budget(8, 4)]
    assert [b.label for b in parse_budgets("4,8x4")] == ["4", "8x4"]
    with pytest.raises(ValueError, match="bad budget"):
        parse_budgets("1,x")
    with pytest.raises(ValueError, match="steps >= 1"):
        Budget(0)
