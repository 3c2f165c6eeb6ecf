"""Group relative policy optimisation (GRPO, with DAPO's settings) for a trace decoder, rewarded by the task's
own verifier, with the forking-token selection of "Beyond the 80/20 rule".

Each training step draws `samples` writings of every maze of the batch from the current policy (the family's
`sample_writings`), rewards each by `Task.verify` of the plan it marks (1 valid, else 0; optionally a bonus for a
shortest path and a penalty per token written), normalises the rewards within each maze's group (the
advantage), and takes one policy-gradient step on the clipped ratio (`clip_low` / `clip_high`), averaged over
the selected written tokens of the micro-batch (token-mean). No KL term by default; `kl` > 0 adds that weight
times the KL (k3 estimator) from the policy to a frozen reference: the network's weights when RL began, kept in
checkpoints so that a resumed run holds to the same reference. `tokens = top` keeps only the
⌈fraction·N⌉ written tokens of highest entropy under the current policy, ranked across the micro-batch; `bottom`
keeps the rest; `all` keeps every one. Rollouts and groups stay within a process: under DDP each rank draws
its own batch's writings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor

from triton_kernels import token_entropy
from zoo.errors import ZooError
from zoo.evaluation.metrics import verified
from zoo.registry import register_regime

from .base import Regime


def group_advantages(rewards: Tensor, eps: float = 1e-6) -> Tensor:
    """Rewards [B, G] -> advantages [B, G]: each reward less its group's mean, over the group's standard
    deviation; a group whose rewards are all equal has advantage 0 (it carries no signal)."""
    centred = rewards - rewards.mean(-1, keepdim=True)
    return centred / (rewards.std(-1, unbiased=False, keepdim=True) + eps)


def entropy_selection(entropy: Tensor, written: Tensor, tokens: str, fraction: float) -> Tensor:
    """Which written tokens [N, T] (bool `written`) the loss keeps, by their entropy [N, T]: "all", "top" (the
    ⌈fraction·n⌉ of highest entropy among the n written tokens of the micro-batch; ties by position) or
    "bottom" (the written tokens "top" leaves)."""
    if tokens == "all":
        return written
    count = math.ceil(fraction * int(written.sum()))
    ranked = entropy.detach().masked_fill(~written, float("-inf")).flatten()
    top = torch.zeros_like(ranked, dtype=torch.bool)
    top[ranked.topk(count).indices] = True
    top = top.view_as(written) & written
    return top if tokens == "top" else written & ~top


@dataclass
class Reference:
    """The frozen reference policy of the KL term: the network's weights when this RL run began."""

    weights: dict[str, Tensor]


def kl_to_reference(log_probs: Tensor, reference_log_probs: Tensor) -> Tensor:
    """[N, T] per-token KL from the policy to the reference, estimated from the drawn tokens' log-probabilities
    [N, T] (Schulman's k3: exp(d) − d − 1 with d = reference − policy; unbiased, never negative)."""
    delta = reference_log_probs - log_probs
    return delta.exp() - delta - 1


def clipped_loss(
    log_probs: Tensor, old_log_probs: Tensor, advantages: Tensor, selected: Tensor, low: float, high: float
) -> Tensor:
    """The clipped policy-gradient loss, token-mean over the selected tokens: log-probabilities [N, T] now and
    when drawn, advantages [N] (one per writing), selected [N, T] bool -> scalar."""
    ratio = (log_probs - old_log_probs).exp()
    gain = advantages[:, None]
    per_token = -torch.minimum(ratio * gain, ratio.clamp(1 - low, 1 + high) * gain)
    return (per_token * selected).sum() / selected.sum().clamp(min=1)


