"""The ``Task`` interface: a seeded, verifiable puzzle family.

A task owns everything the rest of the zoo needs to know about one problem family: how to
generate seeded puzzles, how to read and write the community text form, how to check any
answer (a *valid* answer counts, not only the stored one), how to enumerate the solutions of
small instances, which transforms preserve validity, and how boards become tokens.

Boards are integer arrays ``[n, n]`` with ``0`` for a blank cell and ``1..n`` for symbols.
Tokens are ``pad 0, blank 1, symbol k -> k + 1``, so the vocabulary has ``n + 2`` entries and a
board becomes a sequence of ``L = n * n`` tokens.
"""

from __future__ import annotations

import abc
import hashlib
import inspect
import os
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch

from zoo import registry
from zoo.errors import ZooError

PAD_TOKEN = 0
BLANK_TOKEN = 1
#: token of symbol ``k`` is ``k + SYMBOL_OFFSET``
SYMBOL_OFFSET = 1
#: the token of symbol 1, the first token that is a symbol
FIRST_SYMBOL_TOKEN = 1 + SYMBOL_OFFSET

# What `Task.status` says of an answer to a puzzle.
#: the task's verifier accepts the answer
SOLVED = "solved"
#: the answer is not a solution, and the puzzle has one (or the bounded search for one gave up)
UNVERIFIED = "unverified"
#: the givens break no rule by themselves, but exact search finds no completion
NO_SOLUTION = "no solution"
#: the givens already break a rule (`Task.contradiction` says which)
CONTRADICTORY_GIVENS = "contradictory givens"
STATUSES = (SOLVED, UNVERIFIED, NO_SOLUTION, CONTRADICTORY_GIVENS)

T = TypeVar("T", bound=type)


def register(cls: T) -> T:
    """Class decorator: make a ``Task`` subclass reachable as ``zoo.tasks.get(cls.name)`` (`zoo.registry`)."""
    return registry.register_task(cls)


def names() -> list[str]:
    """Sorted names of all registered tasks."""
    return registry.TASKS.names()


def get(name: str, **options: Any) -> Task:
    """Build the task registered as ``name`` with constructor ``options``.

    ``get(**task.spec())`` rebuilds an equal task. Raises ``ZooError`` for an unknown name (listing the known
    ones) or an option the task does not take (naming it).
    """
    cls = registry.TASKS.get(name, key="name")
    accepted = cls.option_names()
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ZooError(
            f"unknown option(s) {', '.join(map(repr, unknown))} for task {name!r}; "
            f"it takes: {', '.join(accepted) or '(no options)'}",
            key=unknown[0],
        )
    return cls(**options)


