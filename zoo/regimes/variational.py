"""Variational deep supervision (GRAM style): a latent noise on the recursion, inferred from the target.

During training the noise ε added to the high-level state is drawn from a posterior q(ε | u, y) that sees
the target y; the loss is the answer's cross-entropy plus β·KL(q‖p) against the learned prior p(ε | u),
with KL balancing (`balance·KL(sg q‖p) + (1 − balance)·KL(q‖sg p)`). At inference the prior is sampled,
so different samples can land on different valid answers. The halting head and value head train beside.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import torch.nn.functional as F
from torch import Tensor

from zoo.errors import ZooError
from zoo.metrics import verified
from zoo.regimes.deep_supervision import Carry, DeepSupervision
from zoo.registry import register_regime

if TYPE_CHECKING:
    from zoo.models.base import ReasoningFamily
    from zoo.models.recursive import SupervisionStep


@register_regime
@dataclass
class VariationalRecursion(DeepSupervision):
    """Deep supervision with a latent posterior: sampled transitions, β·KL to a learned prior, a value head.

    Attributes:
        beta: weight of the KL term (GRAM: Sudoku 0.1, N-Queens 0.07).
        kl_balance: share of the KL gradient that moves the prior (0.8 in GRAM).
        posterior: sample training noise from the posterior (False: from the prior, no KL; an ablation).
        value_loss_weight: weight of the value head's loss (it predicts whether the answer is valid).
        max_steps, halt_exploration, halt_loss_weight: see DeepSupervision.
    """

    requires: ClassVar[tuple[str, ...]] = ("supervision_step", "latent_posterior", "value_head")

    beta: float = 0.1
    kl_balance: float = 0.8
    posterior: bool = True
    value_loss_weight: float = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.beta < 0 or not 0.0 <= self.kl_balance <= 1.0:
            raise ZooError(
                f"need beta >= 0 and kl_balance in [0, 1], got beta={self.beta}, kl_balance={self.kl_balance}",
                key="regime.init_args.beta",
            )

    def posterior_target(self, carry: Carry) -> Tensor | None:
        return carry["targets"] if self.posterior else None

    def step_loss(
        self, family: ReasoningFamily, carry: Carry, step: SupervisionStep
    ) -> tuple[Tensor, dict[str, Tensor]]:
        valid = verified(family.task, carry["inputs"], step.logits.argmax(-1).detach())
        return self.variational_loss(step.logits, carry["targets"], step.halt_logits, step.kl, step.value_logits, valid)

    def variational_loss(
        self, logits: Tensor, targets: Tensor, halt_logits: Tensor, kl: Tensor, value_logits: Tensor, valid: Tensor
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Reconstruction + β·KL + halting + value losses.

        Args:
            logits: [B, L, V]; targets: [B, L]; halt_logits: [B].
            kl: [B] KL(q‖p) summed over cells (zeros when there is no posterior).
            value_logits: [B] value head; valid: [B] whether the answer solves the puzzle (its target).
        """
        loss, stats = self.loss(logits, targets, halt_logits)
        value_loss = F.binary_cross_entropy_with_logits(value_logits.float(), valid.float())
        kl_mean = kl.float().mean()
        loss = loss + self.beta * kl_mean + self.value_loss_weight * value_loss
        stats.update(kl=kl_mean.detach(), value_loss=value_loss.detach(), valid=valid.float().mean())
        return loss, stats
