"""Tests of the N-Queens task (pure CPU, a few seconds)."""

from __future__ import annotations

import functools
import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from zoo import tasks
from zoo.tasks import NQueens, Task

SIZES = [6, 8, 10]


@functools.cache
def _brute_force(n: int) -> tuple[bytes, ...]:
    """Every full solution by checking all permutations (n <= 8), as answer-board bytes."""
    perms = np.asarray(list(itertools.permutations(range(n))), dtype=np.int64)  # [n!, n]
    rows = np.arange(n)
    ok = np.ones(len(perms), dtype=bool)
    for diag in (perms + rows, perms - rows):
        ok &= (np.diff(np.sort(diag, axis=1), axis=1) > 0).all(axis=1)
    boards = np.full((int(ok.sum()), n, n), 2, dtype=np.int64)
    for b, cols in enumerate(perms[ok]):
        boards[b, rows, cols] = 1
    return tuple(b.tobytes() for b in boards)


def _keeps(puzzle: np.ndarray, board: np.ndarray) -> bool:
    return bool(np.array_equal(board[puzzle > 0], puzzle[puzzle > 0]))


def _queens(board: np.ndarray) -> int:
    return int((board == 1).sum())


# ---------------------------------------------------------------- registry and spec
def test_registry_names_and_get() -> None:
    assert "nqueens" in tasks.names()
    task = tasks.get("nqueens", size=10, placed=5)
    assert isinstance(task, Task) and isinstance(task, NQueens)
    assert (task.size, task.placed, task.min_solutions) == (10, 5, 1)
    assert task.num_cells == 100 and task.vocab_size == 4
    assert NQueens().spec() == {"name": "nqueens", "size": 8, "placed": 3, "min_solutions": 1}


@pytest.mark.parametrize("size", [0, 4, 7, 9, 12, "8", 8.0, True, None])
def test_bad_size(size: object) -> None:
    with pytest.raises(ValueError, match=r"size must be one of \[6, 8, 10\]"):
        NQueens(size)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "options, pattern",
    [
        ({"size": 8, "placed": 9}, r"placed must be an integer in 0..8"),
        ({"size": 6, "placed": -1}, r"placed must be an integer in 0..6"),
        ({"size": 8, "placed": 2.5}, "placed must be an integer"),
        ({"size": 8, "placed": True}, "placed must be an integer"),
        ({"size": 8, "min_solutions": 0}, "min_solutions must be a positive integer"),
        ({"size": 8, "min_solutions": 1.5}, "min_solutions must be a positive integer"),
        ({"size": 6, "placed": 1, "min_solutions": 2}, r"no 6x6 .* 1 queens placed has at least 2 .*the most is 1"),
        ({"size": 8, "placed": 0, "min_solutions": 93}, r"the most is 92\); lower placed or min_solutions"),
        ({"size": 10, "placed": 9, "min_solutions": 2}, "the most is 1"),
    ],
)
def test_bad_options(options: dict, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        NQueens(**options)


def test_unknown_option_is_named() -> None:
    with pytest.raises(ValueError, match=r"'givens'.*nqueens.*placed"):
        tasks.get("nqueens", givens=3)


# ---------------------------------------------------------------- solutions
@pytest.mark.parametrize("size, expected", [(6, 4), (8, 92)])
def test_empty_board_matches_brute_force(size: int, expected: int) -> None:
    task = NQueens(size)
    empty = np.zeros((size, size), dtype=np.int64)
    found = task.solutions(empty)
    assert len(found) == expected == len(_brute_force(size))
    assert {s.tobytes() for s in found} == set(_brute_force(size))
    assert all(task.verify(empty, s) for s in found)
    assert len(NQueens.all_solutions(size)) == expected


def test_empty_10x10_has_724_distinct_valid_solutions() -> None:
    task = NQueens(10)
    empty = np.zeros((10, 10), dtype=np.int64)
    found = task.solutions(empty)
    assert len(found) == 724 and len({s.tobytes() for s in found}) == 724
    assert all(s.dtype == np.int64 and set(np.unique(s).tolist()) == {1, 2} for s in found)
    assert all(task.verify(empty, s) for s in found)


def test_solutions_limit_givens_and_edge_cases() -> None:
    task = NQueens(8)
    empty = np.zeros((8, 8), dtype=np.int64)
    some = task.solutions(empty, limit=10)
    assert len(some) == 10 and len({g.tobytes() for g in some}) == 10
    assert task.solutions(empty, limit=0) == [] and task.count_solutions(empty, limit=5) == 5
    (_,), (full,) = task.generate(1, seed=0)
    (only,) = task.solutions(full)  # an answer read as a puzzle has itself as its only completion
    assert np.array_equal(only, full)
    # givens that clash: two queens in a row, a column, a diagonal; no completion
    for cells in ([(0, 0), (0, 5)], [(1, 3), (6, 3)], [(2, 2), (5, 5)], [(0, 7), (7, 0)]):
        clash = empty.copy()
        for r, c in cells:
            clash[r, c] = 1
        assert task.solutions(clash) == [] and not any(task.verify(clash, s) for s in some)
    # a corner queen on 8x8 admits 4 completions; marking known-empty cells removes some
    corner = empty.copy()
    corner[0, 0] = 1
    four = task.solutions(corner)
    assert len(four) == 4
    marked = corner.copy()
    marked[1][four[0][1] == 1] = 2  # forbid the second-row queen of the first completion
    kept = task.solutions(marked)
    assert 0 < len(kept) < 4 and all(_keeps(marked, s) and task.verify(marked, s) for s in kept)
    assert not task.verify(marked, four[0])
    with pytest.raises(ValueError, match="limit"):
        task.solutions(empty, limit=-1)
    with pytest.raises(ValueError, match=r"shape \(6, 6\).*\(8, 8\)"):
        task.solutions(np.zeros((6, 6), dtype=np.int64))
    with pytest.raises(ValueError, match=r"outside 0..2.*0 for unknown, 1 for a queen"):
        task.solutions(np.full((8, 8), 3))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.sampled_from([6, 8]), data=st.data())
