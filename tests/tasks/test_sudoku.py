"""Tests of the Task registry and the Sudoku task (pure CPU, a few seconds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from zoo import tasks
from zoo.tasks import Sudoku, Task

REPO = Path(__file__).resolve().parents[2]
TOP95 = REPO / "tests" / "data" / "sudoku-top95.txt"  # the public "top 95" hard 9x9 puzzles, one per line

SIZES = [4, 6, 9]


def _givens(board: np.ndarray) -> int:
    return int((board > 0).sum())


def _all_4x4_grids() -> list[np.ndarray]:
    grids = Sudoku(4).solutions(np.zeros((4, 4), dtype=np.int64))
    return grids


# ---------------------------------------------------------------- registry and spec
def test_registry_names_and_get() -> None:
    assert "sudoku" in tasks.names()
    task = tasks.get("sudoku", size=6, givens=10)
    assert isinstance(task, Task) and isinstance(task, Sudoku)
    assert (task.size, task.givens, task.unique) == (6, 10, True)
    assert task.num_cells == 36 and task.vocab_size == 8


def test_unknown_task_name_lists_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown task 'chess'.*sudoku"):
        tasks.get("chess")


def test_unknown_option_is_named() -> None:
    with pytest.raises(ValueError, match=r"'colour'.*sudoku.*size"):
        tasks.get("sudoku", colour="red")


@pytest.mark.parametrize("size", [0, 3, 5, 8, 16, "9", 9.0, True])
def test_bad_size(size: object) -> None:
    with pytest.raises(ValueError, match="size must be one of"):
        Sudoku(size)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "options, pattern",
    [
        ({"size": 9, "givens": 16}, "at least 17 givens"),
        ({"size": 4, "givens": 17}, "4..16"),
        ({"size": 6, "givens": 33, "unique": False}, "at most 32 givens"),
        ({"size": 6, "givens": -1, "unique": False}, "0..32"),
        ({"size": 6, "givens": 2.5}, "givens must be an integer"),
        ({"size": 6, "unique": "yes"}, "unique must be True or False"),
    ],
)
def test_bad_options(options: dict, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        Sudoku(**options)


@pytest.mark.parametrize(
    "options, reachable",
    [
        ({"size": 6, "givens": 8}, "9..36"),  # such puzzles exist, but greedy removal almost never reaches them
        ({"size": 9, "givens": 20}, "23..81"),
        ({"size": 4, "givens": 12, "unique": False}, "0..9"),  # 4 blanks must form a rectangle: rarely drawn
        ({"size": 6, "givens": 26, "unique": False}, "0..22"),
    ],
)
def test_unreachable_givens_are_refused_before_any_work(options: dict, reachable: str) -> None:
    task = Sudoku(**options)  # a valid task: its puzzles can be read and verified
    with pytest.raises(ValueError, match=rf"cannot be generated reliably: .*givens {reachable}"):
        task.check_generatable()
    with pytest.raises(ValueError, match=rf"givens {reachable}"):
        task.generate(1, seed=0)


@pytest.mark.parametrize("size, unique", [(4, True), (6, True), (9, True), (4, False), (6, False), (9, False)])
def test_the_edges_of_the_reachable_range_generate(size: int, unique: bool) -> None:
    from zoo.tasks.sudoku import RELIABLE_GIVENS, RELIABLE_MULTI_GIVENS

    givens = RELIABLE_GIVENS[size] if unique else RELIABLE_MULTI_GIVENS[size]
    task = Sudoku(size, givens=givens, unique=unique)
    task.check_generatable()
    puzzles, solutions = task.generate(2 if size == 9 else 8, seed=3)
    assert all((p > 0).sum() == givens for p in puzzles)
    assert all(task.verify(p, s) for p, s in zip(puzzles, solutions))


# ---------------------------------------------------------------- generation
@pytest.mark.parametrize("size", SIZES)
@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_generate_unique(size: int, seed: int) -> None:
    task = Sudoku(size)
    count = 3 if size == 9 else 6
    puzzles, solutions = task.generate(count, seed)
    assert puzzles.shape == solutions.shape == (count, size, size)
    assert puzzles.dtype == solutions.dtype == np.int64
    for p, s in zip(puzzles, solutions):
        assert _givens(p) == task.givens
        assert task.verify(p, s)
        found = task.solutions(p, limit=2)
        assert len(found) == 1 and np.array_equal(found[0], s)


@pytest.mark.parametrize("size", SIZES)
@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_generate_multi_solution(size: int, seed: int) -> None:
    task = Sudoku(size, unique=False)
    puzzles, solutions = task.generate(4, seed)
    for p, s in zip(puzzles, solutions):
        assert _givens(p) == task.givens
        assert task.verify(p, s)
        assert len(task.solutions(p, limit=2)) == 2


@pytest.mark.parametrize("size, givens", [(4, 4), (6, 10), (9, 25)])
def test_generate_hard_unique(size: int, givens: int) -> None:
    task = Sudoku(size, givens=givens)
    puzzles, solutions = task.generate(3, seed=7)
    for p, s in zip(puzzles, solutions):
        assert _givens(p) == givens
        assert task.count_solutions(p, limit=2) == 1 and task.verify(p, s)


def test_generate_is_deterministic_and_seed_dependent() -> None:
    task = Sudoku(6, givens=10)
    a = task.generate(5, seed=3)
    b = task.generate(5, seed=3)
    c = task.generate(5, seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])
    # puzzle i depends on (seed, i) only, so a shorter batch is a prefix
    short = task.generate(2, seed=3)
    assert np.array_equal(short[0], a[0][:2]) and np.array_equal(short[1], a[1][:2])
    # puzzles within a batch differ
    assert len({p.tobytes() for p in a[0]}) == 5


def test_generate_count_zero_and_bad_arguments() -> None:
    task = Sudoku(4)
    puzzles, solutions = task.generate(0, seed=0)
    assert puzzles.shape == solutions.shape == (0, 4, 4)
    with pytest.raises(ValueError, match="seed"):
        task.generate(1, seed=-1)
    with pytest.raises(ValueError, match="count"):
        task.generate(-2, seed=0)


# ---------------------------------------------------------------- augmentation and invariant
@pytest.mark.parametrize("size", SIZES)
@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_augment_preserves_validity_and_invariant(size: int, seed: int) -> None:
    task = Sudoku(size)
    puzzles, solutions = task.generate(2, seed % 1000)
    rng = np.random.default_rng(seed)
    for p, s in zip(puzzles, solutions):
        key = task.invariant(p)
        ap, as_ = p, s
        for _ in range(3):  # compositions stay in the group
            ap, as_ = task.augment(ap, as_, rng)
            assert task.verify(ap, as_)
            assert _givens(ap) == _givens(p)
            assert np.array_equal(ap[ap > 0], as_[ap > 0])
            assert task.invariant(ap) == key
            assert task.count_solutions(ap, limit=2) == 1


@pytest.mark.parametrize("size", SIZES)
def test_augment_moves_puzzles(size: int) -> None:
    task = Sudoku(size)
    (p,), (s,) = task.generate(1, seed=11)
    rng = np.random.default_rng(0)
    moved = [task.augment(p, s, rng)[0] for _ in range(20)]
    distinct = {m.tobytes() for m in moved}
    assert len(distinct) > 10
    assert any(not np.array_equal(m, p) for m in moved)


@pytest.mark.parametrize("size", [4, 9])
def test_square_boxes_transpose_is_in_the_group(size: int) -> None:
    task = Sudoku(size)
    (p,), (s,) = task.generate(1, seed=5)
    assert task.verify(p.T, s.T)
    assert task.invariant(p.T) == task.invariant(p)
    rng = np.random.default_rng(1)
    # a transpose flips which lines carry the givens; 40 draws include some transposes
    row_profiles = {tuple(sorted((task.augment(p, s, rng)[0] > 0).sum(axis=1))) for _ in range(40)}
    col_profile = tuple(sorted((p > 0).sum(axis=0)))
    row_profile = tuple(sorted((p > 0).sum(axis=1)))
    if col_profile != row_profile:
        assert row_profiles == {row_profile, col_profile}


def test_invariant_discriminates() -> None:
    task = Sudoku(9)
    puzzles, _ = task.generate(30, seed=0)
    keys = {task.invariant(p) for p in puzzles}
    assert len(keys) == 30
    assert isinstance(next(iter(keys)), bytes)
    # two tasks with different sizes never share keys
    (q,), _ = Sudoku(4).generate(1, seed=0)
    assert Sudoku(4).invariant(q) not in keys


# ---------------------------------------------------------------- verify and solutions
def test_empty_4x4_has_288_solutions() -> None:
    grids = _all_4x4_grids()
    assert len(grids) == 288
    assert len({g.tobytes() for g in grids}) == 288
    empty = np.zeros((4, 4), dtype=np.int64)
    assert all(Sudoku(4).verify(empty, g) for g in grids)


def test_solutions_limit_and_edge_cases() -> None:
    task = Sudoku(6)
    empty = np.zeros((6, 6), dtype=np.int64)
    some = task.solutions(empty, limit=10)
    assert len(some) == 10 and len({g.tobytes() for g in some}) == 10
    assert task.solutions(empty, limit=0) == []
    (_,), (full,) = task.generate(1, seed=0)
    (only,) = task.solutions(full)
    assert np.array_equal(only, full)
    clash = empty.copy()
    clash[0, 0] = clash[0, 5] = 3  # the same digit twice in a row
    assert task.solutions(clash) == []
    with pytest.raises(ValueError, match="limit"):
        task.solutions(empty, limit=-1)
    with pytest.raises(ValueError, match=r"shape \(9, 9\).*\(6, 6\)"):
        task.solutions(np.zeros((9, 9), dtype=np.int64))
    with pytest.raises(ValueError, match="outside 0..6"):
        task.solutions(np.full((6, 6), 7))


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), givens=st.integers(0, 8))
def test_4x4_enumeration_matches_brute_force(seed: int, givens: int) -> None:
    task = Sudoku(4, givens=givens, unique=False)
    (p,), _ = task.generate(1, seed)
    expected = {g.tobytes() for g in _all_4x4_grids() if np.array_equal(g[p > 0], p[p > 0])}
    found = task.solutions(p)
    assert {g.tobytes() for g in found} == expected and len(found) == len(expected) >= 2


@pytest.mark.parametrize("size, givens", [(4, 5), (6, 14), (9, 40)])
def test_verify_accepts_every_solution_and_rejects_corruptions(size: int, givens: int) -> None:
    task = Sudoku(size, givens=givens, unique=False)
    (p,), _ = task.generate(1, seed=2)
    found = task.solutions(p, limit=50)
    assert len(found) >= 2
    rng = np.random.default_rng(0)
    blanks = np.argwhere(p == 0)
    for s in found:
        assert task.verify(p, s)
        # a changed blank cell
        r, c = blanks[rng.integers(len(blanks))]
        bad = s.copy()
        bad[r, c] = s[r, c] % size + 1
        assert not task.verify(p, bad)
        # an incomplete grid
        bad = s.copy()
        bad[r, c] = 0
        assert not task.verify(p, bad)
        # a valid grid that changes a given (digits relabelled)
        relabel = np.concatenate([[0], np.roll(np.arange(1, size + 1), 1)])
        other = relabel[s]
        assert task.verify(np.zeros_like(p), other) and not task.verify(p, other)
    with pytest.raises(ValueError, match="answer has shape"):
        task.verify(p, found[0][:-1])
    assert not task.verify(p, found[0].astype(float))


# ---------------------------------------------------------------- text
def test_top95_parse_format_and_uniqueness() -> None:
    task = Sudoku(9)
    lines = [ln.strip() for ln in TOP95.read_text().splitlines() if ln.strip()]
    boards = task.read_file(TOP95)
    assert boards.shape == (95, 9, 9) and len(lines) == 95
    for text, board in zip(lines, boards):
        assert np.array_equal(task.parse(text), board)
        assert task.format(board) == text.replace("0", ".")
        assert np.array_equal(task.parse(task.format(board)), board)
    for board in boards[[0, 11, 16, 85, 91]]:
        (s,) = task.solutions(board, limit=2)
        assert task.verify(board, s)


def test_parse_accepts_zero_and_dot_blanks() -> None:
    task = Sudoku(4)
    board = task.parse("  1.3.0.4.2.30..1.\n")
    assert board.tolist() == [[1, 0, 3, 0], [0, 0, 4, 0], [2, 0, 3, 0], [0, 0, 1, 0]]
    assert task.format(board) == "1.3...4.2.3...1."


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("1.3.", "one line of 16 characters.*got 4"),
        ("1" * 17, "got 17"),
        ("1.3.5...........", r"bad character '5' at position 4 \(row 2, column 1\)"),
        ("1.3.x...........", "bad character 'x'"),
        ("1.3.-...........", "bad character '-'"),
    ],
)
def test_parse_errors(text: str, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        Sudoku(4).parse(text)


def test_read_file_skips_comments_and_reports_bad_lines(tmp_path: Path) -> None:
    task = Sudoku(4)
    good = tmp_path / "good.txt"
    good.write_text("# two puzzles\n\n1.3...4.2.3...1.\n   \n0000000000000000\n")
    boards = task.read_file(good)
    assert boards.shape == (2, 4, 4) and _givens(boards[1]) == 0
    bad = tmp_path / "bad.txt"
    bad.write_text("1.3...4.2.3...1.\n1.3\n")
    with pytest.raises(ValueError, match=r"bad.txt:2: .*16 characters"):
        task.read_file(bad)
    with pytest.raises(ValueError, match="does not exist"):
        task.read_file(tmp_path / "missing.txt")


# ---------------------------------------------------------------- tokens
@pytest.mark.parametrize("size", SIZES)
def test_encode_decode_round_trip(size: int) -> None:
    task = Sudoku(size)
    puzzles, solutions = task.generate(3, seed=1)
    boards = np.stack([puzzles, solutions])  # [2, 3, n, n]
    tokens = task.encode(boards)
    assert tokens.dtype == torch.long and tokens.shape == (2, 3, size * size)
    assert int(tokens.min()) >= 1 and int(tokens.max()) <= size + 1
    assert torch.equal(tokens[0][torch.as_tensor(puzzles.reshape(3, -1) == 0)].unique(), torch.tensor([1]))
    assert torch.equal(tokens[1].reshape(-1).unique(), torch.arange(2, size + 2))
    assert np.array_equal(task.decode(tokens), boards)
    assert np.array_equal(task.decode(tokens.numpy()), boards)
    assert torch.equal(task.encode(torch.as_tensor(boards)), tokens)


def test_token_values() -> None:
    task = Sudoku(4)
    board = task.parse("1234............")
    assert task.encode(board).tolist() == [2, 3, 4, 5] + [1] * 12
    tokens = torch.tensor([0, 1, 2, 5] + [0] * 12)  # pad and blank decode to 0
    assert task.decode(tokens).reshape(-1).tolist() == [0, 0, 1, 4] + [0] * 12


def test_token_errors() -> None:
    task = Sudoku(4)
    with pytest.raises(ValueError, match=r"\[\.\.\., 4, 4\]"):
        task.encode(np.zeros((3, 16), dtype=np.int64))
    with pytest.raises(ValueError, match="outside 0..4"):
        task.encode(np.full((4, 4), 5))
    with pytest.raises(ValueError, match=r"\[\.\.\., 16\]"):
        task.decode(torch.zeros(2, 15, dtype=torch.long))
    with pytest.raises(ValueError, match="vocabulary 0..5"):
        task.decode(torch.full((16,), 6))
    with pytest.raises(ValueError, match="integer"):
        task.decode(torch.zeros(16))
