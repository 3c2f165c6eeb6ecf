"""Mazes: mark a path from the start to the goal of a grid maze, and the A* search traces that find one.

Encoding: boards ``[n, n]`` hold ``0`` blank (an open cell of a puzzle), ``1`` wall, ``2`` open (an answer's
cell off the path), ``3`` path, ``4`` start and ``5`` goal. A puzzle gives the walls, one start and one goal;
every open cell is blank. An answer fills every blank with 2 or 3 so that the path cells, with the start and the
goal, are the cells of one simple path from the start to the goal (4-neighbour moves). Any such path is valid
(`Maze.verify`); `Maze.optimal` also asks for a shortest one; `Maze.solutions` enumerates the shortest paths
only, and a generated solution is the first of them.

Text forms:

- One line of ``n * n`` characters, row by row (`Maze.format`, the conformance form; `Maze.parse` reads puzzles
  and answers in it): ``.`` blank, ``#`` wall, ``-`` open, ``o`` path, ``S`` start, ``G`` goal (``E`` is read as
  the goal too).
- A block of ``n`` lines of ``n`` characters, one per row (`Maze.format_block`; `Maze.parse` reads it too):
  ``#`` wall, ``.``, ``-`` or space open, ``S`` start, ``G`` or ``E`` goal, and the path marks ``o * X +`` of
  other maze tools read as open cells, so that a printed solution reads as its puzzle (`Maze.parse_block` with
  ``answer=True`` reads it as an answer instead). ``format_block`` writes open cells as ``.``: editors drop
  trailing spaces, and a row of spaces would read as the blank line between blocks.

`Maze.parse` and `Maze.read_file` (a file of blocks separated by blank lines, or of one-line mazes) refuse a maze
without exactly one start and one goal. Maze files have no comment lines, as ``#`` is a wall.

Generators: ``wilson`` (uniform spanning tree by loop-erased random walks, the default), ``kruskal`` (random edge
order) and ``dfs`` (recursive backtracker) carve a spanning tree of rooms at even coordinates, opening the
passage between two joined rooms: perfect mazes, with one simple path between any two open cells (for an even
``n`` the last row and column stay walls). ``drunkard`` starts from walls and carves by a random walk until half
of the cells are open; ``random_walls`` makes each cell a wall with probability 0.3 (as in Searchformer). The
start and the goal are two distinct open cells (rooms, for the tree mazes) drawn at random; the maze and both
are drawn again together until the goal is at least 2 steps from the start (one path cell or more).

A* traces (`astar_trace`, `validate_trace`): tokens ``query start X Y goal X Y wall X Y ... reasoning`` then the
search, ``create X Y cG cH`` (a node put on the open list, or given a lower cost g) and ``close X Y cG cH`` (a
node taken off it), then ``solution plan X Y ... end``: every cell of the plan from the start to the goal. X is
the column and Y the row, from 0 at the top left; walls are listed row by row; g is the cost from the start, h
the Manhattan distance to the goal. For the maze ``S.# / .#. / ..G`` (any side is traced)::

    query start 0 0 goal 2 2 wall 2 0 wall 1 1 reasoning
    create 0 0 c0 c4 close 0 0 c0 c4 create 1 0 c1 c3 create 0 1 c1 c3 close 1 0 c1 c3
    close 0 1 c1 c3 create 0 2 c2 c2 close 0 2 c2 c2 create 1 2 c3 c1 close 1 2 c3 c1
    create 2 2 c4 c0 close 2 2 c4 c0 solution plan 0 0 plan 0 1 plan 0 2 plan 1 2 plan 2 2 end
"""

from __future__ import annotations

import hashlib
import heapq
import math
import os
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import ZooError

from .base import Task, register