def test_completions_match_brute_force(seed: int, size: int, data: st.DataObject) -> None:
    placed = data.draw(st.integers(0, size))
    task = NQueens(size, placed=placed)
    (p,), (s,) = task.generate(1, seed)
    expected = {b for b in _brute_force(size) if _keeps(p, np.frombuffer(b, np.int64).reshape(size, size))}
    found = task.solutions(p)
    assert {g.tobytes() for g in found} == expected and len(found) == len(expected) >= 1
    assert s.tobytes() in expected


# ---------------------------------------------------------------- generation
@pytest.mark.parametrize("size", SIZES)
@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_generate_keeps_queens_in_the_answer(size: int, seed: int) -> None:
    task = NQueens(size)
    puzzles, answers = task.generate(8, seed)
    assert puzzles.shape == answers.shape == (8, size, size)
    assert puzzles.dtype == answers.dtype == np.int64
    for p, a in zip(puzzles, answers):
        assert set(np.unique(p).tolist()) <= {0, 1} and _queens(p) == task.placed
        assert set(np.unique(a).tolist()) == {1, 2} and _queens(a) == size
        assert _keeps(p, a) and task.verify(p, a)
        assert any(np.array_equal(a, s) for s in task.solutions(p))


@pytest.mark.parametrize(
    "size, placed, min_solutions", [(6, 0, 4), (8, 3, 2), (8, 2, 5), (8, 5, 2), (10, 4, 2), (10, 3, 8)]
)
def test_generate_multi_solution(size: int, placed: int, min_solutions: int) -> None:
    task = NQueens(size, placed=placed, min_solutions=min_solutions)
    puzzles, answers = task.generate(10, seed=3)
    for p, a in zip(puzzles, answers):
        assert _queens(p) == placed and task.verify(p, a)
        assert task.count_solutions(p, limit=min_solutions) == min_solutions


def test_default_placed_gives_unique_and_multi_solution_puzzles() -> None:
    task = NQueens(8)
    puzzles, _ = task.generate(40, seed=0)
    counts = {task.count_solutions(p) for p in puzzles}
    assert 1 in counts and max(counts) >= 2
    assert [NQueens(n).placed for n in SIZES] == [2, 3, 4]


def test_count_puzzles_bounds_distinct_puzzles() -> None:
    task = NQueens(6)  # 4 solutions, 2 of 6 queens kept: 4 * 15 puzzles, all distinct
    assert task.count_puzzles() == 60
    puzzles, _ = task.generate(600, seed=0)
    assert len({p.tobytes() for p in puzzles}) == 60
    assert NQueens(8, placed=0).count_puzzles() == 1 and NQueens(8, placed=8).count_puzzles() == 92
    assert NQueens(8, placed=3, min_solutions=2).count_puzzles() < NQueens(8, placed=3).count_puzzles()


def test_generate_is_deterministic_and_seed_dependent() -> None:
    task = NQueens(10)
    a = task.generate(6, seed=3)
    b = task.generate(6, seed=3)
    c = task.generate(6, seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])
    # puzzle i depends on (seed, i) only, so a shorter batch is a prefix
    short = task.generate(2, seed=3)
    assert np.array_equal(short[0], a[0][:2]) and np.array_equal(short[1], a[1][:2])
    assert len({p.tobytes() for p in a[0]}) == 6


