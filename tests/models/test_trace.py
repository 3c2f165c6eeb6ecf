"""The trace decoder and its regime: what each arm trains on, what a writing answers, how samples are chosen,
and what the evaluation judges."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from zoo.data import TaskDataModule
from zoo.data.traces import trained_sequence
from zoo.errors import ZooError
from zoo.evaluation.budget import Budget
from zoo.evaluation.evaluate import evaluate
from zoo.models import TraceTransformer
from zoo.nn.decoder import Generation
from zoo.regimes import TraceSFT
from zoo.tasks import Maze
from zoo.tasks.maze import astar_trace, split_trace

TASK = {"name": "maze", "size": 5}


@pytest.fixture
def mazes() -> np.ndarray:
    return Maze(5).generate(6, seed=3)[0]


def tiny(**settings: object) -> TraceTransformer:
    torch.manual_seed(0)
    return TraceTransformer(TASK, **{**TraceTransformer.tiny_settings, **settings}).eval()


# ---- what each arm trains on ----------------------------------------------------------------------------


def test_each_arm_keeps_the_query_and_the_plan_and_changes_only_the_search(mazes: np.ndarray) -> None:
    maze, partner = mazes[0], mazes[1]
    query, records, solution = split_trace(astar_trace(maze))
    partner_records = split_trace(astar_trace(partner))[1]
    arms = {
        arm: trained_sequence(arm, maze, partner, keep=0.3)
        for arm in ("correct", "swapped", "none", "shuffled", "truncated")
    }
    for tokens, length in arms.values():
        assert tokens[:length] == query and tokens[-len(solution) :] == solution
    assert arms["correct"][0] == astar_trace(maze)
    assert arms["none"][0] == [*query, *solution]
    assert split_trace(arms["swapped"][0])[1] == partner_records != records
    shuffled = split_trace(arms["shuffled"][0])[1]
    assert sorted(shuffled) == sorted(records) and shuffled != records
    assert arms["shuffled"] == trained_sequence("shuffled", maze)  # the order is fixed by the maze
    assert split_trace(arms["truncated"][0])[1] == records[: math.ceil(0.3 * len(records))]


def test_the_loss_covers_exactly_the_tokens_after_the_query(mazes: np.ndarray) -> None:
    model, task = tiny(), Maze(5)
    ids, predicted = TraceSFT().sequences(model, {"inputs": task.encode(mazes)})
    for row, maze in enumerate(mazes):
        trace = astar_trace(maze)
        query = trace.index("reasoning")
        assert model.vocabulary.decode(ids[row, 1 : 1 + len(trace)].tolist()) == trace
        assert predicted[row].nonzero().squeeze(-1).tolist() == list(range(1 + query, 1 + len(trace)))


def test_swapped_traces_need_partners_from_the_data() -> None:
    model, task = tiny(), Maze(5)
    inputs = task.encode(task.generate(2, seed=0)[0])
    with pytest.raises(ZooError, match="data.partners: true"):
        TraceSFT(trace="swapped").training_loss(model, {"inputs": inputs}, None)
    with pytest.raises(ZooError, match="trace must be one of"):
        TraceSFT(trace="reversed")


def test_partners_are_other_training_mazes_fixed_by_the_data_seed(tmp_path) -> None:
    def partners(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        data = TaskDataModule(TASK, 40, 0, 0, batch_size=8, seed=seed, cache_dir=str(tmp_path), partners=True)
        dataset = data.dataset("train")
        items = [dataset[i] for i in range(len(dataset))]
        return torch.stack([i["inputs"] for i in items]), torch.stack([i["partners"] for i in items])

    inputs, paired = partners(0)
    assert not (inputs == paired).all(-1).any(), "a maze is never its own partner"
    assert sorted(map(tuple, paired.tolist())) == sorted(map(tuple, inputs.tolist())), "every maze partners once"
    assert torch.equal(partners(0)[1], paired)
    with pytest.raises(ZooError, match="partners is true or false"):
        TaskDataModule(TASK, partners=1)


def test_a_training_step_lowers_the_loss(mazes: np.ndarray) -> None:
    model = TraceTransformer(TASK, **TraceTransformer.tiny_settings)
    batch = {"inputs": Maze(5).encode(mazes)}
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        loss = TraceSFT().training_loss(model, batch, None)[0]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def test_it_reads_mazes_only() -> None:
    with pytest.raises(ZooError, match="TraceTransformer reads only maze puzzles, not sudoku"):
        TraceTransformer({"name": "sudoku", "size": 4}, **TraceTransformer.tiny_settings)


# ---- what a writing answers ----------------------------------------------------------------------------


def scripted(model: TraceTransformer, writings: list[list[str]]) -> None:
    """Make `model` write `writings` (one per prompt row, cycling), whatever it was asked."""

    def generate(prompts: torch.Tensor, max_new_tokens: int, *args: object, **kwargs: object) -> Generation:
        rows = [model.vocabulary.encode(writings[at % len(writings)])[:max_new_tokens] for at in range(len(prompts))]
        tokens = torch.zeros(len(rows), max(map(len, rows)), dtype=torch.long)
        for at, row in enumerate(rows):
            tokens[at, : len(row)] = torch.tensor(row)
        return Generation(tokens, -(tokens != 0).float())

    model.model.generate = generate


def written(maze: np.ndarray) -> list[str]:
    trace = astar_trace(maze)
    return trace[trace.index("reasoning") :]


def test_a_correct_writing_answers_once_its_plan_ends_and_is_judged_valid(mazes: np.ndarray) -> None:
    model, task = tiny(), Maze(5)
    scripted(model, [written(maze) for maze in mazes])
    inputs = task.encode(mazes)
    length = min(len(written(maze)) for maze in mazes)
    short, full = Budget(length - 1), Budget(max(len(written(maze)) for maze in mazes))
    answers, _, judged = model.evaluate_traces(inputs, [short, full])
    boards = task.decode(answers[full.label])
    assert all(task.optimal(maze, board) for maze, board in zip(mazes, boards))
    assert not any(task.verify(maze, board) for maze, board in zip(mazes, task.decode(answers[short.label])))
    assert all(j.plan_valid and j.plan_optimal and j.trace_valid and not j.errors for j in judged[full.label])
    assert [j.trace_length for j in judged[full.label]] == [
        len(written(m)) - len(split_trace(written(m))[2]) - 1 for m in mazes
    ]
    assert not any(j.plan_valid or j.trace_valid for j in judged[short.label])  # cut before its plan: unfinished


def test_a_plan_through_a_wall_answers_nothing(mazes: np.ndarray) -> None:
    model, task = tiny(), Maze(5)
    walls = np.argwhere(mazes[0] == 1)
    row, col = walls[0]
    scripted(model, [["solution", "plan", str(col), str(row), "end"]])
    answer = model.think(task.encode(mazes[:1]), Budget(8)).answer
    assert torch.equal(answer, model._empty_answers(task.encode(mazes[:1])))


def test_likelihood_chooses_the_likeliest_plan_and_vote_the_most_written(mazes: np.ndarray) -> None:
    task, maze = Maze(5), mazes[0]
    inputs = task.encode(mazes[:1])
    right = task.encode(task.solutions(maze)[0])
    empty = tiny()._empty_answers(inputs)[0]
    other = right.clone()
    other[(right == 3).nonzero()[0]] = 4  # another board with a plan marked: one more cell on the path
    candidates = torch.stack([empty, other, right, right])[:, None]
    scores = torch.tensor([[0.0], [-1.0], [-3.0], [-2.0]])
    assert int(tiny(selection="likelihood").choose(inputs, candidates, scores)) == 1  # planned, likeliest
    assert int(tiny(selection="vote").choose(inputs, candidates, scores)) == 3  # two votes, likelier of the two
    with pytest.raises(ZooError, match="selection must be one of likelihood, vote"):
        tiny(selection="oracle")


def test_evaluation_reports_the_maze_metrics(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path))
    model, task = tiny(), Maze(5)
    mazes = TaskDataModule(TASK, 0, 0, 8, seed=4, cache_dir=str(tmp_path / "data"))
    mazes.setup()
    tests = mazes.splits["test"][0]
    scripted(model, [written(maze) for maze in tests])
    results = evaluate(model, task, [Budget(300)], count=8, seed=4, batch_size=8)
    assert results["exact_match"]["300"] == results["optimal"]["300"] == results["plan_valid"]["300"] == 1.0
    assert results["trace_valid"]["300"] == 1.0 and results["trace_errors"]["300"]["parse"] == 0.0
    assert results["trace_length"]["300"] > 0 and "300" in results["flops_per_puzzle"]


def test_a_budget_costs_the_flops_of_writing_all_its_tokens_for_every_sample() -> None:
    model = tiny()
    one, longer, wide = (model.budget_cost(Budget(*budget))["flops"] for budget in ((16, 1), (32, 1), (16, 3)))
    assert wide == 3 * one and one < longer < 2 * one + model.budget_cost(Budget(1))["flops"]