def natural(value: Any, what: str) -> int:
    """``value`` as an int when it is a non-negative integer (not a bool); ValueError naming ``what`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {value!r}")
    return int(value)


class Task(abc.ABC):
    """A problem family on an ``n x n`` board (see the module docstring for conventions)."""

    name: ClassVar[str]
    size: int
    #: version of `generate`; bump it when the same seed would give other puzzles (invalidates data caches)
    generator_version: ClassVar[int] = 1
    #: whether puzzle i of ``generate(count, seed)`` depends on (seed, i) only, so that a shorter batch is a prefix
    #: of a longer one (the conformance suite checks it when declared); data generation then makes a chunk piece
    #: by piece (`generate_range`) and stops once the splits are full
    generates_prefixes: ClassVar[bool] = False
    #: small but non-trivial constructor options (``zoo.tasks.get`` keywords, no "name") that the task conformance
    #: suite, tests/tasks/test_task_conformance.py, checks this task with. Each must be small enough that
    #: `solutions` enumerates every solution of a generated puzzle in milliseconds, and that 256 generated puzzles
    #: take about a second and fall in all three data splits. A task declares at least one.
    conformance_options: ClassVar[tuple[dict[str, Any], ...]] = ()

    # ------------------------------------------------------------------ identity
    @classmethod
    def option_names(cls) -> list[str]:
        """Names of the keyword options the constructor takes (what ``spec`` records)."""
        params = inspect.signature(cls.__init__).parameters
        return [
            p.name for p in params.values() if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]

    @abc.abstractmethod
    def spec(self) -> dict[str, Any]:
        """JSON-able ``{"name": ..., **options}``; ``zoo.tasks.get(**spec)`` rebuilds an equal task."""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Task):
            return NotImplemented
        return type(self) is type(other) and self.spec() == other.spec()

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(self.spec().items()))))

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.spec().items() if k != "name")
        return f"{type(self).__name__}({opts})"

    # ------------------------------------------------------------------ sizes
    @property
    def num_cells(self) -> int:
        """Number of cells ``n * n``: the token sequence length ``L``."""
        return self.size * self.size

    @property
    def num_symbols(self) -> int:
        """Symbols a cell can hold, as board values ``1..num_symbols`` (``n`` unless a task says otherwise)."""
        return self.size

    @property
    def value_hint(self) -> str:
        """What board values mean, for error messages."""
        return f"use 0 for a blank and 1..{self.num_symbols} for symbols"

    @property
    def vocab_size(self) -> int:
        """Token vocabulary: pad, blank and the symbols, i.e. ``num_symbols + 2``."""
        return self.num_symbols + 2

    # ------------------------------------------------------------------ problem family
    def check_generatable(self) -> None:  # noqa: B027 - a hook: most tasks generate whatever their options say
        """Raise `ZooError` (before any work) when `generate` cannot reliably meet these options."""

    @abc.abstractmethod
    def generate(self, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """``count`` seeded puzzles: ``(puzzles [count, n, n], solutions [count, n, n])``.

        Deterministic in ``seed``. For a multi-solution puzzle ``solutions`` holds one valid completion.
        """

    def generate_range(self, start: int, stop: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Puzzles start..stop-1 of ``generate(stop, seed)``: ``(puzzles [stop - start, n, n], solutions)``. Data
        generation asks for pieces only where the task `generates_prefixes`; a task whose puzzles are slow to
        make overrides this to make those puzzles alone."""
        puzzles, solutions = self.generate(stop, seed)
        return puzzles[start:], solutions[start:]

    #: the board's name in messages, e.g. "Sudoku"
    title: str = "board"

    @property
    def text_rule(self) -> str:
        """How the text form writes cells, for error messages."""
        return "see the task's docs"

    def read_char(self, char: str) -> int | None:
        """The board value a character of the text form stands for; None when it stands for nothing."""
        raise NotImplementedError(f"{type(self).__name__} has no text form")

    def parse(self, text: str) -> np.ndarray:
        """One puzzle ``[n, n]`` from the community text form: one line of ``n * n`` characters."""
        if not isinstance(text, str):
            raise ValueError(f"parse expects a str, got {type(text).__name__}")
        n = self.size
        line = text.strip()
        if len(line) != n * n:
            raise ValueError(
                f"a {n}x{n} {self.title} is one line of {n * n} characters ({self.text_rule}), "
                f"got {len(line)} characters: {line[:100]!r}"
            )
        board = np.zeros(n * n, dtype=np.int64)
        for pos, char in enumerate(line):
            value = self.read_char(char)
            if value is None:
                raise ValueError(
                    f"bad character {char!r} at position {pos} (row {pos // n + 1}, column {pos % n + 1}) "
                    f"of a {n}x{n} {self.title}; use {self.text_rule}"
                )
            board[pos] = value
        return board.reshape(n, n)

    @abc.abstractmethod
    def format(self, board: np.ndarray) -> str:
        """The community text form of ``board [n, n]`` (inverse of ``parse``)."""

    @abc.abstractmethod
    def verify(self, puzzle: np.ndarray, answer: np.ndarray) -> bool:
        """True iff ``answer [n, n]`` is complete, satisfies every rule and keeps every given of ``puzzle``."""

    @abc.abstractmethod
    def solutions(self, puzzle: np.ndarray, limit: int | None = None) -> list[np.ndarray]:
        """All solutions ``[n, n]`` of ``puzzle`` by exact search, stopping after ``limit`` if given."""

    @abc.abstractmethod
    def contradiction(self, puzzle: np.ndarray) -> str | None:
        """The rule the givens of ``puzzle [n, n]`` break by themselves, in a few words; None when they break none."""

    def solvable(self, puzzle: np.ndarray) -> bool | None:
        """Whether ``puzzle [n, n]`` has a solution, by exact search; None when a bounded search gave up."""
        return bool(self.solutions(puzzle, limit=1))

    def diagnose(self, puzzle: np.ndarray, answer: np.ndarray) -> tuple[str, str]:
        """``(status, why)`` of ``answer [n, n]`` to ``puzzle [n, n]``: a status of `STATUSES` and its reason in words.

        Solved when `verify` accepts the answer; otherwise contradictory givens when `contradiction` names a
        broken rule, no solution when `solvable` is False, and unverified when the puzzle has a solution or the
        search for one gave up.
        """
        p = self.check_board(puzzle, "puzzle")
        if self.verify(p, answer):
            return SOLVED, "the task's verifier accepts the answer"
        broken = self.contradiction(p)
        if broken is not None:
            return CONTRADICTORY_GIVENS, broken
        solvable = self.solvable(p)
        if solvable is None:
            return UNVERIFIED, "the answer breaks a rule; the search for a solution gave up"
        if not solvable:
            return NO_SOLUTION, "the givens admit none"
        return UNVERIFIED, "the answer breaks a rule; the puzzle has a solution"

    def status(self, puzzle: np.ndarray, answer: np.ndarray) -> str:
        """The status of ``answer [n, n]`` to ``puzzle [n, n]``, one of `STATUSES` (see `diagnose`)."""
        return self.diagnose(puzzle, answer)[0]

    @abc.abstractmethod
    def augment(
        self, puzzle: np.ndarray, solution: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """A random validity-preserving transform, applied identically to ``puzzle`` and ``solution``."""

    @abc.abstractmethod
    def invariant(self, puzzle: np.ndarray) -> bytes:
        """A key equal for ``puzzle`` and every augmented copy of it (used to split data leak-free).

        Different puzzles may share a key; equal keys only mean "maybe the same orbit".
        """

    # ------------------------------------------------------------------ shared helpers
    def check_board(self, board: Any, what: str = "board") -> np.ndarray:
        """``board`` as an int64 array ``[n, n]`` with values in ``0..num_symbols``; ``ValueError`` otherwise."""
        arr = np.asarray(board)
        n, top = self.size, self.num_symbols
        if arr.shape != (n, n):
            raise ValueError(
                f"{what} has shape {arr.shape}, but {self!r} boards have shape ({n}, {n}); "
                f"pass one board at a time (index a batch first)"
            )
        if arr.dtype.kind not in "iub":
            if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
                arr = arr.astype(np.int64)
            else:
                raise ValueError(f"{what} must hold integers 0..{top}, got dtype {arr.dtype}")
        arr = arr.astype(np.int64, copy=False)
        if arr.size and (arr.min() < 0 or arr.max() > top):
            raise ValueError(
                f"{what} holds values outside 0..{top} (found {int(arr.min())}..{int(arr.max())}); {self.value_hint}"
            )
        return arr

    def read_text(self, text: str, source: str = "<text>") -> list[tuple[int, np.ndarray]]:
        """The puzzles ``[n, n]`` of a text of them, each with the number (from 1) of the line it starts on: one
        per non-empty line; lines starting with ``#`` are comments. ValueError ``"SOURCE:LINE: what is wrong"``
        for a line that is not one."""
        boards = []
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                boards.append((number, self.parse(line)))
            except ValueError as err:
                raise ValueError(f"{source}:{number}: {err}") from None
        return boards

    def write_text(self, boards: np.ndarray) -> str:
        """Boards ``[N, n, n]`` as a text `read_text` reads back: one per line."""
        return "".join(self.format(board) + "\n" for board in boards)

    def read_file(self, path: str | os.PathLike[str]) -> np.ndarray:
        """Puzzles ``[N, n, n]`` from a text file in the form `read_text` reads."""
        p = Path(path)
        if not p.is_file():
            raise ValueError(f"puzzle file {str(p)!r} does not exist or is not a file; check the path")
        boards = [board for _, board in self.read_text(p.read_text(encoding="utf-8"), str(p))]
        if not boards:
            return np.zeros((0, self.size, self.size), dtype=np.int64)
        return np.stack(boards)

    def encode(self, boards: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Boards ``[..., n, n]`` (0 blank, symbols 1..) -> LongTensor tokens ``[..., n*n]`` (blank 1, k -> k+1),
        on the device of a tensor given (arrays, which the data loaders encode one by one, stay in numpy until
        the end: a fraction of the cost of the same steps as tensor operations)."""
        n = self.size
        shape = tuple(boards.shape) if isinstance(boards, torch.Tensor) else np.shape(boards)
        if len(shape) < 2 or tuple(shape[-2:]) != (n, n):
            raise ValueError(
                f"encode expects boards of shape [..., {n}, {n}], got {shape}; "
                f"reshape flat boards with .reshape(-1, {n}, {n})"
            )
        if isinstance(boards, torch.Tensor):
            if boards.is_floating_point() or boards.is_complex() or boards.dtype == torch.bool:
                raise ValueError(f"encode expects integer boards, got dtype {boards.dtype}")
            t = boards.to(torch.long)
            low, high = (int(t.min()), int(t.max())) if t.numel() else (0, 0)
        else:
            arr = np.asarray(boards)
            if arr.dtype.kind not in "iu":
                raise ValueError(f"encode expects integer boards, got dtype {arr.dtype}")
            arr = arr.astype(np.int64, copy=False)
            low, high = (int(arr.min()), int(arr.max())) if arr.size else (0, 0)
        if low < 0 or high > self.num_symbols:
            raise ValueError(
                f"boards hold values outside 0..{self.num_symbols} (found {low}..{high}); {self.value_hint}"
            )
        if isinstance(boards, torch.Tensor):
            tokens = torch.where(t == 0, torch.full_like(t, BLANK_TOKEN), t + SYMBOL_OFFSET)
            return tokens.reshape(*t.shape[:-2], n * n)
        return torch.from_numpy(np.where(arr == 0, BLANK_TOKEN, arr + SYMBOL_OFFSET).reshape(*arr.shape[:-2], n * n))

    def decode(self, tokens: torch.Tensor | np.ndarray) -> np.ndarray:
        """Tokens ``[..., n*n]`` -> int64 boards ``[..., n, n]``; pad and blank become 0."""
        n = self.size
        t = torch.as_tensor(tokens) if not isinstance(tokens, torch.Tensor) else tokens
        if t.dim() < 1 or t.shape[-1] != n * n:
            raise ValueError(
                f"decode expects tokens of shape [..., {n * n}], got {tuple(t.shape)} "
                f"(take the argmax over the vocabulary first if you hold logits [..., L, V])"
            )
        if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
            raise ValueError(f"decode expects integer tokens, got dtype {t.dtype}")
        arr = t.detach().to("cpu", torch.long).numpy()
        if arr.size and (arr.min() < 0 or arr.max() >= self.vocab_size):
            raise ValueError(
                f"tokens outside the vocabulary 0..{self.vocab_size - 1} (found {int(arr.min())}..{int(arr.max())})"
            )
        boards = np.where(arr > BLANK_TOKEN, arr - SYMBOL_OFFSET, 0).astype(np.int64)
        return boards.reshape(*arr.shape[:-1], n, n)


class SquareSymmetricTask(Task):
    """A task whose rules do not change under the 8 symmetries of the square (turns and reflections of the
    board): augmentation draws one of them, and the invariant is a digest of the smallest of a puzzle's 8
    images, one key per orbit."""

    @staticmethod
    def dihedral(board: np.ndarray, k: int) -> np.ndarray:
        """Symmetry ``k`` in 0..7 of the square on ``board [n, n]``: ``k % 4`` quarter turns, then a transpose
        if ``k >= 4``."""
        out = np.rot90(board, k % 4)
        return np.ascontiguousarray(out.T if k >= 4 else out)

    def augment(
        self, puzzle: np.ndarray, solution: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """One of the 8 symmetries, drawn at random, applied to both boards ``[n, n]``."""
        p = self.check_board(puzzle, "puzzle")
        s = self.check_board(solution, "solution")
        k = int(rng.integers(8))
        return self.dihedral(p, k), self.dihedral(s, k)

    def invariant(self, puzzle: np.ndarray) -> bytes:
        """A digest of the task's name and side and the smallest bytes of the 8 images of ``puzzle [n, n]``."""
        p = self.check_board(puzzle, "puzzle").astype(np.uint8)
        canonical = min(self.dihedral(p, k).tobytes() for k in range(8))
        key = self.name.encode() + bytes([self.size]) + canonical
        return hashlib.blake2b(key, digest_size=16).digest()