def test_generate_count_zero_and_bad_arguments() -> None:
    task = NQueens(6)
    puzzles, answers = task.generate(0, seed=0)
    assert puzzles.shape == answers.shape == (0, 6, 6)
    with pytest.raises(ValueError, match="seed"):
        task.generate(1, seed=-1)
    with pytest.raises(ValueError, match="count"):
        task.generate(-2, seed=0)
    with pytest.raises(ValueError, match="count"):
        task.generate(1.0, seed=0)  # type: ignore[arg-type]


# ---------------------------------------------------------------- verify
@pytest.mark.parametrize("size, placed", [(6, 0), (8, 2), (10, 3)])
def test_verify_accepts_every_completion_and_rejects_corruptions(size: int, placed: int) -> None:
    task = NQueens(size, placed=placed, min_solutions=2 if size > 6 else 4)
    (p,), _ = task.generate(1, seed=2)
    found = task.solutions(p)
    assert len(found) >= 2
    others = [s for s in task.solutions(np.zeros_like(p)) if not _keeps(p, s)]
    rng = np.random.default_rng(0)
    for s in found:
        assert task.verify(p, s)
        queens = np.argwhere(s == 1)
        free = queens[p[queens[:, 0], queens[:, 1]] == 0]  # queens the solver chose
        r, c = free[rng.integers(len(free))]
        # two attacking queens: move a chosen queen along its row (now two share a column)
        bad = s.copy()
        bad[r, c] = 2
        bad[r, (c + 1) % size] = 1
        assert _queens(bad) == size and not task.verify(p, bad)
        # a missing queen
        bad = s.copy()
        bad[r, c] = 2
        assert not task.verify(p, bad)
        # an extra queen
        bad = s.copy()
        bad[(r + 1) % size, c] = 1
        assert not task.verify(p, bad)
        # an incomplete board: an undecided cell, queen or empty
        for cell in ((r, c), (r, (c + 1) % size)):
            bad = s.copy()
            bad[cell] = 0
            assert not task.verify(p, bad)
    # a valid board that drops a given queen
    if placed:
        assert others and all(task.verify(np.zeros_like(p), o) and not task.verify(p, o) for o in others[:20])
    with pytest.raises(ValueError, match="answer has shape"):
        task.verify(p, found[0][:-1])
    assert not task.verify(p, found[0].astype(float))
    assert not task.verify(p, np.where(found[0] == 2, 3, 1))  # out of range


def test_verify_rejects_diagonal_attacks() -> None:
    task = NQueens(8)
    empty = np.zeros((8, 8), dtype=np.int64)
    for perm in (np.arange(8), np.arange(8)[::-1], np.roll(np.arange(8), 1)):
        board = np.full((8, 8), 2, dtype=np.int64)
        board[np.arange(8), perm] = 1  # one queen per row and column, but on shared diagonals
        assert not task.verify(empty, board)


# ---------------------------------------------------------------- augmentation and invariant
@pytest.mark.parametrize("size", SIZES)
@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_augment_preserves_validity_and_invariant(size: int, seed: int) -> None:
    task = NQueens(size)
    puzzles, answers = task.generate(3, seed % 1000)
    rng = np.random.default_rng(seed)
    for p, s in zip(puzzles, answers):
        key = task.invariant(p)
        count = task.count_solutions(p)
        ap, as_ = p, s
        for _ in range(4):  # compositions stay in the group
            ap, as_ = task.augment(ap, as_, rng)
            assert task.verify(ap, as_) and _keeps(ap, as_)
            assert _queens(ap) == task.placed
            assert task.invariant(ap) == key
            assert task.count_solutions(ap) == count


def test_dihedral_group_has_eight_elements() -> None:
    task = NQueens(8)
    board = np.arange(64).reshape(8, 8)
    images = [task.dihedral(board, k) for k in range(8)]
    assert len({m.tobytes() for m in images}) == 8
    # closed under composition
    for j, k in itertools.product(range(8), repeat=2):
        assert any(np.array_equal(task.dihedral(images[j], k), m) for m in images)
    # augment draws every symmetry
    (p,), (s,) = NQueens(8, placed=8).generate(1, seed=1)
    rng = np.random.default_rng(0)
    drawn = {task.augment(p, s, rng)[1].tobytes() for _ in range(80)}
    assert drawn == {task.dihedral(s, k).tobytes() for k in range(8)}


