"""Energy descent (EBT style): train an energy landscape by unrolling the descent that thinks with it.

The loss is the cross-entropy of the prediction after each descent step (or the last), backpropagated
through the unrolled steps (second order: the descent direction is itself a gradient of the energy).
`TruncatedEnergyDescent` keeps the graph through the last step only. The regularisers that made "thinking
longer" work in the EBT paper are options here: a random step count, a random step size per position,
Langevin noise on the logits, and a replay buffer of final predictions used as warm starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from zoo.contract import EnergyDescender
from zoo.errors import ZooError
from zoo.regimes.base import Regime
from zoo.registry import register_regime
from zoo.tasks.base import FIRST_SYMBOL_TOKEN


@dataclass
class ReplayBuffer:
    """Final predictions of earlier batches, replayed as warm starts (FIFO): inputs, targets [K, L] token ids and
    the logits [K, L, S] the descent ended at."""

    inputs: Tensor
    targets: Tensor
    logits: Tensor


def confidently_wrong(logits: Tensor, symbols: Tensor, confidence: float = 0.99) -> Tensor:
    """Share of cells whose belief is confidently wrong: max probability above `confidence` on a symbol other
    than the target. logits [C, S], symbols [C] -> a scalar. High values mean the descent has saturated: the
    softmax's gradient vanishes there, and no further step can move those cells."""
    probs = logits.float().softmax(-1)
    confident, choice = probs.max(-1)
    return ((confident > confidence) & (choice != symbols)).float().mean()


