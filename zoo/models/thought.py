"""What thinking produces: an `Exploration` (every sample after every step) and the `Thought` chosen from it."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor

from zoo.tasks.base import FIRST_SYMBOL_TOKEN


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
