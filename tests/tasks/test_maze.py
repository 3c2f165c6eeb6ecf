"""Tests of the maze task (pure CPU, a few seconds): what the conformance suite does not check; the A* traces are
in test_maze_traces.py."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from zoo import tasks
from zoo.errors import ZooError
from zoo.tasks import Maze
from zoo.tasks.base import NO_SOLUTION
from zoo.tasks.maze import (
    GENERATORS,
    GOAL,
    OPEN,
    PATH,
    START,
    WALL,
)
from zoo.tasks.maze import grid as maze_grid

TREE_GENERATORS = ("wilson", "kruskal", "dfs")

#: a 7x7 maze as maze tools print it: walls '#', open spaces, start 'S', exit 'E', a shortest path marked '*'
TOOL_ROWS = [
    "#######",
    "#S***##",
    "####*##",
    "#  #*##",
    "# ##**#",
    "#    E#",
    "#######",
]


def block(*rows: str) -> str:
    return "\n".join(rows)


def ends(puzzle: np.ndarray) -> tuple[tuple[int, int], tuple[int, int]]:
    """The (row, column) of the start and of the goal of ``puzzle``."""
    start, goal = (tuple(int(v) for v in np.argwhere(puzzle == symbol)[0]) for symbol in (START, GOAL))
    return start, goal


def open_grid(n: int, start: tuple[int, int], goal: tuple[int, int]) -> np.ndarray:
    """A puzzle ``[n, n]`` without walls."""
    puzzle = np.zeros((n, n), dtype=np.int64)
    puzzle[start], puzzle[goal] = START, GOAL
    return puzzle


def marking(puzzle: np.ndarray, cells: list[tuple[int, int]]) -> np.ndarray:
    """The answer to ``puzzle`` that marks ``cells`` as path and every other blank as open."""
    answer = np.where(puzzle == 0, OPEN, puzzle)
    for cell in cells:
        answer[cell] = PATH
    return answer


# ---------------------------------------------------------------- verify and optimal
def test_a_longer_path_is_valid_but_not_optimal() -> None:
    task = Maze(5)
    puzzle = open_grid(5, (0, 0), (0, 2))
    detour = [(1, 0), (2, 0), (2, 1), (2, 2), (1, 2)]  # down, right, up: an induced path of 6 steps
    assert task.verify(puzzle, marking(puzzle, detour)) and not task.optimal(puzzle, marking(puzzle, detour))
    assert task.optimal(puzzle, marking(puzzle, [(0, 1)]))
    assert len(task.solutions(puzzle)) == 1


@pytest.mark.parametrize("generator", ["random_walls", "drunkard"])
def test_a_longer_path_in_a_generated_maze_is_valid_but_not_optimal(generator: str) -> None:
    task = Maze(9, generator)
    for puzzle, solution in zip(*task.generate(10, seed=5)):
        for cell in map(tuple, np.argwhere(solution == PATH)):
            blocked = puzzle.copy()
            blocked[cell] = WALL
            for detour in task.solutions(blocked, limit=1):  # a shortest path around the cell: an induced path
                detour[cell] = OPEN
                if (detour == PATH).sum() > (solution == PATH).sum():
                    assert task.verify(puzzle, detour) and not task.optimal(puzzle, detour)
                    return
    pytest.fail("no generated maze had a longer way round")


def test_broken_paths_are_refused() -> None:
    task = Maze(5)
    puzzle = open_grid(5, (0, 0), (0, 4))
    puzzle[2, 2] = WALL
    straight = [(0, 1), (0, 2), (0, 3)]
    assert task.verify(puzzle, marking(puzzle, straight))
    refused = {
        "a gap": [(0, 1), (0, 3)],
        "a stray cell": [*straight, (3, 3)],
        "a branch": [*straight, (1, 2)],
        "a wall marked": [*straight, (2, 2)],
        "short of the goal": [(1, 0), (1, 1), (1, 2)],
        "a spur of two cells": [*straight, (1, 1), (2, 1)],  # as many cells of each colour as a path
    }
    for why, cells in refused.items():
        assert not task.verify(puzzle, marking(puzzle, cells)), why
    blank_left = marking(puzzle, straight)
    blank_left[4, 4] = 0
    assert not task.verify(puzzle, blank_left)


def test_a_path_that_touches_itself_is_found_by_the_search(monkeypatch: pytest.MonkeyPatch) -> None:
    task = Maze(5)
    puzzle = open_grid(5, (0, 0), (2, 0))
    snake = [(0, 1), (0, 2), (0, 3), (1, 3), (1, 2), (1, 1), (1, 0)]  # along row 0, back along row 1, down to G
    answer = marking(puzzle, snake)
    assert task.verify(puzzle, answer) and not task.optimal(puzzle, answer)
    monkeypatch.setattr(maze_grid, "PATH_SEARCH_MOVES", 0)  # no search: the start touches two marked cells
    assert not task.verify(puzzle, answer)


def test_solutions_are_every_shortest_path_in_order() -> None:
    task = Maze(5)
    puzzle = open_grid(5, (0, 0), (2, 2))
    found = task.solutions(puzzle)
    assert len(found) == math.comb(4, 2) and all(task.optimal(puzzle, answer) for answer in found)
    assert np.array_equal(found[0], marking(puzzle, [(0, 1), (0, 2), (1, 2)]))  # right first: no up from row 0
    assert len(task.solutions(puzzle, limit=4)) == 4
    with pytest.raises(ValueError, match="limit"):
        task.solutions(puzzle, limit=-1)


def test_givens_that_break_the_rules_and_unreachable_goals() -> None:
    task = Maze(5)
    puzzle = open_grid(5, (0, 0), (4, 4))
    for board, why in (
        (np.where(puzzle == START, 0, puzzle), "the maze has 0 starts, not one"),
        (np.where(np.eye(5, dtype=bool) & (puzzle == 0), GOAL, puzzle), "the maze has 4 goals, not one"),
        (np.where(np.eye(5, k=1, dtype=bool), PATH, puzzle), "row 1, column 2 is given as an open or path cell"),
    ):
        assert task.contradiction(board).startswith(why) and task.solutions(board) == []
    walled = puzzle.copy()
    walled[3, :] = WALL
    assert task.contradiction(walled) is None and task.solvable(walled) is False
    assert task.status(walled, np.where(walled == 0, OPEN, walled)) == NO_SOLUTION


# ---------------------------------------------------------------- text
def test_the_ascii_grid_of_a_maze_tool_reads_as_its_puzzle() -> None:
    task = Maze(7)
    puzzle = task.parse(block(*TOOL_ROWS))
    one_line = "".join(TOOL_ROWS).replace(" ", ".").replace("*", ".").replace("E", "G")
    assert np.array_equal(puzzle, task.parse(one_line))
    assert np.array_equal(task.parse(f"\n\n{block(*TOOL_ROWS)}\n  \n"), puzzle)
    assert (puzzle == WALL).sum() == "".join(TOOL_ROWS).count("#") and puzzle[1, 1] == START and puzzle[5, 5] == GOAL
    answer = task.parse_block(block(*TOOL_ROWS), answer=True)
    assert task.optimal(puzzle, answer) and len(task.solutions(puzzle)) == 2
    for mark in "oX+":
        assert np.array_equal(task.parse_block(block(*TOOL_ROWS).replace("*", mark), answer=True), answer)


@pytest.mark.parametrize("generator", GENERATORS)
def test_the_block_form_round_trips(generator: str) -> None:
    task = Maze(8, generator)
    for puzzle, solution in zip(*task.generate(5, seed=2)):
        text = task.format_block(puzzle)
        assert text.count("\n") == 7 and " " not in text
        assert np.array_equal(task.parse(text), puzzle) and np.array_equal(task.parse_block(text), puzzle)
        answer = task.format_block(solution)
        assert np.array_equal(task.parse_block(answer, answer=True), solution)
        assert np.array_equal(task.parse(answer), puzzle)  # path marks read as open cells of the puzzle


def test_the_one_line_form() -> None:
    task = Maze(5)
    puzzle = task.parse("S...." + "####." + "E...." + "." * 10)
    assert puzzle[0, 0] == START and puzzle[2, 0] == GOAL and (puzzle[1, :4] == WALL).all()
    assert task.format(puzzle) == "S....####.G" + "." * 14
    with pytest.raises(ValueError, match="the maze has 0 starts, not one: mark the start with 'S'"):
        task.parse("." * 24 + "G")
    with pytest.raises(ValueError, match=r"bad character ' ' at position 1 \(row 1, column 2\)"):
        task.parse("S G" + "." * 22)


MALFORMED = {
    "ragged": (
        [*TOOL_ROWS[:2], TOOL_ROWS[2][:-1], *TOOL_ROWS[3:]],
        "row 3 has 6 characters but row 1 has 7.*write open cells as '.'",
    ),
    "no start": ([row.replace("S", " ") for row in TOOL_ROWS], "the maze has 0 starts, not one"),
    "two goals": ([*TOOL_ROWS[:3], "#G #*##", *TOOL_ROWS[4:]], "the maze has 2 goals, not one"),
    "unknown character": ([*TOOL_ROWS[:4], "# ##*?#", *TOOL_ROWS[5:]], r"bad character '\?' at row 5, column 6"),
    "wrong size": ([row[:6] for row in TOOL_ROWS[:6]], "the block is 6 rows of 6 characters.* reads 7x7 mazes"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_block_is_named_by_its_line(case: str, tmp_path: Path) -> None:
    rows, pattern = MALFORMED[case]
    path = tmp_path / "mazes.txt"
    path.write_text(f"{block(*TOOL_ROWS)}\n\n\n{block(*rows)}\n")
    where = rf"{re.escape(str(path))}:10 \(the block starting on this line\)"
    with pytest.raises(ValueError, match=f"{where}: {pattern}"):
        Maze(7).read_file(path)


def test_read_file_takes_blocks_and_one_line_mazes(tmp_path: Path) -> None:
    task = Maze(7)
    puzzles, solutions = task.generate(3, seed=1)
    path = tmp_path / "mazes.txt"
    lines = [task.format(puzzles[0]), task.format(solutions[1]), "", task.format_block(puzzles[2]), "", *TOOL_ROWS]
    path.write_text("\n".join(lines) + "\n")
    boards = task.read_file(path)
    assert boards.shape == (4, 7, 7) and boards.dtype == np.int64
    for board, expected in zip(boards, [puzzles[0], solutions[1], puzzles[2], task.parse(block(*TOOL_ROWS))]):
        assert np.array_equal(board, expected)
    path.write_text(f"{task.format(puzzles[0])}\n{task.format(puzzles[0])[:-1]}\n")
    with pytest.raises(ValueError, match=r"mazes.txt:2: .*one line of 49 characters"):
        task.read_file(path)
    path.write_text("\n\n")
    assert task.read_file(path).shape == (0, 7, 7)


# ---------------------------------------------------------------- generation and options
def open_cells(puzzle: np.ndarray) -> set[tuple[int, int]]:
    return {(int(r), int(c)) for r, c in np.argwhere(puzzle != WALL)}


def simple_paths(puzzle: np.ndarray) -> int:
    """The number of simple paths from the start to the goal (exhaustive search)."""
    free = open_cells(puzzle)
    start, goal = ends(puzzle)

    def count(cell: tuple[int, int], seen: set[tuple[int, int]]) -> int:
        if cell == goal:
            return 1
        nears = [(cell[0] + dr, cell[1] + dc) for dr, dc in ((-1, 0), (0, 1), (1, 0), (0, -1))]
        return sum(count(near, seen | {near}) for near in nears if near in free and near not in seen)

    return count(start, {start})


@pytest.mark.parametrize("generator", GENERATORS)
@pytest.mark.parametrize("size", [5, 6, 30])
def test_generated_puzzles_have_one_start_one_goal_and_a_solution(generator: str, size: int) -> None:
    task = Maze(size, generator)
    puzzles, solutions = task.generate(5, seed=4)
    assert puzzles.shape == solutions.shape == (5, size, size)
    for puzzle, solution in zip(puzzles, solutions):
        assert set(np.unique(puzzle).tolist()) <= {0, WALL, START, GOAL}
        assert (puzzle == START).sum() == (puzzle == GOAL).sum() == 1 and (solution == PATH).sum() >= 1
        assert task.solvable(puzzle) and task.optimal(puzzle, solution)
        if generator in TREE_GENERATORS and size % 2 == 0:
            assert (puzzle[-1] == WALL).all() and (puzzle[:, -1] == WALL).all()


@pytest.mark.parametrize("generator", TREE_GENERATORS)
def test_spanning_tree_mazes_are_perfect(generator: str) -> None:
    for size in (5, 9, 16):
        task = Maze(size, generator)
        for puzzle in task.generate(5, seed=6)[0]:
            free = open_cells(puzzle)
            edges = sum((r + 1, c) in free for r, c in free) + sum((r, c + 1) in free for r, c in free)
            assert edges == len(free) - 1  # connected (it is solvable from any room) with no cycle: a tree
            assert len(task.solutions(puzzle)) == 1
            if size <= 9:
                assert simple_paths(puzzle) == 1


def test_generators_make_other_mazes() -> None:
    made = {generator: Maze(9, generator).generate(1, seed=0)[0][0] for generator in GENERATORS}
    assert len({puzzle.tobytes() for puzzle in made.values()}) == len(GENERATORS)
    walls = Maze(15, "random_walls").generate(8, seed=0)[0] == WALL
    assert walls.mean() == pytest.approx(0.3, abs=0.08)
    assert (Maze(16, "drunkard").generate(1, seed=0)[0] != WALL).sum() == 16 * 16 // 2


@pytest.mark.parametrize(
    "options, key, pattern",
    [
        ({"size": 4}, "size", r"size must be an integer in 5..30, got 4"),
        ({"size": 31}, "size", "got 31"),
        ({"size": True}, "size", "got True"),
        ({"size": 9.0}, "size", "got 9.0"),
        ({"size": "9"}, "size", "got '9'"),
        ({"generator": "prim"}, "generator", "generator must be one of wilson, kruskal, dfs, drunkard, random_walls"),
        ({"generator": None}, "generator", "got None"),
    ],
)
def test_bad_options_are_named(options: dict, key: str, pattern: str) -> None:
    with pytest.raises(ZooError, match=pattern) as caught:
        tasks.get("maze", **options)
    assert caught.value.key == key


def test_spec_and_vocabulary() -> None:
    task = tasks.get("maze", size=11, generator="kruskal")
    assert task.spec() == {"name": "maze", "size": 11, "generator": "kruskal"} and Maze().spec()["size"] == 9
    assert task.num_symbols == 5 and task.vocab_size == 7


def test_write_text_reads_back_with_the_line_each_maze_starts_on() -> None:
    task = Maze(6, "drunkard")
    puzzles, solutions = task.generate(3, seed=2)
    text = task.write_text(puzzles)
    found = task.read_text(text, "mazes.txt")
    assert [number for number, _ in found] == [1, 8, 15]  # six rows and a blank line each
    assert all(np.array_equal(board, puzzle) for (_, board), puzzle in zip(found, puzzles))
    # answers print their path as 'o', which a puzzle reads as open: an answer file reads as its puzzles
    assert all(np.array_equal(b, p) for (_, b), p in zip(task.read_text(task.write_text(solutions)), puzzles))
    lines = text.splitlines()
    free = next(row for row in range(7, 13) if "." in lines[row])
    lines[free] = lines[free].replace(".", "S", 1)  # a second start in the second maze
    with pytest.raises(ValueError, match=r"mazes\.txt:8 \(the block starting on this line\): the maze has 2 starts"):
        task.read_text("\n".join(lines), "mazes.txt")
