"""N-Queens completion on 6x6, 8x8 and 10x10 boards.

Cells hold ``0`` = unknown, ``1`` = queen, ``2`` = no queen (known empty). A *puzzle* marks some
queens of a full solution and leaves every other cell unknown; generated puzzles hold only ``0``
and ``1``. A puzzle may also mark known-empty cells with ``2``: every non-zero cell is a given,
and an answer must keep it. An *answer* decides every cell: exactly ``n`` queens (``1``), no two
attacking along a row, column or diagonal, and ``2`` everywhere else, so it holds no ``0``.

Tokens follow the ``Task`` convention (pad 0, blank 1, symbol ``k -> k + 1``): unknown 1, queen 2,
no queen 3, a vocabulary of 4 whatever the board side.

Text form: one line of ``n * n`` characters, row by row: ``Q`` a queen, ``.`` unknown, ``x`` no
queen (``q`` and ``X`` are read too). Puzzles print as ``Q`` and ``.``, answers as ``Q`` and ``x``.

Givens contradict each other when two given queens attack each other or a whole row or column is given
``x``; givens that leave no completion otherwise (say, every free cell of a row attacked) have no solution.

Generation: all full solutions of a side are enumerated once per process (4, 92 and 724) and
cached on the class. A puzzle is a uniformly random solution with ``placed`` of its queens kept,
chosen uniformly, conditioned on the puzzle having at least ``min_solutions`` completions. The
condition is applied exactly (from a table of completion counts of every solution and every set
of kept rows) rather than by resampling, but the law is the same as resampling until it holds;
puzzles with more completions are drawn proportionally more often, as under resampling.

The solver is a bitmask backtracking over rows with the given queens and known-empty cells
pre-applied; the empty 8x8 board has 92 completions.
"""

from __future__ import annotations

import itertools
from typing import Any, ClassVar

import numpy as np

from zoo.errors import ZooError

from .base import SquareSymmetricTask, natural, register

