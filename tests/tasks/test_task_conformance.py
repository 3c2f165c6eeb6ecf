"""The task conformance suite: what every registered task must do. A new task gets all of it by registering and
declaring `Task.conformance_options`, the small option sets it is checked with.

For each registered task and each of its option sets: the spec rebuilds the task; generation is seeded, and the
generated solutions verify; the text form reads back what it writes; `check_board` keeps the task's boards and
refuses others; `solutions` enumerates distinct valid solutions, the generated one among them; `verify` agrees
with that enumeration on every board one cell away from a solution, refuses a rule-abiding board that breaks a
given, and `status` tells the two apart; augmentations keep validity, the number of solutions, the invariant
and the data split; tokens round-trip; generated train/val/test splits share no invariant.

Each property is a `check_*(task)` function, listed in `PROPERTIES`, so other tests (the example task of
docs/adding-a-task.md) run the same suite.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from zoo import registry, tasks
from zoo.data import SPLITS, generate_splits, split_of
from zoo.tasks import Task
from zoo.tasks.base import BLANK_TOKEN, SOLVED, UNVERIFIED

#: puzzles generated for the checks of each option set
COUNT = 6
SEED = 0
#: puzzles each data split is generated with
SPLIT_COUNTS = {"train": 4, "val": 2, "test": 2}
#: successive augmentations applied to each puzzle (compositions stay in the group)
AUGMENT_ROUNDS = 3


@functools.cache
def generated(task: Task) -> tuple[np.ndarray, np.ndarray]:
    """`COUNT` puzzles ``[COUNT, n, n]`` and solutions ``[COUNT, n, n]`` of seed `SEED`, made read-only so that a
    check fails if a task method writes into its arguments."""
    puzzles, solutions = task.generate(COUNT, seed=SEED)
    puzzles.setflags(write=False)
    solutions.setflags(write=False)
    return puzzles, solutions


def keys(boards: list[np.ndarray] | np.ndarray) -> set[bytes]:
    """The boards ``[n, n]`` as hashable keys (int64 bytes)."""
    return {np.asarray(board, dtype=np.int64).tobytes() for board in boards}


def check_spec(task: Task) -> None:
    """`spec` is JSON-able, names the task and its constructor options, and rebuilds an equal task; `repr` shows
    the class."""
    spec = task.spec()
    assert spec["name"] == task.name and task.name in tasks.names()
    assert set(spec) - {"name"} == set(type(task).option_names())
    again = tasks.get(**json.loads(json.dumps(spec)))
    assert again == task and hash(again) == hash(task) and again.spec() == spec
    assert repr(task).startswith(f"{type(task).__name__}(")


def check_generate(task: Task) -> None:
    """Generated puzzles and solutions are int64 boards ``[count, n, n]``; the same seed gives the same ones and
    another seed others; every solution verifies and no puzzle's givens contradict each other."""
    task.check_generatable()
    puzzles, solutions = generated(task)
    n = task.size
    assert puzzles.shape == solutions.shape == (COUNT, n, n)
    assert puzzles.dtype == solutions.dtype == np.int64
    again = task.generate(COUNT, seed=SEED)
    assert np.array_equal(again[0], puzzles) and np.array_equal(again[1], solutions)
    assert not np.array_equal(task.generate(COUNT, seed=SEED + 1)[0], puzzles)
    for puzzle, solution in zip(puzzles, solutions):
        assert task.verify(puzzle, solution)
        assert task.contradiction(puzzle) is None
    assert task.generate(0, seed=SEED)[0].shape == (0, n, n)
    if task.generates_prefixes:  # what data generation relies on to make a chunk piece by piece
        short = task.generate(3, seed=SEED)
        rest = task.generate_range(3, COUNT, seed=SEED)
        for part, whole in zip((*short, *rest), (puzzles[:3], solutions[:3], puzzles[3:], solutions[3:])):
            assert np.array_equal(part, whole)


