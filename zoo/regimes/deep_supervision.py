"""Deep supervision with learned halting (TRM/HRM style).

Each optimizer step is one *supervision step*: the family advances a persistent per-sample carry by one
step, the answer read from it is scored, and the carry is detached before the next step. A halting head
learns to predict whether the current answer is already exactly right, so inference can stop early. A
sample that halts (or reaches `max_steps`) is replaced by a fresh puzzle of the next batch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from zoo.contract import SupervisionStep, SupervisionStepper
from zoo.errors import ZooError
from zoo.regimes.base import Regime
from zoo.registry import register_regime


@dataclass
class Carry:
    """The puzzles in flight across batches.

    Attributes:
        inputs: [B, L] token ids.
        targets: [B, L] token ids, or [B, K, L] the puzzle's solutions when training toward the nearest one.
        steps: [B] supervision steps taken so far.
        halted: [B] whether each puzzle stopped after the last step (replaced by a fresh one at the next).
        y, z: [B, L, D] the family's state.
    """

    inputs: Tensor
    targets: Tensor
    steps: Tensor
    halted: Tensor
    y: Tensor
    z: Tensor


@register_regime
@dataclass
class DeepSupervision(Regime):
    """Deep supervision: a carry of puzzles advanced one supervision step per batch, answer + halting losses.

    Attributes:
        max_steps: supervision steps a training sample gets at most before it is replaced by a fresh one.
        halt_exploration: probability that a sample must run a random minimum of [2, max_steps] steps
            before its halting head may stop it (keeps the head from halting everything early).
        halt_loss_weight: weight of the halting head's binary cross-entropy next to the answer loss.
        target: what the answer is scored against: "stored", the one solution stored with each puzzle, or
            "nearest", the solution (of the puzzle's enumerated solutions, `data.solutions: K`) with the lowest
            cross-entropy at this step, so that on puzzles with several answers a deterministic model can commit
            to one valid completion instead of being pulled toward a blend of them.
    """

    requires: ClassVar[tuple[str, ...]] = ("supervision_step",)
    state_type: ClassVar[type] = Carry
    state_name: ClassVar[str] = "_carry"

    max_steps: int = 16
    halt_exploration: float = 0.1
    halt_loss_weight: float = 0.5
    target: str = "stored"

    target_choices: ClassVar[tuple[str, ...]] = ("stored", "nearest")

    def __post_init__(self) -> None:
        if self.target not in self.target_choices:
            raise ZooError(
                f"target must be one of {', '.join(self.target_choices)}, got {self.target!r}",
                key="regime.init_args.target",
            )
        if self.max_steps < 1:
            raise ZooError(f"max_steps must be >= 1, got {self.max_steps}", key="regime.init_args.max_steps")
        if not 0.0 <= self.halt_exploration <= 1.0:
            raise ZooError(
                f"halt_exploration is a probability, got {self.halt_exploration}",
                key="regime.init_args.halt_exploration",
            )

    # ---- the training step -------------------------------------------------------------------------

    def training_loss(
        self, family: SupervisionStepper, batch: dict[str, Tensor], state: Carry | None
    ) -> tuple[Tensor, dict[str, Tensor], Carry]:
        carry = self.refresh_carry(family, batch, state)
        x = family.embed(carry.inputs)
        step = self.advance(family, x, carry)
        loss, stats = self.step_loss(family, carry, step)
        carry = dataclasses.replace(carry, y=step.state[0], z=step.state[1])
        loss, carry = self.beside_the_step(family, x, carry, step, loss, stats)
        steps = carry.steps + 1
        halted = self.halted(step.halt_logits.detach(), steps)
        if halted.any():
            stats["steps_at_halt"] = steps[halted].float().mean()
        return loss, stats, dataclasses.replace(carry, steps=steps, halted=halted)

    def advance(self, family: SupervisionStepper, x: Tensor, carry: Carry) -> SupervisionStep:
        """The supervision step of the carried puzzles (embedded x [B, L, D]) that the loss is taken on."""
        return family.supervision_step(x, (carry.y, carry.z))

    def beside_the_step(
        self, family: SupervisionStepper, x: Tensor, carry: Carry, step: SupervisionStep, loss: Tensor, stats: dict
    ) -> tuple[Tensor, Carry]:
        """Further loss terms and carry entries of a training step (none here: see VariationalRecursion)."""
        return loss, carry

    def step_loss(
        self, family: SupervisionStepper, carry: Carry, step: SupervisionStep
    ) -> tuple[Tensor, dict[str, Tensor]]:
        return self.loss(step.logits, carry.targets, step.halt_logits)

    def refresh_carry(self, family: SupervisionStepper, batch: dict[str, Tensor], carry: Carry | None) -> Carry:
        """The carry with halted puzzles replaced by fresh ones from `batch` (all of them at the start), which
        begin at the family's initial state with no steps taken."""
        inputs, targets = batch["inputs"], self.batch_targets(batch)
        if carry is None or carry.inputs.shape != inputs.shape:
            halted = torch.ones(inputs.shape[0], dtype=torch.bool, device=inputs.device)
            steps = torch.zeros_like(halted, dtype=torch.long)
            carry = self.fresh_carry(family, inputs, targets, steps, halted)
        fresh = carry.halted
        per_cell = fresh[:, None]
        per_state = fresh[:, None, None]
        per_target = fresh.view(-1, *[1] * (targets.ndim - 1))
        initial = self.fresh_carry(family, inputs, targets, carry.steps, fresh)
        states = {
            field.name: torch.where(per_state, getattr(initial, field.name), getattr(carry, field.name))
            for field in dataclasses.fields(carry)
            if field.name not in ("inputs", "targets", "steps", "halted")
        }
        return type(carry)(
            inputs=torch.where(per_cell, inputs, carry.inputs),
            targets=torch.where(per_target, targets, carry.targets),
            steps=torch.where(fresh, 0, carry.steps),
            halted=fresh,
            **states,
        )

    def batch_targets(self, batch: dict[str, Tensor]) -> Tensor:
        """What a fresh puzzle is scored against: the stored solution [B, L] or its solutions [B, K, L]."""
        if self.target == "stored":
            return batch["targets"]
        if "solutions" not in batch:
            raise ZooError(
                "regime target: nearest scores each answer against the nearest of the puzzle's solutions, but the "
                "batches carry only the stored one: set data.solutions to how many to enumerate (e.g. 16)",
                key="regime.init_args.target",
            )
        return batch["solutions"]

    def fresh_carry(
        self, family: SupervisionStepper, inputs: Tensor, targets: Tensor, steps: Tensor, halted: Tensor
    ) -> Carry:
        """A carry of puzzles `inputs` at the family's initial state."""
        y, z = family.initial_state(*inputs.shape)
        return Carry(inputs=inputs, targets=targets, steps=steps, halted=halted, y=y, z=z)

    # ---- the objective -----------------------------------------------------------------------------

    def loss(self, logits: Tensor, targets: Tensor, halt_logits: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """Answer cross-entropy plus halting BCE against "the whole answer is exactly right".

        Args:
            logits: [B, L, V] answer logits after this supervision step.
            targets: [B, L] target token ids, or [B, K, L] solutions, of which each puzzle is scored against the
                one with the lowest cross-entropy ("exactly right" then means equal to any of them).
            halt_logits: [B] halting head output.
        Returns:
            the scalar loss and detached statistics for logging.
        """
        if targets.ndim == 3:
            answer_loss, exact = self.nearest_solution_loss(logits, targets)
        else:
            answer_loss = F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten())
            exact = (logits.argmax(-1) == targets).all(-1)
        halt_loss = F.binary_cross_entropy_with_logits(halt_logits.float(), exact.float())
        loss = answer_loss + self.halt_loss_weight * halt_loss
        stats = {"answer_loss": answer_loss.detach(), "halt_loss": halt_loss.detach(), "exact": exact.float().mean()}
        return loss, stats

    @staticmethod
    def nearest_solution_loss(logits: Tensor, solutions: Tensor) -> tuple[Tensor, Tensor]:
        """Cross-entropy toward the nearest solution: logits [B, L, V], solutions [B, K, L] -> (the mean over
        puzzles of the lowest per-solution mean cross-entropy, bool [B] whether the answer equals a solution)."""
        log_probs = F.log_softmax(logits.float(), dim=-1)  # [B, L, V]
        per_solution = -log_probs[:, None].expand(-1, solutions.shape[1], -1, -1).gather(-1, solutions[..., None])
        nearest = per_solution.squeeze(-1).mean(-1).min(dim=1).values  # [B]
        exact = (logits.argmax(-1)[:, None] == solutions).all(-1).any(-1)
        return nearest.mean(), exact

    def halted(self, halt_logits: Tensor, steps: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Which samples stop after this step. halt_logits [B], steps [B] (steps taken so far) -> bool [B]."""
        halted = (steps >= self.max_steps) | (halt_logits > 0)
        explore = torch.rand(steps.shape, generator=generator, device=steps.device) < self.halt_exploration
        minimum = torch.randint(2, self.max_steps + 1, steps.shape, generator=generator, device=steps.device)
        must_continue = explore & (steps < minimum)
        return halted & ~must_continue | (steps >= self.max_steps)