@register_regime
@dataclass
class GRPO(Regime):
    """Reinforcement learning from the task's verifier (see the module docstring).

    Attributes:
        samples: G, writings per maze.
        max_tokens: the most tokens a writing may hold.
        temperature: of the rollouts.
        clip_low, clip_high: the ratio is clipped to [1 − clip_low, 1 + clip_high] (DAPO: 0.2, 0.28).
        tokens: "all", "top" or "bottom": which written tokens the loss keeps, by entropy.
        fraction: the share of written tokens "top" keeps (0.2).
        optimal_bonus: added to the reward of a valid plan that is also a shortest one.
        length_penalty: subtracted from the reward per token written, as a share of `max_tokens`.
        kl: weight of the KL to the frozen reference policy, token-mean over the selected tokens (0: none).
    """

    samples: int = 8
    max_tokens: int = 256
    temperature: float = 1.0
    clip_low: float = 0.2
    clip_high: float = 0.28
    tokens: Literal["all", "top", "bottom"] = "all"
    fraction: float = 0.2
    optimal_bonus: float = 0.0
    length_penalty: float = 0.0
    kl: float = 0.0

    requires: ClassVar[tuple[str, ...]] = ("trace_decoder", "trace_sampler")
    state_type: ClassVar[type] = Reference
    state_name: ClassVar[str] = "reference_policy"

    def __post_init__(self) -> None:
        if self.tokens not in ("all", "top", "bottom"):
            raise ZooError(f"tokens must be all, top or bottom, got {self.tokens!r}", key="regime.tokens")
        if not 0 < self.fraction < 1:
            raise ZooError(f"fraction is a share of tokens in (0, 1), got {self.fraction}", key="regime.fraction")
        if self.samples < 2:
            raise ZooError(f"samples must be >= 2: advantages compare a group's writings, got {self.samples}")
        if self.max_tokens < 1 or self.temperature <= 0:
            raise ZooError("max_tokens must be >= 1 and temperature > 0", key="regime")
        if self.kl < 0:
            raise ZooError(f"kl is a weight >= 0, got {self.kl}", key="regime.kl")

    def rewards(self, family: Any, inputs: Tensor, answers: Tensor, written: Tensor) -> Tensor:
        """[B·G] the reward of each writing: its plan verified (1 or 0), plus the bonus for a shortest one, less
        the length penalty."""
        mazes = inputs.repeat_interleave(self.samples, dim=0)
        reward = verified(family.task, mazes, answers).float()
        if self.optimal_bonus:
            reward += self.optimal_bonus * verified(family.task, mazes, answers, optimal=True).float()
        if self.length_penalty:
            reward -= self.length_penalty * written.sum(-1).float() / self.max_tokens
        return reward

    def training_loss(self, family: Any, batch: dict[str, Tensor], state: Any) -> tuple[Tensor, dict[str, Tensor], Any]:
        inputs = batch["inputs"]
        if self.kl and state is None:
            state = Reference(family.policy_weights())  # the first step: the policy RL starts from
        drawn = family.sample_writings(inputs, self.samples, self.max_tokens, self.temperature)
        reward = self.rewards(family, inputs, drawn.answers, drawn.written)
        advantages = group_advantages(reward.view(-1, self.samples)).flatten()
        logits = family.sequence_logits(drawn.ids[:, :-1])  # position t scores token t + 1
        targets, written = drawn.ids[:, 1:], drawn.written[:, 1:]
        entropy, log_probs = token_entropy(logits, targets)
        selected = entropy_selection(entropy, written, self.tokens, self.fraction)
        # One update per rollout: the policy that drew the writings is the current one, so the ratio starts at 1.
        loss = clipped_loss(log_probs, log_probs.detach(), advantages, selected, self.clip_low, self.clip_high)
        stats = {}
        if self.kl:
            reference = family.reference_logits(state.weights, drawn.ids[:, :-1]).float().log_softmax(-1)
            divergence = kl_to_reference(log_probs, reference.gather(-1, targets[..., None]).squeeze(-1))
            stats["kl"] = (divergence * selected).sum() / selected.sum().clamp(min=1)
            loss = loss + self.kl * stats["kl"]
        stats |= {
            "reward": reward.mean(),
            "selected_tokens": selected.sum().float(),
            "entropy": (entropy.detach() * written).sum() / written.sum().clamp(min=1),
        }
        return loss, stats, state if self.kl else None
