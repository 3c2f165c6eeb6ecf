"""A* search traces of a maze and their validator (see the package docstring for the format)."""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np

from .grid import BLANK, OPEN, PATH, Cell, cells_of, distances, manhattan, read_maze, steps

#: a record of an A* trace: ("create" or "close", cell, g, h)
Record = tuple[str, Cell, int, int]


def _xy(cell: Cell) -> list[str]:
    """The tokens of ``cell``: its column, then its row."""
    return [str(cell[1]), str(cell[0])]


def _query(free: np.ndarray, start: Cell, goal: Cell) -> list[str]:
    """The query part of a trace: start, goal, then the walls of ``free [n, n]`` (bool) row by row."""
    walls = [token for cell in cells_of(free, False) for token in ("wall", *_xy(cell))]
    return ["query", "start", *_xy(start), "goal", *_xy(goal), *walls]


def _record(kind: str, cell: Cell, g: int, h: int) -> list[str]:
    return [kind, *_xy(cell), f"c{g}", f"c{h}"]


def query_tokens(maze_puzzle: np.ndarray) -> list[str]:
    """The query of ``maze_puzzle [n, n]``: the tokens of its trace before ``reasoning`` (what a trace model reads
    before it writes). ValueError for a maze without one start and one goal."""
    return _query(*read_maze(maze_puzzle))


def split_trace(tokens: list[str]) -> tuple[list[str], list[list[str]], list[str]]:
    """A whole trace's (query, search records of five tokens each, solution from ``solution`` to ``end``)."""
    reasoning, solution = tokens.index("reasoning"), tokens.index("solution")
    search = tokens[reasoning + 1 : solution]
    return tokens[:reasoning], [search[at : at + 5] for at in range(0, len(search), 5)], tokens[solution:]


def astar_trace(maze_puzzle: np.ndarray) -> list[str]:
    """The tokens of an A* search from the start to the goal of ``maze_puzzle [n, n]`` (any side; cells other
    than walls are free), in the format of the module docstring.

    Unit costs, the Manhattan heuristic h, neighbours in the order up, right, down, left. The node closed next
    has the lowest f = g + h, ties broken by the lowest h, then by the earliest create (an improved node counts
    from its latest create). The search stops when the goal is closed. ValueError when no path reaches the goal.
    """
    free, start, goal = read_maze(maze_puzzle)
    tokens = [*_query(free, start, goal), "reasoning"]
    cost = {start: 0}
    parent: dict[Cell, Cell] = {}
    closed: set[Cell] = set()
    heap = [(manhattan(start, goal), manhattan(start, goal), 0, start)]  # (f, h, order of creation, cell)
    tokens += _record("create", start, 0, manhattan(start, goal))
    while heap:
        f, h, _, cell = heapq.heappop(heap)
        if cell in closed or cost[cell] + h != f:
            continue  # an entry of a node since improved
        closed.add(cell)
        tokens += _record("close", cell, cost[cell], h)
        if cell == goal:
            plan = [goal]
            while plan[-1] != start:
                plan.append(parent[plan[-1]])
            return [*tokens, "solution", *(t for cell in reversed(plan) for t in ("plan", *_xy(cell))), "end"]
        for near in steps(cell, len(free)):
            if free[near] and near not in closed and cost.get(near, math.inf) > cost[cell] + 1:
                cost[near], parent[near] = cost[cell] + 1, cell
                h_near = manhattan(near, goal)
                heapq.heappush(heap, (cost[near] + h_near, h_near, len(tokens), near))
                tokens += _record("create", near, cost[near], h_near)
    raise ValueError("the goal cannot be reached from the start of this maze, so A* finds no plan")


def _number(token: str) -> int | None:
    return int(token) if token.isascii() and token.isdigit() else None


def _cost(token: str) -> int | None:
    return _number(token[1:]) if token.startswith("c") else None


def _cell(x: str, y: str, n: int | None) -> Cell | None:
    """The cell at column ``x``, row ``y``; None when they are not numbers inside an ``n x n`` board."""
    col, row = _number(x), _number(y)
    if col is None or row is None or (n is not None and max(col, row) >= n):
        return None
    return row, col