BLANK = 0
WALL = 1
OPEN = 2
PATH = 3
START = 4
GOAL = 5
#: symbols ``1..NUM_SYMBOLS`` a cell can hold
NUM_SYMBOLS = 5
#: the generators `Maze` takes; the first three carve spanning trees
GENERATORS = ("wilson", "kruskal", "dfs", "drunkard", "random_walls")
#: the board sides `Maze` takes
SIZES = range(5, 31)
#: the chance that a cell of a ``random_walls`` maze is a wall
WALL_PROBABILITY = 0.3
#: moves of the depth-first search `verify` falls back on before it gives up (about a second of CPU)
PATH_SEARCH_MOVES = 200_000
#: (row, column) steps to the neighbours of a cell, in the order up, right, down, left
MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))
#: characters of the one-line form
_LINE_READ = {".": BLANK, "#": WALL, "-": OPEN, "o": PATH, "S": START, "G": GOAL, "E": GOAL}
_LINE_WRITE = {BLANK: ".", WALL: "#", OPEN: "-", PATH: "o", START: "S", GOAL: "G"}
#: characters of the block form
_BLOCK_WRITE = {BLANK: ".", WALL: "#", OPEN: ".", PATH: "o", START: "S", GOAL: "G"}
_BLOCK_OPEN = " .-"
_BLOCK_PATH = "o*X+"
_BLOCK_ENDS = {"#": WALL, "S": START, "G": GOAL, "E": GOAL}
_BLOCK_PUZZLE = {**dict.fromkeys(_BLOCK_OPEN + _BLOCK_PATH, BLANK), **_BLOCK_ENDS}
_BLOCK_ANSWER = {**dict.fromkeys(_BLOCK_OPEN, OPEN), **dict.fromkeys(_BLOCK_PATH, PATH), **_BLOCK_ENDS}
_BLOCK_RULE = "'#' wall, '.' or space open, 'S' start, 'G' or 'E' goal, path marks 'o', '*', 'X' or '+'"

Cell = tuple[int, int]  # (row, column)
Edge = tuple[Cell, Cell]
#: a record of an A* trace: ("create" or "close", cell, g, h)
Record = tuple[str, Cell, int, int]


# ------------------------------------------------------------------ grid helpers
def _steps(cell: Cell, n: int) -> list[Cell]:
    """The neighbours of ``cell`` on an ``n x n`` grid, in the order up, right, down, left."""
    r, c = cell
    return [(r + dr, c + dc) for dr, dc in MOVES if 0 <= r + dr < n and 0 <= c + dc < n]


def _manhattan(one: Cell, other: Cell) -> int:
    return abs(one[0] - other[0]) + abs(one[1] - other[1])


def _cells_of(board: np.ndarray, value: int | bool) -> list[Cell]:
    """The cells of ``board [n, n]`` that hold ``value``, row by row."""
    return [(int(r), int(c)) for r, c in zip(*np.nonzero(board == value))]


def _distances(free: np.ndarray, source: Cell) -> np.ndarray:
    """Steps ``[n, n]`` from ``source`` to each cell of ``free [n, n]`` (bool) by moves within it; -1 where none
    lead (breadth-first search)."""
    n = len(free)
    inside = free.tolist()
    dist = [[-1] * n for _ in range(n)]
    dist[source[0]][source[1]] = 0
    queue = deque([source])
    while queue:
        cell = queue.popleft()
        for r, c in _steps(cell, n):
            if inside[r][c] and dist[r][c] < 0:
                dist[r][c] = dist[cell[0]][cell[1]] + 1
                queue.append((r, c))
    return np.asarray(dist, dtype=np.int64)


def _ends_problem(board: np.ndarray) -> str | None:
    """What is wrong with the ends of the maze ``board [n, n]`` (not exactly one start and one goal); None if
    nothing."""
    for symbol, what in ((START, "start"), (GOAL, "goal")):
        count = int((board == symbol).sum())
        if count != 1:
            return f"the maze has {count} {what}s, not one"
    return None


def _read_maze(maze: np.ndarray) -> tuple[np.ndarray, Cell, Cell]:
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
    problem = _ends_problem(board)
    if problem is not None:
        raise ValueError(f"{problem}: mark one start ({START}) and one goal ({GOAL})")
    return board != WALL, _cells_of(board, START)[0], _cells_of(board, GOAL)[0]


