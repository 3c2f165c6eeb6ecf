"""Generative recursive reasoner (GRAM style): a recursion whose high-level updates are sampled.

State (h, l). One transition: K low-level updates `l ← net(l + h + x)`, then `u = net(h + l)`, then
`h = u + ε`. During training ε comes from a posterior that also sees the target; at inference from the
learned prior p(ε | u). Different samples of ε can settle on different valid answers: the model holds a
belief spread over solutions instead of committing to one. The budget is (steps, samples); a selector
picks one answer per puzzle among the samples: the value head, a majority vote, or the task's verifier
(an oracle, reported as such).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor, nn

from triton_kernels import gaussian_latent
from zoo.contract import Exploration, State, SupervisionStep, answer_logits
from zoo.errors import ZooError
from zoo.evaluation.budget import Budget
from zoo.evaluation.metrics import verified
from zoo.models.recursive import RecursiveNet, RecursiveReasoner
from zoo.models.training import TrainingSettings
from zoo.nn import ReasoningNet
from zoo.regimes.base import Regime
from zoo.registry import register_family

Noise = Literal["learned", "zero_mean", "none"]
Selector = Literal["value", "vote", "oracle"]
ValueNet = Literal["per_cell_mlp", "pooled_linear"]
LOGVAR_RANGE = (-10.0, 4.0)


class GenerativeNet(RecursiveNet):
    """RecursiveNet plus a prior and a posterior over the transition noise, and a value head.

    The prior reads u [B, L, D]; the posterior reads u and the embedded target (mixed across cells); both give
    (μ, log σ²) per cell. A fixed z0 (the starting states, drawn once) is part of the checkpoint.
    """

    def __init__(
        self,
        vocab_size: int,
        seq_len: int,
        width: int,
        depth: int,
        mixer: str,
        heads: int,
        expansion: float,
        posterior_mixer: bool = False,
        value_net: ValueNet = "per_cell_mlp",
    ) -> None:
        super().__init__(vocab_size, seq_len, width, depth, mixer, heads, expansion)
        # The posterior reads the whole target through one mixer block, so "which solution" is encoded once
        # for the puzzle rather than cell by cell.
        self.target_mixer = ReasoningNet(width, seq_len, 1, mixer, heads, expansion) if posterior_mixer else None
        self.prior = nn.Linear(width, 2 * width)
        self.posterior = nn.Linear(2 * width, 2 * width)
        # A per-cell MLP can score each cell (say, a queen under attack) before the scores are averaged; a
        # linear layer on the mean state (models saved before it) can only average linear features.
        self.value_per_cell = value_net == "per_cell_mlp"
        self.value_head = (
            nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.Linear(width, 1))
            if self.value_per_cell
            else nn.Linear(width, 1)
        )
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
        target = self.embed(target)
        if self.target_mixer is not None:
            target = self.target_mixer(target + self.position)
        return self._gaussian(self.posterior(torch.cat([u, target], dim=-1)))

    def value(self, h: Tensor) -> Tensor:
        """Value logit [B]: how good the answer read from h [B, L, D] is (see VariationalRecursion.value_target)."""
        if self.value_per_cell:
            return self.value_head(h).squeeze(-1).mean(dim=1)
        return self.value_head(h.mean(dim=1)).squeeze(-1)


@register_family
class GenerativeRecursiveReasoner(RecursiveReasoner):
    """GRAM-style stochastic recursive reasoner.

    With `noise` "learned" it samples its transitions (the point of the family) and trains with
    VariationalRecursion. With `noise` "none" it is the deterministic ablation, trained with DeepSupervision: no
    noise in training or thinking, so its N samples are N copies of one answer. Whether it samples is its own
    setting, whatever trains it (models saved before, with DeepSupervision, load with "none").

    Args:
        task, width, depth, mixer, heads, expansion, cycles, latent_updates: see RecursiveReasoner
            (`cycles` transitions per supervision step, the last with gradients; `latent_updates` = K).
        regime: VariationalRecursion (β, KL balance, posterior on/off) or DeepSupervision (for noise "none": it
            trains no posterior, and with noise it would sample from an untrained prior).
        noise: "learned" (GRAM's prior), "zero_mean" (ε ~ N(0, noise_std²), an ablation) or "none" (no noise in
            training or thinking: deterministic).
        noise_std: σ of the zero-mean ablation.
        selection: how one answer is chosen among samples: "value", "vote", or "oracle" (the task's
            verifier; it sees whether answers are right, so report it as an oracle).
        posterior_mixer: the posterior reads the whole target through a mixer block; False (the default)
            embeds the target with one linear layer per cell. The mixer measured worse on N-Queens
            (docs/results/gram.md), so it is an option.
        value_net: "per_cell_mlp" (an MLP scores each cell, the scores are averaged) or "pooled_linear" (a
            linear layer on the mean state, as models saved before it had).
        halt_samples: at inference, each sample keeps its answer from the first step its halting head says
            stop (learned halting per sampled trajectory); False runs every sample for the whole budget.
        eval_budgets, training: see RecursiveReasoner.
    """

    capabilities: ClassVar[frozenset[str]] = frozenset({"supervision_step", "latent_posterior", "value_head"})
    default_regime_name: ClassVar[str] = "VariationalRecursion"
    # What settings added later mean for models saved without them: they load as they were built.
    legacy_defaults: ClassVar[dict[str, Any]] = {"posterior_mixer": False, "value_net": "pooled_linear"}
    tiny_settings: ClassVar[dict[str, Any]] = {"width": 16, "expansion": 1.0, "cycles": 1, "latent_updates": 1}
    training_defaults: ClassVar[TrainingSettings] = TrainingSettings(lr=1e-3, ema_decay=0.995)
    selections: ClassVar[tuple[str, ...]] = ("value", "vote", "oracle")

    def __init__(
        self,
        task: dict[str, Any],
        regime: Regime | None = None,
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
        posterior_mixer: bool = False,
        value_net: ValueNet = "per_cell_mlp",
        halt_samples: bool = False,
        eval_budgets: Sequence[int | str] = ("16x1", "16x5", "16x20"),
        **training: Any,
    ) -> None:
        if noise not in ("learned", "zero_mean", "none"):
            raise ZooError(f"noise must be 'learned' or 'zero_mean', got {noise!r}", key="noise")
        if value_net not in ("per_cell_mlp", "pooled_linear"):
            raise ZooError(f"value_net must be 'per_cell_mlp' or 'pooled_linear', got {value_net!r}", key="value_net")
        if selection not in self.selections:
            raise ZooError(f"selection must be one of {', '.join(self.selections)}, got {selection!r}", key="selection")
        super().__init__(
            task,
            regime,
            width=width,
            depth=depth,
            mixer=mixer,
            heads=heads,
            expansion=expansion,
            cycles=cycles,
            latent_updates=latent_updates,
            eval_budgets=eval_budgets,
            **training,
        )

    @classmethod
    def upgrade_settings(cls, settings: dict[str, Any], version: int) -> dict[str, Any]:
        """Before settings version 2 a model trained by a regime without a latent posterior (DeepSupervision)
        thought without noise, whatever its `noise` said."""
        settings = super().upgrade_settings(settings, version)
        trained_by = cls.saved_regime(settings)
        if version < 2 and trained_by is not None and "latent_posterior" not in trained_by.requires:
            settings["noise"] = "none"
        return settings

    @property
    def draws_samples(self) -> bool:  # type: ignore[override]
        return self.hparams.noise != "none"

    def build_model(self) -> GenerativeNet:
        hp = self.hparams
        return GenerativeNet(
            self.task.vocab_size,
            self.task.num_cells,
            hp.width,
            hp.depth,
            hp.mixer,
            hp.heads,
            hp.expansion,
            hp.posterior_mixer,
            hp.value_net,
        )

    # ---- one transition and one supervision step ---------------------------------------------------

    def _noise(
        self, model: GenerativeNet, u: Tensor, target: Tensor | None, kl_balance: float | None
    ) -> tuple[Tensor, Tensor]:
        """ε [B, L, D] for the state u and its KL [B] against the prior (zeros without a target)."""
        no_kl = u.new_zeros(u.shape[0])
        if not self.draws_samples:
            return torch.zeros_like(u), no_kl
        if self.hparams.noise == "zero_mean":
            logvar = torch.full_like(u, 2.0 * float(torch.tensor(self.hparams.noise_std).log()))
            return gaussian_latent(torch.zeros_like(u), logvar)[0], no_kl
        mu_p, logvar_p = model.prior_params(u)
        if target is None:
            return gaussian_latent(mu_p, logvar_p)[0], no_kl
        mu_q, logvar_q = model.posterior_params(u, target)
        epsilon, kl = gaussian_latent(mu_q, logvar_q, mu_p, logvar_p, balance=kl_balance)
        return epsilon, kl.sum(dim=-1)

    def _transition(
        self, model: GenerativeNet, x: Tensor, h: Tensor, l: Tensor, target: Tensor | None, kl_balance: float | None
    ) -> tuple[Tensor, Tensor, Tensor]:
        u, l = model.cycle(x, h, l, self.hparams.latent_updates)
        epsilon, kl = self._noise(model, u, target, kl_balance)
        return u + epsilon, l, kl

    def step(
        self,
        model: GenerativeNet,
        x: Tensor,
        state: State,
        target: Tensor | None = None,
        kl_balance: float | None = None,
    ) -> SupervisionStep:
        """One supervision step: `cycles` transitions of the state (h, l) [B, L, D], gradients through the last.

        `target` [B, L] (training with a posterior): the noise comes from the posterior, and the KL is returned;
        `kl_balance` is the share of the KL's gradient that moves the prior.
        """
        h, l = state
        with torch.no_grad():
            for _ in range(self.hparams.cycles - 1):
                h, l, _ = self._transition(model, x, h, l, target, kl_balance)
        h, l, kl = self._transition(model, x, h, l, target, kl_balance)
        logits, halt_logits = model.read(h)
        return SupervisionStep((h.detach(), l.detach()), logits, halt_logits, model.value(h), kl)

    # ---- the latent_posterior and value_head capabilities (zoo.contract) ---------------------------

    def posterior_step(self, x: Tensor, state: State, target: Tensor, kl_balance: float) -> SupervisionStep:
        """One supervision step of the trained network with its noise from the posterior given target [B, L]."""
        return self.step(self.model, x, state, target, kl_balance)

    def value(self, state: State) -> Tensor:
        """Value logit [B] of the trained network's value head on the state (h, l) [B, L, D]."""
        return self.model.value(state[0])

    # ---- thinking ----------------------------------------------------------------------------------

    @torch.no_grad()
    def explore(self, inputs: Tensor, budget: Budget) -> Exploration:
        """N prior samples of S supervision steps on puzzles [B, L]; candidates are rated by the value head."""
        model = self.inference_model
        batch, cells = inputs.shape
        starts = inputs.repeat(budget.samples, 1)  # [N·B, L], sample-major
        x = model.embed_inputs(starts)
        state = model.initial_state(*starts.shape)
        answers, values, halts = [], [], []
        stopped = torch.zeros(starts.shape[0], dtype=torch.bool, device=inputs.device)
        last_logits: Tensor | None = None
        for _ in range(budget.steps):
            step = self.step(model, x, state)
            state = step.state
            answer, value, logits = answer_logits(starts, step.logits).argmax(-1), step.value_logits, step.logits
            if self.hparams.halt_samples and answers:  # a stopped sample keeps the answer it stopped with
                answer = torch.where(stopped[:, None], answers[-1], answer)
                value = torch.where(stopped, values[-1], value)
                logits = torch.where(stopped[:, None, None], last_logits, logits)
            answers.append(answer)
            values.append(value)
            halts.append(step.halt_logits)
            last_logits = logits
            stopped |= step.halt_logits > 0
        shape = (budget.steps, budget.samples, batch)
        return Exploration(
            candidates=torch.stack(answers).view(*shape, cells),
            logits=last_logits.view(budget.samples, batch, cells, -1),
            scores=torch.stack(values).view(shape),
            halt_logits=torch.stack(halts).view(shape),
        )

    def choose(self, inputs: Tensor, candidates: Tensor, scores: Tensor) -> Tensor:
        """One sample per puzzle: candidates [N, B, L], value logits [N, B] -> index [B]."""
        how = self.hparams.selection
        score = scores.clone()
        if how == "vote":
            same = (candidates[:, None] == candidates[None]).all(-1)  # [N, N, B]
            score = same.sum(1).float() + torch.sigmoid(scores) * 0.5  # votes; the value breaks ties
        elif how == "oracle":
            valid = torch.stack([verified(self.task, inputs, candidate) for candidate in candidates])
            score = valid.float() + torch.sigmoid(scores) * 0.5
        return score.argmax(0)
