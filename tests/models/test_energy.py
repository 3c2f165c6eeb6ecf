"""EnergyTransformer: descent lowers energy, gradients reach α through the unrolled steps, best-of-N,
energy as a verifier, and the fused kernels think exactly like the reference."""

from __future__ import annotations

import pytest
import torch

from triton_kernels import INTERPRETER, use_backend
from zoo.contract import pick
from zoo.data import TaskDataModule
from zoo.evaluation.budget import Budget
from zoo.models import EnergyTransformer
from zoo.regimes import EnergyDescent, TruncatedEnergyDescent

TASK = {"name": "sudoku", "size": 4, "givens": 6}


def build(truncate: bool = False, learn_step_size: bool = True, **regime_options) -> EnergyTransformer:
    torch.manual_seed(0)
    options = {"steps": 3, "min_steps": 2, **regime_options}
    regime = (TruncatedEnergyDescent if truncate else EnergyDescent)(**options)
    model = EnergyTransformer(TASK, regime, width=32, expansion=1.0, step_size=10.0, learn_step_size=learn_step_size)
    model.log = lambda *args, **kwargs: None  # logging needs a Trainer; these tests drive steps by hand
    return model


def batch(count: int = 32, seed: int = 0) -> dict[str, torch.Tensor]:
    data = TaskDataModule(TASK, train_count=count, val_count=0, test_count=0, batch_size=count, seed=seed)
    return next(iter(data.train_dataloader()))


@pytest.fixture(scope="module")
def trained() -> EnergyTransformer:
    model = build()
    optimizer = torch.optim.AdamW(model.optimizer_groups(), lr=3e-3)
    examples = batch(64)
    for step in range(80):
        loss = model.training_step(examples, step)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def test_descent_lowers_the_energy_of_a_trained_model(trained: EnergyTransformer) -> None:
    thought = trained.think(batch(32, seed=1)["inputs"], Budget(steps=8))
    assert thought.energies.shape == (8, 32)
    assert thought.energies[-1].mean() < thought.energies[0].mean()


def test_correct_answers_have_lower_energy_than_corrupted_ones(trained: EnergyTransformer) -> None:
    examples = batch(32, seed=2)
    inputs, targets = examples["inputs"], examples["targets"]
    corrupted = targets.clone()
    blank = (inputs == 1).float().argmax(-1)  # one blank cell per puzzle
    rows = torch.arange(len(inputs))
    corrupted[rows, blank] = 2 + (corrupted[rows, blank] - 2 + 1) % 4
    gap = trained.energy_of(inputs, corrupted) - trained.energy_of(inputs, targets)
    assert gap.mean() > 0
    order = trained.rank(inputs, torch.stack([corrupted, targets]))
    assert (order[0] == 1).float().mean() > 0.5  # the true answer usually ranks first


@pytest.mark.parametrize("truncate", [False, True])
def test_gradients_reach_step_size_and_network_through_unrolled_steps(truncate: bool) -> None:
    model = build(truncate=truncate, random_steps=False, steps=3)
    loss = model.training_step(batch(8), 0)
    loss.backward()
    assert model.model.step_size.grad is not None and model.model.step_size.grad.abs() > 0
    assert model.model.energy_head.weight.grad.abs().sum() > 0
    assert model.model.belief.weight.grad.abs().sum() > 0


def test_unrolled_graph_differs_from_truncated() -> None:
    grads = []
    for truncate in (False, True):
        model = build(truncate=truncate, random_steps=False, steps=3, random_step_size=1.0, noise_scale=0.0)
        torch.manual_seed(1)
        model.training_step(batch(8), 0).backward()
        grads.append(model.model.energy_head.weight.grad.clone())
    assert not torch.allclose(grads[0], grads[1])


def test_step_size_trains_with_its_own_learning_rate() -> None:
    model = build(step_size_lr_multiplier=50.0)
    groups = model.optimizer_groups()
    alpha_groups = [g for g in groups if any(p is model.model.step_size for p in g["params"])]
    assert len(alpha_groups) == 1 and alpha_groups[0]["lr"] == pytest.approx(model.hparams.lr * 50.0)
    frozen = build(learn_step_size=False)
    assert not any(p is frozen.model.step_size for g in frozen.optimizer_groups() for p in g["params"])


def test_best_of_n_answers_with_the_lowest_energy_candidate_at_each_budget(trained: EnergyTransformer) -> None:
    """The answer at budget S x N is the candidate of least energy among the N samples after step S (per puzzle),
    read from one run; `Thought.energies` is that least energy. Fails if `choose` took any other candidate."""
    inputs = batch(16, seed=3)["inputs"]
    budgets = [Budget(steps=2, samples=6), Budget(steps=4, samples=6)]
    torch.manual_seed(7)
    answers = trained.answers_per_budget(inputs, budgets)
    torch.manual_seed(7)  # the same draws: think makes the run evaluate_budgets made
    thought = trained.think(inputs, budgets[-1])
    assert thought.candidates.shape == (4, 6, 16, 16)
    for budget in budgets:
        energies = thought.candidate_energies[budget.steps - 1]  # [N, B]
        lowest = pick(thought.candidates[budget.steps - 1], energies.argmin(0))
        highest = pick(thought.candidates[budget.steps - 1], energies.argmax(0))
        assert torch.equal(answers[budget.label], lowest)
        assert not torch.equal(lowest, highest)  # the samples differ, so a wrong choice would show
    assert torch.equal(thought.answer, answers[budgets[-1].label])
    assert torch.equal(thought.energies[-1], thought.candidate_energies[-1].min(0).values)