def _parse_plan(tokens: list[str], n: int | None) -> list[Cell] | None:
    """The cells of the solution part ``solution plan X Y ... end`` of a trace; None when it is not one."""
    if len(tokens) < 2 or tokens[0] != "solution" or tokens[-1] != "end" or (len(tokens) - 2) % 3:
        return None
    cells = []
    for at in range(1, len(tokens) - 1, 3):
        word, x, y = tokens[at : at + 3]
        cell = _cell(x, y, n)
        if word != "plan" or cell is None:
            return None
        cells.append(cell)
    return cells


def _parse_trace(tokens: list[str], query: list[str], n: int) -> list[Record] | None:
    """The create and close records of the trace ``tokens`` of an ``n x n`` maze whose query is ``query``;
    None when the trace does not follow the format."""
    at = len(query) + 1
    if tokens[:at] != [*query, "reasoning"]:
        return None
    records = []
    while at < len(tokens) and tokens[at] in ("create", "close"):
        if at + 5 > len(tokens):
            return None
        kind, x, y, g, h = tokens[at : at + 5]
        cell, g_cost, h_cost = _cell(x, y, n), _cost(g), _cost(h)
        if cell is None or g_cost is None or h_cost is None:
            return None
        records.append((kind, cell, g_cost, h_cost))
        at += 5
    return records if _parse_plan(tokens[at:], n) is not None else None


class _Replay:
    """The open and closed lists of an A* trace, record by record (`validate_trace`)."""

    def __init__(self, free: np.ndarray, start: Cell, goal: Cell) -> None:
        self.free, self.start, self.goal = free, start, goal
        self.opened: dict[Cell, tuple[int, int]] = {}  # cell -> (g, h)
        self.closed: dict[Cell, int] = {}  # cell -> g
        self.frontier: list[tuple[int, int, Cell]] = []  # (f, g, cell) of each create, since replaced ones too
        self.last: Cell | None = None  # the node closed last

    def create(self, cell: Cell, g: int, h: int) -> str | None:
        """Open ``cell`` with costs ``g``, ``h``; the kind of error it is, None when it is valid."""
        if self.last is None:
            valid = cell == self.start and g == 0 and cell not in self.opened
        else:
            valid = (
                bool(self.free[cell])
                and manhattan(cell, self.last) == 1
                and g == self.closed[self.last] + 1
                and cell not in self.closed
                and self.opened.get(cell, (math.inf,))[0] > g
            )
        if not valid or h != manhattan(cell, self.goal):
            return "invalid_create"
        self.opened[cell] = (g, h)
        heapq.heappush(self.frontier, (g + h, g, cell))
        return None

    def close(self, cell: Cell, g: int, h: int) -> str | None:
        """Close ``cell`` with costs ``g``, ``h``; the kind of error it is, None when it is valid. A node that is
        open with these costs is closed even when another has a lower f."""
        if self.opened.get(cell) != (g, h):
            return "close_not_open"
        while self.opened.get(self.frontier[0][2], (None,))[0] != self.frontier[0][1]:
            heapq.heappop(self.frontier)  # replaced or closed since
        lowest = self.frontier[0][0]
        del self.opened[cell]
        self.closed[cell], self.last = g, cell
        return "not_lowest_f" if lowest < g + h else None


def validate_trace(maze_puzzle: np.ndarray, trace: list[str] | str) -> list[str]:
    """The errors of the A* ``trace`` (tokens, or a string of them) of ``maze_puzzle [n, n]``: an empty list when
    it is valid, else one kind per error, in order.

    Kinds: ``parse`` (the tokens do not follow the format, or the query is not this maze's; then the only
    error), ``invalid_create`` (not the start with ``c0`` and its h first; later not a free neighbour of the node
    closed last with its g + 1, or h not the Manhattan distance to the goal, or the node closed, or open with a g
    no larger), ``close_not_open`` (a node not open with these costs), ``not_lowest_f`` (a node closed while
    another open one has a lower f; ties may close in any order), ``goal_not_closed`` (the trace reaches
    ``solution`` without closing the goal). A record in error changes neither list, except a ``not_lowest_f``
    close, which closes its node. The plan is not checked: read it with `plan_cells` and judge it with
    `Maze.verify` on `plan_board`.
    """
    free, start, goal = read_maze(maze_puzzle)
    tokens = trace.split() if isinstance(trace, str) else list(trace)
    if not all(isinstance(token, str) for token in tokens):
        return ["parse"]
    records = _parse_trace(tokens, _query(free, start, goal), len(free))
    if records is None:
        return ["parse"]
    replay = _Replay(free, start, goal)
    errors = [(replay.create if kind == "create" else replay.close)(cell, g, h) for kind, cell, g, h in records]
    if goal not in replay.closed:
        errors.append("goal_not_closed")
    return [error for error in errors if error is not None]