UNKNOWN = 0
QUEEN = 1
EMPTY = 2
#: symbols ``1..NUM_SYMBOLS`` a cell can hold
NUM_SYMBOLS = 2
#: supported board sides and the number of their full solutions
SOLUTION_COUNTS: dict[int, int] = {6: 4, 8: 92, 10: 724}
#: default number of queens placed in generated puzzles (``n // 2 - 1``): a mix of unique and
#: multi-solution puzzles for 8 and 10 (about 60 % unique), unique for 6 (only 4 solutions exist)
DEFAULT_PLACED: dict[int, int] = {n: n // 2 - 1 for n in SOLUTION_COUNTS}
_CHARS = {".": UNKNOWN, "Q": QUEEN, "q": QUEEN, "x": EMPTY, "X": EMPTY}
_WRITE = {UNKNOWN: ".", QUEEN: "Q", EMPTY: "x"}


def _search(n: int, board: list[int], limit: int | None) -> list[list[int]]:
    """Completions of ``board`` (flat ``n * n``, values 0/1/2) as lists of queen columns per row.

    Rows with a given queen are fixed; a ``2`` forbids its cell. Diagonal bits are absolute:
    bit ``r + c`` for ``/`` and ``c - r + n - 1`` for ``\\``. Stops after ``limit`` completions.
    """
    full = (1 << n) - 1
    cols = d1 = d2 = 0
    fixed = [-1] * n
    allowed = [full] * n
    for r in range(n):
        for c in range(n):
            v = board[r * n + c]
            if v == EMPTY:
                allowed[r] &= ~(1 << c)
            elif v == QUEEN:
                if fixed[r] >= 0:
                    return []  # two queens in one row
                fixed[r] = c
    for r, c in enumerate(fixed):
        if c < 0:
            continue
        b1, b2 = 1 << (r + c), 1 << (c - r + n - 1)
        if cols >> c & 1 or d1 & b1 or d2 & b2:
            return []  # given queens attack each other
        cols |= 1 << c
        d1 |= b1
        d2 |= b2
    out: list[list[int]] = []
    queens = fixed.copy()

    def rec(r: int, cols: int, d1: int, d2: int) -> bool:
        """Place queens in rows ``r..n-1``; True means stop (limit reached)."""
        while r < n and fixed[r] >= 0:
            r += 1
        if r == n:
            out.append(queens.copy())
            return limit is not None and len(out) >= limit
        m = allowed[r] & ~(cols | (d1 >> r) | (d2 >> (n - 1 - r)))
        while m:
            bit = m & -m
            m ^= bit
            c = bit.bit_length() - 1
            queens[r] = c
            if rec(r + 1, cols | bit, d1 | 1 << (r + c), d2 | 1 << (c - r + n - 1)):
                return True
        queens[r] = -1
        return False

    if limit is None or limit > 0:
        rec(0, cols, d1, d2)
    return out


def _answer(n: int, queens: np.ndarray) -> np.ndarray:
    """Answer boards ``[..., n, n]`` (1 queen, 2 empty) from queen columns per row ``[..., n]``."""
    board = np.full((*queens.shape, n), EMPTY, dtype=np.int64)
    np.put_along_axis(board, queens[..., None].astype(np.int64), QUEEN, axis=-1)
    return board


@register
class NQueens(SquareSymmetricTask):
    """Complete an ``n x n`` board with ``n`` non-attacking queens, ``n`` in {6, 8, 10}.

    Args:
        size: board side ``n``.
        placed: queens given in generated puzzles, ``0..n`` (fewer means more completions);
            default ``n // 2 - 1`` (2, 3, 4).
        min_solutions: every generated puzzle has at least this many completions; must be
            reachable with ``placed`` queens (a 6x6 puzzle with any queen placed has one).
    """

    name = "nqueens"
    generates_prefixes = True  # puzzle i draws from its own stream (`_rng_for`)
    conformance_options = (
        {"size": 6, "placed": 2},
        {"size": 8, "placed": 3, "min_solutions": 2},
        {"size": 10, "placed": 4},
    )

    #: side -> all full solutions as queen columns per row ``[S, n]``, in lexicographic order
    _all_solutions: ClassVar[dict[int, np.ndarray]] = {}
    #: (side, placed) -> (kept row sets ``[C, placed]``, completion counts ``[S, C]``)
    _count_tables: ClassVar[dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]] = {}

    def __init__(self, size: int = 8, placed: int | None = None, min_solutions: int = 1) -> None:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or int(size) not in SOLUTION_COUNTS:
            raise ZooError(f"NQueens size must be one of {sorted(SOLUTION_COUNTS)}, got {size!r}", key="size")
        n = int(size)
        if placed is None:
            placed = DEFAULT_PLACED[n]
        if isinstance(placed, bool) or not isinstance(placed, (int, np.integer)) or not 0 <= placed <= n:
            raise ZooError(
                f"NQueens option placed must be an integer in 0..{n} (or None), got {placed!r}", key="placed"
            )
        if isinstance(min_solutions, bool) or not isinstance(min_solutions, (int, np.integer)) or min_solutions < 1:
            raise ZooError(
                f"NQueens option min_solutions must be a positive integer, got {min_solutions!r}", key="min_solutions"
            )
        self.size = n
        self.placed = int(placed)
        self.min_solutions = int(min_solutions)
        _, counts = self._count_table()
        most = int(counts.max())
        if self.min_solutions > most:
            raise ZooError(
                f"no {n}x{n} N-Queens puzzle with {self.placed} queens placed has at least "
                f"{self.min_solutions} completions (the most is {most}); lower placed or min_solutions",
                key="min_solutions",
            )
        self._choices = np.flatnonzero(counts.reshape(-1) >= self.min_solutions)

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "placed": self.placed, "min_solutions": self.min_solutions}

    @property
    def num_symbols(self) -> int:
        """Queen (1) and no queen (2), whatever the board size: the vocabulary is pad, unknown and these, i.e. 4."""
        return NUM_SYMBOLS

    @property
    def value_hint(self) -> str:
        return "use 0 for unknown, 1 for a queen and 2 for no queen"

    # ------------------------------------------------------------------ cached tables
    @classmethod
    def all_solutions(cls, size: int) -> np.ndarray:
        """Every full solution of side ``size`` as queen columns per row, ``[S, n]`` int64 (read-only)."""
        if size not in cls._all_solutions:
            found = np.asarray(_search(size, [UNKNOWN] * (size * size), None), dtype=np.int64).reshape(-1, size)
            found.setflags(write=False)
            cls._all_solutions[size] = found
        return cls._all_solutions[size]

    def _count_table(self) -> tuple[np.ndarray, np.ndarray]:
        """Kept row sets ``[C, placed]`` and completion counts ``[S, C]`` of each (solution, row set)."""
        key = (self.size, self.placed)
        if key not in self._count_tables:
            n, k = key
            sols = self.all_solutions(n)
            kept_rows = list(itertools.combinations(range(n), k))
            rows = np.asarray(kept_rows, dtype=np.int64).reshape(len(kept_rows), k)
            counts = np.empty((len(sols), len(rows)), dtype=np.int64)
            weights = n ** np.arange(k, dtype=np.int64)
            for j, kept in enumerate(rows):
                # solutions agreeing on the kept rows are exactly the completions of the puzzle
                signature = sols[:, kept] @ weights
                _, inverse, sizes = np.unique(signature, return_inverse=True, return_counts=True)
                counts[:, j] = sizes[inverse.reshape(-1)]
            rows.setflags(write=False)
            counts.setflags(write=False)
            self._count_tables[key] = (rows, counts)
        return self._count_tables[key]

    def count_puzzles(self) -> int:
        """Number of distinct puzzles ``generate`` can return (it bounds the size of a dataset)."""
        rows, counts = self._count_table()
        sols = self.all_solutions(self.size)
        ok = counts >= self.min_solutions
        return int(sum(len(np.unique(sols[ok[:, j]][:, kept], axis=0)) for j, kept in enumerate(rows)))

    # ------------------------------------------------------------------ text
    title = "N-Queens board"
    text_rule = "'Q' for a queen, '.' for unknown, 'x' for no queen"

    def read_char(self, char: str) -> int | None:
        return _CHARS.get(char)

    def format(self, board: np.ndarray) -> str:
        b = self.check_board(board)
        return "".join(_WRITE[v] for v in b.reshape(-1).tolist())

    # ------------------------------------------------------------------ rules
    def verify(self, puzzle: np.ndarray, answer: np.ndarray) -> bool:
        p = self.check_board(puzzle, "puzzle")
        a = np.asarray(answer)
        n = self.size
        if a.shape != (n, n):
            raise ValueError(f"answer has shape {a.shape}, expected ({n}, {n}) like the puzzle")
        if a.dtype.kind not in "iu":
            return False
        if a.min() < QUEEN or a.max() > EMPTY:  # undecided (0) or out of range
            return False
        given = p > 0
        if not np.array_equal(a[given], p[given]):
            return False
        queens = a == QUEEN
        if not (np.all(queens.sum(axis=1) == 1) and np.all(queens.sum(axis=0) == 1)):
            return False  # n queens, one per row and one per column
        r, c = np.nonzero(queens)
        return len(np.unique(r + c)) == n and len(np.unique(r - c)) == n

    def solutions(self, puzzle: np.ndarray, limit: int | None = None) -> list[np.ndarray]:
        if limit is not None and (isinstance(limit, bool) or int(limit) < 0):
            raise ValueError(f"limit must be None or a non-negative integer, got {limit!r}")
        p = self.check_board(puzzle, "puzzle")
        n = self.size
        found = _search(n, p.reshape(-1).tolist(), None if limit is None else int(limit))
        return list(_answer(n, np.asarray(found, dtype=np.int64).reshape(-1, n)))

    def count_solutions(self, puzzle: np.ndarray, limit: int | None = None) -> int:
        """Number of completions of ``puzzle`` (stopping at ``limit``)."""
        return len(self.solutions(puzzle, limit))

    def contradiction(self, puzzle: np.ndarray) -> str | None:
        """Two given queens that attack each other (same row, column or diagonal), else a row or column given
        all ``x`` (every answer needs a queen in each). A cell left free only by attacks is the solver's to find."""
        p = self.check_board(puzzle, "puzzle")
        queens = list(zip(*np.nonzero(p == QUEEN)))
        for (r1, c1), (r2, c2) in itertools.combinations(queens, 2):
            if r1 == r2 or c1 == c2 or abs(r1 - r2) == abs(c1 - c2):
                return (
                    f"the queens given at row {r1 + 1}, column {c1 + 1} and row {r2 + 1}, column {c2 + 1} "
                    "attack each other"
                )
        for kind, lines in (("row", p), ("column", p.T)):
            for index, line in enumerate(lines):
                if np.all(line == EMPTY):
                    return f"{kind} {index + 1} is given as all x: it has no cell for its queen"
        return None

    # ------------------------------------------------------------------ generation
    def _rng_for(self, seed: int, index: int) -> np.random.Generator:
        """Independent stream for puzzle ``index``: prefixes of a batch do not depend on ``count``."""
        return np.random.default_rng([seed, index, self.size, self.placed, self.min_solutions])

    def generate(self, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        count = natural(count, "count")
        seed = natural(seed, "seed")
        n = self.size
        rows, _ = self._count_table()
        sols = self.all_solutions(n)
        picks = np.asarray(
            [self._choices[self._rng_for(seed, k).integers(len(self._choices))] for k in range(count)],
            dtype=np.int64,
        )
        which, kept = np.divmod(picks, len(rows))
        answers = _answer(n, sols[which])
        puzzles = np.zeros_like(answers)
        for b, (s, j) in enumerate(zip(which.tolist(), kept.tolist())):
            r = rows[j]
            puzzles[b, r, sols[s, r]] = QUEEN
        return puzzles, answers
