"""The maze task's A* traces: they validate, each corruption is caught by its kind, another tie-break validates."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from zoo.tasks import Maze
from zoo.tasks.maze import GENERATORS, GOAL, START, WALL, astar_trace, plan_board, plan_cells, validate_trace


def ends(puzzle: np.ndarray) -> tuple[tuple[int, int], tuple[int, int]]:
    """The (row, column) of the start and of the goal of ``puzzle``."""
    start, goal = (tuple(int(v) for v in np.argwhere(puzzle == symbol)[0]) for symbol in (START, GOAL))
    return start, goal


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


def test_a_plan_is_checked_in_its_order() -> None:
    """A plan is a sequence: the right cells in a wrong order, a jump or a revisit is not a path, even where the
    set of its cells would verify as an answer."""
    from zoo.tasks.maze import plan_problem

    task = Maze(9, "wilson")
    (puzzle,), _ = task.generate(1, seed=5)
    cells = plan_cells(astar_trace(puzzle))
    assert plan_problem(puzzle, cells) is None
    start, goal = ends(puzzle)
    assert "start to the goal" in plan_problem(puzzle, cells[1:])
    assert "start to the goal" in plan_problem(puzzle, cells[::-1])
    if len(cells) > 3:
        shuffled = [cells[0], cells[2], cells[1], *cells[3:]]
        assert "not next to" in plan_problem(puzzle, shuffled)
        assert task.verify(puzzle, plan_board(puzzle, shuffled)), "the same cells as a set are a valid answer"
    back_and_forth = [cells[0], cells[1], cells[0], *cells[1:]]
    assert plan_problem(puzzle, back_and_forth) == "it visits a cell twice"
    wall = next((r, c) for r in range(9) for c in range(9) if puzzle[r, c] == WALL)
    assert "wall" in plan_problem(puzzle, [start, wall, goal])


def test_judging_a_generated_trace(maze_and_trace: tuple[np.ndarray, list[str]]) -> None:
    """A correct trace is valid and optimal; another maze's trace (the swapped arm's kind) is judged on this
    maze: its query differs, so it is a parse error, and its plan is not a path here; garbage raises nothing."""
    from zoo.tasks.maze import judge_trace

    puzzle, trace = maze_and_trace
    judged = judge_trace(puzzle, trace)
    assert judged.plan_valid and judged.plan_optimal and judged.trace_valid and judged.errors == ()
    assert judged.trace_length == trace.index("solution") - trace.index("reasoning") - 1 > 0
    (other,), _ = Maze(9, "random_walls").generate(1, seed=11)
    swapped = judge_trace(puzzle, astar_trace(other))
    assert swapped.errors == ("parse",) and not swapped.trace_valid
    open_maze = np.zeros((5, 5), dtype=np.int64)
    open_maze[0, 0], open_maze[0, 2] = START, GOAL
    search = astar_trace(open_maze)
    search = search[: search.index("solution")]
    detour = [t for cell in ((0, 0), (1, 0), (1, 1), (1, 2), (0, 2)) for t in ("plan", str(cell[1]), str(cell[0]))]
    longer = judge_trace(open_maze, [*search, "solution", *detour, "end"])
    assert longer.plan_valid and not longer.plan_optimal and longer.trace_valid
    for garbage in ([], ["end"], ["solution", "plan", "x", "end"], "query reasoning solution end"):
        assert not judge_trace(puzzle, garbage).plan_valid
