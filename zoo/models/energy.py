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

from typing import Any, Literal, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from triton_kernels import noisy_softmax, simplex_descent
from zoo.budget import Budget
from zoo.models.base import ReasoningFamily, Thought
from zoo.nn import ReasoningNet
from zoo.regimes import EnergyDescent, instantiate_regime
from zoo.registry import register_family
from zoo.errors import ZooError

FIRST_SYMBOL_TOKEN = 2  # tokens: pad 0, blank 1, symbols from 2


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
        self, vocab_size: int, num_symbols: int, seq_len: int, width: int, depth: int, mixer: str, heads: int,
        expansion: float, step_size: float, learn_step_size: bool,
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


def select_samples(candidates: Tensor, cell_energies: Tensor, samples: int, per: Literal["puzzle", "cell"]) -> Tensor:
    """Best of the first `samples` candidates by energy.

    Args:
        candidates: [S, N, B, L] answers of N samples after each of S steps.
        cell_energies: [S, N, B, L] their per-cell energies.
        samples: how many of the N samples to choose among.
        per: "puzzle" keeps each puzzle's lowest-total-energy sample; "cell" picks each cell's lowest.
    Returns:
        [S, B, L] chosen answers.
    """
    candidates, cell_energies = candidates[:, :samples], cell_energies[:, :samples]
    if per == "puzzle":
        best = cell_energies.sum(-1).argmin(dim=1)  # [S, B]
        index = best[:, None, :, None].expand(-1, 1, -1, candidates.shape[-1])
    else:
        index = cell_energies.argmin(dim=1, keepdim=True)  # [S, 1, B, L]
    return candidates.gather(1, index).squeeze(1)


