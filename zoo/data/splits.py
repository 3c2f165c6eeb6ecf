"""Split generation: which of train/val/test a puzzle belongs to, and generating each split's puzzles by seed.

Split assignment is a pure function of a puzzle's augmentation invariant (`Task.invariant`): a puzzle and
every augmented copy of it share the invariant, hence the split. So no puzzle, nor an augmented copy of
one, is ever in two splits — across seeds, counts and difficulty settings too, which keeps `zoo eval` on
fresh held-out puzzles honest.
"""

from __future__ import annotations

import hashlib

import numpy as np

from zoo.errors import ZooError
from zoo.io import progress
from zoo.tasks import Task

SPLITS = ("train", "val", "test")
# Fractions of the invariant-hash space owned by each split. Fixed forever: changing them would let a
# puzzle change split between runs.
_TEST_BELOW, _VAL_BELOW = 0.2, 0.3
_GENERATION_CHUNK = 256
_PIECE = 32
# Generation gives up when this many chunks in a row add no new puzzle (the task has too few distinct ones).
_STALLED_CHUNKS = 200
# Puzzles from which generation shows a progress bar even without a terminal.
_PROGRESS_FROM = 20_000


def split_of(task: Task, puzzle: np.ndarray) -> str:
    """The split a puzzle belongs to, from a hash of its augmentation invariant."""
    digest = hashlib.blake2b(task.invariant(puzzle), digest_size=8).digest()
    position = int.from_bytes(digest, "little") / 2**64
    return "test" if position < _TEST_BELOW else "val" if position < _VAL_BELOW else "train"


def generate_splits(task: Task, counts: dict[str, int], seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Generate puzzles chunk by chunk until each split holds its count.

    Returns split -> (puzzles [N, n, n], solutions [N, n, n]). Exact duplicates are kept once.
    """
    found: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {split: [] for split in SPLITS}
    seen: set[bytes] = set()
    chunk = stalled = 0
    total = sum(counts.values())
    with progress.bar(work=total, large=_PROGRESS_FROM, total=total, desc="generating puzzles", unit="puzzle") as shown:
        while any(len(found[s]) < counts[s] for s in SPLITS):
            chunk_seed = seed * 1_000_003 + chunk
            before = sum(len(pairs) for pairs in found.values())
            # A task that generates prefixes makes the chunk piece by piece and stops once every split is full:
            # the same puzzles as the whole chunk, without making the rest of it.
            piece = _PIECE if task.generates_prefixes else _GENERATION_CHUNK
            for start in range(0, _GENERATION_CHUNK, piece):
                _assign(task, *task.generate_range(start, start + piece, chunk_seed), counts, found, seen)
                if all(len(found[s]) >= counts[s] for s in SPLITS):
                    break
            added = sum(len(pairs) for pairs in found.values()) - before
            shown.update(added)
            chunk += 1
            stalled = 0 if added else stalled + 1
            if stalled >= _STALLED_CHUNKS:
                have = {split: len(pairs) for split, pairs in found.items()}
                raise ZooError(
                    f"could not generate {counts} distinct puzzles of {task.spec()}: the last "
                    f"{_STALLED_CHUNKS * _GENERATION_CHUNK} generated added none (have {have}); the task has too few "
                    "distinct puzzles for these counts: "
                    "lower data.train_count, val_count or test_count",
                    key="train_count",
                )
    return {
        split: (np.stack([p for p, _ in pairs]), np.stack([s for _, s in pairs]))
        if pairs
        else (np.zeros((0, task.size, task.size), np.int64), np.zeros((0, task.size, task.size), np.int64))
        for split, pairs in found.items()
    }


def _assign(
    task: Task,
    puzzles: np.ndarray,
    solutions: np.ndarray,
    counts: dict[str, int],
    found: dict[str, list[tuple[np.ndarray, np.ndarray]]],
    seen: set[bytes],
) -> None:
    """Add these puzzles, in order, to `found` under the split each belongs to, until that split holds its
    count; `seen` keeps the ones added, so that an exact duplicate is kept once."""
    for puzzle, solution in zip(puzzles, solutions):
        key = puzzle.tobytes()
        split = split_of(task, puzzle)
        if key in seen or len(found[split]) >= counts[split]:
            continue
        seen.add(key)
        found[split].append((puzzle, solution))