def plan_cells(trace: list[str] | str) -> list[Cell]:
    """The (row, column) cells of the plan of ``trace`` (tokens, or a string of them), start to goal."""
    tokens = trace.split() if isinstance(trace, str) else list(trace)
    cells = _parse_plan(tokens[tokens.index("solution") :], None) if "solution" in tokens else None
    if cells is None:
        raise ValueError("the trace does not end in 'solution plan X Y ... end'; give a whole trace")
    return cells


def plan_problem(maze_puzzle: np.ndarray, cells: list[Cell]) -> str | None:
    """What is wrong with ``cells`` (row, column) as a plan for ``maze_puzzle [n, n]``, in a few words; None when
    it is a path: it starts at the start, ends at the goal, each step goes to a free 4-neighbour, and no cell
    comes twice. (A plan read as a set of cells, `plan_board`, loses its order; this checks the order too.)"""
    free, start, goal = read_maze(maze_puzzle)
    n = len(free)
    if not cells or cells[0] != start or cells[-1] != goal:
        return "it does not go from the start to the goal"
    for at, (row, col) in enumerate(cells):
        if not (0 <= row < n and 0 <= col < n and free[row, col]):
            return f"step {at} is on a wall or off the board"
        if at and manhattan(cells[at - 1], (row, col)) != 1:
            return f"step {at} is not next to the step before it"
    if len(set(cells)) != len(cells):
        return "it visits a cell twice"
    return None


def plan_board(maze_puzzle: np.ndarray, cells: list[Cell]) -> np.ndarray:
    """The answer ``[n, n]`` to ``maze_puzzle [n, n]`` that marks ``cells`` (row, column) as its path, for
    `Maze.verify`; ValueError for a cell off the board or on a wall."""
    free, _, _ = read_maze(maze_puzzle)
    board = np.where(np.asarray(maze_puzzle) == BLANK, OPEN, maze_puzzle).astype(np.int64)
    n = len(board)
    for row, col in cells:
        if not (0 <= row < n and 0 <= col < n and free[row, col]):
            where = "on a wall" if 0 <= row < n and 0 <= col < n else f"off the {n}x{n} board"
            raise ValueError(f"the plan's cell at row {row}, column {col} is {where}; a plan goes through free cells")
        if board[row, col] == OPEN:
            board[row, col] = PATH
    return board


@dataclass(frozen=True)
class TraceJudgement:
    """What a generated trace is worth (`judge_trace`).

    Attributes:
        plan_valid: the plan is a path from the start to the goal (`plan_problem` finds nothing wrong).
        plan_optimal: it is also a shortest one.
        trace_valid: the search before it replays as A* (`validate_trace` finds no error).
        trace_length: tokens between ``reasoning`` and ``solution`` (0 when the trace has no such part).
        errors: the validator's error kinds, one per error.
    """

    plan_valid: bool
    plan_optimal: bool
    trace_valid: bool
    trace_length: int
    errors: tuple[str, ...]


def judge_trace(maze_puzzle: np.ndarray, trace: list[str] | str) -> TraceJudgement:
    """Judge a (generated) ``trace`` of ``maze_puzzle [n, n]``: its plan by the maze's rules, never by comparison
    with a stored plan, and its search by the validator. Any token sequence is judged; none raises."""
    tokens = trace.split() if isinstance(trace, str) else list(trace)
    errors = tuple(validate_trace(maze_puzzle, tokens))
    try:
        cells = plan_cells(tokens)
    except ValueError:
        cells = []
    valid = bool(cells) and plan_problem(maze_puzzle, cells) is None
    free, start, goal = read_maze(maze_puzzle)
    optimal = valid and len(cells) - 1 == int(distances(free, start)[goal])
    has_search = "reasoning" in tokens and "solution" in tokens and tokens.index("reasoning") < tokens.index("solution")
    length = tokens.index("solution") - tokens.index("reasoning") - 1 if has_search else 0
    return TraceJudgement(valid, optimal, not errors, length, errors)
