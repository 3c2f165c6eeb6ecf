"""The contract between families and regimes, and what thinking produces.

A family *thinks*: `think(inputs, budget) -> Thought`, from one `Exploration` of every sample after every step.
A regime *trains* a family through capabilities: each is a `typing.Protocol` below holding exactly the methods
the regimes call, and a regime names the capabilities it requires (`Regime.requires`, keys of `CAPABILITIES`).
`zoo.regimes.check_pairing` checks a family against them when a pairing is made. Neither side imports the
other's concrete classes; both import this module.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

import torch
from torch import Tensor, nn

from zoo.evaluation.budget import Budget
from zoo.tasks.base import FIRST_SYMBOL_TOKEN

if TYPE_CHECKING:
    from zoo.data.traces import TraceVocabulary
    from zoo.tasks.base import Task

__all__ = [
    "CAPABILITIES",
    "Budget",
    "EnergyDescender",
    "Exploration",
    "SampledWritings",
    "LatentPosterior",
    "State",
    "SupervisionStep",
    "SupervisionStepper",
    "Thought",
    "TraceDecoder",
    "TraceSampler",
    "ValueHead",
    "answer_logits",
    "capability_methods",
    "keep_givens",
    "pick",
]

State = tuple[Tensor, Tensor]
"""A recursive family's per-puzzle state: two tensors [B, L, D] (TRM's (y, z), GRAM's (h, l))."""


@dataclass
class SupervisionStep:
    """What one supervision step gives a regime.

    Attributes:
        state: the family's state after the step, detached (tensors [B, L, D]).
        logits: [B, L, V] answer logits read from the state.
        halt_logits: [B] halting head.
        value_logits: [B] value head (families with one).
        kl: [B] KL of the posterior against the prior, summed over cells (a posterior step; None otherwise).
    """

    state: State
    logits: Tensor
    halt_logits: Tensor
    value_logits: Tensor | None = None
    kl: Tensor | None = None


# ---- the capabilities: what a regime may call on a family ------------------------------------------------


class SupervisionStepper(Protocol):
    """Advances a per-puzzle state by one supervision step of its trained network and reads answer and halting
    logits from it (deep supervision)."""

    task: Task

    def embed(self, inputs: Tensor) -> Tensor:
        """Puzzles [B, L] token ids -> embedded inputs x [B, L, D] (trained network)."""

    def initial_state(self, batch: int, cells: int) -> State:
        """The starting state of `batch` puzzles of `cells` cells."""

    def supervision_step(self, x: Tensor, state: State) -> SupervisionStep:
        """One supervision step from `state` given embedded inputs x [B, L, D], as the family thinks (a family
        that samples draws from its prior); gradients through its last cycle."""


class LatentPosterior(Protocol):
    """Samples its state updates from a learned prior, and in training from a posterior that sees the target."""

    def posterior_step(self, x: Tensor, state: State, target: Tensor, kl_balance: float) -> SupervisionStep:
        """One supervision step whose noise comes from the posterior given target tokens [B, L]; `kl` holds
        KL(q‖p) [B], whose gradient moves the prior by the share `kl_balance` and the posterior by the rest."""


class ValueHead(Protocol):
    """Scores its own answers with a value head."""

    def value(self, state: State) -> Tensor:
        """Value logit [B] of the answer read from `state`: how likely it is to be right."""


class EnergyDescender(Protocol):
    """Descends a learned energy over beliefs (logits [B, L, S] over the task's S symbols per cell)."""

    task: Task

    def initial_logits(self, batch: int, device: torch.device) -> Tensor:
        """Starting beliefs [B, L, S], as the family starts thinking."""

    def step_size_parameter(self) -> nn.Parameter:
        """The descent's step size α: a scalar parameter (trained or not, as the family was built)."""

    def descent_step(
        self, inputs: Tensor, logits: Tensor, step_size: Tensor, noise: float, create_graph: bool
    ) -> tuple[Tensor, Tensor, Tensor]:
        """One (Langevin, with `noise` σ > 0) descent step of the trained network on puzzles [B, L] from logits
        [B, L, S] with step size `step_size` (broadcast to [B, L, 1]): (cell energies [B, L], the belief
        [B, L, S] where the gradient was taken, the moved logits [B, L, S])."""


class TraceDecoder(Protocol):
    """Writes a search trace and a plan token by token after reading a maze's query (a causal decoder)."""

    task: Task
    vocabulary: TraceVocabulary

    def sequence_logits(self, ids: Tensor) -> Tensor:
        """Next-token logits [B, T, V] of the trained network at every position of sequences `ids` [B, T]
        (`vocabulary` ids, each starting with its bos token, right-padded with the pad id 0)."""


@dataclass
class SampledWritings:
    """G writings of each of B mazes, maze-major (row b·G + g is maze b's writing g), as sequences to score.

    Attributes:
        ids: [B·G, T] bos, the maze's query, then what was written, right-padded with the pad id 0.
        written: [B·G, T] True at the positions of written tokens (what a policy gradient scores).
        answers: [B·G, L] the answer each writing's plan marks (the empty answer where it wrote none).
    """

    ids: Tensor
    written: Tensor
    answers: Tensor