def check_text(task: Task) -> None:
    """`parse(format(board)) == board` for puzzles and solutions; the text form is one line of ``n * n`` chars."""
    for board in np.concatenate(generated(task)):
        text = task.format(board)
        assert isinstance(text, str) and len(text) == task.num_cells and "\n" not in text
        assert np.array_equal(task.parse(text), board)
        assert np.array_equal(task.parse(f"  {text}\n"), board)


def check_boards(task: Task) -> None:
    """`check_board` returns the task's own boards as int64 and refuses a wrong shape or an unknown symbol."""
    puzzles, solutions = generated(task)
    for board in (puzzles[0], solutions[0]):
        checked = task.check_board(board)
        assert checked.dtype == np.int64 and np.array_equal(checked, board)
    with pytest.raises(ValueError):
        task.check_board(puzzles[0][:-1])
    beyond = puzzles[0].copy()
    beyond[0, 0] = task.num_symbols + 1
    with pytest.raises(ValueError):
        task.check_board(beyond)


def check_solutions(task: Task) -> None:
    """`solutions` enumerates distinct int64 boards that all verify, the generated solution among them; `limit`
    caps the list and the puzzle is `solvable`."""
    puzzles, solutions = generated(task)
    for puzzle, solution in zip(puzzles, solutions):
        found = task.solutions(puzzle)
        assert found and len(keys(found)) == len(found), "solutions repeats a board"
        assert solution.tobytes() in keys(found)
        for board in found:
            assert board.shape == puzzle.shape and board.dtype == np.int64 and task.verify(puzzle, board)
        for limit in (0, 1, 2):
            assert len(task.solutions(puzzle, limit=limit)) == min(limit, len(found))
        assert task.solvable(puzzle) is True


def check_verify_near_a_solution(task: Task) -> None:
    """Changing one cell of a solution (to a blank or another symbol, given cells included) gives a board `verify`
    accepts exactly when `solutions` enumerates it; `status` (and `diagnose`, with a reason) says solved for a
    solution, unverified otherwise."""
    puzzles, solutions = generated(task)
    for puzzle, solution in zip(puzzles, solutions):
        found = keys(task.solutions(puzzle))
        assert task.status(puzzle, solution) == SOLVED
        refused = 0
        for cell in np.ndindex(*solution.shape):
            for symbol in range(task.num_symbols + 1):
                if symbol == solution[cell]:
                    continue
                changed = solution.copy()
                changed[cell] = symbol
                accepted = task.verify(puzzle, changed)
                assert accepted == (changed.tobytes() in found), f"verify says {accepted} for {task.format(changed)}"
                if not accepted and not refused:
                    status, why = task.diagnose(puzzle, changed)
                    assert status == task.status(puzzle, changed) == UNVERIFIED and isinstance(why, str) and why
                refused += not accepted
        assert refused, "no corruption of a solution was refused"


def check_verify_keeps_givens(task: Task) -> None:
    """A board that obeys every rule (another puzzle's solution) but breaks a given of a puzzle is refused."""
    puzzles, solutions = generated(task)
    breaking = 0
    for puzzle in puzzles:
        given = puzzle > 0
        for solution in solutions:
            if not np.array_equal(solution[given], puzzle[given]):
                assert not task.verify(puzzle, solution) and task.status(puzzle, solution) == UNVERIFIED
                breaking += 1
    assert breaking, f"the {COUNT} generated solutions agree with every puzzle's givens: choose larger options"