@pytest.mark.parametrize("size, orbits", [(6, 1), (8, 12), (10, 92)])
def test_invariant_is_exact_on_full_solutions(size: int, orbits: int) -> None:
    # the 92 8x8 solutions fall into 12 orbits under symmetry, the 724 10x10 ones into 92
    task = NQueens(size)
    boards = task.solutions(np.zeros((size, size), dtype=np.int64))
    keys = {task.invariant(b) for b in boards}
    assert len(keys) == orbits
    assert all(isinstance(k, bytes) for k in keys)


def test_invariant_discriminates_puzzles() -> None:
    task = NQueens(8, placed=4)
    puzzles, _ = task.generate(60, seed=0)
    canon = {min(task.dihedral(p, k).tobytes() for k in range(8)) for p in puzzles}
    keys = {task.invariant(p) for p in puzzles}
    assert len(keys) == len(canon) > 40
    # different sides never share keys, and the empty boards differ
    assert NQueens(6).invariant(np.zeros((6, 6), int)) != task.invariant(np.zeros((8, 8), int))


# ---------------------------------------------------------------- text
@pytest.mark.parametrize("size", SIZES)
def test_parse_format_round_trip(size: int) -> None:
    task = NQueens(size)
    puzzles, answers = task.generate(4, seed=5)
    for board in [*puzzles, *answers]:
        text = task.format(board)
        assert len(text) == size * size and set(text) <= set("Q.x")
        assert np.array_equal(task.parse(text), board)
    assert set(task.format(puzzles[0])) == {"Q", "."} and set(task.format(answers[0])) == {"Q", "x"}


def test_parse_values() -> None:
    task = NQueens(6)
    board = task.parse("  ..Q....q..X..x" + "." * 22 + "\n")
    assert board.reshape(-1)[:15].tolist() == [0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 2, 0]
    assert task.format(board) == "..Q....Q..x..x" + "." * 22


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("Q...", "one line of 36 characters.*got 4"),
        ("." * 37, "got 37"),
        ("Q" + "." * 8 + "1" + "." * 26, r"bad character '1' at position 9 \(row 2, column 4\)"),
        ("." * 35 + "-", r"bad character '-' at position 35 \(row 6, column 6\)"),
        ("." * 10 + "Q Q" + "." * 23, "bad character ' ' at position 11"),
    ],
)
def test_parse_errors(text: str, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        NQueens(6).parse(text)


def test_read_file(tmp_path: Path) -> None:
    task = NQueens(6)
    (p,), (s,) = task.generate(1, seed=0)
    good = tmp_path / "good.txt"
    good.write_text(f"# a puzzle and its answer\n{task.format(p)}\n\n{task.format(s)}\n")
    boards = task.read_file(good)
    assert boards.shape == (2, 6, 6) and np.array_equal(boards[0], p) and np.array_equal(boards[1], s)
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{task.format(p)}\nQQQ\n")
    with pytest.raises(ValueError, match=r"bad.txt:2: .*36 characters"):
        task.read_file(bad)


# ---------------------------------------------------------------- tokens
@pytest.mark.parametrize("size", SIZES)
def test_encode_decode_round_trip(size: int) -> None:
    task = NQueens(size)
    puzzles, answers = task.generate(3, seed=1)
    boards = np.stack([puzzles, answers])  # [2, 3, n, n]
    tokens = task.encode(boards)
    assert tokens.dtype == torch.long and tokens.shape == (2, 3, size * size)
    assert torch.equal(tokens[0].reshape(-1).unique(), torch.tensor([1, 2]))  # unknown, queen
    assert torch.equal(tokens[1].reshape(-1).unique(), torch.tensor([2, 3]))  # queen, no queen
    assert np.array_equal(task.decode(tokens), boards)
    assert np.array_equal(task.decode(tokens.numpy()), boards)
    assert torch.equal(task.encode(torch.as_tensor(boards)), tokens)


def test_token_values_and_errors() -> None:
    task = NQueens(6)
    board = task.parse("Q.x" + "." * 33)
    assert task.encode(board).tolist() == [2, 1, 3] + [1] * 33
    assert task.decode(torch.tensor([0, 1, 2, 3] + [0] * 32)).reshape(-1)[:4].tolist() == [0, 0, 1, 2]
    with pytest.raises(ValueError, match=r"outside 0..2"):
        task.encode(np.full((6, 6), 3))
    with pytest.raises(ValueError, match=r"\[\.\.\., 6, 6\]"):
        task.encode(np.zeros((3, 36), dtype=np.int64))
    with pytest.raises(ValueError, match="integer"):
        task.encode(np.zeros((6, 6)))
    with pytest.raises(ValueError, match="vocabulary 0..3"):
        task.decode(torch.full((36,), 4))
    with pytest.raises(ValueError, match=r"\[\.\.\., 36\]"):
        task.decode(torch.zeros(2, 35, dtype=torch.long))