class TraceSampler(Protocol):
    """Draws writings from its current policy (reinforcement learning's rollouts)."""

    def sample_writings(self, inputs: Tensor, samples: int, max_tokens: int, temperature: float) -> SampledWritings:
        """`samples` writings of up to `max_tokens` tokens for each maze of `inputs` [B, L], all drawn at
        `temperature` by the trained network, without gradients."""

    def policy_weights(self) -> dict[str, Tensor]:
        """Detached copies of the trained network's weights now: a frozen reference policy."""

    def reference_logits(self, weights: dict[str, Tensor], ids: Tensor) -> Tensor:
        """Next-token logits [B, T, V] of right-padded sequences `ids` [B, T] under the network with `weights`
        (from `policy_weights`), without gradients."""


# Capability name (what `Regime.requires` lists and families declare) -> the protocol a family implements.
CAPABILITIES: dict[str, type] = {
    "supervision_step": SupervisionStepper,
    "latent_posterior": LatentPosterior,
    "value_head": ValueHead,
    "energy_descent": EnergyDescender,
    "trace_decoder": TraceDecoder,
    "trace_sampler": TraceSampler,
}


def capability_methods(protocol: type) -> tuple[str, ...]:
    """The names a capability's protocol holds (methods and attributes), in declaration order."""
    names = [name for name in vars(protocol) if not name.startswith("_")]
    names += [name for name in getattr(protocol, "__annotations__", {}) if name not in names]
    return tuple(names)


# ---- what thinking produces -----------------------------------------------------------------------------


@dataclass
class Exploration:
    """One thinking run: every sample's answer after every step, and how the family rates them.

    Attributes:
        candidates: [S, N, B, L] token ids of each of N samples after each of S steps (N = 1 for a family
            that does not sample).
        logits: [N, B, L, V] each sample's answer logits after the last step.
        scores: [S, N, B] or [S, N, B, L] the family's rating of each candidate, higher is better (per cell
            where the family can choose cell by cell).
        halt_logits: [S, N, B] the halting head after each step, for families that halt.
        energies: [S, N, B] each candidate's energy (lower is better), for energy-based families.
    """

    candidates: Tensor
    logits: Tensor
    scores: Tensor
    halt_logits: Tensor | None = None
    energies: Tensor | None = None

    def keeping_givens(self, inputs: Tensor) -> Exploration:
        """This run with every candidate and its logits held to the givens of puzzles `inputs` [B, L]."""
        return replace(self, candidates=keep_givens(inputs, self.candidates), logits=answer_logits(inputs, self.logits))


@dataclass
class Thought:
    """What a family returns from `think`.

    Attributes:
        answer: [B, L] token ids of the final answer.
        logits: [B, L, V] logits of the final answer.
        trail: [S, B, L] the answer after each of the S steps (trail[-1] == answer).
        candidates: [S, N, B, L] each of N samples' answer after each step (N = 1 without sampling).
        candidate_scores: [S, N, B] or [S, N, B, L] the family's rating of each (higher is better).
        halt_logits: [S, B] halting head after each step (of the sample chosen at the end), for families that halt.
        energies: [S, B] lowest energy among the samples after each step, for energy-based families.
        candidate_energies: [S, N, B] every sample's energy (lower is better), for energy-based families.
    """

    answer: Tensor
    logits: Tensor
    trail: Tensor
    candidates: Tensor
    candidate_scores: Tensor
    halt_logits: Tensor | None = None
    energies: Tensor | None = None
    candidate_energies: Tensor | None = None


def keep_givens(inputs: Tensor, candidates: Tensor) -> Tensor:
    """Candidates [..., B, L] with the given token of puzzles `inputs` [B, L] at every given cell (one holding a
    symbol) and a symbol, never pad or blank, at every other cell (the first symbol where a family gave none)."""
    return torch.where(inputs >= FIRST_SYMBOL_TOKEN, inputs, candidates.clamp(min=FIRST_SYMBOL_TOKEN))


def answer_logits(inputs: Tensor, logits: Tensor) -> Tensor:
    """Logits [..., B, L, V] restricted to the tokens an answer to puzzles `inputs` [B, L] may hold: the given
    token at a given cell, any symbol at another; the rest are -inf, so the argmax keeps every given."""
    vocab = torch.arange(logits.shape[-1], device=logits.device)
    allowed = torch.where(
        (inputs >= FIRST_SYMBOL_TOKEN)[..., None], vocab == inputs[..., None], vocab >= FIRST_SYMBOL_TOKEN
    )
    return logits.masked_fill(~allowed, float("-inf"))


def pick(samples: Tensor, index: Tensor) -> Tensor:
    """The chosen sample of each puzzle (index [B]) or of each cell (index [B, L]).

    samples: [N, B, L, ...] -> [B, L, ...].
    """
    if index.dim() == 1:
        return samples[index, torch.arange(index.shape[0], device=index.device)]
    extra = samples.shape[3:]
    gathered = index[None].reshape(1, *index.shape, *([1] * len(extra))).expand(1, *index.shape, *extra)
    return samples.gather(0, gathered).squeeze(0)
