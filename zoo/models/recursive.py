"""Deterministic recursive reasoner (TRM style): one small network revises an answer and a latent in cycles.

One *cycle* is `n` latent updates `z ← net(z + y + x)` followed by one answer update `y ← net(y + z)`.
One *supervision step* runs `T − 1` cycles without gradients and a last cycle with full backprop, then reads
logits and a halting logit from `y`. The budget of `think` is the number of supervision steps.
"""

from __future__ import annotations

from typing import Any, Literal, Sequence

import torch
from torch import Tensor, nn

from zoo.budget import Budget
from zoo.models.base import ReasoningFamily, Thought
from zoo.nn import ReasoningNet
from zoo.regimes import DeepSupervision, instantiate_regime
from zoo.registry import register_family
from zoo.errors import ZooError


class RecursiveNet(nn.Module):
    """Embeddings, the shared reasoning network, and the answer and halting heads.

    Args:
        vocab_size: V, token ids of inputs and answers.
        seq_len: L, cells per puzzle.
        width: D.
        depth, mixer, heads, expansion: see `ReasoningNet`.
    """

    def __init__(
        self, vocab_size: int, seq_len: int, width: int, depth: int, mixer: str, heads: int, expansion: float
    ) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, width)
        self.position = nn.Parameter(torch.randn(seq_len, width) * 0.02)
        self.net = ReasoningNet(width, seq_len, depth, mixer, heads, expansion)
        self.answer_head = nn.Linear(width, vocab_size, bias=False)
        self.halt_head = nn.Linear(width, 1)
        nn.init.zeros_(self.halt_head.weight)
        nn.init.constant_(self.halt_head.bias, -5.0)  # start by never halting, as TRM does
        # Fixed starting states, drawn once and kept in the checkpoint.
        self.register_buffer("y_init", torch.randn(width) * 0.5)
        self.register_buffer("z_init", torch.randn(width) * 0.5)

    def embed_inputs(self, inputs: Tensor) -> Tensor:
        """[B, L] token ids -> [B, L, D]"""
        return self.embed(inputs) + self.position

    def initial_state(self, batch: int, seq_len: int) -> tuple[Tensor, Tensor]:
        """Starting (y, z), each [B, L, D]."""
        shape = (batch, seq_len, self.y_init.shape[0])
        return self.y_init.expand(shape).clone(), self.z_init.expand(shape).clone()

    def cycle(self, x: Tensor, y: Tensor, z: Tensor, latent_updates: int) -> tuple[Tensor, Tensor]:
        """One cycle on [B, L, D] tensors."""
        for _ in range(latent_updates):
            z = self.net(z + y + x)
        y = self.net(y + z)
        return y, z

    def read(self, y: Tensor) -> tuple[Tensor, Tensor]:
        """Answer logits [B, L, V] and halting logit [B] from the answer state [B, L, D]."""
        return self.answer_head(y), self.halt_head(y.mean(dim=1)).squeeze(-1)


