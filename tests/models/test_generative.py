"""GenerativeRecursiveReasoner: reproducible sampling, diverse answers on multi-solution puzzles, the KL,
selectors, ablation switches; coverage computed right on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from triton_kernels import gaussian_latent
from zoo import tasks
from zoo.data import TaskDataModule
from zoo.evaluation.budget import Budget
from zoo.evaluation.metrics import SolutionCoverage
from zoo.models import GenerativeRecursiveReasoner, RecursiveReasoner
from zoo.regimes import DeepSupervision, EnergyDescent, VariationalRecursion

TASK = {"name": "sudoku", "size": 4, "givens": 6, "unique": False}


def build(**options) -> GenerativeRecursiveReasoner:
    torch.manual_seed(0)
    options = {"regime": VariationalRecursion(max_steps=2), **options}
    model = GenerativeRecursiveReasoner(TASK, width=32, **options)
    model.log = lambda *args, **kwargs: None  # logging needs a Trainer; these tests drive steps by hand
    return model


def puzzles(count: int, seed: int = 0) -> dict[str, torch.Tensor]:
    data = TaskDataModule(TASK, train_count=count, val_count=0, test_count=0, batch_size=count, seed=seed)
    return next(iter(data.train_dataloader()))


def noisy(model: GenerativeRecursiveReasoner) -> GenerativeRecursiveReasoner:
    """Widen the prior so an untrained model's samples visibly differ."""
    with torch.no_grad():
        model.model.prior.bias[32:].fill_(1.0)
        model.ema_model.prior.bias[32:].fill_(1.0)
    return model.eval()


def test_sampling_is_reproducible_at_a_fixed_seed() -> None:
    model = noisy(build())
    inputs = puzzles(8)["inputs"]
    torch.manual_seed(3)
    first = model.think(inputs, Budget(steps=2, samples=4)).candidates
    torch.manual_seed(3)
    again = model.think(inputs, Budget(steps=2, samples=4)).candidates
    torch.manual_seed(4)
    other = model.think(inputs, Budget(steps=2, samples=4)).candidates
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_samples_differ_on_multi_solution_puzzles_and_not_without_noise() -> None:
    inputs = puzzles(8)["inputs"]
    sampled = noisy(build()).think(inputs, Budget(steps=2, samples=6)).candidates[-1]  # [N, B, L]
    assert any(len({tuple(s.tolist()) for s in sampled[:, b]}) > 1 for b in range(8))
    for ablation in (build(regime=DeepSupervision(max_steps=2), noise="none"), build(noise="none")):
        deterministic = ablation.eval().think(inputs, Budget(steps=2, samples=6)).candidates[-1]
        assert all(torch.equal(deterministic[0], deterministic[n]) for n in range(6))


def test_kl_is_zero_when_posterior_equals_prior() -> None:
    mu, logvar = torch.randn(5, 7), torch.randn(5, 7)
    _, kl = gaussian_latent(mu, logvar, mu, logvar, seed=1)
    assert torch.allclose(kl, torch.zeros(5), atol=1e-6)
    _, kl_apart = gaussian_latent(mu + 1, logvar, mu, logvar, seed=1)
    expected = 0.5 * torch.exp(-logvar).sum(-1)  # Σ ½·Δμ²/σ_p² at Δμ = 1, equal variances
    assert torch.allclose(kl_apart, expected, rtol=1e-4)


def test_training_step_backpropagates_into_prior_posterior_and_value_head() -> None:
    model = build()
    model.training_step(puzzles(16), 0).backward()
    for head in (model.model.prior, model.model.posterior, model.model.value_head):
        grads = [p.grad for p in head.parameters()]
        assert all(grad is not None for grad in grads) and all(grad.abs().sum() > 0 for grad in grads)


