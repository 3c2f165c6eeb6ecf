"""Energy-Based Transformer (EBT style): think by descending a learned energy over the whole answer.

A prediction is a tensor of logits per cell over the task's symbols, `y [B, L, S]`. One thinking step:

    p = noisy_softmax(y, σ)          # a belief: a distribution per cell
    E = energy(x, p)                 # one energy per cell; the puzzle's energy is their sum
    g = ∂E/∂p
    y = simplex_descent(y, p, g, α)  # y − α·p⊙(g − ⟨p, g⟩): the softmax VJP fused with the update

Given cells are clamped to their one-hot symbol, so only blanks move. The budget is (steps, samples):
samples are independent random initialisations, and best-of-N keeps the lowest-energy one (per puzzle,
or per cell). The energy itself is a verifier: `energy_of` scores any candidate answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from triton_kernels import langevin_step, noisy_softmax, simplex_descent
from zoo.contract import Exploration
from zoo.errors import ZooError
from zoo.evaluation.budget import Budget
from zoo.models.base import ReasoningFamily
from zoo.models.training import TrainingSettings
from zoo.nn import ReasoningNet
from zoo.regimes.base import Regime
from zoo.registry import register_family
from zoo.tasks.base import FIRST_SYMBOL_TOKEN


class EnergyNet(nn.Module):
    """Reads a puzzle and a belief over its answer; returns one energy per cell.

    Args:
        vocab_size: V, token ids of the puzzle.
        num_symbols: S, answer symbols per cell.
        seq_len: L, cells.
        width, depth, mixer, heads, expansion: see `ReasoningNet`.
        step_size: initial descent step α (a parameter; `learn_step_size` decides whether it trains).
    """

    def __init__(
        self,
        vocab_size: int,
        num_symbols: int,
        seq_len: int,
        width: int,
        depth: int,
        mixer: str,
        heads: int,
        expansion: float,
        step_size: float,
        learn_step_size: bool,
    ) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, width)
        self.belief = nn.Linear(num_symbols, width, bias=False)
        self.position = nn.Parameter(torch.randn(seq_len, width) * 0.02)
        self.net = ReasoningNet(width, seq_len, depth, mixer, heads, expansion)
        self.energy_head = nn.Linear(width, 1)
        self.step_size = nn.Parameter(torch.tensor(float(step_size)), requires_grad=learn_step_size)

    def forward(self, inputs: Tensor, probs: Tensor) -> Tensor:
        """inputs [B, L] token ids, probs [B, L, S] -> cell energies [B, L]."""
        hidden = self.net(self.embed(inputs) + self.belief(probs) + self.position)
        return self.energy_head(hidden).squeeze(-1)


def draw_seed() -> int:
    """A noise seed from torch's (seeded) generator, so that thinking and training stay reproducible."""
    return int(torch.randint(0, 2**62, (), dtype=torch.int64).item())


