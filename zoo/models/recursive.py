"""Deterministic recursive reasoner (TRM style): one small network revises an answer and a latent in cycles.

One *cycle* is `n` latent updates `z ← net(z + y + x)` followed by one answer update `y ← net(y + z)`.
One *supervision step* runs `T − 1` cycles without gradients and a last cycle with full backprop, then reads
logits and a halting logit from `y`. The budget of `think` is the number of supervision steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor, nn

from zoo.contract import Exploration, State, SupervisionStep, answer_logits
from zoo.errors import ZooError
from zoo.evaluation.budget import Budget
from zoo.models.base import ReasoningFamily
from zoo.models.training import TrainingSettings
from zoo.nn import ReasoningNet
from zoo.regimes.base import Regime
from zoo.registry import register_family


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
        regime: how it is trained (default DeepSupervision).
        width: hidden width D.
        depth: blocks in the shared network.
        mixer: "mlp" (MLP-mixer; fixed-size grids) or "attention".
        heads: attention heads.
        expansion: feed-forward width multiple.
        cycles: T, cycles per supervision step (the last with gradients).
        latent_updates: n, latent updates per cycle.
        eval_budgets: supervision-step budgets measured in validation and test.
        training: optimiser, schedule and EMA settings (see `TrainingSettings`).
    """

    capabilities: ClassVar[frozenset[str]] = frozenset({"supervision_step"})
    default_regime_name: ClassVar[str] = "DeepSupervision"
    tiny_settings: ClassVar[dict[str, Any]] = {"width": 16, "expansion": 1.0, "cycles": 1, "latent_updates": 1}
    training_defaults: ClassVar[TrainingSettings] = TrainingSettings(lr=1e-4, ema_decay=0.999)

    def __init__(
        self,
        task: dict[str, Any],
        regime: Regime | None = None,
        width: int = 128,
        depth: int = 2,
        mixer: Literal["mlp", "attention"] = "mlp",
        heads: int = 4,
        expansion: float = 4.0,
        cycles: int = 3,
        latent_updates: int = 6,
        eval_budgets: Sequence[int | str] = (1, 2, 4, 8, 16),
        **training: Any,
    ) -> None:
        super().__init__(task, regime, eval_budgets, **training)
        if cycles < 1 or latent_updates < 1:
            raise ZooError(
                f"cycles and latent_updates must be >= 1, got {cycles} and {latent_updates}",
                key="cycles" if cycles < 1 else "latent_updates",
            )
        self._save_hparams()
        self.model = self.build_model()
        self._init_ema()

    def build_model(self) -> RecursiveNet:
        hp = self.hparams
        return RecursiveNet(
            self.task.vocab_size, self.task.num_cells, hp.width, hp.depth, hp.mixer, hp.heads, hp.expansion
        )

    # ---- the supervision_step capability (zoo.contract.SupervisionStepper): the trained network -------

    def embed(self, inputs: Tensor) -> Tensor:
        """Puzzles [B, L] -> embedded inputs [B, L, D]."""
        return self.model.embed_inputs(inputs)

    def initial_state(self, batch: int, cells: int) -> State:
        """The starting (y, z), each [B, L, D]."""
        return self.model.initial_state(batch, cells)

    def supervision_step(self, x: Tensor, state: State) -> SupervisionStep:
        """One supervision step of the trained network (see `step`)."""
        return self.step(self.model, x, state)

    # ---- one supervision step ----------------------------------------------------------------------

    def step(self, model: RecursiveNet, x: Tensor, state: State) -> SupervisionStep:
        """Advance the state (y, z) [B, L, D] of `model` by one supervision step given embedded inputs x [B, L, D]:
        `cycles - 1` cycles without gradients, the last with them."""
        cycles, updates = self.hparams.cycles, self.hparams.latent_updates
        y, z = state
        with torch.no_grad():
            for _ in range(cycles - 1):
                y, z = model.cycle(x, y, z, updates)
        y, z = model.cycle(x, y, z, updates)
        logits, halt_logits = model.read(y)
        return SupervisionStep((y.detach(), z.detach()), logits, halt_logits)

    @torch.no_grad()
    def explore(self, inputs: Tensor, budget: Budget) -> Exploration:
        """`budget.steps` supervision steps on puzzles [B, L], no early halting (every step is kept)."""
        if budget.samples != 1:
            raise ZooError(
                f"{type(self).__name__} is deterministic: a budget of several samples has nothing to sample",
                key="budgets",
            )
        model = self.inference_model
        x = model.embed_inputs(inputs)
        state = model.initial_state(*inputs.shape)
        answers, halts = [], []
        for _ in range(budget.steps):
            step = self.step(model, x, state)
            state = step.state
            answers.append(answer_logits(inputs, step.logits).argmax(-1))  # givens kept, symbols only
            halts.append(step.halt_logits)
        halt_logits = torch.stack(halts)[:, None]  # [S, 1, B]
        return Exploration(
            candidates=torch.stack(answers)[:, None],
            logits=step.logits[None],
            scores=halt_logits,
            halt_logits=halt_logits,
        )
