"""Deep supervision with learned halting (TRM/HRM style).

Each optimizer step is one *supervision step*: the family advances a persistent per-sample carry by one
step, the answer read from it is scored, and the carry is detached before the next step. A halting head
learns to predict whether the current answer is already exactly right, so inference can stop early. A
sample that halts (or reaches `max_steps`) is replaced by a fresh puzzle of the next batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from zoo.errors import ZooError
from zoo.regimes.base import Regime
from zoo.registry import register_regime

if TYPE_CHECKING:
    from zoo.models.base import ReasoningFamily
    from zoo.models.recursive import SupervisionStep

Carry = dict[str, Tensor]


@register_regime
@dataclass
class DeepSupervision(Regime):
    """Deep supervision: a carry of puzzles advanced one supervision step per batch, answer + halting losses.

    Attributes:
        max_steps: supervision steps a training sample gets at most before it is replaced by a fresh one.
        halt_exploration: probability that a sample must run a random minimum of [2, max_steps] steps
            before its halting head may stop it (keeps the head from halting everything early).
        halt_loss_weight: weight of the halting head's binary cross-entropy next to the answer loss.
    """

    requires: ClassVar[tuple[str, ...]] = ("supervision_step",)
    # The carry: puzzles in flight across batches with their states; resumed runs continue it.
    state_attributes: ClassVar[tuple[str, ...]] = ("_carry",)
    # The states the carry holds per puzzle, in (y, z) pairs.
    state_keys: ClassVar[tuple[str, ...]] = ("y", "z")

    max_steps: int = 16
    halt_exploration: float = 0.1
    halt_loss_weight: float = 0.5

    def __post_init__(self) -> None:
        if self.max_steps < 1:
            raise ZooError(f"max_steps must be >= 1, got {self.max_steps}", key="regime.init_args.max_steps")
        if not 0.0 <= self.halt_exploration <= 1.0:
            raise ZooError(
                f"halt_exploration is a probability, got {self.halt_exploration}",
                key="regime.init_args.halt_exploration",
            )

    # ---- the training step -------------------------------------------------------------------------

    def training_loss(self, family: ReasoningFamily, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        carry = self.refresh_carry(family, batch)
        x = family.model.embed_inputs(carry["inputs"])
        step = family.supervision_step(family.model, x, (carry["y"], carry["z"]), self.posterior_target(carry))
        loss, stats = self.step_loss(family, carry, step)
        carry = {**carry, "y": step.state[0], "z": step.state[1]}
        loss, carry = self.beside_the_step(family, x, carry, step, loss, stats)
        steps = carry["steps"] + 1
        halted = self.halted(step.halt_logits.detach(), steps)
        family.regime_state["_carry"] = {**carry, "steps": steps, "halted": halted}
        if halted.any():
            stats["steps_at_halt"] = steps[halted].float().mean()
        return loss, stats

    def beside_the_step(
        self, family: ReasoningFamily, x: Tensor, carry: Carry, step: SupervisionStep, loss: Tensor, stats: dict
    ) -> tuple[Tensor, Carry]:
        """Further loss terms and carry entries of a training step (none here: see VariationalRecursion)."""
        return loss, carry

    def posterior_target(self, carry: Carry) -> Tensor | None:
        """The target a family's posterior may see in training (none: deep supervision trains without one)."""
        return None

    def step_loss(
        self, family: ReasoningFamily, carry: Carry, step: SupervisionStep
    ) -> tuple[Tensor, dict[str, Tensor]]:
        return self.loss(step.logits, carry["targets"], step.halt_logits)

    def refresh_carry(self, family: ReasoningFamily, batch: dict[str, Tensor]) -> Carry:
        """The carry with halted samples replaced by fresh puzzles from `batch` (all of them at the start).

        Keys: inputs, targets [B, L]; the family's state (`state_keys`: y, z [B, L, D], from its initial state);
        steps [B] taken so far; halted [B].
        """
        inputs, targets = batch["inputs"], batch["targets"]
        carry = family.regime_state.get("_carry")
        if carry is None or carry["inputs"].shape != inputs.shape or any(key not in carry for key in self.state_keys):
            halted = torch.ones(inputs.shape[0], dtype=torch.bool, device=inputs.device)
            steps = torch.zeros_like(halted, dtype=torch.long)
            carry = {"inputs": inputs, "targets": targets, "steps": steps, "halted": halted}
            carry.update(self._initial_states(family, inputs))
        fresh = carry["halted"]
        per_cell = fresh[:, None]
        per_state = fresh[:, None, None]
        initial = self._initial_states(family, inputs)
        return {
            "inputs": torch.where(per_cell, inputs, carry["inputs"]),
            "targets": torch.where(per_cell, targets, carry["targets"]),
            **{key: torch.where(per_state, initial[key], carry[key]) for key in self.state_keys},
            "steps": torch.where(fresh, 0, carry["steps"]),
            "halted": fresh,
        }

    def _initial_states(self, family: ReasoningFamily, inputs: Tensor) -> dict[str, Tensor]:
        """Each carried state (pairs of `state_keys`) at the family's starting state."""
        keys = iter(self.state_keys)
        states = {}
        for first, second in zip(keys, keys):
            states[first], states[second] = family.model.initial_state(*inputs.shape)
        return states

    # ---- the objective -----------------------------------------------------------------------------

    def loss(self, logits: Tensor, targets: Tensor, halt_logits: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """Answer cross-entropy plus halting BCE against "the whole answer is exactly right".

        Args:
            logits: [B, L, V] answer logits after this supervision step.
            targets: [B, L] target token ids.
            halt_logits: [B] halting head output.
        Returns:
            the scalar loss and detached statistics for logging.
        """
        answer_loss = F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten())
        exact = (logits.argmax(-1) == targets).all(-1)
        halt_loss = F.binary_cross_entropy_with_logits(halt_logits.float(), exact.float())
        loss = answer_loss + self.halt_loss_weight * halt_loss
        stats = {"answer_loss": answer_loss.detach(), "halt_loss": halt_loss.detach(), "exact": exact.float().mean()}
        return loss, stats

    def halted(self, halt_logits: Tensor, steps: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Which samples stop after this step. halt_logits [B], steps [B] (steps taken so far) -> bool [B]."""
        halted = (steps >= self.max_steps) | (halt_logits > 0)
        explore = torch.rand(steps.shape, generator=generator, device=steps.device) < self.halt_exploration
        minimum = torch.randint(2, self.max_steps + 1, steps.shape, generator=generator, device=steps.device)
        must_continue = explore & (steps < minimum)
        return halted & ~must_continue | (steps >= self.max_steps)
