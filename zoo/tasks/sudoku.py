"""Sudoku on 4x4 (2x2 boxes), 6x6 (boxes of 2 rows x 3 columns) and 9x9 (3x3 boxes).

Text form: one line of ``n * n`` characters, row by row, digits ``1..n`` and ``.`` or ``0`` for a
blank (``format`` writes ``.``). Generation fills a random grid by randomised backtracking, then
removes cells in random order; with ``unique=True`` a cell is removed only if the puzzle keeps
exactly one solution, with ``unique=False`` cells are removed blindly and puzzles with a single
solution are resampled.

The solver (`zoo.tasks.sudoku_search`) counts solutions up to a limit.

Givens contradict each other when a digit is given more than once in a row, column or box.
Consistent givens may still admit no solution: `solvable` searches for one, bounded by
``SOLVABLE_NODES`` (it says None, not False, when it gives up).
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

import numpy as np

from zoo.errors import ZooError

from .base import Task, natural, register
from .sudoku_search import GaveUp, Geometry, search

#: (box rows, box columns) for each supported side
BOX_SHAPES: dict[int, tuple[int, int]] = {4: (2, 2), 6: (2, 3), 9: (3, 3)}
#: fewest givens a uniquely solvable puzzle can have (known results for each side)
MIN_UNIQUE_GIVENS: dict[int, int] = {4: 4, 6: 8, 9: 17}
#: default number of givens of generated puzzles
DEFAULT_GIVENS: dict[int, int] = {4: 6, 6: 12, 9: 30}
#: fewest givens that greedy removal reaches reliably for unique puzzles (fewer may exhaust MAX_ATTEMPTS).
#: Measured: the share of attempts that succeed at these counts is 0.68 / 0.18 / 0.18 for sizes 4 / 6 / 9,
#: so a puzzle fails all MAX_ATTEMPTS with probability < 1e-17; one given fewer it is 0.003 / 0.02 (6, 9).
RELIABLE_GIVENS: dict[int, int] = {4: 4, 6: 9, 9: 23}
#: most givens at which random removal still leaves several solutions reliably (multi-solution puzzles).
#: Measured success per attempt: 0.09 / 0.11 / 0.11 for sizes 4 / 6 / 9 (failure of a puzzle < 1e-8); at
#: 6x6 with 26 givens it was 0.015, and generating 1,000 puzzles failed.
RELIABLE_MULTI_GIVENS: dict[int, int] = {4: 9, 6: 22, 9: 56}
#: full grids tried per generated puzzle before giving up with an error
MAX_ATTEMPTS = 200
#: search nodes `solvable` visits before it gives up (about 0.5 s on a CPU). Each of the 95 puzzles of
#: tests/data/sudoku-top95.txt needs at most 2,611; an unsolvable 9x9 with few givens can need millions (Norvig's
#: "impossible" puzzle ran 100 s unbounded).
SOLVABLE_NODES = 20_000


def generatable_givens(size: int, unique: bool) -> tuple[int, int]:
    """The givens ``(lowest, highest)`` at which `Sudoku.generate` makes puzzles of side ``size`` reliably."""
    return (RELIABLE_GIVENS[size], size * size) if unique else (0, RELIABLE_MULTI_GIVENS[size])


@register
class Sudoku(Task):
    """Sudoku of side ``size`` in {4, 6, 9}.

    Args:
        size: board side ``n``; boxes are 2x2, 2x3 (rows x columns) and 3x3.
        givens: number of given cells in generated puzzles (lower is harder); default 6, 12, 30.
        unique: if True every generated puzzle has exactly one solution, otherwise at least two.
    """

    name = "sudoku"
    generates_prefixes = True  # puzzle i draws from its own stream (`_rng_for`)
    conformance_options = (
        {"size": 4, "givens": 5},
        {"size": 4, "givens": 6, "unique": False},
        {"size": 6, "givens": 12},
        {"size": 6, "givens": 18, "unique": False},
    )

    def __init__(self, size: int = 9, givens: int | None = None, unique: bool = True) -> None:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or int(size) not in BOX_SHAPES:
            raise ZooError(
                f"Sudoku size must be one of {sorted(BOX_SHAPES)} (4: 2x2 boxes, 6: 2x3 boxes, 9: 3x3 boxes), "
                f"got {size!r}",
                key="size",
            )
        n = int(size)
        if not isinstance(unique, (bool, np.bool_)):
            raise ZooError(f"Sudoku option unique must be True or False, got {unique!r}", key="unique")
        unique = bool(unique)
        if givens is None:
            givens = DEFAULT_GIVENS[n]
        if isinstance(givens, bool) or not isinstance(givens, (int, np.integer)):
            raise ZooError(f"Sudoku option givens must be an integer or None, got {givens!r}", key="givens")
        givens = int(givens)
        if unique:
            lo, hi = MIN_UNIQUE_GIVENS[n], n * n
            why = f"a {n}x{n} Sudoku with a unique solution has at least {lo} givens"
        else:
            # two solutions need at least 4 blanks (the smallest unavoidable set is a 2x2 rectangle)
            lo, hi = 0, n * n - 4
            why = f"a {n}x{n} Sudoku with several solutions has at most {hi} givens"
        if not lo <= givens <= hi:
            low, high = generatable_givens(n, unique)
            also = f" ({low}..{high} to generate puzzles)" if (low, high) != (lo, hi) else ""
            raise ZooError(
                f"Sudoku(size={n}, unique={unique}) cannot have givens={givens}: {why}; "
                f"choose givens in {lo}..{hi}{also}",
                key="givens",
            )
        self.size = n
        self.givens = givens
        self.unique = unique
        self.box_rows, self.box_cols = BOX_SHAPES[n]
        self._geo = Geometry(n, self.box_rows, self.box_cols)

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "givens": self.givens, "unique": self.unique}

    # ------------------------------------------------------------------ text
    title = "Sudoku"

    @property
    def text_rule(self) -> str:
        return f"digits 1-{self.size}, '.' or '0' for blanks"

    def read_char(self, char: str) -> int | None:
        if char in ".0":
            return 0
        if char.isdigit() and char.isascii() and 1 <= int(char) <= self.size:
            return int(char)
        return None

    def format(self, board: np.ndarray) -> str:
        b = self.check_board(board)
        return "".join("." if v == 0 else str(v) for v in b.reshape(-1).tolist())

    # ------------------------------------------------------------------ rules
    def verify(self, puzzle: np.ndarray, answer: np.ndarray) -> bool:
        p = self.check_board(puzzle, "puzzle")
        a = np.asarray(answer)
        n = self.size
        if a.shape != (n, n):
            raise ValueError(f"answer has shape {a.shape}, expected ({n}, {n}) like the puzzle")
        if a.dtype.kind not in "iu":
            return False
        if a.min() < 1 or a.max() > n:  # incomplete (0 = blank) or out of range
            return False
        given = p > 0
        if not np.array_equal(a[given], p[given]):
            return False
        digits = np.arange(1, n + 1)
        boxes = (
            a.reshape(n // self.box_rows, self.box_rows, n // self.box_cols, self.box_cols)
            .transpose(0, 2, 1, 3)
            .reshape(n, n)
        )
        for units in (a, a.T, boxes):
            if not np.array_equal(np.sort(units, axis=1), np.broadcast_to(digits, (n, n))):
                return False
        return True

    def solutions(self, puzzle: np.ndarray, limit: int | None = None) -> list[np.ndarray]:
        if limit is not None and (isinstance(limit, bool) or int(limit) < 0):
            raise ValueError(f"limit must be None or a non-negative integer, got {limit!r}")
        p = self.check_board(puzzle, "puzzle")
        n = self.size
        found = search(self._geo, p.reshape(-1).tolist(), None if limit is None else int(limit))
        return [np.asarray(s, dtype=np.int64).reshape(n, n) for s in found]

    def count_solutions(self, puzzle: np.ndarray, limit: int | None = None) -> int:
        """Number of solutions of ``puzzle`` (stopping at ``limit``)."""
        return len(self.solutions(puzzle, limit))

    def contradiction(self, puzzle: np.ndarray) -> str | None:
        """The first digit given twice in a row, column or box (boxes counted row by row from the top left)."""
        p = self.check_board(puzzle, "puzzle")
        n, br, bc = self.size, self.box_rows, self.box_cols
        boxes = p.reshape(n // br, br, n // bc, bc).transpose(0, 2, 1, 3).reshape(n, n)
        for kind, units in (("row", p), ("column", p.T), ("box", boxes)):
            for index, unit in enumerate(units):
                counts = np.bincount(unit, minlength=n + 1)[1:]
                most = int(counts.max())
                if most > 1:
                    times = "twice" if most == 2 else f"{most} times"
                    return f"{int(counts.argmax()) + 1} is given {times} in {kind} {index + 1}"
        return None

    def solvable(self, puzzle: np.ndarray) -> bool | None:
        """Whether ``puzzle`` has a solution; None when the search gave up after `SOLVABLE_NODES` nodes."""
        p = self.check_board(puzzle, "puzzle")
        try:
            return bool(search(self._geo, p.reshape(-1).tolist(), 1, max_nodes=SOLVABLE_NODES))
        except GaveUp:
            return None

    # ------------------------------------------------------------------ generation
    def _rng_for(self, seed: int, index: int) -> random.Random:
        """Independent stream for puzzle ``index``: prefixes of a batch do not depend on ``count``."""
        state = np.random.SeedSequence([seed, index, self.size, self.givens, int(self.unique)])
        words = state.generate_state(4, dtype=np.uint64).tolist()
        return random.Random(sum(w << (64 * k) for k, w in enumerate(words)))

    def _random_grid(self, rnd: random.Random) -> list[int]:
        (grid,) = search(self._geo, [0] * self.num_cells, 1, rnd=rnd)
        return grid

    def _unique_puzzle(self, rnd: random.Random) -> tuple[list[int], list[int]] | None:
        solution = self._random_grid(rnd)
        cells = solution.copy()
        order = list(range(self.num_cells))
        rnd.shuffle(order)
        remaining = self.num_cells
        for i in order:
            if remaining == self.givens:
                break
            v = cells[i]
            cells[i] = 0
            # the puzzle stays unique iff no solution puts another digit in cell i
            if search(self._geo, cells, 1, forbid_cell=i, forbid_digit=v):
                cells[i] = v
            else:
                remaining -= 1
        return (cells, solution) if remaining == self.givens else None

    def _multi_puzzle(self, rnd: random.Random) -> tuple[list[int], list[int]] | None:
        solution = self._random_grid(rnd)
        cells = solution.copy()
        for i in rnd.sample(range(self.num_cells), self.num_cells - self.givens):
            cells[i] = 0
        return (cells, solution) if len(search(self._geo, cells, 2)) >= 2 else None

    def check_generatable(self) -> None:
        n = self.size
        lo, hi = generatable_givens(n, self.unique)
        if not lo <= self.givens <= hi:
            kind = "a unique solution" if self.unique else "several solutions"
            raise ZooError(
                f"{n}x{n} Sudoku puzzles with {kind} and {self.givens} givens cannot be generated reliably: "
                f"the generator reaches givens {lo}..{hi} for this size; choose givens in that range",
                key="givens",
            )

    def generate(self, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        count = natural(count, "count")
        return self.generate_range(0, count, seed)

    def generate_range(self, start: int, stop: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        seed = natural(seed, "seed")
        self.check_generatable()
        n = self.size
        make = self._unique_puzzle if self.unique else self._multi_puzzle
        puzzles = np.zeros((max(stop - start, 0), n, n), dtype=np.int64)
        solutions = np.zeros_like(puzzles)
        for row, k in enumerate(range(start, stop)):
            rnd = self._rng_for(seed, k)
            for _ in range(MAX_ATTEMPTS):
                made = make(rnd)
                if made is not None:
                    break
            else:
                if self.unique:
                    kind = "exactly one solution"
                    hint = f"raise givens (>= {RELIABLE_GIVENS[n]} is reliably reachable)"
                else:
                    kind = "at least two solutions"
                    hint = f"lower givens (default {DEFAULT_GIVENS[n]})"
                raise ValueError(
                    f"could not generate a {n}x{n} Sudoku with {self.givens} givens and {kind} "
                    f"in {MAX_ATTEMPTS} attempts (puzzle {k}, seed {seed}); {hint}"
                )
            puzzles[row] = np.asarray(made[0]).reshape(n, n)
            solutions[row] = np.asarray(made[1]).reshape(n, n)
        return puzzles, solutions

    # ------------------------------------------------------------------ symmetry
    def augment(
        self, puzzle: np.ndarray, solution: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        p = self.check_board(puzzle, "puzzle")
        s = self.check_board(solution, "solution")
        n, br, bc = self.size, self.box_rows, self.box_cols
        digits = np.concatenate([[0], rng.permutation(n) + 1])
        rows = np.concatenate([band * br + rng.permutation(br) for band in rng.permutation(n // br)])
        cols = np.concatenate([stack * bc + rng.permutation(bc) for stack in rng.permutation(n // bc)])
        transpose = br == bc and bool(rng.integers(2))

        def apply(board: np.ndarray) -> np.ndarray:
            out = digits[board][rows][:, cols]
            return np.ascontiguousarray(out.T if transpose else out)

        return apply(p), apply(s)

    def invariant(self, puzzle: np.ndarray) -> bytes:
        p = self.check_board(puzzle, "puzzle")
        n, br, bc = self.size, self.box_rows, self.box_cols
        given = p > 0
        row_count = given.sum(axis=1)
        col_count = given.sum(axis=0)
        block = given.reshape(n // br, br, n // bc, bc).sum(axis=(1, 3))  # [band, stack]
        box_count = np.repeat(np.repeat(block, br, axis=0), bc, axis=1)  # per cell
        freq = np.bincount(p.reshape(-1), minlength=n + 1)
        square = br == bc

        # one tuple per given: its row/column/box load and how often its digit is given
        rc = np.stack([row_count[:, None].repeat(n, 1), col_count[None, :].repeat(n, 0)], axis=-1)
        if square:  # transpose swaps rows and columns
            rc = np.sort(rc, axis=-1)
        cell = np.concatenate([rc, box_count[..., None], freq[p][..., None]], axis=-1)[given]
        cells = sorted(map(tuple, cell.tolist()))

        # bands: row loads and box loads inside each band; stacks likewise
        bands = sorted(
            (tuple(sorted(row_count[b * br : (b + 1) * br].tolist())), tuple(sorted(block[b].tolist())))
            for b in range(n // br)
        )
        stacks = sorted(
            (tuple(sorted(col_count[s * bc : (s + 1) * bc].tolist())), tuple(sorted(block[:, s].tolist())))
            for s in range(n // bc)
        )
        lines: tuple[Any, ...] = (bands, stacks)
        if square:
            lines = tuple(sorted(lines))
        key = repr((self.name, n, int(given.sum()), sorted(freq[1:].tolist()), lines, cells))
        return hashlib.blake2b(key.encode(), digest_size=16).digest()
