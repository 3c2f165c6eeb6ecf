"""A decoder that derives: it reads a maze's query and writes an A* search trace, then a plan (Beyond Semantics).

Thinking is writing. A budget of S steps and N samples writes up to S tokens N times: the first sample greedily,
the others drawn at `temperature` among the `top_k` most likely tokens. The answer after s steps is the plan
written within the first s tokens, marked on the maze (a maze with no path marked while none is written). Among
samples the family chooses a sample that wrote a plan, by its own log-likelihood of what it wrote or by a
majority vote over the plans (`selection`). The answer is judged by the task's rules, any valid path counting;
what was written before the plan is judged by the A* validator (`evaluate_traces`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor

from zoo.contract import Exploration, SampledWritings, Thought, keep_givens, pick
from zoo.data.traces import BOS, TraceVocabulary
from zoo.errors import ZooError
from zoo.evaluation.budget import Budget
from zoo.evaluation.flops import count_flops
from zoo.models.base import ReasoningFamily
from zoo.models.training import TrainingSettings
from zoo.nn.decoder import CausalDecoder
from zoo.regimes.base import Regime
from zoo.registry import register_family
from zoo.tasks.base import BLANK_TOKEN, SYMBOL_OFFSET
from zoo.tasks.maze import OPEN, TraceJudgement, judge_trace, plan_board, plan_cells, query_tokens

END = "end"


@dataclass
class Writing:
    """What N samples wrote for B mazes, and the answer each plan marks.

    Attributes:
        queries: [B] each maze's query tokens.
        tokens: [N][B] the tokens each sample wrote after the query, up to and including `end`.
        answers: [N, B, L] the answer each sample's plan marks (`empty` where it wrote none).
        empty: [B, L] the answer that marks no path.
        lengths: [N, B] tokens written up to the end of the plan (one more than the budget where none ended).
        log_likelihood: [N, B, T] the model's log-probability of the first t + 1 tokens written.
    """

    queries: list[list[str]]
    tokens: list[list[list[str]]]
    answers: Tensor
    empty: Tensor
    lengths: Tensor
    log_likelihood: Tensor

    def candidates_at(self, steps: int) -> Tensor:
        """[N, B, L] the answers once `steps` tokens may be written."""
        return torch.where((self.lengths <= steps)[..., None], self.answers, self.empty)

    def scores_at(self, steps: int) -> Tensor:
        """[N, B] the log-likelihood of what each sample wrote in its first `steps` tokens."""
        return self.log_likelihood[..., min(steps, self.log_likelihood.shape[-1]) - 1]

    def trace(self, sample: int, maze: int, steps: int) -> list[str]:
        """The whole trace, query included, that sample `sample` wrote for maze `maze` within `steps` tokens."""
        return [*self.queries[maze], *self.tokens[sample][maze][:steps]]


@register_family
class TraceTransformer(ReasoningFamily):
    """A causal decoder trained on A* traces of mazes (`TraceSFT`): query in, trace and plan out.

    Args:
        task: a maze task spec (the family reads mazes only).
        regime: how it is trained (default TraceSFT on correct traces).
        width, depth, heads, expansion: the decoder (`zoo.nn.CausalDecoder`).
        temperature, top_k: how samples after the first are drawn (the first is greedy).
        selection: how one answer is chosen among samples that wrote a plan: "likelihood" (the model's
            log-likelihood of what it wrote) or "vote" (the plan most samples wrote; likelihood breaks ties).
        eval_budgets: budgets in tokens written (x samples), e.g. [128, 256, 512, '512x8'].
        training: optimiser, schedule and EMA settings (see `TrainingSettings`).
    """

    capabilities: ClassVar[frozenset[str]] = frozenset({"trace_decoder", "trace_sampler"})
    default_regime_name: ClassVar[str] = "TraceSFT"
    tiny_settings: ClassVar[dict[str, Any]] = {"width": 16, "depth": 1, "heads": 2, "expansion": 1.0}
    training_defaults: ClassVar[TrainingSettings] = TrainingSettings(lr=1e-3, lr_min_ratio=0.1, ema_decay=0.0)
    selections: ClassVar[tuple[str, ...]] = ("likelihood", "vote")
    draws_samples = True
    task_names: ClassVar[tuple[str, ...] | None] = ("maze",)
    writes_traces: ClassVar[bool] = True

    def __init__(
        self,
        task: dict[str, Any],
        regime: Regime | None = None,
        width: int = 128,
        depth: int = 4,
        heads: int = 4,
        expansion: float = 4.0,
        temperature: float = 1.0,
        top_k: int | None = None,
        selection: Literal["likelihood", "vote"] = "likelihood",
        eval_budgets: Sequence[int | str] = (512,),
        **training: Any,
    ) -> None:
        super().__init__(task, regime, eval_budgets, **training)
        if selection not in self.selections:
            raise ZooError(f"selection must be one of {', '.join(self.selections)}, got {selection!r}", key="selection")
        if not temperature > 0:
            raise ZooError(
                f"temperature must be > 0 (the first sample is the greedy one), got {temperature}", key="temperature"
            )
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
            raise ZooError(f"top_k must be a whole number >= 1 or null, got {top_k!r}", key="top_k")
        self._save_hparams()
        self.vocabulary = TraceVocabulary(self.task.size)
        hp = self.hparams
        self.model = CausalDecoder(len(self.vocabulary), hp.width, hp.depth, hp.heads, hp.expansion, pad_id=0)
        self._init_ema()

    # ---- the trace_decoder capability (zoo.contract.TraceDecoder) --------------------------------------

    def sequence_logits(self, ids: Tensor) -> Tensor:
        """Right-padded sequences [B, T] -> next-token logits [B, T, V] of the trained network."""
        return self.model.forward_right_padded(ids)

    # ---- the trace_sampler capability (zoo.contract.TraceSampler) --------------------------------------

    def sample_writings(self, inputs: Tensor, samples: int, max_tokens: int, temperature: float) -> SampledWritings:
        """`samples` writings of up to `max_tokens` tokens for each maze of `inputs` [B, L], all drawn at
        `temperature` by the trained network, as sequences to score (see `SampledWritings`)."""
        writing = self.write(inputs, Budget(max_tokens, samples), temperature=temperature)
        batch = inputs.shape[0]
        rows, starts = [], []
        for maze in range(batch):
            for sample in range(samples):
                query = [BOS, *writing.queries[maze]]
                rows.append(self.vocabulary.encode([*query, *writing.tokens[sample][maze]]))
                starts.append(len(query))
        ids = torch.zeros(len(rows), max(map(len, rows)), dtype=torch.long)
        written = torch.zeros_like(ids, dtype=torch.bool)
        for at, (row, start) in enumerate(zip(rows, starts)):
            ids[at, : len(row)] = torch.tensor(row)
            written[at, start : len(row)] = True
        answers = writing.answers.transpose(0, 1).reshape(batch * samples, -1)  # maze-major, like the rows
        return SampledWritings(ids.to(inputs.device), written.to(inputs.device), answers)

    def policy_weights(self) -> dict[str, Tensor]:
        """Detached copies of the trained network's weights now: a frozen reference policy."""
        return {name: tensor.detach().clone() for name, tensor in self.model.state_dict().items()}

    @torch.no_grad()
    def reference_logits(self, weights: dict[str, Tensor], ids: Tensor) -> Tensor:
        """Next-token logits [B, T, V] of right-padded `ids` [B, T] under the network with `weights`."""
        return torch.func.functional_call(self.model, weights, (ids,))

    # ---- writing --------------------------------------------------------------------------------------

    def prompts(self, inputs: Tensor) -> tuple[list[list[str]], Tensor]:
        """Mazes [B, L] -> (their queries, the prompts [B, T0]: bos and the query's ids, left-padded)."""
        queries = []
        for at, board in enumerate(self.task.decode(inputs.cpu())):
            try:
                queries.append(query_tokens(board))
            except ValueError as error:
                raise ZooError(f"maze {at} of the batch cannot be read: {error}") from None
        ids = [self.vocabulary.encode([BOS, *query]) for query in queries]
        prompts = torch.zeros(len(ids), max(map(len, ids)), dtype=torch.long)
        for row, sequence in enumerate(ids):
            prompts[row, prompts.shape[1] - len(sequence) :] = torch.tensor(sequence)
        return queries, prompts.to(inputs.device)

    @torch.no_grad()
    def write(self, inputs: Tensor, budget: Budget, temperature: float | None = None) -> Writing:
        """Write up to `budget.steps` tokens `budget.samples` times for each maze of `inputs` [B, L]: the first
        sample greedily and the others at the family's temperature, or with `temperature` every sample drawn at
        it (the rollouts of reinforcement learning)."""
        queries, prompts = self.prompts(inputs)
        model, steps, end, hp = self.inference_model, budget.steps, self.vocabulary.ids[END], self.hparams
        drawn = budget.samples - 1 if temperature is None else budget.samples
        runs = [model.generate(prompts, steps, eos_id=end)] if temperature is None else []
        if drawn:
            heat = hp.temperature if temperature is None else temperature
            runs.append(model.generate(prompts.repeat(drawn, 1), steps, heat, hp.top_k, eos_id=end))
        width = max(run.tokens.shape[1] for run in runs)
        ids = torch.cat([torch.nn.functional.pad(run.tokens, (0, width - run.tokens.shape[1])) for run in runs])
        log_probs = torch.cat(
            [torch.nn.functional.pad(run.log_probs, (0, width - run.log_probs.shape[1])) for run in runs]
        )
        batch, samples = inputs.shape[0], budget.samples
        ended = ids == end
        lengths = torch.where(ended.any(-1), ended.float().argmax(-1) + 1, steps + 1).view(samples, batch)
        tokens = [self.vocabulary.decode(row[: int(length)].tolist()) for row, length in zip(ids, lengths.reshape(-1))]
        empty = self._empty_answers(inputs)
        answers = torch.stack(
            [
                self._marked(inputs[at % batch], queries[at % batch], written, empty[at % batch])
                for at, written in enumerate(tokens)
            ]
        ).view(samples, batch, -1)
        return Writing(
            queries=queries,
            tokens=[tokens[n * batch : (n + 1) * batch] for n in range(samples)],
            answers=answers,
            empty=empty,
            lengths=lengths.to(inputs.device),
            log_likelihood=log_probs.cumsum(-1).view(samples, batch, -1),
        )

    def _empty_answers(self, inputs: Tensor) -> Tensor:
        """[B, L] the answers that mark no path: every open cell of mazes `inputs` [B, L] marked open."""
        return torch.where(inputs == BLANK_TOKEN, OPEN + SYMBOL_OFFSET, inputs)

    def _marked(self, maze: Tensor, query: list[str], written: list[str], empty: Tensor) -> Tensor:
        """[L] the answer a sample's writing marks on `maze` [L]: its plan's cells, or `empty` where it wrote no
        whole plan through free cells."""
        if not written or written[-1] != END:
            return empty
        try:
            board = plan_board(self.task.decode(maze.cpu()), plan_cells([*query, *written]))
        except ValueError:
            return empty
        return self.task.encode(board).to(empty.device)

    # ---- thinking: choose, think, every budget from one writing ------------------------------------------

    def choose(self, inputs: Tensor, candidates: Tensor, scores: Tensor) -> Tensor:
        """One sample per maze among those that wrote a plan: candidates [N, B, L], log-likelihoods [N, B] ->
        index [B] (by likelihood, or by votes with likelihood breaking ties)."""
        planned = (candidates != self._empty_answers(inputs)).any(-1)  # [N, B]
        rank = planned.long()
        if self.hparams.selection == "vote":
            same = (candidates[:, None] == candidates[None]).all(-1) & planned[None]  # [N, N, B]
            rank = same.sum(1) * planned
        best = rank == rank.max(0, keepdim=True).values
        return scores.masked_fill(~best, float("-inf")).argmax(0)

    def _logits(self, answer: Tensor) -> Tensor:
        """[B, L, V] the answer's own tokens at 0 and every other at -inf: a decoder keeps no belief per cell."""
        logits = answer.new_full((*answer.shape, self.task.vocab_size), float("-inf"), dtype=torch.float)
        return logits.scatter(-1, answer[..., None], 0.0)

    def explore(self, inputs: Tensor, budget: Budget) -> Exploration:
        """Every sample's answer [S, N, B, L] after each of `budget.steps` tokens, scored by its log-likelihood."""
        writing = self.write(inputs, budget)
        steps = range(1, budget.steps + 1)
        candidates = keep_givens(inputs, torch.stack([writing.candidates_at(s) for s in steps]))
        return Exploration(
            candidates=candidates,
            logits=self._logits(candidates[-1]),
            scores=torch.stack([writing.scores_at(s) for s in steps]),
        )

    def think(self, inputs: Tensor, budget: Budget | int) -> Thought:
        """`explore`, choosing anew only after a step at which some sample ended its plan (before one, every
        sample's answer is the empty one, and after one the choice among plans is fixed until the next)."""
        budget = Budget.of(budget)
        run = self.explore(inputs, budget)
        changes = (run.candidates[1:] != run.candidates[:-1]).flatten(1).any(-1).tolist()
        trail, answer = [], None
        for step in range(budget.steps):
            if answer is None or changes[step - 1]:
                answer = pick(run.candidates[step], self.choose(inputs, run.candidates[step], run.scores[step]))
            trail.append(answer)
        return Thought(
            answer=trail[-1],
            logits=self._logits(trail[-1]),
            trail=torch.stack(trail),
            candidates=run.candidates,
            candidate_scores=run.scores,
        )

    def evaluate_traces(
        self, inputs: Tensor, budgets: Sequence[Budget]
    ) -> tuple[dict[str, Tensor], dict[str, Tensor], dict[str, list[TraceJudgement]]]:
        """Every budget read from one writing at the most tokens and samples asked for: (answers [B, L] per
        label, every sample's answer [N, B, L] per label with N > 1, the judgement of each maze's chosen trace
        per label)."""
        writing = self.write(inputs, Budget(max(b.steps for b in budgets), max(b.samples for b in budgets)))
        answers, samples, judged = {}, {}, {}
        boards = self.task.decode(inputs.cpu())
        for budget in budgets:
            candidates = keep_givens(inputs, writing.candidates_at(budget.steps)[: budget.samples])
            index = self.choose(inputs, candidates, writing.scores_at(budget.steps)[: budget.samples])
            answers[budget.label] = pick(candidates, index)
            if budget.samples > 1:
                samples[budget.label] = candidates
            judged[budget.label] = [
                judge_trace(board, writing.trace(int(n), b, budget.steps))
                for b, (n, board) in enumerate(zip(index, boards))
            ]
        return answers, samples, judged

    def evaluate_budgets(
        self, inputs: Tensor, budgets: Sequence[Budget]
    ) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        answers, samples, _ = self.evaluate_traces(inputs, budgets)
        return answers, samples

    # ---- cost -------------------------------------------------------------------------------------------

    def _typical_prompt(self) -> Tensor:
        """[1, T0] the prompt of the first maze the task generates (its query's length is typical of the task)."""
        puzzles, _ = self.task.generate(1, seed=0)
        return self.prompts(self.task.encode(puzzles).to(self.device))[1]

    def budget_cost(self, budget: Budget | int) -> dict[str, int]:
        """What writing the whole budget costs for one maze of the task: {"flops": the decoder's floating-point
        operations (reading the query, then `steps` tokens, for each sample), "calls": decoder calls}. A writing
        that ends sooner costs less; this is the budget's ceiling."""
        budget = Budget.of(budget)
        prompt, model = self._typical_prompt(), self.inference_model
        flops = count_flops(lambda: model.generate(prompt, budget.steps))
        return {"flops": flops * budget.samples, "calls": budget.steps * budget.samples}

    def thinking_memory(self, batch: int, budget: Budget) -> int:
        """Rough peak bytes of writing `budget` for `batch` mazes: every sample's key-value caches and logits,
        and the answer after every token (`think` keeps the trail)."""
        hp, rows = self.hparams, batch * budget.samples
        length = 3 * self.task.num_cells + 8 + budget.steps  # the longest query, then the writing
        caches = 2 * hp.depth * rows * length * hp.width * 4
        working = rows * (len(self.vocabulary) * 4 * 4 + hp.width * 4 * 16) + rows * length * 16
        trail = budget.steps * rows * self.task.num_cells * (8 + 4)
        return caches + working + trail
