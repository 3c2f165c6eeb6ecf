"""GRPO on the trace decoder: group advantages, the clip on both sides, the forking-token mask, and a step that
raises the reward."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
import torch

import zoo
from tests.conftest import REPO
from tests.test_conformance import RUN, SHORT_WRITING, assert_a_killed_run_resumes_to_the_same_weights
from zoo.errors import ZooError
from zoo.regimes import GRPO
from zoo.regimes.grpo import Reference, clipped_loss, entropy_selection, group_advantages, kl_to_reference
from zoo.tasks import Maze


def test_advantages_are_zero_mean_per_group_and_zero_for_a_group_without_signal() -> None:
    rewards = torch.tensor([[1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 1.0]])
    advantages = group_advantages(rewards)
    torch.testing.assert_close(advantages.mean(-1), torch.zeros(3), atol=1e-6, rtol=0)
    assert torch.equal(advantages[1], torch.zeros(4))
    assert advantages[2, 3] > 0 > advantages[2, 0]


def test_the_ratio_is_clipped_on_both_sides() -> None:
    old = torch.zeros(4, 1)
    new = torch.tensor([[0.5], [0.5], [-0.5], [-0.5]], requires_grad=True)  # ratios e^0.5 > 1.28 and e^-0.5 < 0.8
    advantages = torch.tensor([1.0, -1.0, 1.0, -1.0])
    selected = torch.ones(4, 1, dtype=torch.bool)
    clipped_loss(new, old, advantages, selected, 0.2, 0.28).backward()
    # A > 0 above 1 + high and A < 0 below 1 − low are clipped (no gradient); the other two are not.
    assert new.grad[0, 0] == 0 and new.grad[3, 0] == 0 and new.grad[1, 0] != 0 and new.grad[2, 0] != 0
    inside = torch.tensor([[0.1]], requires_grad=True)
    loss = clipped_loss(inside, torch.zeros(1, 1), torch.tensor([2.0]), torch.ones(1, 1, dtype=torch.bool), 0.2, 0.28)
    assert loss.item() == pytest.approx(-2 * math.exp(0.1))


def test_top_keeps_the_ceiling_of_a_fifth_of_the_written_tokens_by_entropy() -> None:
    generator = torch.Generator().manual_seed(0)
    entropy = torch.rand(6, 9, generator=generator)
    written = torch.rand(6, 9, generator=generator) < 0.7
    top = entropy_selection(entropy, written, "top", 0.2)
    bottom = entropy_selection(entropy, written, "bottom", 0.2)
    n = int(written.sum())
    assert int(top.sum()) == math.ceil(0.2 * n) and not (top & ~written).any()
    assert torch.equal(top | bottom, written) and not (top & bottom).any()
    assert entropy[top].min() >= entropy[bottom].max()
    assert torch.equal(entropy_selection(entropy, written, "all", 0.2), written)
    # The token mean counts the selected tokens only.
    per_token = torch.randn(6, 9)
    loss = clipped_loss(per_token, per_token, torch.ones(6), top, 0.2, 0.28)
    assert float(loss) == pytest.approx(-1.0)


def test_the_kl_estimate_is_zero_at_the_reference_and_positive_away_from_it() -> None:
    policy = torch.tensor([[-0.5, -2.0, -0.1]])
    torch.testing.assert_close(kl_to_reference(policy, policy), torch.zeros(1, 3))
    away = kl_to_reference(policy, policy + torch.tensor([[0.3, -0.7, 1.0]]))
    assert (away > 0).all()
    assert float(away[0, 0]) == pytest.approx(math.exp(0.3) - 0.3 - 1)


def test_the_kl_term_holds_the_policy_to_the_weights_rl_started_from() -> None:
    """With kl > 0 the first step keeps the policy's weights as the reference (zero KL there), later steps keep
    that reference as the state checkpoints save, and the KL grows as the policy moves away."""
    model, task = zoo.load("trace-maze5-correct").train(), Maze(5)
    start = {name: tensor.clone() for name, tensor in model.model.state_dict().items()}
    mazes = task.encode(task.generate(4, seed=3)[0])
    regime = GRPO(samples=4, max_tokens=120, kl=0.1)
    optimizer = torch.optim.SGD(model.model.parameters(), lr=0.5)
    state, kls = None, []
    for step in range(3):
        torch.manual_seed(step)
        loss, stats, state = regime.training_loss(model, {"inputs": mazes}, state)
        kls.append(float(stats["kl"]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert kls[0] == 0.0 and kls[-1] > 0.0
    assert isinstance(state, Reference) and all(torch.equal(state.weights[name], start[name]) for name in start)
    restored = regime.restored_state(regime.saved_state(state))
    assert all(torch.equal(restored.weights[name], start[name]) for name in start)
    assert regime.saved_state(GRPO().training_loss(model, {"inputs": mazes}, None)[2]) == {}


def test_settings_are_checked() -> None:
    with pytest.raises(ZooError, match="tokens must be all, top or bottom"):
        GRPO(tokens="middle")
    with pytest.raises(ZooError, match="samples must be >= 2"):
        GRPO(samples=1)
    with pytest.raises(ZooError, match="kl is a weight >= 0"):
        GRPO(kl=-0.1)


def test_rl_steps_raise_the_reward_of_the_catalog_decoder() -> None:
    """From the catalog's trace decoder, ten GRPO steps on six mazes it solves only sometimes raise the share of
    valid writings drawn on them (the rewards come from the task's verifier)."""
    model, task = zoo.load("trace-maze5-correct").train(), Maze(5)
    judge = GRPO(samples=16, max_tokens=160)

    def drawn_rewards(mazes: torch.Tensor, seed: int) -> torch.Tensor:
        """[mazes] the share of 16 writings of each maze that verify, drawn with `seed`."""
        torch.manual_seed(seed)
        drawn = model.sample_writings(mazes, judge.samples, judge.max_tokens, judge.temperature)
        return judge.rewards(model, mazes, drawn.answers, drawn.written).view(len(mazes), -1).mean(-1)

    candidates = task.encode(task.generate(40, seed=11)[0])
    share = drawn_rewards(candidates, 1)
    hard = candidates[(share > 0.1) & (share < 0.6)][:6]
    assert len(hard) == 6
    before = float(drawn_rewards(hard, 5).mean())
    regime = GRPO(samples=8, max_tokens=160)
    optimizer = torch.optim.AdamW(model.model.parameters(), lr=1e-4)
    for step in range(10):
        torch.manual_seed(100 + step)
        loss, stats, _ = regime.training_loss(model, {"inputs": hard}, None)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(drawn_rewards(hard, 5).mean()) > before + 0.1


@pytest.mark.slow
def test_a_killed_rl_run_resumes_to_the_same_weights(tmp_path: Path) -> None:
    """The GRPO recipe from the catalog's decoder, killed after step 10 and resumed with `--ckpt_path last`, ends
    as the whole run does: its rollouts are drawn from the restored random generators, and its KL term holds to
    the reference policy of the run's start, not of the resume."""
    command = [
        *("fit", "-c", str(REPO / "recipes" / "trace" / "maze5-grpo.yaml"), *RUN, *SHORT_WRITING),
        *("--data.batch_size", "4", "--model.init_args.regime.init_args.samples", "4"),
        *("--model.init_args.regime.init_args.max_tokens", "160"),
        *("--model.init_args.regime.init_args.kl", "0.05"),  # its reference policy is restored too
    ]
    assert_a_killed_run_resumes_to_the_same_weights(command, tmp_path)
    # The rollouts mattered: some groups were rewarded unevenly, so the weights followed what was drawn.
    with next((tmp_path / "whole").rglob("metrics.csv")).open() as rows:
        rewards = [float(row["train/reward"]) for row in csv.DictReader(rows) if row.get("train/reward")]
    assert rewards and any(0 < reward < 1 for reward in rewards)