def test_no_posterior_ablation_trains_without_kl_or_posterior() -> None:
    model = GenerativeRecursiveReasoner(TASK, VariationalRecursion(max_steps=2, posterior=False), width=32)
    model.log = lambda *args, **kwargs: None
    model.training_step(puzzles(16), 0).backward()
    assert model.model.posterior.weight.grad is None
    assert model.model.prior.weight.grad.abs().sum() > 0


def test_selectors_pick_by_value_vote_and_oracle() -> None:
    model = build()
    task = model.task
    grid_a = np.array([[1, 2, 3, 4], [3, 4, 1, 2], [2, 1, 4, 3], [4, 3, 2, 1]])
    grid_b = np.array([[1, 2, 3, 4], [3, 4, 1, 2], [2, 3, 4, 1], [4, 1, 2, 3]])
    wrong = grid_a.copy()
    wrong[3, 3] = 2
    puzzle = grid_a.copy()
    puzzle[2:] = 0
    inputs = task.encode(puzzle[None])
    candidates = task.encode(np.stack([wrong, grid_b, grid_b])[:, None])  # [N=3, B=1, L]
    values = torch.tensor([[5.0], [0.0], [-1.0]])
    model.hparams.selection = "value"
    assert model.choose(inputs, candidates, values).tolist() == [0]
    model.hparams.selection = "vote"
    assert model.choose(inputs, candidates, values).tolist() == [1]
    model.hparams.selection = "oracle"
    candidates = task.encode(np.stack([wrong, wrong, grid_b])[:, None])
    assert model.choose(inputs, candidates, values).tolist() == [2]


def test_configuration_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="noise must be"):
        GenerativeRecursiveReasoner(TASK, noise="loud")
    with pytest.raises(ValueError, match="GenerativeRecursiveReasoner cannot be trained with EnergyDescent.*energy"):
        GenerativeRecursiveReasoner(TASK, EnergyDescent())
    with pytest.raises(
        ValueError, match="RecursiveReasoner cannot be trained with VariationalRecursion.*latent_posterior"
    ):
        RecursiveReasoner(TASK, VariationalRecursion())


def test_coverage_on_hand_made_cases() -> None:
    task = tasks.get(**TASK)
    grid_a = np.array([[1, 2, 3, 4], [3, 4, 1, 2], [2, 1, 4, 3], [4, 3, 2, 1]])
    grid_b = np.array([[1, 2, 3, 4], [3, 4, 1, 2], [2, 3, 4, 1], [4, 1, 2, 3]])
    puzzle = grid_a.copy()
    puzzle[2:] = 0
    count = len(task.solutions(puzzle))
    wrong = grid_a.copy()
    wrong[3, 3] = 2
    inputs = task.encode(np.stack([puzzle, puzzle]))
    samples = task.encode(
        np.stack([[grid_a, grid_a], [grid_b, grid_a], [wrong, grid_a], [grid_a, grid_a]])
    )  # [4, 2, L]
    metric = SolutionCoverage(task)
    metric.update(inputs, samples)
    result = metric.compute()
    # Puzzle 0 reaches 2 valid answers of min(4, count); puzzle 1 reaches 1.
    expected = (2 / min(4, count) + 1 / min(4, count)) / 2
    assert result["coverage"].item() == pytest.approx(expected)
    assert result["diversity"].item() == pytest.approx((3 / 4 + 1 / 4) / 2)


def test_deterministic_family_samples_are_copies() -> None:
    model = RecursiveReasoner(TASK, DeepSupervision(max_steps=2), width=16, cycles=1, latent_updates=1).eval()
    inputs = puzzles(4)["inputs"]
    samples = model.evaluate_budgets(inputs, [Budget(2, 5)])[1]["2x5"]
    assert samples.shape == (5, 4, 16) and all(torch.equal(samples[0], s) for s in samples)


