"""The grid of a maze: its symbols, neighbours and distances, and the paths through it (every shortest one; whether
marked cells are those of one simple path)."""

from __future__ import annotations

from collections import deque

import numpy as np

BLANK = 0
WALL = 1
OPEN = 2
PATH = 3
START = 4
GOAL = 5
#: symbols ``1..NUM_SYMBOLS`` a cell can hold
NUM_SYMBOLS = 5
#: moves of the depth-first search `verify` falls back on before it gives up (about a second of CPU)
PATH_SEARCH_MOVES = 200_000
#: (row, column) steps to the neighbours of a cell, in the order up, right, down, left
MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))
Cell = tuple[int, int]  # (row, column)
Edge = tuple[Cell, Cell]


def steps(cell: Cell, n: int) -> list[Cell]:
    """The neighbours of ``cell`` on an ``n x n`` grid, in the order up, right, down, left."""
    r, c = cell
    return [(r + dr, c + dc) for dr, dc in MOVES if 0 <= r + dr < n and 0 <= c + dc < n]


def manhattan(one: Cell, other: Cell) -> int:
    return abs(one[0] - other[0]) + abs(one[1] - other[1])


def cells_of(board: np.ndarray, value: int | bool) -> list[Cell]:
    """The cells of ``board [n, n]`` that hold ``value``, row by row."""
    return [(int(r), int(c)) for r, c in zip(*np.nonzero(board == value))]


def distances(free: np.ndarray, source: Cell) -> np.ndarray:
    """Steps ``[n, n]`` from ``source`` to each cell of ``free [n, n]`` (bool) by moves within it; -1 where none
    lead (breadth-first search)."""
    n = len(free)
    inside = free.tolist()
    dist = [[-1] * n for _ in range(n)]
    dist[source[0]][source[1]] = 0
    queue = deque([source])
    while queue:
        cell = queue.popleft()
        for r, c in steps(cell, n):
            if inside[r][c] and dist[r][c] < 0:
                dist[r][c] = dist[cell[0]][cell[1]] + 1
                queue.append((r, c))
    return np.asarray(dist, dtype=np.int64)


def ends_problem(board: np.ndarray) -> str | None:
    """What is wrong with the ends of the maze ``board [n, n]`` (not exactly one start and one goal); None if
    nothing."""
    for symbol, what in ((START, "start"), (GOAL, "goal")):
        count = int((board == symbol).sum())
        if count != 1:
            return f"the maze has {count} {what}s, not one"
    return None


def read_maze(maze: np.ndarray) -> tuple[np.ndarray, Cell, Cell]:
    """The free (non-wall) cells ``[n, n]`` (bool), the start and the goal of a maze board ``[n, n]`` of any
    side; ValueError for anything else."""
    board = np.asarray(maze)
    if board.ndim != 2 or board.shape[0] != board.shape[1] or board.dtype.kind not in "iu":
        raise ValueError(
            f"a maze is a square integer board [n, n], got shape {board.shape} and dtype {board.dtype}; "
            "pass one maze at a time"
        )
    if board.size and (board.min() < 0 or board.max() > NUM_SYMBOLS):
        raise ValueError(f"a maze holds values 0..{NUM_SYMBOLS}, found {int(board.min())}..{int(board.max())}")
    problem = ends_problem(board)
    if problem is not None:
        raise ValueError(f"{problem}: mark one start ({START}) and one goal ({GOAL})")
    return board != WALL, cells_of(board, START)[0], cells_of(board, GOAL)[0]


# ------------------------------------------------------------------ paths
def shortest_paths(free: np.ndarray, start: Cell, goal: Cell, limit: int | None) -> list[list[Cell]]:
    """The shortest paths from ``start`` to ``goal`` through ``free [n, n]`` (bool), as cell lists, in
    depth-first order with moves up, right, down, left; at most ``limit``.

    A cell is on a shortest path when its distances from both ends add up to the shortest distance: from such a
    cell a step that gets one nearer the goal stays on one, so the search never meets a dead end.
    """
    from_start, from_goal = distances(free, start), distances(free, goal)
    length = from_start[goal]
    if length < 0:
        return []
    on = (from_start >= 0) & (from_start + from_goal == length)

    def onward(cell: Cell) -> list[Cell]:
        """The next cells of shortest paths through ``cell``, last move first (a stack pops up first)."""
        ahead = [near for near in steps(cell, len(free)) if on[near] and from_start[near] == from_start[cell] + 1]
        return ahead[::-1]

    paths: list[list[Cell]] = []
    path, choices = [start], [onward(start)]
    while choices and (limit is None or len(paths) < limit):
        if not choices[-1]:
            choices.pop()
            path.pop()
            continue
        path.append(choices[-1].pop())
        if path[-1] == goal:
            paths.append(path.copy())
            path.pop()
        else:
            choices.append(onward(path[-1]))
    return paths