# ------------------------------------------------------------------ paths
def _shortest_paths(free: np.ndarray, start: Cell, goal: Cell, limit: int | None) -> list[list[Cell]]:
    """The shortest paths from ``start`` to ``goal`` through ``free [n, n]`` (bool), as cell lists, in
    depth-first order with moves up, right, down, left; at most ``limit``.

    A cell is on a shortest path when its distances from both ends add up to the shortest distance: from such a
    cell a step that gets one nearer the goal stays on one, so the search never meets a dead end.
    """
    from_start, from_goal = _distances(free, start), _distances(free, goal)
    length = from_start[goal]
    if length < 0:
        return []
    on = (from_start >= 0) & (from_start + from_goal == length)

    def onward(cell: Cell) -> list[Cell]:
        """The next cells of shortest paths through ``cell``, last move first (a stack pops up first)."""
        ahead = [near for near in _steps(cell, len(free)) if on[near] and from_start[near] == from_start[cell] + 1]
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


def _answer(puzzle: np.ndarray, path: list[Cell]) -> np.ndarray:
    """The answer ``[n, n]`` to ``puzzle [n, n]`` that marks the cells of ``path`` between its ends."""
    board = np.where(puzzle == BLANK, OPEN, puzzle)
    for cell in path[1:-1]:
        board[cell] = PATH
    return board


def _neighbour_counts(mask: np.ndarray) -> np.ndarray:
    """How many of the four neighbours of each cell lie in ``mask [n, n]`` (bool): ``[n, n]`` int."""
    padded = np.pad(mask, 1).astype(np.int64)
    return padded[:-2, 1:-1] + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:]


def _is_path(marked: np.ndarray, start: Cell, goal: Cell) -> bool:
    """Whether the cells of ``marked [n, n]`` (bool) are those of one simple path from ``start`` to ``goal``.

    Connected, with two ends of one marked neighbour and two for every other cell, they are (an induced path,
    as every shortest path is); a connected set that is not one is searched for such a path (`_path_through`).
    """
    if (_distances(marked, start)[marked] < 0).any():
        return False
    degree = _neighbour_counts(marked)
    inner = marked.copy()
    inner[start] = inner[goal] = False
    if degree[start] == degree[goal] == 1 and (degree[inner] == 2).all():
        return True
    cells = _cells_of(marked, True)
    if not _alternates(cells, start, goal):
        return False
    index = {cell: i for i, cell in enumerate(cells)}
    adjacent = [[index[near] for near in _steps(cell, len(marked)) if near in index] for cell in cells]
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


# ------------------------------------------------------------------ generators
def _wilson_tree(k: int, rng: np.random.Generator) -> list[Edge]:
    """A uniform spanning tree of the ``k x k`` grid (Wilson's algorithm): from each cell in random order, a
    random walk until it meets the tree, whose loops are erased by keeping the last exit from each cell."""
    cells = [(r, c) for r in range(k) for c in range(k)]
    tree = {cells[rng.integers(len(cells))]}
    edges = []
    for first in (cells[i] for i in rng.permutation(len(cells)).tolist()):
        exit_from: dict[Cell, Cell] = {}
        cell = first
        while cell not in tree:
            options = _steps(cell, k)
            exit_from[cell] = cell = options[rng.integers(len(options))]
        cell = first
        while cell not in tree:
            tree.add(cell)
            edges.append((cell, exit_from[cell]))
            cell = exit_from[cell]
    return edges


def _kruskal_tree(k: int, rng: np.random.Generator) -> list[Edge]:
    """A spanning tree of the ``k x k`` grid from its edges in random order (Kruskal's algorithm)."""
    edges = [((r, c), (r + dr, c + dc)) for r in range(k) for c in range(k) for dr, dc in ((0, 1), (1, 0))]
    edges = [(one, other) for one, other in edges if max(other) < k]
    parent = {(r, c): (r, c) for r in range(k) for c in range(k)}

    def root(cell: Cell) -> Cell:
        while parent[cell] != cell:
            parent[cell] = cell = parent[parent[cell]]
        return cell

    tree = []
    for one, other in (edges[i] for i in rng.permutation(len(edges)).tolist()):
        if root(one) != root(other):
            parent[root(one)] = root(other)
            tree.append((one, other))
    return tree


def _backtracker_tree(k: int, rng: np.random.Generator) -> list[Edge]:
    """A spanning tree of the ``k x k`` grid by randomised depth-first search (the recursive backtracker)."""
    first = (int(rng.integers(k)), int(rng.integers(k)))
    seen, stack, tree = {first}, [first], []
    while stack:
        options = [cell for cell in _steps(stack[-1], k) if cell not in seen]
        if not options:
            stack.pop()
            continue
        cell = options[rng.integers(len(options))]
        seen.add(cell)
        tree.append((stack[-1], cell))
        stack.append(cell)
    return tree