def test_evaluation_of_a_sampling_family_is_seeded() -> None:
    """`zoo eval` once drew samples from an unseeded generator: the same model gave different numbers."""
    from zoo.evaluation.evaluate import evaluate

    model = noisy(build())
    budgets = [Budget(2, 1), Budget(2, 4)]
    first = evaluate(model, model.task, budgets, count=16, seed=0, batch_size=16)
    torch.manual_seed(123)  # whatever state the caller left behind
    second = evaluate(model, model.task, budgets, count=16, seed=0, batch_size=16)
    assert first == second


def test_the_value_head_learns_on_prior_rollouts_only() -> None:
    """No gradient reaches the value head from the posterior trajectory, and the value loss moves nothing but
    the value head."""
    grads = {}
    for weight in (0.0, 1.0):
        torch.manual_seed(0)
        model = GenerativeRecursiveReasoner(TASK, VariationalRecursion(max_steps=2, value_loss_weight=weight), width=32)
        model.log = lambda *args, **kwargs: None
        torch.manual_seed(1)
        model.training_step(puzzles(16), 0).backward()
        grads[weight] = {name: p.grad.clone() for name, p in model.model.named_parameters() if p.grad is not None}
    head = "value_head.2.weight"  # the last layer of the per-cell MLP
    assert head not in grads[0.0] or grads[0.0][head].abs().sum() == 0
    assert grads[1.0][head].abs().sum() > 0
    for name, grad in grads[0.0].items():
        if not name.startswith("value_head"):
            assert torch.equal(grad, grads[1.0][name]), f"the value loss reached {name}"


def test_the_prior_rollout_is_carried_beside_the_posterior_trajectory() -> None:
    model = build()
    model.training_step(puzzles(8), 0)
    carry = model.regime_state
    assert not torch.equal(carry.y, carry.prior_y)  # the posterior saw the target; the prior did not


def test_samples_can_halt_on_their_own() -> None:
    model = noisy(build(halt_samples=True))
    with torch.no_grad():  # a halting head that stops every sample after its first step
        model.ema_model.halt_head.bias.fill_(10.0)
    thought = model.think(puzzles(4)["inputs"], Budget(steps=3, samples=2))
    assert torch.equal(thought.candidates[0], thought.candidates[2])


def test_the_value_head_regresses_accuracy_or_validity() -> None:
    """A verified answer scores 1; an invalid one scores its share of right cells ("accuracy") or 0 ("valid")."""
    targets = torch.tensor([[1, 2, 3, 4], [1, 2, 3, 4]])
    logits = torch.nn.functional.one_hot(torch.tensor([[1, 2, 3, 4], [1, 2, 0, 0]]), 5).float()
    valid = torch.tensor([True, False])
    value_logits = torch.zeros(2, requires_grad=True)
    for target, expected in (("accuracy", [1.0, 0.5]), ("valid", [1.0, 0.0])):
        regime = VariationalRecursion(value_target=target)
        loss = regime.value_loss(value_logits, valid, logits, targets)
        (grad,) = torch.autograd.grad(loss, value_logits)
        # d BCE / d logit = (sigmoid(0) - score) / B
        assert torch.allclose(grad, (0.5 - torch.tensor(expected)) / 2)
    with pytest.raises(ValueError, match="value_target must be one of accuracy, valid"):
        VariationalRecursion(value_target="reward")


@pytest.mark.parametrize("posterior_mixer", [False, True])
def test_the_posterior_mixer_lets_every_cell_see_the_whole_target(posterior_mixer: bool) -> None:
    net = build(posterior_mixer=posterior_mixer).model
    u = torch.randn(1, 16, 32)
    target = torch.ones(1, 16, dtype=torch.long)
    changed = target.clone()
    changed[0, 0] = 2
    with torch.no_grad():
        before, _ = net.posterior_params(u, target)
        after, _ = net.posterior_params(u, changed)
    moved_elsewhere = (before[0, 1:] - after[0, 1:]).abs().max().item()
    assert (before[0, 0] - after[0, 0]).abs().max().item() > 0
    assert (moved_elsewhere > 0) == posterior_mixer  # without the mixer, cell 0's target reaches cell 0 alone