@register_family
class EnergyTransformer(ReasoningFamily):
    """EBT-style family: a bidirectional network scores (puzzle, belief) pairs; thinking descends the energy.

    Args:
        task: task spec (linked from the data module in recipes).
        regime: energy-descent settings (steps, α, regularisers).
        width, depth, mixer, heads, expansion: the energy network (see `ReasoningNet`).
        selection: best-of-N by lowest energy "puzzle" (whole answer) or "cell" (each cell on its own).
        accept_only_lower: at inference, keep a step only if it lowers the puzzle's energy.
        inference_noise: Langevin σ on the logits at inference (0: plain descent).
        Other arguments: see `ReasoningFamily`.
    """

    training_state_attributes = ("_replay",)

    # Each descent step keeps the energy's graph to take dE/dp: about 97 width-D vectors per cell and sample were
    # measured (see ReasoningFamily.thinking_activations).
    thinking_activations = 128
    draws_samples = True

    def __init__(
        self,
        task: dict[str, Any],
        regime: EnergyDescent | None = None,
        width: int = 128,
        depth: int = 2,
        mixer: Literal["mlp", "attention"] = "mlp",
        heads: int = 4,
        expansion: float = 2.0,
        selection: Literal["puzzle", "cell"] = "puzzle",
        accept_only_lower: bool = False,
        inference_noise: float = 0.0,
        eval_budgets: Sequence[int | str] = (1, 2, 4, 8, 16, 32, "16x4", "16x16"),
        lr: float = 1e-3,
        weight_decay: float = 0.1,
        betas: tuple[float, float] = (0.9, 0.95),
        warmup_steps: int = 100,
        lr_min_ratio: float = 1.0,
        ema_decay: float = 0.0,
    ) -> None:
        super().__init__(task, eval_budgets, lr, weight_decay, betas, warmup_steps, lr_min_ratio, ema_decay)
        if selection not in ("puzzle", "cell"):
            raise ZooError(f"selection must be 'puzzle' or 'cell', got {selection!r}", key="selection")
        self.regime = instantiate_regime(regime) if regime is not None else EnergyDescent()
        self._save_hparams(self.regime)
        self.num_symbols = self.task.vocab_size - FIRST_SYMBOL_TOKEN
        self.model = EnergyNet(
            self.task.vocab_size, self.num_symbols, self.task.num_cells, width, depth, mixer, heads, expansion,
            self.regime.step_size, self.regime.learn_step_size,
        )
        self._init_ema()
        self._replay: dict[str, Tensor] | None = None

    # ---- one descent step --------------------------------------------------------------------------

    def _energy_and_grad(
        self, model: EnergyNet, inputs: Tensor, logits: Tensor, noise: float, create_graph: bool
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Cell energies [B, L], the belief p [B, L, S] and ∂E/∂p [B, L, S] at `logits` [B, L, S]."""
        with torch.enable_grad():
            if not logits.requires_grad:
                logits = logits.detach().requires_grad_()
            probs = noisy_softmax(logits, noise_scale=noise)
            given = inputs >= FIRST_SYMBOL_TOKEN
            one_hot = F.one_hot((inputs - FIRST_SYMBOL_TOKEN).clamp(min=0), self.num_symbols).to(probs.dtype)
            energies = model(inputs, torch.where(given[..., None], one_hot, probs))
            (grad,) = torch.autograd.grad(energies.sum(), probs, create_graph=create_graph)
        return energies, probs, grad

    def _descend(self, logits: Tensor, probs: Tensor, grad: Tensor, step_size: Tensor) -> Tensor:
        """One simplex-descent step; non-finite results keep the previous logits (no host sync)."""
        moved = simplex_descent(logits, probs, grad, step_size, clip=self.regime.clip)
        return torch.where(torch.isfinite(moved), moved, logits)

    def answer_tokens(self, inputs: Tensor, logits: Tensor) -> Tensor:
        """Token ids [B, L]: givens kept, blanks from the most likely symbol of `logits` [B, L, S]."""
        return torch.where(inputs >= FIRST_SYMBOL_TOKEN, inputs, logits.argmax(-1) + FIRST_SYMBOL_TOKEN)

    def initial_logits(self, batch: int, device: torch.device) -> Tensor:
        """Random starting beliefs [B, L, S]."""
        shape = (batch, self.task.num_cells, self.num_symbols)
        return torch.randn(shape, device=device) * self.regime.init_scale

    # ---- thinking ----------------------------------------------------------------------------------

    @torch.no_grad()
    def _descend_samples(self, inputs: Tensor, budget: Budget) -> tuple[Tensor, Tensor, Tensor]:
        """Descend from `budget.samples` random starts for `budget.steps` steps.

        inputs: [B, L]. Returns candidates [S, N, B, L], their cell energies [S, N, B, L] and the final
        logits [N, B, L, S].
        """
        model = self.inference_model
        with torch.inference_mode(False):  # descent needs autograd even where Lightning tests in inference mode
            return self._descend_samples_with_grad(model, inputs.clone(), budget)

    def _descend_samples_with_grad(
        self, model: EnergyNet, inputs: Tensor, budget: Budget
    ) -> tuple[Tensor, Tensor, Tensor]:
        batch, cells = inputs.shape
        starts = inputs.repeat(budget.samples, 1)  # [N·B, L], sample-major
        noise = self.hparams.inference_noise
        step_size = model.step_size.clamp(min=1e-4)
        logits = self.initial_logits(starts.shape[0], inputs.device)
        energies, probs, grad = self._energy_and_grad(model, starts, logits, noise, create_graph=False)
        answers, cell_energies = [], []
        for _ in range(budget.steps):
            moved = self._descend(logits, probs.detach(), grad, step_size)
            moved_energies, moved_probs, moved_grad = self._energy_and_grad(model, starts, moved, noise, False)
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

    def think(self, inputs: Tensor, budget: Budget | int) -> Thought:
        """Think about puzzles [B, L] within `budget`; the Thought keeps every sample's trail and energy."""
        budget = Budget.of(budget)
        candidates, cell_energy, logits = self._descend_samples(inputs, budget)
        chosen = select_samples(candidates, cell_energy, budget.samples, self.hparams.selection)
        energies = cell_energy.sum(-1)  # [S, N, B]
        best = energies[-1].argmin(0)  # [B]
        return Thought(
            answer=chosen[-1],
            logits=logits[best, torch.arange(inputs.shape[0], device=inputs.device)],
            trail=chosen,
            energies=energies.min(dim=1).values,
            candidates=candidates,
            candidate_energies=energies,
        )

    def answers_per_budget(self, inputs: Tensor, budgets: Sequence[Budget]) -> dict[str, Tensor]:
        """One descent at the most steps and samples asked for; each budget reads its step and first samples."""
        largest = Budget(max(b.steps for b in budgets), max(b.samples for b in budgets))
        candidates, cell_energy, _ = self._descend_samples(inputs, largest)
        answers = {}
        for budget in budgets:
            at_step = slice(budget.steps - 1, budget.steps)
            chosen = select_samples(candidates[at_step], cell_energy[at_step], budget.samples, self.hparams.selection)
            answers[budget.label] = chosen[0]
        return answers

    def samples_per_budget(self, inputs: Tensor, budgets: Sequence[Budget]) -> dict[str, Tensor]:
        """All N descended answers [N, B, L] at each budget with N > 1."""
        sampled = [b for b in budgets if b.samples > 1]
        if not sampled:
            return {}
        candidates, _, _ = self._descend_samples(inputs, Budget(max(b.steps for b in sampled), max(b.samples for b in sampled)))
        return {b.label: candidates[b.steps - 1, : b.samples] for b in sampled}

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

    # ---- training ----------------------------------------------------------------------------------

    def _with_replay(self, inputs: Tensor, targets: Tensor, logits: Tensor) -> tuple[Tensor, Tensor, Tensor, int]:
        """Swap the first rows of the batch for buffered (puzzle, target, final logits); returns how many."""
        regime, buffer = self.regime, self._replay
        count = int(regime.replay_fraction * inputs.shape[0])
        if regime.replay_size == 0 or buffer is None or buffer["inputs"].shape[0] < count or count == 0:
            return inputs, targets, logits, 0
        pick = torch.randperm(buffer["inputs"].shape[0], device=inputs.device)[:count]
        inputs = torch.cat([buffer["inputs"][pick], inputs[count:]])
        targets = torch.cat([buffer["targets"][pick], targets[count:]])
        logits = torch.cat([buffer["logits"][pick], logits[count:]])
        return inputs, targets, logits, count

    def _remember(self, inputs: Tensor, targets: Tensor, logits: Tensor) -> None:
        """Push final predictions into the FIFO replay buffer."""
        size = self.regime.replay_size
        if size == 0:
            return
        fresh = {"inputs": inputs, "targets": targets, "logits": logits.detach()}
        if self._replay is not None:
            fresh = {key: torch.cat([self._replay[key], value]) for key, value in fresh.items()}
        self._replay = {key: value[-size:] for key, value in fresh.items()}

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        regime = self.regime
        inputs, targets = batch["inputs"], batch["targets"]
        logits = self.initial_logits(inputs.shape[0], inputs.device)
        inputs, targets, logits, replayed = self._with_replay(inputs, targets, logits)
        blank = inputs < FIRST_SYMBOL_TOKEN
        symbols = targets[blank] - FIRST_SYMBOL_TOKEN
        step_size = self.model.step_size.clamp(min=1e-4)
        scale = regime.step_scale(inputs.shape, inputs.device)
        step_size = step_size if scale is None else step_size * scale
        steps = regime.step_count()
        losses = []
        for step in range(steps):
            with_graph = not regime.truncate or step == steps - 1
            if not with_graph:
                logits = logits.detach()
            energies, probs, grad = self._energy_and_grad(self.model, inputs, logits, regime.noise_scale, with_graph)
            logits = self._descend(logits, probs, grad, step_size)
            losses.append(F.cross_entropy(logits[blank].float(), symbols))
        loss = torch.stack(losses).mean() if regime.loss_on == "all" else losses[-1]
        self._remember(inputs[replayed:], targets[replayed:], logits[replayed:])
        self.log("train/loss", loss, prog_bar=True)
        self.log("train/last_step_loss", losses[-1].detach())
        self.log("train/step_size", self.model.step_size.detach())
        self.log("train/energy", energies.detach().sum(-1).mean())
        return loss

    def parameter_groups(self) -> list[dict[str, Any]]:
        """α trains with its own learning-rate multiplier (the scheduler scales every group alike)."""
        groups = super().parameter_groups()
        for group in groups:
            group["params"] = [p for p in group["params"] if p is not self.model.step_size]
        if self.model.step_size.requires_grad:
            lr = self.hparams.lr * self.regime.step_size_lr_multiplier
            groups.append({"params": [self.model.step_size], "weight_decay": 0.0, "lr": lr})
        return groups
