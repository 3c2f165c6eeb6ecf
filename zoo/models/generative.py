"""Generative recursive reasoner (GRAM style): a recursion whose high-level updates are sampled.

State (h, l). One transition: K low-level updates `l ← net(l + h + x)`, then `u = net(h + l)`, then
`h = u + ε`. During training ε comes from a posterior that also sees the target; at inference from the
learned prior p(ε | u). Different samples of ε can settle on different valid answers: the model holds a
belief spread over solutions instead of committing to one. The budget is (steps, samples); a selector
picks one answer per puzzle among the samples: the value head, a majority vote, or the task's verifier
(an oracle, reported as such).
"""

from __future__ import annotations

from typing import Any, Literal, Sequence

import torch
from torch import Tensor, nn

from triton_kernels import gaussian_latent
from zoo.budget import Budget
from zoo.metrics import verified
from zoo.models.base import Thought
from zoo.models.recursive import RecursiveNet, RecursiveReasoner
from zoo.regimes import VariationalRecursion
from zoo.registry import register_family
from zoo.errors import ZooError

Noise = Literal["learned", "zero_mean", "none"]
Selector = Literal["value", "vote", "oracle"]
LOGVAR_RANGE = (-10.0, 4.0)


class GenerativeNet(RecursiveNet):
    """RecursiveNet plus a prior and a posterior over the transition noise, and a value head.

    The prior reads u [B, L, D]; the posterior reads u and the embedded target; both give (μ, log σ²) per
    cell. A fixed z0 (the starting states, drawn once) is part of the checkpoint.
    """

    def __init__(self, vocab_size: int, seq_len: int, width: int, depth: int, mixer: str, heads: int, expansion: float) -> None:
        super().__init__(vocab_size, seq_len, width, depth, mixer, heads, expansion)
        self.prior = nn.Linear(width, 2 * width)
        self.posterior = nn.Linear(2 * width, 2 * width)
        self.value_head = nn.Linear(width, 1)
        for head in (self.prior, self.posterior):
            nn.init.normal_(head.weight, std=0.01)
            nn.init.zeros_(head.bias)
            nn.init.constant_(head.bias[width:], -2.0)  # start with small noise (σ ≈ 0.37)

    @staticmethod
    def _gaussian(params: Tensor) -> tuple[Tensor, Tensor]:
        mu, logvar = params.chunk(2, dim=-1)
        return mu, logvar.clamp(*LOGVAR_RANGE)

    def prior_params(self, u: Tensor) -> tuple[Tensor, Tensor]:
        """(μ, log σ²) [B, L, D] of p(ε | u)."""
        return self._gaussian(self.prior(u))

    def posterior_params(self, u: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
        """(μ, log σ²) [B, L, D] of q(ε | u, y) for target tokens [B, L]."""
        return self._gaussian(self.posterior(torch.cat([u, self.embed(target)], dim=-1)))

    def value(self, h: Tensor) -> Tensor:
        """Value logit [B]: how likely the answer read from h [B, L, D] is valid."""
        return self.value_head(h.mean(dim=1)).squeeze(-1)


@register_family
class GenerativeRecursiveReasoner(RecursiveReasoner):
    """GRAM-style stochastic recursive reasoner.

    Args:
        task, width, depth, mixer, heads, expansion, cycles, latent_updates: see RecursiveReasoner
            (`cycles` transitions per supervision step, the last with gradients; `latent_updates` = K).
        regime: variational deep supervision (β, KL balance, posterior on/off).
        noise: "learned" (GRAM), "zero_mean" (ε ~ N(0, noise_std²), an ablation) or "none" (deterministic).
        noise_std: σ of the zero-mean ablation.
        selection: how one answer is chosen among samples: "value", "vote", or "oracle" (the task's
            verifier; it sees whether answers are right, so report it as an oracle).
        Other arguments: see ReasoningFamily.
    """

    draws_samples = True

    def __init__(
        self,
        task: dict[str, Any],
        regime: VariationalRecursion | None = None,
        width: int = 128,
        depth: int = 2,
        mixer: Literal["mlp", "attention"] = "mlp",
        heads: int = 4,
        expansion: float = 2.0,
        cycles: int = 2,
        latent_updates: int = 2,
        noise: Noise = "learned",
        noise_std: float = 0.5,
        selection: Selector = "value",
        eval_budgets: Sequence[int | str] = ("16x1", "16x5", "16x20"),
        lr: float = 1e-3,
        weight_decay: float = 0.1,
        betas: tuple[float, float] = (0.9, 0.95),
        warmup_steps: int = 100,
        lr_min_ratio: float = 1.0,
        ema_decay: float = 0.995,
    ) -> None:
        if noise not in ("learned", "zero_mean", "none"):
            raise ZooError(f"noise must be 'learned', 'zero_mean' or 'none', got {noise!r}", key="noise")
        if selection not in ("value", "vote", "oracle"):
            raise ZooError(f"selection must be 'value', 'vote' or 'oracle', got {selection!r}", key="selection")
        super().__init__(
            task, regime if regime is not None else VariationalRecursion(), width, depth, mixer, heads, expansion,
            cycles, latent_updates, eval_budgets, lr, weight_decay, betas, warmup_steps, lr_min_ratio, ema_decay,
        )
        if not isinstance(self.regime, VariationalRecursion):
            raise ZooError(
                f"{type(self).__name__} trains with VariationalRecursion, got {type(self.regime).__name__}", key="regime"
            )

    def build_model(self) -> GenerativeNet:
        hp = self.hparams
        return GenerativeNet(self.task.vocab_size, self.task.num_cells, hp.width, hp.depth, hp.mixer, hp.heads, hp.expansion)

    # ---- one transition and one supervision step ---------------------------------------------------

    def _noise(self, model: GenerativeNet, u: Tensor, target: Tensor | None) -> tuple[Tensor, Tensor]:
        """ε [B, L, D] for the state u and its KL [B] against the prior (zeros without a posterior)."""
        no_kl = u.new_zeros(u.shape[0])
        kind = self.hparams.noise
        if kind == "none":
            return torch.zeros_like(u), no_kl
        if kind == "zero_mean":
            logvar = torch.full_like(u, 2.0 * float(torch.tensor(self.hparams.noise_std).log()))
            return gaussian_latent(torch.zeros_like(u), logvar)[0], no_kl
        mu_p, logvar_p = model.prior_params(u)
        if target is None:
            return gaussian_latent(mu_p, logvar_p)[0], no_kl
        mu_q, logvar_q = model.posterior_params(u, target)
        epsilon, kl = gaussian_latent(mu_q, logvar_q, mu_p, logvar_p, balance=self.regime.kl_balance)
        return epsilon, kl.sum(dim=-1)

    def _transition(self, model: GenerativeNet, x: Tensor, h: Tensor, l: Tensor, target: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:
        u, l = model.cycle(x, h, l, self.hparams.latent_updates)
        epsilon, kl = self._noise(model, u, target)
        return u + epsilon, l, kl

    def generative_step(
        self, model: GenerativeNet, x: Tensor, h: Tensor, l: Tensor, target: Tensor | None
    ) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
        """One supervision step: `cycles` transitions, gradients through the last.

        x, h, l: [B, L, D]; target: [B, L] tokens when the posterior is used, else None.
        Returns (h, l) detached, logits [B, L, V], halting logits [B], value logits [B], KL [B].
        """
        with torch.no_grad():
            for _ in range(self.hparams.cycles - 1):
                h, l, _ = self._transition(model, x, h, l, target)
        h, l, kl = self._transition(model, x, h, l, target)
        logits, halt_logits = model.read(h)
        return h.detach(), l.detach(), logits, halt_logits, model.value(h), kl

    # ---- training ----------------------------------------------------------------------------------

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        carry = self._refresh_carry(batch)
        target = carry["targets"] if self.regime.posterior else None
        x = self.model.embed_inputs(carry["inputs"])
        h, l, logits, halt_logits, value_logits, kl = self.generative_step(self.model, x, carry["y"], carry["z"], target)
        valid = verified(self.task, carry["inputs"], logits.argmax(-1).detach())
        loss, stats = self.regime.variational_loss(logits, carry["targets"], halt_logits, kl, value_logits, valid)
        steps = carry["steps"] + 1
        halted = self.regime.halted(halt_logits.detach(), steps)
        self._carry = {**carry, "y": h, "z": l, "steps": steps, "halted": halted}
        self.log("train/loss", loss, prog_bar=True)
        for name, value in stats.items():
            self.log(f"train/{name}", value)
        return loss

    # ---- thinking ----------------------------------------------------------------------------------

    @torch.no_grad()
    def _sample(self, inputs: Tensor, budget: Budget) -> tuple[Tensor, Tensor]:
        """Candidates [S, N, B, L] and their value logits [S, N, B] from N prior samples of S steps."""
        model = self.inference_model
        batch, cells = inputs.shape
        starts = inputs.repeat(budget.samples, 1)  # [N·B, L], sample-major
        x = model.embed_inputs(starts)
        h, l = model.initial_state(*starts.shape)
        answers, values = [], []
        for _ in range(budget.steps):
            h, l, logits, _, value_logits, _ = self.generative_step(model, x, h, l, None)
            answers.append(logits.argmax(-1))
            values.append(value_logits)
        shape = (budget.steps, budget.samples, batch)
        return torch.stack(answers).view(*shape, cells), torch.stack(values).view(shape)

    def select(self, inputs: Tensor, candidates: Tensor, values: Tensor) -> Tensor:
        """One answer per puzzle among samples. inputs [B, L], candidates [N, B, L], values [N, B] -> [B, L]."""
        samples, batch, _ = candidates.shape
        how = self.hparams.selection
        score = values.clone()
        if how == "vote":
            same = (candidates[:, None] == candidates[None]).all(-1)  # [N, N, B]
            score = same.sum(1).float() + torch.sigmoid(values) * 0.5  # votes; the value breaks ties
        elif how == "oracle":
            valid = torch.stack([verified(self.task, inputs, candidate) for candidate in candidates])
            score = valid.float() + torch.sigmoid(values) * 0.5
        best = score.argmax(0)
        return candidates[best, torch.arange(batch, device=candidates.device)]

    def think(self, inputs: Tensor, budget: Budget | int) -> Thought:
        """Sample `budget.samples` recursions of `budget.steps` steps on puzzles [B, L]; select per step."""
        budget = Budget.of(budget)
        candidates, values = self._sample(inputs, budget)
        trail = torch.stack([self.select(inputs, candidates[s], values[s]) for s in range(budget.steps)])
        return Thought(answer=trail[-1], logits=torch.empty(0), trail=trail, candidates=candidates, candidate_scores=values)

    def answers_per_budget(self, inputs: Tensor, budgets: Sequence[Budget]) -> dict[str, Tensor]:
        """One sampling run at the most steps and samples asked for; each budget selects among its first samples."""
        largest = Budget(max(b.steps for b in budgets), max(b.samples for b in budgets))
        candidates, values = self._sample(inputs, largest)
        return {
            b.label: self.select(inputs, candidates[b.steps - 1, : b.samples], values[b.steps - 1, : b.samples])
            for b in budgets
        }

    def samples_per_budget(self, inputs: Tensor, budgets: Sequence[Budget]) -> dict[str, Tensor]:
        """All N sampled answers [N, B, L] at each budget with N > 1."""
        sampled = [b for b in budgets if b.samples > 1]
        if not sampled:
            return {}
        candidates, _ = self._sample(inputs, Budget(max(b.steps for b in sampled), max(b.samples for b in sampled)))
        return {b.label: candidates[b.steps - 1, : b.samples] for b in sampled}