def answer_board(puzzle: np.ndarray, path: list[Cell]) -> np.ndarray:
    """The answer ``[n, n]`` to ``puzzle [n, n]`` that marks the cells of ``path`` between its ends."""
    board = np.where(puzzle == BLANK, OPEN, puzzle)
    for cell in path[1:-1]:
        board[cell] = PATH
    return board


def _neighbour_counts(mask: np.ndarray) -> np.ndarray:
    """How many of the four neighbours of each cell lie in ``mask [n, n]`` (bool): ``[n, n]`` int."""
    padded = np.pad(mask, 1).astype(np.int64)
    return padded[:-2, 1:-1] + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:]


def is_path(marked: np.ndarray, start: Cell, goal: Cell) -> bool:
    """Whether the cells of ``marked [n, n]`` (bool) are those of one simple path from ``start`` to ``goal``.

    Connected, with two ends of one marked neighbour and two for every other cell, they are (an induced path,
    as every shortest path is); a connected set that is not one is searched for such a path (`_path_through`).
    """
    if (distances(marked, start)[marked] < 0).any():
        return False
    degree = _neighbour_counts(marked)
    inner = marked.copy()
    inner[start] = inner[goal] = False
    if degree[start] == degree[goal] == 1 and (degree[inner] == 2).all():
        return True
    cells = cells_of(marked, True)
    if not _alternates(cells, start, goal):
        return False
    index = {cell: i for i, cell in enumerate(cells)}
    adjacent = [[index[near] for near in steps(cell, len(marked)) if near in index] for cell in cells]
    return _path_through(adjacent, index[start], index[goal], PATH_SEARCH_MOVES)


def _alternates(cells: list[Cell], start: Cell, goal: Cell) -> bool:
    """Whether a path from ``start`` to ``goal`` through all of ``cells`` can alternate the two colours
    ``(row + column) % 2`` of the grid as every path does: as many cells of each colour as that takes."""
    colour = sum(start) % 2
    alike = sum(sum(cell) % 2 == colour for cell in cells)
    return alike == (len(cells) + 1) // 2 and (sum(goal) % 2 == colour) == (len(cells) % 2 == 1)


def _path_through(adjacent: list[list[int]], source: int, target: int, budget: int) -> bool:
    """Whether a path from ``source`` to ``target`` visits every vertex of the graph ``adjacent`` (neighbour
    lists) once, by depth-first search; False, having given up, after ``budget`` moves without one.

    Pruning: a vertex still to visit needs two ways in and out (the target one) among the unvisited vertices and
    the path's head; a neighbour of the head with no other way in must come next; the target comes last.
    """
    size = len(adjacent)
    need = [2] * size
    need[target] = 1
    if any(len(adjacent[v]) < need[v] for v in range(size) if v != source):
        return False
    unvisited_near = [len(near) for near in adjacent]
    visited = [False] * size

    def mark(vertex: int, on: bool) -> None:
        visited[vertex] = on
        for near in adjacent[vertex]:
            unvisited_near[near] += -1 if on else 1

    def options(head: int, before: int) -> list[int]:
        """The vertices the path can go on to from ``head``, which it reached from ``before`` (-1: none)."""
        if before >= 0 and any(
            not visited[v] and unvisited_near[v] + (v in adjacent[head]) < need[v] for v in adjacent[before]
        ):
            return []  # leaving `before` cut a vertex off
        ahead = [v for v in adjacent[head] if not visited[v]]
        forced = [v for v in ahead if unvisited_near[v] + 1 == need[v]]
        if len(forced) > 1:
            return []
        last = len(path) == size - 1
        return [v for v in (forced or ahead) if (v == target) == last]

    path = [source]
    mark(source, True)
    choices = [options(source, -1)]
    moves = 0
    while choices:
        if not choices[-1]:
            choices.pop()
            mark(path.pop(), False)
            continue
        moves += 1
        if moves > budget:
            return False
        path.append(choices[-1].pop())
        mark(path[-1], True)
        if path[-1] == target:
            return True
        choices.append(options(path[-1], path[-2]))
    return False