TREES: dict[str, Callable[[int, np.random.Generator], list[Edge]]] = {
    "wilson": _wilson_tree,
    "kruskal": _kruskal_tree,
    "dfs": _backtracker_tree,
}


def _tree_maze(n: int, generator: str, rng: np.random.Generator) -> tuple[np.ndarray, list[Cell]]:
    """Open cells ``[n, n]`` (bool) of a perfect maze, rooms at even coordinates joined along a spanning tree of
    their grid, and the rooms (where its ends go)."""
    free = np.zeros((n, n), dtype=bool)
    free[::2, ::2] = True
    for (r1, c1), (r2, c2) in TREES[generator]((n + 1) // 2, rng):
        free[r1 + r2, c1 + c2] = True  # the passage between rooms (2 r1, 2 c1) and (2 r2, 2 c2)
    return free, [(r, c) for r in range(0, n, 2) for c in range(0, n, 2)]


def _drunkard_maze(n: int, rng: np.random.Generator) -> np.ndarray:
    """Open cells ``[n, n]`` (bool) carved into walls by a random walk until half of the cells are open."""
    free = np.zeros((n, n), dtype=bool)
    cell = (int(rng.integers(n)), int(rng.integers(n)))
    free[cell] = True
    carved = 1
    while carved < n * n // 2:
        options = _steps(cell, n)
        cell = options[rng.integers(len(options))]
        carved += not free[cell]
        free[cell] = True
    return free


# ------------------------------------------------------------------ the task
@register
class Maze(Task):
    """Mark a path from the start to the goal of an ``n x n`` maze (see the module docstring).

    Args:
        size: board side ``n``, 5..30.
        generator: how mazes are made, one of `GENERATORS`: ``wilson`` (uniform spanning trees, the default),
            ``kruskal``, ``dfs``, ``drunkard`` or ``random_walls``.
    """

    name = "maze"
    title = "maze"
    generates_prefixes = True  # puzzle i draws from its own stream (`_rng_for`)
    conformance_options = (
        {"size": 5},
        {"size": 7, "generator": "random_walls"},
        {"size": 6, "generator": "drunkard"},
    )

    def __init__(self, size: int = 9, generator: str = "wilson") -> None:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or int(size) not in SIZES:
            raise ZooError(f"Maze size must be an integer in {SIZES[0]}..{SIZES[-1]}, got {size!r}", key="size")
        if generator not in GENERATORS:
            raise ZooError(f"Maze generator must be one of {', '.join(GENERATORS)}, got {generator!r}", key="generator")
        self.size = int(size)
        self.generator = str(generator)

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "generator": self.generator}

    @property
    def num_symbols(self) -> int:
        """Wall, open, path, start and goal, whatever the side: the vocabulary is pad, blank and these, i.e. 7."""
        return NUM_SYMBOLS

    @property
    def value_hint(self) -> str:
        return "use 0 for a blank, 1 wall, 2 open, 3 path, 4 start and 5 goal"

    # ------------------------------------------------------------------ text
    text_rule = (
        "one line, row by row: '.' blank, '#' wall, 'S' start, 'G' or 'E' goal, in answers '-' open and 'o' "
        "path; or one line per row"
    )

    def read_char(self, char: str) -> int | None:
        return _LINE_READ.get(char)

    def format(self, board: np.ndarray) -> str:
        return "".join(_LINE_WRITE[v] for v in self.check_board(board).reshape(-1).tolist())

    def format_block(self, board: np.ndarray) -> str:
        """The block form of ``board [n, n]``: ``n`` lines of ``n`` characters, open cells as ``.``, path as ``o``."""
        return "\n".join("".join(_BLOCK_WRITE[v] for v in row) for row in self.check_board(board).tolist())

    def parse(self, text: str) -> np.ndarray:
        """One maze ``[n, n]`` in the one-line form (a puzzle or an answer) or the block form (a puzzle)."""
        if isinstance(text, str) and "\n" in text.strip():
            return self.parse_block(text)
        board = super().parse(text)
        _require_ends(board)
        return board

    def parse_block(self, text: str, answer: bool = False) -> np.ndarray:
        """The maze ``[n, n]`` a block of ``n`` lines of ``n`` characters draws (blank lines around it are
        skipped): a puzzle, path marks read as open cells, or with ``answer`` an answer, open cells read as 2
        and path marks as 3."""
        if not isinstance(text, str):
            raise ValueError(f"parse_block expects a str, got {type(text).__name__}")
        rows = text.splitlines()
        while rows and not rows[-1].strip():
            rows.pop()
        while rows and not rows[0].strip():
            rows.pop(0)
        n = self.size
        for number, row in enumerate(rows, start=1):
            if len(row) != len(rows[0]):
                raise ValueError(
                    f"row {number} has {len(row)} characters but row 1 has {len(rows[0])}: every row of a maze "
                    "block has one character per column (write open cells as '.', which editors keep at the end "
                    "of a line)"
                )
        if len(rows) != n or len(rows[0]) != n:
            width = len(rows[0]) if rows else 0
            raise ValueError(
                f"the block is {len(rows)} rows of {width} characters, but {self!r} reads {n}x{n} mazes; "
                "give a maze of that size or choose the task's size to match"
            )
        chars = _BLOCK_ANSWER if answer else _BLOCK_PUZZLE
        board = np.zeros((n, n), dtype=np.int64)
        for (r, c), char in zip(np.ndindex(n, n), "".join(rows)):
            if char not in chars:
                raise ValueError(
                    f"bad character {char!r} at row {r + 1}, column {c + 1} of a {n}x{n} maze block; use {_BLOCK_RULE}"
                )
            board[r, c] = chars[char]
        _require_ends(board)
        return board

    def read_file(self, path: str | os.PathLike[str]) -> np.ndarray:
        """Puzzles ``[N, n, n]`` from a text file of blocks (one line per row) separated by blank lines, or of
        one-line mazes, one per line. No comment lines: ``#`` is a wall."""
        p = Path(path)
        if not p.is_file():
            raise ValueError(f"puzzle file {str(p)!r} does not exist or is not a file; check the path")
        boards = []
        for first, lines in _groups(p.read_text(encoding="utf-8").splitlines()):
            if len(lines[0].strip()) == self.num_cells:
                for number, line in enumerate(lines, start=first):
                    boards.append(_read_at(f"{p}:{number}", self.parse, line))
            else:
                where = f"{p}:{first} (the block starting on this line)"
                boards.append(_read_at(where, self.parse_block, "\n".join(lines)))
        if not boards:
            return np.zeros((0, self.size, self.size), dtype=np.int64)
        return np.stack(boards)

    # ------------------------------------------------------------------ rules
    def verify(self, puzzle: np.ndarray, answer: np.ndarray) -> bool:
        """Whether ``answer [n, n]`` keeps the givens of ``puzzle [n, n]``, fills its blanks with open and path
        cells only, and its path cells with the start and the goal are those of one simple path between them.

        A marked set that is connected but not an induced path (one that touches itself) is searched for such a
        path, which gives up (False) after `PATH_SEARCH_MOVES` moves; shortest paths never need it.
        """
        p = self.check_board(puzzle, "puzzle")
        a = np.asarray(answer)
        if a.shape != p.shape:
            raise ValueError(f"answer has shape {a.shape}, expected {p.shape} like the puzzle")
        if a.dtype.kind not in "iu" or self.contradiction(p) is not None:
            return False
        blank = p == BLANK
        if not np.array_equal(a[~blank], p[~blank]) or not ((a[blank] == OPEN) | (a[blank] == PATH)).all():
            return False
        marked = (a == PATH) | (a == START) | (a == GOAL)
        return _is_path(marked, _cells_of(p, START)[0], _cells_of(p, GOAL)[0])

    def optimal(self, puzzle: np.ndarray, answer: np.ndarray) -> bool:
        """Whether ``answer [n, n]`` is valid (`verify`) and its path a shortest one."""
        if not self.verify(puzzle, answer):
            return False
        p = self.check_board(puzzle, "puzzle")
        steps = int((np.asarray(answer) == PATH).sum()) + 1
        return bool(steps == _distances(p != WALL, _cells_of(p, START)[0])[_cells_of(p, GOAL)[0]])

    def solutions(self, puzzle: np.ndarray, limit: int | None = None) -> list[np.ndarray]:
        """Every shortest path of ``puzzle [n, n]`` as an answer board ``[n, n]`` (longer paths are valid
        answers too, but not enumerated), stopping after ``limit``; their number grows exponentially with open
        areas, so pass a limit for large open mazes."""
        if limit is not None and (isinstance(limit, bool) or int(limit) < 0):
            raise ValueError(f"limit must be None or a non-negative integer, got {limit!r}")
        p = self.check_board(puzzle, "puzzle")
        if self.contradiction(p) is not None:
            return []
        start, goal = _cells_of(p, START)[0], _cells_of(p, GOAL)[0]
        paths = _shortest_paths(p != WALL, start, goal, None if limit is None else int(limit))
        return [_answer(p, path) for path in paths]

    def contradiction(self, puzzle: np.ndarray) -> str | None:
        """Not exactly one start or one goal, or an open or path cell given (a puzzle gives walls and ends only).
        A goal the start cannot reach is no solution (`solvable`), not a contradiction."""
        p = self.check_board(puzzle, "puzzle")
        problem = _ends_problem(p)
        if problem is not None:
            return problem
        marks = _cells_of((p == OPEN) | (p == PATH), True)
        if marks:
            r, c = marks[0]
            return f"row {r + 1}, column {c + 1} is given as an open or path cell; a puzzle gives only walls and ends"
        return None

    # ------------------------------------------------------------------ generation
    def _rng_for(self, seed: int, index: int) -> np.random.Generator:
        """Independent stream for puzzle ``index``: prefixes of a batch do not depend on ``count``."""
        return np.random.default_rng([seed, index, self.size, GENERATORS.index(self.generator)])

    def generate(self, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
            raise ValueError(f"count must be a non-negative integer, got {count!r}")
        return self.generate_range(0, int(count), seed)

    def generate_range(self, start: int, stop: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        n = self.size
        puzzles = np.zeros((max(stop - start, 0), n, n), dtype=np.int64)
        solutions = np.zeros_like(puzzles)
        for row, k in enumerate(range(start, stop)):
            puzzles[row], solutions[row] = self._draw(self._rng_for(int(seed), k))
        return puzzles, solutions

    def _layout(self, rng: np.random.Generator) -> tuple[np.ndarray, list[Cell]]:
        """A maze's open cells ``[n, n]`` (bool) and the cells its ends may take."""
        n = self.size
        if self.generator in TREES:
            return _tree_maze(n, self.generator, rng)
        free = _drunkard_maze(n, rng) if self.generator == "drunkard" else rng.random((n, n)) >= WALL_PROBABILITY
        return free, _cells_of(free, True)

    def _draw(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """A puzzle ``[n, n]`` and its first shortest path as an answer ``[n, n]``."""
        while True:  # the maze and its ends are drawn again until the goal is 2 steps or more from the start
            free, places = self._layout(rng)
            if len(places) < 2:
                continue
            start, goal = (places[i] for i in rng.choice(len(places), size=2, replace=False).tolist())
            if _distances(free, start)[goal] >= 2:
                break
        puzzle = np.where(free, BLANK, WALL)
        puzzle[start], puzzle[goal] = START, GOAL
        (path,) = _shortest_paths(free, start, goal, limit=1)
        return puzzle, _answer(puzzle, path)

    # ------------------------------------------------------------------ symmetry
    @staticmethod
    def dihedral(board: np.ndarray, k: int) -> np.ndarray:
        """Symmetry ``k`` in 0..7 of the square: ``k % 4`` quarter turns, then a transpose if ``k >= 4``."""
        out = np.rot90(board, k % 4)
        return np.ascontiguousarray(out.T if k >= 4 else out)

    def augment(
        self, puzzle: np.ndarray, solution: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """One of the 8 symmetries of the square, drawn at random, applied to both boards ``[n, n]``."""
        p = self.check_board(puzzle, "puzzle")
        s = self.check_board(solution, "solution")
        k = int(rng.integers(8))
        return self.dihedral(p, k), self.dihedral(s, k)

    def invariant(self, puzzle: np.ndarray) -> bytes:
        """A digest of the smallest bytes of the 8 symmetric copies of ``puzzle [n, n]``: one key per orbit."""
        p = self.check_board(puzzle, "puzzle").astype(np.uint8)
        canonical = min(self.dihedral(p, k).tobytes() for k in range(8))
        key = self.name.encode() + bytes([self.size]) + canonical
        return hashlib.blake2b(key, digest_size=16).digest()


def _require_ends(board: np.ndarray) -> None:
    """Raise ValueError unless the maze ``board [n, n]`` read from text has one start and one goal."""
    problem = _ends_problem(board)
    if problem is not None:
        raise ValueError(f"{problem}: mark the start with 'S' and the goal with 'G' (or 'E')")


def _groups(lines: list[str]) -> list[tuple[int, list[str]]]:
    """The runs of non-blank ``lines``, each with the number (from 1) of its first line."""
    groups: list[tuple[int, list[str]]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if groups and groups[-1][0] + len(groups[-1][1]) == number:
            groups[-1][1].append(line)
        else:
            groups.append((number, [line]))
    return groups


def _read_at(where: str, reader: Callable[[str], np.ndarray], text: str) -> np.ndarray:
    """``reader(text)``, its ValueError prefixed with ``where`` the text comes from."""
    try:
        return reader(text)
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None


# ------------------------------------------------------------------ A* traces
def _xy(cell: Cell) -> list[str]:
    """The tokens of ``cell``: its column, then its row."""
    return [str(cell[1]), str(cell[0])]


def _query(free: np.ndarray, start: Cell, goal: Cell) -> list[str]:
    """The query part of a trace: start, goal, then the walls of ``free [n, n]`` (bool) row by row."""
    walls = [token for cell in _cells_of(free, False) for token in ("wall", *_xy(cell))]
    return ["query", "start", *_xy(start), "goal", *_xy(goal), *walls]


def _record(kind: str, cell: Cell, g: int, h: int) -> list[str]:
    return [kind, *_xy(cell), f"c{g}", f"c{h}"]


def astar_trace(maze_puzzle: np.ndarray) -> list[str]:
    """The tokens of an A* search from the start to the goal of ``maze_puzzle [n, n]`` (any side; cells other
    than walls are free), in the format of the module docstring.

    Unit costs, the Manhattan heuristic h, neighbours in the order up, right, down, left. The node closed next
    has the lowest f = g + h, ties broken by the lowest h, then by the earliest create (an improved node counts
    from its latest create). The search stops when the goal is closed. ValueError when no path reaches the goal.
    """
    free, start, goal = _read_maze(maze_puzzle)
    tokens = [*_query(free, start, goal), "reasoning"]
    cost = {start: 0}
    parent: dict[Cell, Cell] = {}
    closed: set[Cell] = set()
    heap = [(_manhattan(start, goal), _manhattan(start, goal), 0, start)]  # (f, h, order of creation, cell)
    tokens += _record("create", start, 0, _manhattan(start, goal))
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
        for near in _steps(cell, len(free)):
            if free[near] and near not in closed and cost.get(near, math.inf) > cost[cell] + 1:
                cost[near], parent[near] = cost[cell] + 1, cell
                h_near = _manhattan(near, goal)
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
                and _manhattan(cell, self.last) == 1
                and g == self.closed[self.last] + 1
                and cell not in self.closed
                and self.opened.get(cell, (math.inf,))[0] > g
            )
        if not valid or h != _manhattan(cell, self.goal):
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
    free, start, goal = _read_maze(maze_puzzle)
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


def plan_board(maze_puzzle: np.ndarray, cells: list[Cell]) -> np.ndarray:
    """The answer ``[n, n]`` to ``maze_puzzle [n, n]`` that marks ``cells`` (row, column) as its path, for
    `Maze.verify`; ValueError for a cell off the board or on a wall."""
    free, _, _ = _read_maze(maze_puzzle)
    board = np.where(np.asarray(maze_puzzle) == BLANK, OPEN, maze_puzzle).astype(np.int64)
    n = len(board)
    for row, col in cells:
        if not (0 <= row < n and 0 <= col < n and free[row, col]):
            where = "on a wall" if 0 <= row < n and 0 <= col < n else f"off the {n}x{n} board"
            raise ValueError(f"the plan's cell at row {row}, column {col} is {where}; a plan goes through free cells")
        if board[row, col] == OPEN:
            board[row, col] = PATH
    return board