@register_regime
@dataclass
class EnergyDescent(Regime):
    """Unrolled energy descent, second order: the loss backpropagates through every descent step.

    Attributes:
        steps: descent steps per training example (the maximum when `random_steps`).
        random_steps: draw the step count uniformly from [min_steps, steps] per batch.
        min_steps: smallest random step count.
        step_size_lr_multiplier: α's learning rate is the family's lr times this (α itself, whether it is learned,
            the clip and the initial beliefs are the family's settings: they decide how it thinks).
        random_step_size: scale α by a factor drawn uniformly in [1/s, s] with s = this (1.0 disables).
        step_size_per: draw that factor per "puzzle" (one per sample, shape [B, 1], as the official
            bidirectional EBT does: a jointly solved puzzle is one problem) or per "position" (per cell, [B, L],
            as the autoregressive text EBT does, where positions are separate problems).
        noise_scale: σ of the Langevin noise of each training step: the logits become y + σ·ε, the gradient is
            taken there, and the step moves them (the noise stays in the state, as in the official EBT).
        loss_on: "all" (mean cross-entropy over steps) or "last".
        replay_size: FIFO buffer of final predictions (0 disables); replayed examples start from their
            stored logits instead of noise.
        replay_fraction: fraction of each batch taken from the buffer once it is full enough.
    """

    requires: ClassVar[tuple[str, ...]] = ("energy_descent",)
    state_type: ClassVar[type] = ReplayBuffer
    state_name: ClassVar[str] = "_replay"
    moved_to_family: ClassVar[tuple[str, ...]] = ("step_size", "learn_step_size", "clip", "init_scale")

    steps: int = 4
    random_steps: bool = True
    min_steps: int = 2
    step_size_lr_multiplier: float = 10.0
    random_step_size: float = 2.0
    step_size_per: Literal["puzzle", "position"] = "puzzle"
    noise_scale: float = 0.1
    loss_on: Literal["all", "last"] = "all"
    replay_size: int = 0
    replay_fraction: float = 0.5

    def __post_init__(self) -> None:
        if not 1 <= self.min_steps <= self.steps:
            raise ZooError(
                f"need 1 <= min_steps <= steps, got min_steps={self.min_steps}, steps={self.steps}",
                key="regime.init_args.min_steps",
            )
        if self.random_step_size < 1.0:
            raise ZooError(
                f"random_step_size is a spread factor >= 1 (1 disables), got {self.random_step_size}",
                key="regime.init_args.random_step_size",
            )
        if self.step_size_per not in ("puzzle", "position"):
            raise ZooError(
                f"step_size_per must be 'puzzle' or 'position', got {self.step_size_per!r}",
                key="regime.init_args.step_size_per",
            )
        if self.loss_on not in ("all", "last"):
            raise ZooError(f"loss_on must be 'all' or 'last', got {self.loss_on!r}", key="regime.init_args.loss_on")
        if not 0.0 <= self.replay_fraction < 1.0:
            raise ZooError(
                f"replay_fraction must be in [0, 1), got {self.replay_fraction}", key="regime.init_args.replay_fraction"
            )

    @property
    def step_cost_varies(self) -> bool:
        return self.random_steps

    def step_count(self) -> int:
        """Descent steps for this batch."""
        if not self.random_steps:
            return self.steps
        return int(torch.randint(self.min_steps, self.steps + 1, ()).item())

    def step_scale(self, shape: torch.Size, device: torch.device) -> torch.Tensor | None:
        """Factors on α, uniform in [1/s, s]: [B, 1] per puzzle or [B, L] per position; None when disabled."""
        spread = self.random_step_size
        if spread == 1.0:
            return None
        batch, cells = shape
        size = (batch, 1) if self.step_size_per == "puzzle" else (batch, cells)
        return torch.empty(size, device=device).uniform_(1.0 / spread, spread)

    @classmethod
    def upgrade(cls, settings: dict[str, Any]) -> tuple[type[Regime], dict[str, Any]]:
        """Models saved before truncation became its own regime wrote `truncate: true|false` here."""
        truncate = settings.pop("truncate", False)
        return (TruncatedEnergyDescent if truncate else cls), settings

    def keeps_graph(self, step: int, steps: int) -> bool:
        """Whether the loss backpropagates through descent step `step` of `steps` (all of them: a full unroll)."""
        return True

    def detaches_input(self, step: int, steps: int) -> bool:
        """Whether step `step` starts from logits cut from the graph of the steps before it."""
        return not self.keeps_graph(step, steps)

    # ---- the training step -------------------------------------------------------------------------

    def parameter_groups(self, family: EnergyDescender, groups: list[dict[str, Any]], lr: float) -> list[dict]:
        """α trains with its own learning-rate multiplier (the scheduler scales every group alike)."""
        alpha = family.step_size_parameter()
        for group in groups:
            group["params"] = [p for p in group["params"] if p is not alpha]
        if alpha.requires_grad:
            groups.append({"params": [alpha], "weight_decay": 0.0, "lr": lr * self.step_size_lr_multiplier})
        return groups

    # ---- the training step -------------------------------------------------------------------------

    def training_loss(
        self, family: EnergyDescender, batch: dict[str, Tensor], state: ReplayBuffer | None
    ) -> tuple[Tensor, dict[str, Tensor], ReplayBuffer | None]:
        inputs, targets = batch["inputs"], batch["targets"]
        logits = family.initial_logits(inputs.shape[0], inputs.device)
        inputs, targets, logits, replayed = self._with_replay(state, inputs, targets, logits)
        blank = inputs < FIRST_SYMBOL_TOKEN
        symbols = targets[blank] - FIRST_SYMBOL_TOKEN
        alpha = family.step_size_parameter()
        step_size = alpha.clamp(min=1e-4)
        scale = self.step_scale(inputs.shape, inputs.device)
        step_size = step_size if scale is None else step_size * scale[..., None]  # [B, 1, 1] or [B, L, 1]
        steps = self.step_count()
        losses, stats = [], {}
        for step in range(steps):
            with_graph = self.keeps_graph(step, steps)
            if self.detaches_input(step, steps):
                logits = logits.detach()
            energies, _, logits = family.descent_step(
                inputs, logits, step_size, self.noise_scale, create_graph=with_graph
            )
            losses.append(F.cross_entropy(logits[blank].float(), symbols))
            stats[f"confidently_wrong@{step + 1}"] = confidently_wrong(logits.detach()[blank], symbols)
        loss = torch.stack(losses).mean() if self.loss_on == "all" else losses[-1]
        state = self._remember(state, inputs[replayed:], targets[replayed:], logits[replayed:])
        stats.update(
            last_step_loss=losses[-1].detach(),
            step_size=alpha.detach(),
            mean_step_size=step_size.detach().mean(),
            energy=energies.detach().sum(-1).mean(),
        )
        return loss, stats, state

    def _with_replay(
        self, buffer: ReplayBuffer | None, inputs: Tensor, targets: Tensor, logits: Tensor
    ) -> tuple[Tensor, Tensor, Tensor, int]:
        """Swap the first rows of the batch for buffered (puzzle, target, final logits); returns how many."""
        count = int(self.replay_fraction * inputs.shape[0])
        if self.replay_size == 0 or buffer is None or buffer.inputs.shape[0] < count or count == 0:
            return inputs, targets, logits, 0
        pick = torch.randperm(buffer.inputs.shape[0], device=inputs.device)[:count]
        inputs = torch.cat([buffer.inputs[pick], inputs[count:]])
        targets = torch.cat([buffer.targets[pick], targets[count:]])
        logits = torch.cat([buffer.logits[pick], logits[count:]])
        return inputs, targets, logits, count

    def _remember(
        self, buffer: ReplayBuffer | None, inputs: Tensor, targets: Tensor, logits: Tensor
    ) -> ReplayBuffer | None:
        """The FIFO replay buffer with these final predictions pushed in (None when replay is off)."""
        if self.replay_size == 0:
            return None
        fresh = ReplayBuffer(inputs, targets, logits.detach())
        if buffer is not None:
            fresh = ReplayBuffer(
                *(torch.cat([old, new]) for old, new in zip(vars(buffer).values(), vars(fresh).values()))
            )
        return ReplayBuffer(*(value[-self.replay_size :] for value in vars(fresh).values()))


@register_regime
@dataclass
class TruncatedEnergyDescent(EnergyDescent):
    """Truncated energy descent, first order: the loss backpropagates through the last descent step only.

    Earlier steps are detached: cheaper per step, and the official EBT System-2 training setting. Settings:
    see EnergyDescent.
    """

    def keeps_graph(self, step: int, steps: int) -> bool:
        return step == steps - 1

    def detaches_input(self, step: int, steps: int) -> bool:
        return True  # even the last step: the logits it starts from depend on α through the steps before