def check_augment(task: Task) -> None:
    """Augmented (puzzle, solution) pairs still verify, with as many solutions, the same invariant and the same
    data split (`zoo.data.split_of`) as the original; augmentation moves some puzzle."""
    puzzles, solutions = generated(task)
    rng = np.random.default_rng(SEED)
    moved = False
    for puzzle, solution in zip(puzzles, solutions):
        invariant, split, count = task.invariant(puzzle), split_of(task, puzzle), len(task.solutions(puzzle))
        assert isinstance(invariant, bytes)
        augmented_puzzle, augmented_solution = puzzle, solution
        for _ in range(AUGMENT_ROUNDS):
            augmented_puzzle, augmented_solution = task.augment(augmented_puzzle, augmented_solution, rng)
            assert task.verify(augmented_puzzle, augmented_solution)
            assert task.invariant(augmented_puzzle) == invariant
            assert split_of(task, augmented_puzzle) == split
            assert len(task.solutions(augmented_puzzle)) == count
            moved |= not np.array_equal(augmented_puzzle, puzzle)
    assert moved, "augment returned every puzzle unchanged"


def check_tokens(task: Task) -> None:
    """`encode` gives LongTensor tokens ``[..., n * n]`` inside the vocabulary, blanks as `BLANK_TOKEN`, from an array
    or a tensor, and `decode` gives the boards back, from a tensor or an array."""
    puzzles, solutions = generated(task)
    boards = np.stack([puzzles, solutions])  # [2, COUNT, n, n]
    tokens = task.encode(boards)
    assert tokens.dtype == torch.long and tokens.shape == (2, COUNT, task.num_cells)
    assert int(tokens.min()) >= BLANK_TOKEN and int(tokens.max()) < task.vocab_size
    assert torch.equal(tokens[0] == BLANK_TOKEN, torch.as_tensor(puzzles.reshape(COUNT, -1) == 0))
    assert torch.equal(task.encode(torch.as_tensor(boards)), tokens)
    assert np.array_equal(task.decode(tokens), boards) and np.array_equal(task.decode(tokens.numpy()), boards)


def check_splits(task: Task) -> None:
    """`generate_splits` fills each split with puzzles of that split, and no two splits share an invariant."""
    splits = generate_splits(task, SPLIT_COUNTS, seed=SEED)
    invariants = {}
    for split in SPLITS:
        puzzles, solutions = splits[split]
        assert len(puzzles) == SPLIT_COUNTS[split] and len(keys(puzzles)) == len(puzzles)
        for puzzle, solution in zip(puzzles, solutions):
            assert split_of(task, puzzle) == split and task.verify(puzzle, solution)
        invariants[split] = {task.invariant(puzzle) for puzzle in puzzles}
    for one, other in itertools.combinations(SPLITS, 2):
        assert invariants[one].isdisjoint(invariants[other]), f"{one} and {other} share an invariant"


PROPERTIES: tuple[Callable[[Task], None], ...] = (
    check_spec,
    check_generate,
    check_text,
    check_boards,
    check_solutions,
    check_verify_near_a_solution,
    check_verify_keeps_givens,
    check_augment,
    check_tokens,
    check_splits,
)


def option_sets() -> list[tuple[str, dict[str, Any]]]:
    """(name, options) of every option set every registered task declares."""
    return [(name, options) for name in tasks.names() for options in registry.TASKS.get(name).conformance_options]


def describe(name: str, options: dict[str, Any]) -> str:
    """A test id: the task's name and options, e.g. ``sudoku-size=4-givens=5``."""
    return "-".join([name, *(f"{key}={value}" for key, value in options.items())])


def test_every_task_declares_distinct_option_sets() -> None:
    for name in tasks.names():
        declared = registry.TASKS.get(name).conformance_options
        assert declared, f"task {name!r} declares no conformance_options: the suite cannot check it"
        built = [tasks.get(name, **options) for options in declared]
        assert len(set(built)) == len(built), f"task {name!r} declares the same options twice"


@pytest.mark.parametrize("check", PROPERTIES, ids=lambda check: check.__name__.removeprefix("check_"))
@pytest.mark.parametrize("name, options", option_sets(), ids=[describe(*case) for case in option_sets()])
def test_task_conforms(name: str, options: dict[str, Any], check: Callable[[Task], None]) -> None:
    check(tasks.get(name, **options))
