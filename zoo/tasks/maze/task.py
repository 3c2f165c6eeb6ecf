"""The task `Maze`: generation, the text forms, the rules, the symmetries (see the package docstring)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from zoo.errors import ZooError
from zoo.tasks.base import SquareSymmetricTask, natural, register

from .generators import GENERATORS, TREES, WALL_PROBABILITY, drunkard_maze, tree_maze
from .grid import (
    BLANK,
    GOAL,
    NUM_SYMBOLS,
    OPEN,
    PATH,
    START,
    WALL,
    Cell,
    answer_board,
    cells_of,
    distances,
    ends_problem,
    is_path,
    shortest_paths,
)

#: the board sides `Maze` takes
SIZES = range(5, 31)
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


@register
class Maze(SquareSymmetricTask):
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

    def read_text(self, text: str, source: str = "<text>") -> list[tuple[int, np.ndarray]]:
        """The mazes ``[n, n]`` of a text of blocks (one line per row) separated by blank lines, or of one-line
        mazes, one per line, each with the number of the line it starts on. No comment lines: ``#`` is a wall."""
        boards = []
        for first, lines in _groups(text.splitlines()):
            if len(lines[0].strip()) == self.num_cells:
                for number, line in enumerate(lines, start=first):
                    boards.append((number, _read_at(f"{source}:{number}", self.parse, line)))
            else:
                where = f"{source}:{first} (the block starting on this line)"
                boards.append((first, _read_at(where, self.parse_block, "\n".join(lines))))
        return boards

    def write_text(self, boards: np.ndarray) -> str:
        """Boards ``[N, n, n]`` in the block form, separated by blank lines: answers show their path as ``o``."""
        return "\n".join(self.format_block(board) + "\n" for board in boards)

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
        return is_path(marked, cells_of(p, START)[0], cells_of(p, GOAL)[0])

    def optimal(self, puzzle: np.ndarray, answer: np.ndarray) -> bool:
        """Whether ``answer [n, n]`` is valid (`verify`) and its path a shortest one."""
        if not self.verify(puzzle, answer):
            return False
        p = self.check_board(puzzle, "puzzle")
        steps = int((np.asarray(answer) == PATH).sum()) + 1
        return bool(steps == distances(p != WALL, cells_of(p, START)[0])[cells_of(p, GOAL)[0]])

    def solutions(self, puzzle: np.ndarray, limit: int | None = None) -> list[np.ndarray]:
        """Every shortest path of ``puzzle [n, n]`` as an answer board ``[n, n]`` (longer paths are valid
        answers too, but not enumerated), stopping after ``limit``; their number grows exponentially with open
        areas, so pass a limit for large open mazes."""
        if limit is not None and (isinstance(limit, bool) or int(limit) < 0):
            raise ValueError(f"limit must be None or a non-negative integer, got {limit!r}")
        p = self.check_board(puzzle, "puzzle")
        if self.contradiction(p) is not None:
            return []
        start, goal = cells_of(p, START)[0], cells_of(p, GOAL)[0]
        paths = shortest_paths(p != WALL, start, goal, None if limit is None else int(limit))
        return [answer_board(p, path) for path in paths]

    def contradiction(self, puzzle: np.ndarray) -> str | None:
        """Not exactly one start or one goal, or an open or path cell given (a puzzle gives walls and ends only).
        A goal the start cannot reach is no solution (`solvable`), not a contradiction."""
        p = self.check_board(puzzle, "puzzle")
        problem = ends_problem(p)
        if problem is not None:
            return problem
        marks = cells_of((p == OPEN) | (p == PATH), True)
        if marks:
            r, c = marks[0]
            return f"row {r + 1}, column {c + 1} is given as an open or path cell; a puzzle gives only walls and ends"
        return None

    # ------------------------------------------------------------------ generation
    def _rng_for(self, seed: int, index: int) -> np.random.Generator:
        """Independent stream for puzzle ``index``: prefixes of a batch do not depend on ``count``."""
        return np.random.default_rng([seed, index, self.size, GENERATORS.index(self.generator)])

    def generate(self, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        count = natural(count, "count")
        return self.generate_range(0, count, seed)

    def generate_range(self, start: int, stop: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        seed = natural(seed, "seed")
        n = self.size
        puzzles = np.zeros((max(stop - start, 0), n, n), dtype=np.int64)
        solutions = np.zeros_like(puzzles)
        for row, k in enumerate(range(start, stop)):
            puzzles[row], solutions[row] = self._draw(self._rng_for(seed, k))
        return puzzles, solutions

    def _layout(self, rng: np.random.Generator) -> tuple[np.ndarray, list[Cell]]:
        """A maze's open cells ``[n, n]`` (bool) and the cells its ends may take."""
        n = self.size
        if self.generator in TREES:
            return tree_maze(n, self.generator, rng)
        free = drunkard_maze(n, rng) if self.generator == "drunkard" else rng.random((n, n)) >= WALL_PROBABILITY
        return free, cells_of(free, True)

    def _draw(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """A puzzle ``[n, n]`` and its first shortest path as an answer ``[n, n]``."""
        while True:  # the maze and its ends are drawn again until the goal is 2 steps or more from the start
            free, places = self._layout(rng)
            if len(places) < 2:
                continue
            start, goal = (places[i] for i in rng.choice(len(places), size=2, replace=False).tolist())
            if distances(free, start)[goal] >= 2:
                break
        puzzle = np.where(free, BLANK, WALL)
        puzzle[start], puzzle[goal] = START, GOAL
        (path,) = shortest_paths(free, start, goal, limit=1)
        return puzzle, answer_board(puzzle, path)


def _require_ends(board: np.ndarray) -> None:
    """Raise ValueError unless the maze ``board [n, n]`` read from text has one start and one goal."""
    problem = ends_problem(board)
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
