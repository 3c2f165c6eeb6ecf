"""Trace tokens and the swapped arm's pairing (`zoo.data.traces`)."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.data.traces import TraceVocabulary, swap_partners
from zoo.tasks import Maze
from zoo.tasks.maze import astar_trace


@pytest.mark.parametrize("size", [5, 30])
def test_traces_round_trip_through_the_vocabulary(size: int) -> None:
    vocabulary = TraceVocabulary(size)
    puzzles, _ = Maze(size, "random_walls").generate(3, seed=0)
    for puzzle in puzzles:
        trace = astar_trace(puzzle)
        ids = vocabulary.encode(trace)
        assert min(ids) > 0 and max(ids) < len(vocabulary)  # id 0 is padding
        assert vocabulary.decode(ids) == trace


def test_tokens_outside_the_vocabulary_are_named() -> None:
    vocabulary = TraceVocabulary(5)
    with pytest.raises(ValueError, match="'5' is not in the trace vocabulary of mazes up to 5x5"):
        vocabulary.encode(["start", "5", "0"])
    with pytest.raises(ValueError, match="'c25'"):
        vocabulary.encode(["c25"])
    with pytest.raises(ValueError, match="ids lie in"):
        vocabulary.decode([len(vocabulary)])


def test_swapped_partners_are_seeded_of_the_same_side_and_never_the_example_itself() -> None:
    sizes = np.array([5, 7, 5, 5, 7, 9, 9, 5])
    partners = swap_partners(sizes, seed=3)
    assert np.array_equal(partners, swap_partners(sizes, seed=3))
    assert (partners != np.arange(len(sizes))).all()
    assert np.array_equal(sizes[partners], sizes)
    assert sorted(partners.tolist()) == list(range(len(sizes))), "every trace is used once"
    draws = {tuple(swap_partners(np.full(6, 5), seed).tolist()) for seed in range(20)}
    assert len(draws) > 1, "another seed pairs otherwise"


def test_a_side_with_one_maze_cannot_be_swapped() -> None:
    with pytest.raises(ValueError, match="only one maze of side 9"):
        swap_partners([5, 5, 9], seed=0)