def test_accept_only_lower_never_raises_the_energy(trained: EnergyTransformer) -> None:
    trained.hparams.accept_only_lower = True
    try:
        energies = trained.think(batch(16, seed=4)["inputs"], Budget(steps=6)).energies
    finally:
        trained.hparams.accept_only_lower = False
    assert torch.all(energies[1:] <= energies[:-1] + 1e-5)


def test_givens_are_kept(trained: EnergyTransformer) -> None:
    inputs = batch(16, seed=5)["inputs"]
    answer = trained.think(inputs, Budget(steps=2, samples=2)).answer
    given = inputs >= 2
    assert torch.equal(answer[given], inputs[given])


@pytest.mark.skipif(not INTERPRETER, reason="needs the Triton interpreter (TRITON_INTERPRET=1 before triton import)")
def test_kernels_and_reference_think_alike_without_noise(trained: EnergyTransformer) -> None:
    inputs = batch(4, seed=6)["inputs"]
    results = []
    for backend in ("torch", "triton"):
        torch.manual_seed(7)
        with use_backend(backend):
            results.append(trained.think(inputs, Budget(steps=3, samples=2)))
    reference, fused = results
    assert torch.equal(reference.candidates, fused.candidates)
    assert torch.allclose(reference.candidate_energies, fused.candidate_energies, atol=1e-4, rtol=1e-4)


def test_lightning_test_loop_can_think(tmp_path) -> None:
    """Trainer.test runs under inference mode; descent still needs autograd (this once crashed after fit)."""
    import lightning as L

    model = build()
    data = TaskDataModule(TASK, train_count=8, val_count=4, test_count=4, batch_size=4, eval_batch_size=4)
    trainer = L.Trainer(
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.test(model, datamodule=data, verbose=False)
    assert set(model.test_results["exact_match"]) == {b.label for b in model.eval_budgets}


# ---- the official EBT training details ------------------------------------------------------------------


def test_random_step_size_is_drawn_per_puzzle_or_per_position() -> None:
    assert EnergyDescent(step_size_per="puzzle").step_scale(torch.Size([8, 16]), torch.device("cpu")).shape == (8, 1)
    assert EnergyDescent(step_size_per="position").step_scale(torch.Size([8, 16]), torch.device("cpu")).shape == (8, 16)
    assert EnergyDescent(random_step_size=1.0).step_scale(torch.Size([8, 16]), torch.device("cpu")) is None


@pytest.mark.parametrize("truncate", [False, True])
def test_truncation_keeps_the_graph_through_the_last_step_only(truncate: bool, monkeypatch) -> None:
    model = build(truncate=truncate, random_steps=False, steps=4)
    graphs, original = [], model.descent_step

    def recorded(inputs, logits, step_size, noise, create_graph):  # type: ignore[no-untyped-def]
        graphs.append((create_graph, logits.requires_grad))
        return original(inputs, logits, step_size, noise, create_graph)

    monkeypatch.setattr(model, "descent_step", recorded)
    model.training_step(batch(8), 0)
    if truncate:  # earlier steps start from detached logits and build no graph
        assert graphs == [(False, False), (False, False), (False, False), (True, False)]
    else:
        assert [graph for graph, _ in graphs] == [True] * 4 and graphs[-1][1]


def test_langevin_noise_moves_the_state_and_is_seeded() -> None:
    from triton_kernels import noisy_softmax

    model = build()
    inputs = batch(4)["inputs"]
    logits = model.initial_logits(4, inputs.device)
    step = torch.tensor(0.5)
    plain = model.descent_step(inputs, logits, step, 0.0, create_graph=False)[2]
    torch.manual_seed(3)
    energies, probs, noisy = model.descent_step(inputs, logits, step, 0.7, create_graph=False)
    torch.manual_seed(3)
    again = model.descent_step(inputs, logits, step, 0.7, create_graph=False)[2]
    assert torch.equal(noisy, again) and not torch.allclose(noisy, plain)
    # the moved state holds the very noise at which the gradient was taken: p = softmax(y + σε)
    torch.manual_seed(3)
    seed = int(torch.randint(0, 2**62, (), dtype=torch.int64).item())
    assert torch.allclose(probs, noisy_softmax(logits, 0.7, seed=seed))


def test_replay_warm_starts_are_used() -> None:
    model = build(replay_size=16, replay_fraction=0.5)
    examples = batch(8)
    for step in range(3):  # 8 rows remembered, then 4 fresh rows a step: full after three steps
        model.training_step(examples, step)
    buffer = model.regime_state
    assert buffer.logits.shape[0] == 16
    logits = model.initial_logits(8, examples["inputs"].device)
    inputs, _, started, replayed = model.regime._with_replay(buffer, examples["inputs"], examples["targets"], logits)
    assert replayed == 4  # half the batch starts from stored final predictions, not from noise
    assert any(torch.equal(started[0], row) for row in buffer.logits)
    assert torch.equal(started[replayed:], logits[replayed:])


def test_saturation_and_step_size_are_logged() -> None:
    model = build(random_steps=False, steps=3)
    logged = {}
    model.log = lambda name, value, **_: logged.__setitem__(name, float(value))
    model.training_step(batch(8), 0)
    assert {"train/confidently_wrong@1", "train/confidently_wrong@3", "train/mean_step_size"} <= set(logged)
    assert all(0.0 <= logged[f"train/confidently_wrong@{k}"] <= 1.0 for k in (1, 2, 3))


def test_mirror_descent_is_an_option() -> None:
    torch.manual_seed(0)
    model = EnergyTransformer(TASK, EnergyDescent(steps=3, min_steps=2), width=32, step_size=10.0, descent="mirror")
    model.log = lambda *args, **kwargs: None
    model.training_step(batch(8), 0).backward()
    assert model.model.energy_head.weight.grad.abs().sum() > 0
    assert model.eval().think(batch(4)["inputs"], 3).trail.shape == (3, 4, 16)
