"""Variational deep supervision (GRAM style): a latent noise on the recursion, inferred from the target.

During training the noise ε added to the high-level state is drawn from a posterior q(ε | u, y) that sees
the target y; the loss is the answer's cross-entropy plus β·KL(q‖p) against the learned prior p(ε | u),
with KL balancing (`balance·KL(sg q‖p) + (1 − balance)·KL(q‖sg p)`). At inference the prior is sampled,
so different samples can land on different valid answers.

The value head ranks prior samples at inference, so it is trained on them: beside each posterior step the
carry advances a rollout of the same puzzle from the prior, without gradients into its trajectory, and the
value head regresses whether that rollout's answer is valid (GRAM's value head, trained on the distribution
it ranks). The halting head trains on the posterior trajectory, as in deep supervision.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

import torch
import torch.nn.functional as F
from torch import Tensor

from zoo.contract import LatentPosterior, SupervisionStep, SupervisionStepper, ValueHead
from zoo.errors import ZooError
from zoo.evaluation.metrics import verified
from zoo.regimes.deep_supervision import Carry, DeepSupervision
from zoo.registry import register_regime


class GenerativeFamily(SupervisionStepper, LatentPosterior, ValueHead, Protocol):
    """What VariationalRecursion trains: every capability it requires."""


@dataclass
class PriorCarry(Carry):
    """The carry of deep supervision plus a prior rollout of each puzzle: prior_y, prior_z [B, L, D]."""

    prior_y: Tensor
    prior_z: Tensor


@register_regime
@dataclass
class VariationalRecursion(DeepSupervision):
    """Deep supervision with a latent posterior: sampled transitions, β·KL to a learned prior, a value head.

    Attributes:
        beta: weight of the KL term (GRAM: Sudoku 0.1, N-Queens 0.07).
        kl_balance: share of the KL gradient that moves the prior (0.8 in GRAM).
        kl_per: how the KL is normalised next to the cross-entropy, which is a mean over cells: "puzzle" (KL
            summed over the puzzle's cells and latent dimensions, so β weighs the whole latent; the zoo's
            setting) or "cell" (KL per cell: the per-cell ELBO, where β weighs L times less). "puzzle" is
            kept because a weaker KL measured worse: β 0.01 instead of 0.07 (1,600 steps) reached only
            coverage@20 0.09 on N-Queens 8×8; "cell" would weaken it 64 times there (docs/results/gram.md).
        posterior: sample training noise from the posterior (False: from the prior, no KL; an ablation).
        value_loss_weight: weight of the value head's loss (it predicts `value_target`).
        value_on: "prior" (the value head learns on prior rollouts, the samples it ranks) or "posterior" (on
            the posterior trajectory, which has seen the target; the zoo's behaviour before, an ablation).
        value_target: what the value head regresses: "accuracy" (1 for a verified answer, else the share of
            cells that match the training target; GRAM regresses accuracy) or "valid" (verified or not).
        max_steps, halt_exploration, halt_loss_weight: see DeepSupervision.
    """

    requires: ClassVar[tuple[str, ...]] = ("supervision_step", "latent_posterior", "value_head")
    # The posterior trajectory (y, z) and the prior rollout of the same puzzle (prior_y, prior_z).
    state_type: ClassVar[type] = PriorCarry

    beta: float = 0.1
    kl_balance: float = 0.8
    kl_per: Literal["puzzle", "cell"] = "puzzle"
    posterior: bool = True
    value_loss_weight: float = 0.5
    value_on: Literal["prior", "posterior"] = "prior"
    value_target: Literal["accuracy", "valid"] = "accuracy"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.target != "stored":
            raise ZooError(
                "VariationalRecursion trains its posterior toward the stored solution; target: nearest is a setting "
                "of DeepSupervision only",
                key="regime.init_args.target",
            )
        if self.beta < 0 or not 0.0 <= self.kl_balance <= 1.0:
            raise ZooError(
                f"need beta >= 0 and kl_balance in [0, 1], got beta={self.beta}, kl_balance={self.kl_balance}",
                key="regime.init_args.beta",
            )
        choices = (
            ("kl_per", ("puzzle", "cell")),
            ("value_on", ("prior", "posterior")),
            ("value_target", ("accuracy", "valid")),
        )
        for name, allowed in choices:
            if getattr(self, name) not in allowed:
                raise ZooError(
                    f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}",
                    key=f"regime.init_args.{name}",
                )

    def advance(self, family: GenerativeFamily, x: Tensor, carry: Carry) -> SupervisionStep:
        """The posterior step (noise inferred from the target), or with `posterior` off a step from the prior."""
        if not self.posterior:
            return family.supervision_step(x, (carry.y, carry.z))
        return family.posterior_step(x, (carry.y, carry.z), carry.targets, self.kl_balance)

    def fresh_carry(
        self, family: GenerativeFamily, inputs: Tensor, targets: Tensor, steps: Tensor, halted: Tensor
    ) -> PriorCarry:
        carry = super().fresh_carry(family, inputs, targets, steps, halted)
        prior_y, prior_z = family.initial_state(*inputs.shape)
        return PriorCarry(**vars(carry), prior_y=prior_y, prior_z=prior_z)

    def step_loss(
        self, family: GenerativeFamily, carry: Carry, step: SupervisionStep
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Reconstruction + β·KL + halting losses of the posterior step (and its value loss with value_on
        "posterior")."""
        loss, stats = self.loss(step.logits, carry.targets, step.halt_logits)
        cells, width = step.state[0].shape[1:]
        kl = step.kl.float().mean() if step.kl is not None else step.logits.new_zeros(())
        loss = loss + self.beta * (kl if self.kl_per == "puzzle" else kl / cells)
        valid = verified(family.task, carry.inputs, step.logits.argmax(-1).detach())
        stats.update(kl=kl.detach(), kl_per_dimension=kl.detach() / (cells * width), valid=valid.float().mean())
        if self.value_on == "posterior":
            value_loss = self.value_loss(step.value_logits, valid, step.logits, carry.targets)
            loss = loss + self.value_loss_weight * value_loss
            stats["value_loss"] = value_loss.detach()
        return loss, stats

    def beside_the_step(
        self, family: GenerativeFamily, x: Tensor, carry: PriorCarry, step: SupervisionStep, loss: Tensor, stats: dict
    ) -> tuple[Tensor, PriorCarry]:
        """Advance the prior rollout of each puzzle by one step (no gradient into it) and train the value head
        on its answer; report how much more often the posterior trajectory's answer is valid than the prior's."""
        if self.value_on != "prior":
            return loss, carry
        with torch.no_grad():
            rollout = family.supervision_step(x, (carry.prior_y, carry.prior_z))
        valid = verified(family.task, carry.inputs, rollout.logits.argmax(-1))
        value_logits = family.value(rollout.state)  # the state is detached: only the value head learns
        value_loss = self.value_loss(value_logits, valid, rollout.logits, carry.targets)
        stats.update(
            value_loss=value_loss.detach(),
            prior_valid=valid.float().mean(),
            posterior_prior_gap=stats["valid"] - valid.float().mean(),
        )
        carry = dataclasses.replace(carry, prior_y=rollout.state[0], prior_z=rollout.state[1])
        return loss + self.value_loss_weight * value_loss, carry

    def value_loss(self, value_logits: Tensor, valid: Tensor, logits: Tensor, targets: Tensor) -> Tensor:
        """BCE of value logits [B] against the answer's score: 1 where `valid` [B], else (value_target
        "accuracy") the share of the answer read from logits [B, L, V] that matches targets [B, L]."""
        score = valid.float()
        if self.value_target == "accuracy":
            accuracy = (logits.detach().argmax(-1) == targets).float().mean(-1)
            score = torch.where(valid, 1.0, accuracy)
        return F.binary_cross_entropy_with_logits(value_logits.float(), score)
