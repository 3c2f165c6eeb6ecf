"""Tests of the maze task and its A* traces (pure CPU, a few seconds): what the conformance suite does not check."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
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
    astar_trace,
    plan_board,
    plan_cells,
    validate_trace,
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


# ---------------------------------------------------------------- A* traces
def trace_sizes() -> list[tuple[str, int]]:
    return [(generator, size) for generator in GENERATORS for size in (5, 6, 9, 15)] + [("wilson", 30)]


@pytest.mark.parametrize("generator, size", trace_sizes())
def test_astar_traces_validate_and_their_plans_are_shortest_paths(generator: str, size: int) -> None:
    task = Maze(size, generator)
    puzzles, _ = task.generate(4, seed=7)
    for puzzle in puzzles:
        trace = astar_trace(puzzle)
        assert validate_trace(puzzle, trace) == [] and validate_trace(puzzle, " ".join(trace)) == []
        cells = plan_cells(trace)
        assert (cells[0], cells[-1]) == ends(puzzle)
        answer = plan_board(puzzle, cells)
        assert task.verify(puzzle, answer) and task.optimal(puzzle, answer)


def test_the_trace_format() -> None:
    puzzle = np.array([[START, 0, WALL], [0, WALL, 0], [0, 0, GOAL]])
    trace = astar_trace(puzzle)
    assert " ".join(trace[:14]) == "query start 0 0 goal 2 2 wall 2 0 wall 1 1 reasoning"
    assert trace[14:24] == ["create", "0", "0", "c0", "c4", "close", "0", "0", "c0", "c4"]
    assert " ".join(trace[-17:]) == "solution plan 0 0 plan 0 1 plan 0 2 plan 1 2 plan 2 2 end"
    assert plan_cells(trace) == [(0, 0), (1, 0), (2, 0), (2, 1), (2, 2)]  # (row, column)


def test_astar_refuses_a_maze_without_a_way_to_the_goal() -> None:
    puzzle = np.array([[START, WALL, 0], [WALL, WALL, 0], [0, 0, GOAL]])
    with pytest.raises(ValueError, match="the goal cannot be reached"):
        astar_trace(puzzle)
    with pytest.raises(ValueError, match="2 starts"):
        astar_trace(np.array([[START, START, 0], [0, 0, 0], [0, 0, GOAL]]))


def records(trace: list[str]) -> tuple[list[str], list[list[str]], list[str]]:
    """The query (up to "reasoning"), the create and close records, and the solution part of ``trace``."""
    head, tail = trace.index("reasoning") + 1, trace.index("solution")
    return trace[:head], [trace[at : at + 5] for at in range(head, tail, 5)], trace[tail:]


def joined(head: list[str], body: list[list[str]], tail: list[str]) -> list[str]:
    return [*head, *(token for record in body for token in record), *tail]


def cell_of(record: list[str]) -> tuple[int, int]:
    return int(record[2]), int(record[1])


def cost(record: list[str]) -> tuple[int, int]:
    return int(record[3][1:]), int(record[4][1:])


@pytest.fixture(scope="module")
def maze_and_trace() -> tuple[np.ndarray, list[str]]:
    """A 9x9 random-walls maze, with open areas (ties, nodes left open), and its trace."""
    (puzzle,), _ = Maze(9, "random_walls").generate(1, seed=3)
    return puzzle, astar_trace(puzzle)


def test_dropping_the_close_of_the_goal_is_caught(maze_and_trace: tuple[np.ndarray, list[str]]) -> None:
    puzzle, trace = maze_and_trace
    head, body, tail = records(trace)
    assert body[-1][0] == "close" and cell_of(body[-1]) == ends(puzzle)[1]
    assert validate_trace(puzzle, joined(head, body[:-1], tail)) == ["goal_not_closed"]


def test_invalid_creates_are_caught(maze_and_trace: tuple[np.ndarray, list[str]]) -> None:
    puzzle, trace = maze_and_trace
    head, body, tail = records(trace)
    goal = ends(puzzle)[1]
    # a wall beside a closed node, with the right costs: invalid only as a wall
    at, wall = next(
        (at, (r + dr, c + dc))
        for at, record in enumerate(body)
        if record[0] == "close"
        for r, c in [cell_of(record)]
        for dr, dc in ((-1, 0), (0, 1), (1, 0), (0, -1))
        if 0 <= r + dr < 9 and 0 <= c + dc < 9 and puzzle[r + dr, c + dc] == WALL
    )
    h = abs(wall[0] - goal[0]) + abs(wall[1] - goal[1])
    g = cost(body[at])[0] + 1
    wall_create = ["create", str(wall[1]), str(wall[0]), f"c{g}", f"c{h}"]
    assert validate_trace(puzzle, joined(head, [*body[: at + 1], wall_create, *body[at + 1 :]], tail)) == [
        "invalid_create"
    ]
    # a node never closed, created with a wrong g or a wrong h
    closed = {cell_of(record) for record in body if record[0] == "close"}
    at = max(at for at, record in enumerate(body) if record[0] == "create" and cell_of(record) not in closed)
    for wrong in ([*body[at][:3], f"c{cost(body[at])[0] + 2}", body[at][4]], [*body[at][:4], "c0"]):
        assert validate_trace(puzzle, joined(head, [*body[:at], wrong, *body[at + 1 :]], tail)) == ["invalid_create"]
    # the first create must be the start's
    first = ["create", *body[0][1:3], "c1", body[0][4]]
    assert validate_trace(puzzle, joined(head, [first, *body[1:]], tail))[0] == "invalid_create"


def test_closing_a_node_never_created_is_caught(maze_and_trace: tuple[np.ndarray, list[str]]) -> None:
    puzzle, trace = maze_and_trace
    head, body, tail = records(trace)
    created = {cell_of(record) for record in body if record[0] == "create"}
    r, c = next(tuple(cell) for cell in np.argwhere(puzzle == 0) if tuple(cell) not in created)
    stranger = ["close", str(c), str(r), "c3", "c3"]
    assert validate_trace(puzzle, joined(head, [body[0], stranger, *body[1:]], tail)) == ["close_not_open"]
    reclosed = [*body, body[1]]  # the start again, after it was closed
    assert validate_trace(puzzle, joined(head, reclosed, tail)) == ["close_not_open"]


def swap_rising_closes(body: list[list[str]]) -> list[list[str]] | None:
    """The records ``body`` with two successive closes, each with the creates after it, swapped so that the one of
    higher f comes first, while the other is open; None when the trace has no such pair."""
    closes = [at for at, record in enumerate(body) if record[0] == "close"] + [len(body)]
    blocks = [body[at:end] for at, end in zip(closes, closes[1:])]
    for k in range(len(blocks) - 1):
        one, other = blocks[k], blocks[k + 1]
        if sum(cost(one[0])) < sum(cost(other[0])) and cell_of(other[0]) not in {cell_of(r) for r in one[1:]}:
            return [*body[: closes[0]], *(r for b in [*blocks[:k], other, one, *blocks[k + 2 :]] for r in b)]
    return None


def test_closing_a_node_of_higher_f_first_is_caught() -> None:
    swapped = 0
    for puzzle in Maze(9).generate(5, seed=3)[0]:  # dead ends make f rise
        head, body, tail = records(astar_trace(puzzle))
        corrupted = swap_rising_closes(body)
        if corrupted is not None:
            assert validate_trace(puzzle, joined(head, corrupted, tail))[0] == "not_lowest_f"
            swapped += 1
    assert swapped, "no trace had two closes of rising f to swap"


def replaced(trace: list[str], at: int, *tokens: str) -> list[str]:
    return [*trace[:at], *tokens, *trace[at + 1 :]]


GARBLED: dict[str, Callable[[list[str], int], list[str]]] = {  # (trace, index of "reasoning") -> garbled trace
    "a cost": lambda t, r: replaced(t, r + 4, "c0x"),
    "a record's name": lambda t, r: replaced(t, r + 1, "crate"),
    "a record cut short": lambda t, r: replaced(t, r + 5),
    "a coordinate off the board": lambda t, r: replaced(t, r + 7, "9"),
    "no reasoning": lambda t, r: replaced(t, r),
    "another query": lambda t, r: replaced(t, 2, str(int(t[2]) + 1)),
    "no end": lambda t, r: t[:-1],
    "a token after the end": lambda t, r: [*t, "end"],
    "a plan entry cut short": lambda t, r: replaced(t, len(t) - 2),
}


@pytest.mark.parametrize("garble", GARBLED)
def test_a_trace_off_the_format_is_a_parse_error(maze_and_trace: tuple[np.ndarray, list[str]], garble: str) -> None:
    puzzle, trace = maze_and_trace
    assert validate_trace(puzzle, GARBLED[garble](trace, trace.index("reasoning"))) == ["parse"]


def lifo_astar(puzzle: np.ndarray) -> list[str]:
    """Another A*: ties of f closed by the highest h, then the latest created; neighbours left, down, right, up."""
    n = len(puzzle)
    start, goal = ends(puzzle)

    def h(cell: tuple[int, int]) -> int:
        return abs(cell[0] - goal[0]) + abs(cell[1] - goal[1])

    def xy(cell: tuple[int, int]) -> list[str]:
        return [str(cell[1]), str(cell[0])]

    def record(kind: str, cell: tuple[int, int], g: int) -> list[str]:
        return [kind, *xy(cell), f"c{g}", f"c{h(cell)}"]

    walls = [token for r, c in np.argwhere(puzzle == WALL) for token in ("wall", str(c), str(r))]
    tokens = ["query", "start", *xy(start), "goal", *xy(goal), *walls, "reasoning", *record("create", start, 0)]
    opened, parent, closed = {start: (0, 0)}, {}, set()  # cell -> (g, order of creation)
    while goal not in closed:
        cell = min(opened, key=lambda c: (opened[c][0] + h(c), -h(c), -opened[c][1]))
        g = opened.pop(cell)[0]
        closed.add(cell)
        tokens += record("close", cell, g)
        for dr, dc in ((0, -1), (1, 0), (0, 1), (-1, 0)):
            near = (cell[0] + dr, cell[1] + dc)
            if not (0 <= near[0] < n and 0 <= near[1] < n) or puzzle[near] == WALL or near in closed:
                continue
            if opened.get(near, (math.inf,))[0] > g + 1:
                opened[near], parent[near] = (g + 1, len(tokens)), cell
                tokens += record("create", near, g + 1)
    plan = [goal]
    while plan[-1] != start:
        plan.append(parent[plan[-1]])
    return [*tokens, "solution", *(token for cell in reversed(plan) for token in ("plan", *xy(cell))), "end"]


def test_an_astar_with_another_tie_break_validates() -> None:
    differ = 0
    for generator in ("random_walls", "drunkard", "wilson"):
        task = Maze(9, generator)
        for puzzle in task.generate(6, seed=11)[0]:
            trace = lifo_astar(puzzle)
            assert validate_trace(puzzle, trace) == []
            assert task.optimal(puzzle, plan_board(puzzle, plan_cells(trace)))
            differ += trace != astar_trace(puzzle)
    assert differ, "the other tie-break made the same traces: the test shows nothing"


def test_plan_board_refuses_walls_and_cells_off_the_board() -> None:
    puzzle = Maze(5).generate(1, seed=0)[0][0]
    wall = tuple(np.argwhere(puzzle == WALL)[0])
    with pytest.raises(ValueError, match=rf"row {wall[0]}, column {wall[1]} is on a wall"):
        plan_board(puzzle, [wall])
    with pytest.raises(ValueError, match="row 5, column 0 is off the 5x5 board"):
        plan_board(puzzle, [(5, 0)])
    with pytest.raises(ValueError, match="does not end in 'solution plan X Y ... end'"):
        plan_cells("query start 0 0 solution plan 1 end")


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