@register_family
class RecursiveReasoner(ReasoningFamily):
    """TRM-style deterministic recursive reasoner trained with deep supervision.

    Args:
        task: task spec (linked from the data module in recipes).
        regime: deep-supervision settings.
        width: hidden width D.
        depth: blocks in the shared network.
        mixer: "mlp" (MLP-mixer; fixed-size grids) or "attention".
        heads: attention heads.
        expansion: feed-forward width multiple.
        cycles: T, cycles per supervision step (the last with gradients).
        latent_updates: n, latent updates per cycle.
        Other arguments: see `ReasoningFamily`.
    """

    # The carry: puzzles in flight across batches with their (y, z) states; resumed runs continue it.
    training_state_attributes = ("_carry",)

    def __init__(
        self,
        task: dict[str, Any],
        regime: DeepSupervision | None = None,
        width: int = 128,
        depth: int = 2,
        mixer: Literal["mlp", "attention"] = "mlp",
        heads: int = 4,
        expansion: float = 4.0,
        cycles: int = 3,
        latent_updates: int = 6,
        eval_budgets: Sequence[int | str] = (1, 2, 4, 8, 16),
        lr: float = 1e-4,
        weight_decay: float = 0.1,
        betas: tuple[float, float] = (0.9, 0.95),
        warmup_steps: int = 100,
        lr_min_ratio: float = 1.0,
        ema_decay: float = 0.999,
    ) -> None:
        super().__init__(task, eval_budgets, lr, weight_decay, betas, warmup_steps, lr_min_ratio, ema_decay)
        if cycles < 1 or latent_updates < 1:
            raise ZooError(
                f"cycles and latent_updates must be >= 1, got {cycles} and {latent_updates}",
                key="cycles" if cycles < 1 else "latent_updates",
            )
        self.regime = instantiate_regime(regime) if regime is not None else DeepSupervision()
        self._save_hparams(self.regime)
        self.model = self.build_model()
        self._init_ema()
        self._carry: dict[str, Tensor] | None = None

    def build_model(self) -> RecursiveNet:
        hp = self.hparams
        return RecursiveNet(
            self.task.vocab_size, self.task.num_cells, hp.width, hp.depth, hp.mixer, hp.heads, hp.expansion
        )

    # ---- one supervision step ----------------------------------------------------------------------

    def supervision_step(
        self, model: RecursiveNet, x: Tensor, y: Tensor, z: Tensor
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Advance (y, z) [B, L, D] by one supervision step given embedded inputs x [B, L, D].

        Returns (y, z) detached for the next step, logits [B, L, V] and halting logits [B].
        """
        cycles, updates = self.hparams.cycles, self.hparams.latent_updates
        with torch.no_grad():
            for _ in range(cycles - 1):
                y, z = model.cycle(x, y, z, updates)
        y, z = model.cycle(x, y, z, updates)
        logits, halt_logits = model.read(y)
        return y.detach(), z.detach(), logits, halt_logits

    @torch.no_grad()
    def think(self, inputs: Tensor, budget: Budget | int) -> Thought:
        """Run `budget.steps` supervision steps on puzzles [B, L]; no early halting (the trail keeps every step)."""
        budget = Budget.of(budget)
        if budget.samples != 1:
            raise ZooError(
                "RecursiveReasoner is deterministic: a budget of several samples has nothing to sample", key="budgets"
            )
        model = self.inference_model
        x = model.embed_inputs(inputs)
        y, z = model.initial_state(*inputs.shape)
        trail, halts = [], []
        for _ in range(budget.steps):
            y, z, logits, halt_logits = self.supervision_step(model, x, y, z)
            trail.append(logits.argmax(-1))
            halts.append(halt_logits)
        return Thought(answer=trail[-1], logits=logits, trail=torch.stack(trail), halt_logits=torch.stack(halts))

    # ---- training with a persistent carry ----------------------------------------------------------

    def _refresh_carry(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        """Replace halted samples of the carry with fresh puzzles from `batch` (all of them at the start)."""
        inputs, targets = batch["inputs"], batch["targets"]
        carry = self._carry
        if carry is None or carry["inputs"].shape != inputs.shape:
            y, z = self.model.initial_state(*inputs.shape)
            halted = torch.ones(inputs.shape[0], dtype=torch.bool, device=inputs.device)
            steps = torch.zeros_like(halted, dtype=torch.long)
            carry = {"inputs": inputs, "targets": targets, "y": y, "z": z, "steps": steps, "halted": halted}
        fresh = carry["halted"]
        y0, z0 = self.model.initial_state(*inputs.shape)
        per_cell = fresh[:, None]
        per_state = fresh[:, None, None]
        return {
            "inputs": torch.where(per_cell, inputs, carry["inputs"]),
            "targets": torch.where(per_cell, targets, carry["targets"]),
            "y": torch.where(per_state, y0, carry["y"]),
            "z": torch.where(per_state, z0, carry["z"]),
            "steps": torch.where(fresh, 0, carry["steps"]),
            "halted": fresh,
        }

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        carry = self._refresh_carry(batch)
        x = self.model.embed_inputs(carry["inputs"])
        y, z, logits, halt_logits = self.supervision_step(self.model, x, carry["y"], carry["z"])
        loss, stats = self.regime.loss(logits, carry["targets"], halt_logits)
        steps = carry["steps"] + 1
        halted = self.regime.halted(halt_logits.detach(), steps)
        self._carry = {**carry, "y": y, "z": z, "steps": steps, "halted": halted}
        self.log("train/loss", loss, prog_bar=True)
        for name, value in stats.items():
            self.log(f"train/{name}", value)
        if halted.any():
            self.log("train/steps_at_halt", steps[halted].float().mean())
        return loss