@register_family
class EnergyTransformer(ReasoningFamily):
    """EBT-style family: a bidirectional network scores (puzzle, belief) pairs; thinking descends the energy.

    Args:
        task: task spec (linked from the data module in recipes).
        regime: EnergyDescent (full unroll) or TruncatedEnergyDescent: steps, regularisers, α's learning rate.
        width, depth, mixer, heads, expansion: the energy network (see `ReasoningNet`).
        step_size: initial descent step α of `y ← y − α·∂E/∂y` (a parameter, clamped ≥ 1e-4 when used).
        learn_step_size: whether α is trained.
        clip: clamp of the per-element change before scaling by α (None: no clamp), in training and thinking.
        init_scale: standard deviation of the random initial logits (0: every descent starts from zero logits,
            a uniform belief).
        selection: best-of-N by lowest energy "puzzle" (whole answer) or "cell" (each cell on its own).
        accept_only_lower: at inference, keep a step only if it lowers the puzzle's energy.
        inference_noise: Langevin σ at inference: each step moves the noisy logits y + σ·ε at which it took the
            gradient, so best-of-N samples explore different minima (0: plain descent).
        descent: "simplex" (EBT: `y ← y − α·p⊙(g − ⟨p, g⟩)`, the gradient through the softmax) or "mirror"
            (`y ← y − α·(g − ⟨p, g⟩)`, a mirror-descent step on the simplex; a departure from the paper that
            does not vanish where the softmax saturates).
        eval_budgets: (steps or STEPSxSAMPLES) budgets measured in validation and test.
        training: optimiser, schedule and EMA settings (see `TrainingSettings`).
    """

    capabilities: ClassVar[frozenset[str]] = frozenset({"energy_descent"})
    default_regime_name: ClassVar[str] = "EnergyDescent"
    tiny_settings: ClassVar[dict[str, Any]] = {"width": 16, "expansion": 1.0}
    training_defaults: ClassVar[TrainingSettings] = TrainingSettings(lr=1e-3, ema_decay=0.0)
    selections: ClassVar[tuple[str, ...]] = ("puzzle", "cell")
    draws_samples = True
    # Each descent step keeps the energy's graph to take dE/dp: about 97 width-D vectors per cell and sample were
    # measured (see ReasoningFamily.thinking_activations).
    thinking_activations: ClassVar[int] = 128

    def __init__(
        self,
        task: dict[str, Any],
        regime: Regime | None = None,
        width: int = 128,
        depth: int = 2,
        mixer: Literal["mlp", "attention"] = "mlp",
        heads: int = 4,
        expansion: float = 2.0,
        step_size: float = 100.0,
        learn_step_size: bool = True,
        clip: float | None = None,
        init_scale: float = 1.0,
        selection: Literal["puzzle", "cell"] = "puzzle",
        accept_only_lower: bool = False,
        inference_noise: float = 0.0,
        descent: Literal["simplex", "mirror"] = "simplex",
        eval_budgets: Sequence[int | str] = (1, 2, 4, 8, 16, 32, "16x4", "16x16"),
        **training: Any,
    ) -> None:
        super().__init__(task, regime, eval_budgets, **training)
        if selection not in self.selections:
            raise ZooError(f"selection must be 'puzzle' or 'cell', got {selection!r}", key="selection")
        if descent not in ("simplex", "mirror"):
            raise ZooError(f"descent must be 'simplex' or 'mirror', got {descent!r}", key="descent")
        self._save_hparams()
        self.num_symbols = self.task.vocab_size - FIRST_SYMBOL_TOKEN
        self.model = EnergyNet(
            self.task.vocab_size,
            self.num_symbols,
            self.task.num_cells,
            width,
            depth,
            mixer,
            heads,
            expansion,
            step_size,
            learn_step_size,
        )
        self._init_ema()

    # ---- the energy_descent capability (zoo.contract.EnergyDescender) -------------------------------

    def step_size_parameter(self) -> nn.Parameter:
        """α of the trained network (clamped ≥ 1e-4 where it is used)."""
        return self.model.step_size

    def initial_logits(self, batch: int, device: torch.device) -> Tensor:
        """Random starting beliefs [B, L, S] of standard deviation `init_scale`."""
        shape = (batch, self.task.num_cells, self.num_symbols)
        return torch.randn(shape, device=device) * self.hparams.init_scale

    def descent_step(
        self, inputs: Tensor, logits: Tensor, step_size: Tensor, noise: float, create_graph: bool
    ) -> tuple[Tensor, Tensor, Tensor]:
        """One (Langevin) step of the trained network's descent (see `step`)."""
        return self.step(self.model, inputs, logits, step_size, noise, create_graph)

    # ---- one descent step --------------------------------------------------------------------------

    def energy_and_grad(
        self,
        model: EnergyNet,
        inputs: Tensor,
        logits: Tensor,
        noise: float,
        create_graph: bool,
        seed: int | None = None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Cell energies [B, L], the belief p [B, L, S] and ∂E/∂p [B, L, S] at `logits` [B, L, S] (plus σ·ε,
        drawn with `seed`, when `noise` σ > 0)."""
        with torch.enable_grad():
            if not logits.requires_grad:
                logits = logits.detach().requires_grad_()
            probs = noisy_softmax(logits, noise_scale=noise, seed=seed)
            given = inputs >= FIRST_SYMBOL_TOKEN
            one_hot = F.one_hot((inputs - FIRST_SYMBOL_TOKEN).clamp(min=0), self.num_symbols).to(probs.dtype)
            energies = model(inputs, torch.where(given[..., None], one_hot, probs))
            (grad,) = torch.autograd.grad(energies.sum(), probs, create_graph=create_graph)
        return energies, probs, grad

    def descend(
        self,
        logits: Tensor,
        probs: Tensor,
        grad: Tensor,
        step_size: Tensor,
        noise: float = 0.0,
        seed: int | None = None,
    ) -> Tensor:
        """One descent step of logits [B, L, S] from the belief p and ∂E/∂p, plus σ·ε (the noise `seed` drew
        for p) when `noise` σ > 0: a Langevin step. Non-finite results keep the previous logits (no host sync).

        Both rules run as one fused kernel on CUDA: "simplex" is `simplex_descent`; "mirror" feeds its
        direction g − ⟨p, g⟩ to `langevin_step`.
        """
        clip = self.hparams.clip
        if self.hparams.descent == "simplex":
            moved = simplex_descent(logits, probs, grad, step_size, clip=clip, noise_scale=noise, seed=seed)
        else:
            direction = grad - (probs * grad).sum(-1, keepdim=True)
            moved = langevin_step(logits, direction, step_size, noise_scale=noise, clip=clip, seed=seed)
        return torch.where(torch.isfinite(moved), moved, logits)

    def step(
        self, model: EnergyNet, inputs: Tensor, logits: Tensor, step_size: Tensor, noise: float, create_graph: bool
    ) -> tuple[Tensor, Tensor, Tensor]:
        """One (Langevin) step of thinking on puzzles [B, L] from logits [B, L, S]: (cell energies [B, L] and the
        belief [B, L, S] where the gradient was taken, the moved logits [B, L, S])."""
        seed = draw_seed() if noise > 0 else None
        energies, probs, grad = self.energy_and_grad(model, inputs, logits, noise, create_graph, seed)
        return energies, probs, self.descend(logits, probs, grad, step_size, noise, seed)

    def answer_tokens(self, inputs: Tensor, logits: Tensor) -> Tensor:
        """Token ids [B, L]: givens kept, blanks from the most likely symbol of `logits` [B, L, S]."""
        return torch.where(inputs >= FIRST_SYMBOL_TOKEN, inputs, logits.argmax(-1) + FIRST_SYMBOL_TOKEN)

    # ---- thinking ----------------------------------------------------------------------------------

    @torch.no_grad()
    def explore(self, inputs: Tensor, budget: Budget) -> Exploration:
        """Descend from `budget.samples` random starts for `budget.steps` steps on puzzles [B, L].

        Candidates are rated by their energy, negated (per cell, so that "cell" selection can choose cell by cell).
        """
        model = self.inference_model
        with torch.inference_mode(False):  # descent needs autograd even where Lightning tests in inference mode
            candidates, cell_energies, logits = self._descend(model, inputs.clone(), budget)
        vocab_logits = logits.new_full((*logits.shape[:-1], self.task.vocab_size), float("-inf"))
        vocab_logits[..., FIRST_SYMBOL_TOKEN:] = logits  # [N, B, L, V]: pad and blank are never an answer
        return Exploration(
            candidates=candidates, logits=vocab_logits, scores=-cell_energies, energies=cell_energies.sum(-1)
        )

    def _descend(self, model: EnergyNet, inputs: Tensor, budget: Budget) -> tuple[Tensor, Tensor, Tensor]:
        """Candidates [S, N, B, L], their cell energies [S, N, B, L] and the final logits [N, B, L, S]."""
        batch, cells = inputs.shape
        starts = inputs.repeat(budget.samples, 1)  # [N·B, L], sample-major
        noise = self.hparams.inference_noise
        step_size = model.step_size.clamp(min=1e-4)
        logits = self.initial_logits(starts.shape[0], inputs.device)
        energies, probs, grad = self.energy_and_grad(model, starts, logits, 0.0, create_graph=False)
        answers, cell_energies = [], []
        for _ in range(budget.steps):
            if noise > 0:  # the gradient is taken at the noisy state, which the step moves
                moved = self.step(model, starts, logits, step_size, noise, create_graph=False)[2]
            else:  # the gradient at the current state was taken when its energy was
                moved = self.descend(logits, probs.detach(), grad, step_size)
            moved_energies, moved_probs, moved_grad = self.energy_and_grad(model, starts, moved, 0.0, False)
            if self.hparams.accept_only_lower:
                keep = (moved_energies.sum(-1) > energies.sum(-1))[:, None]  # [N·B, 1]: the step raised E
                moved = torch.where(keep[..., None], logits, moved)
                moved_energies = torch.where(keep, energies, moved_energies)
                moved_probs = torch.where(keep[..., None], probs, moved_probs)
                moved_grad = torch.where(keep[..., None], grad, moved_grad)
            logits, energies, probs, grad = moved, moved_energies, moved_probs, moved_grad
            answers.append(self.answer_tokens(starts, logits))
            cell_energies.append(energies)
        shape = (budget.steps, budget.samples, batch, cells)
        return torch.stack(answers).view(shape), torch.stack(cell_energies).view(shape), logits.view(*shape[1:], -1)

    def choose(self, inputs: Tensor, candidates: Tensor, scores: Tensor) -> Tensor:
        """Lowest energy: per puzzle (index [B]) or, with selection "cell", per cell (index [B, L]).

        candidates [N, B, L]; scores [N, B, L], the cells' negated energies.
        """
        energies = -scores
        if self.hparams.selection == "puzzle":
            return energies.sum(-1).argmin(0)
        return energies.argmin(0)

    # ---- the energy as a verifier ------------------------------------------------------------------

    @torch.no_grad()
    def energy_of(self, inputs: Tensor, answers: Tensor) -> Tensor:
        """Energy [B] of complete answers [B, L] (token ids) to puzzles [B, L]; lower means more plausible."""
        probs = F.one_hot((answers - FIRST_SYMBOL_TOKEN).clamp(min=0), self.num_symbols).float()
        return self.inference_model(inputs, probs).sum(-1)

    @torch.no_grad()
    def rank(self, inputs: Tensor, candidates: Tensor) -> Tensor:
        """Order [K, B] of K candidate answers [K, B, L] from lowest to highest energy."""
        energies = torch.stack([self.energy_of(inputs, candidate) for candidate in candidates])
        return energies.argsort(dim=0)
