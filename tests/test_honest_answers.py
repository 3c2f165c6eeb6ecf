"""Honest answers: every answer keeps the puzzle's givens, and each puzzle gets a status that says what is known of
it (solved, unverified, no solution, contradictory givens), from exact checks; the givens advice is consistent."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import zoo
from tests.helpers import build
from zoo import hub, tasks
from zoo.cli import main
from zoo.tasks import NQueens, Sudoku
from zoo.tasks.base import CONTRADICTORY_GIVENS, NO_SOLUTION, SOLVED, UNVERIFIED
from zoo.tasks.sudoku import SOLVABLE_NODES

# Consistent givens without a completion: the last cell of row 1 can only hold the 6 (9) its column already has.
SUDOKU6_NO_SOLUTION = "12345." + "." * 6 + ".....6" + "." * 18
SUDOKU9_NO_SOLUTION = "12345678." + "." * 36 + "........9" + "." * 27
# Norvig's "impossible" puzzle: consistent, unsolvable, and about 100 s of unbounded search.
SUDOKU9_PATHOLOGICAL = ".....5.8....6.1.43..........1.5........1.6...3.......553.....61........4........."
# Row 2 keeps two free cells, both attacked by the queen of row 1.
NQUEENS_NO_SOLUTION = "Q......." + "..xxxxxx" + "." * 48


# ---------------------------------------------------------------- the tasks' statuses


@pytest.mark.parametrize(
    "text, why",
    [
        ("55" + "." * 34, "5 is given twice in row 1"),
        ("555" + "." * 33, "5 is given 3 times in row 1"),
        ("1....." * 2 + "." * 24, "1 is given twice in column 1"),
        ("1" + "." * 7 + "1" + "." * 27, "1 is given twice in box 1"),  # rows 1-2, columns 1-3
        ("." * 33 + "4.4", "4 is given twice in row 6"),
    ],
)
def test_sudoku_names_the_rule_its_givens_break(text: str, why: str) -> None:
    task = Sudoku(6)
    puzzle = task.parse(text)
    assert task.contradiction(puzzle) == why
    assert task.diagnose(puzzle, puzzle) == (CONTRADICTORY_GIVENS, why)


def test_sudoku_statuses_of_consistent_puzzles() -> None:
    task = Sudoku(6)
    puzzles, solutions = task.generate(2, seed=0)
    assert task.contradiction(puzzles[0]) is None and task.solvable(puzzles[0]) is True
    assert task.status(puzzles[0], solutions[0]) == SOLVED
    wrong = solutions[0].copy()
    wrong[puzzles[0] == 0] = 1
    assert task.diagnose(puzzles[0], wrong) == (UNVERIFIED, "the answer breaks a rule; the puzzle has a solution")
    for side, text in ((6, SUDOKU6_NO_SOLUTION), (9, SUDOKU9_NO_SOLUTION)):
        task = Sudoku(side)
        puzzle = task.parse(text)
        assert task.contradiction(puzzle) is None and task.solvable(puzzle) is False
        assert task.diagnose(puzzle, puzzle) == (NO_SOLUTION, "the givens admit none")


def test_a_search_that_could_run_for_minutes_gives_up_as_unverified() -> None:
    task = Sudoku(9)
    puzzle = task.parse(SUDOKU9_PATHOLOGICAL)
    assert task.contradiction(puzzle) is None
    assert task.solvable(puzzle) is None  # bounded by SOLVABLE_NODES instead of ~100 s
    assert task.diagnose(puzzle, puzzle)[0] == UNVERIFIED


def test_the_search_bound_leaves_room_for_hard_solvable_puzzles() -> None:
    task = Sudoku(9)
    top95 = task.read_file(Path(__file__).parent / "data" / "sudoku-top95.txt")
    assert SOLVABLE_NODES >= 5 * 2611  # the most nodes a top95 puzzle needs
    assert all(task.solvable(puzzle) for puzzle in top95[:10])


@pytest.mark.parametrize(
    "text, why",
    [
        ("Q......." + ".Q......" + "." * 48, "row 1, column 1 and row 2, column 2 attack each other"),
        ("Q......Q" + "." * 56, "row 1, column 1 and row 1, column 8 attack each other"),
        ("Q......." * 2 + "." * 48, "row 1, column 1 and row 2, column 1 attack each other"),
        ("." * 16 + "xxxxxxxx" + "." * 40, "row 3 is given as all x"),
        (("...x...." * 8), "column 4 is given as all x"),
    ],
)
def test_nqueens_names_the_rule_its_givens_break(text: str, why: str) -> None:
    task = NQueens(8)
    puzzle = task.parse(text)
    assert why in task.contradiction(puzzle)
    assert task.status(puzzle, puzzle) == CONTRADICTORY_GIVENS


def test_nqueens_statuses_of_consistent_puzzles() -> None:
    task = NQueens(8)
    puzzle = task.parse(NQUEENS_NO_SOLUTION)
    assert task.contradiction(puzzle) is None and task.solvable(puzzle) is False
    assert task.status(puzzle, puzzle) == NO_SOLUTION
    puzzles, solutions = task.generate(1, seed=0)
    assert task.status(puzzles[0], solutions[0]) == SOLVED
    assert task.status(puzzles[0], np.full((8, 8), 2)) == UNVERIFIED


# ---------------------------------------------------------------- the givens advice


def refusal(make: Any, **options: Any) -> str:
    with pytest.raises(ValueError) as error:
        make(**options)
    return str(error.value)


def accepted(make: Any, **options: Any) -> bool:
    try:
        make(**options)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("unique", [True, False])
@pytest.mark.parametrize("size", [4, 6, 9])
def test_every_givens_advice_is_the_range_its_use_accepts(size: int, unique: bool) -> None:
    tried = range(-1, size * size + 2)
    built = [g for g in tried if accepted(Sudoku, size=size, givens=g, unique=unique)]
    generated = [g for g in built if accepted(Sudoku(size, givens=g, unique=unique).check_generatable)]
    for givens in sorted(set(tried) - set(built)):  # the task refuses: it advises its range, and generation's
        message = refusal(Sudoku, size=size, givens=givens, unique=unique)
        found = re.search(r"choose givens in (\d+)\.\.(\d+)(?: \((\d+)\.\.(\d+) to generate puzzles\))?", message)
        assert found, message
        low, high, gen_low, gen_high = (int(value) if value else None for value in found.groups())
        assert list(range(low, high + 1)) == built, message
        assert list(range(gen_low or low, (gen_high or high) + 1)) == generated, message
    for givens in sorted(set(built) - set(generated)):  # generation refuses: it advises what it accepts
        message = refusal(Sudoku(size, givens=givens, unique=unique).check_generatable)
        assert f"givens {generated[0]}..{generated[-1]}" in message, message


# ---------------------------------------------------------------- zoo solve


def solve_file(tmp_path: Path, capsys, model: Any, lines: list[str]) -> tuple[list[str], list[str]]:
    """`zoo solve` on a file of `lines` after a comment line: (the answer lines, the stderr lines)."""
    folder = hub.save(model, tmp_path / "model")
    source = tmp_path / "puzzles.txt"
    source.write_text("# puzzles\n" + "\n".join(lines) + "\n")
    capsys.readouterr()
    main(["solve", str(folder), str(source), "--budget", "2", "--out", str(tmp_path / "answers.txt")])
    return (tmp_path / "answers.txt").read_text().splitlines(), capsys.readouterr().err.splitlines()


def assert_keeps_givens(task: tasks.Task, puzzles: list[str], answers: list[str]) -> None:
    assert len(answers) == len(puzzles)  # one line per puzzle, in order
    for puzzle_line, answer_line in zip(puzzles, answers):
        puzzle, answer = task.parse(puzzle_line), task.parse(answer_line)
        given = puzzle > 0
        assert np.array_equal(answer[given], puzzle[given]) and np.all(answer > 0), (puzzle_line, answer_line)


@pytest.mark.parametrize("size", [6, 9])
def test_solve_keeps_the_givens_and_reports_each_status(size: int, tmp_path: Path, capsys) -> None:
    task = Sudoku(size)
    (solvable,), _ = task.generate(1, seed=1)
    lines = ["55" + "." * (size * size - 2), SUDOKU6_NO_SOLUTION if size == 6 else SUDOKU9_NO_SOLUTION]
    lines.append(task.format(solvable))
    answers, err = solve_file(tmp_path, capsys, build("recursive", {"name": "sudoku", "size": size}), lines)
    assert_keeps_givens(task, lines, answers)
    assert answers[0].startswith("55")
    solved = int(task.verify(solvable, task.parse(answers[2])))
    unsolved = [
        "line 2: contradictory givens (5 is given twice in row 1)",
        "line 3: no solution (the givens admit none)",
    ]
    unsolved += [] if solved else ["line 4: unverified (the answer breaks a rule; the puzzle has a solution)"]
    assert [line for line in err if line.startswith("line ")] == unsolved
    assert err[-1] == (
        f"3 puzzles at budget 2: {solved} solved, {1 - solved} unverified, 1 no solution, 1 contradictory givens; "
        f"answers in {tmp_path / 'answers.txt'}"
    )


def test_solve_keeps_queens_and_x_cells_and_reports_each_status(tmp_path: Path, capsys) -> None:
    task = NQueens(8)
    with_x = "Q...x..." + ".x...x.." + "x" * 4 + "." * 4 + "." * 40  # consistent and solvable, with x cells
    lines = ["Q......." + ".Q......" + "." * 48, with_x, NQUEENS_NO_SOLUTION]
    assert task.solvable(task.parse(with_x))
    answers, err = solve_file(tmp_path, capsys, build("recursive", {"name": "nqueens", "size": 8}), lines)
    assert_keeps_givens(task, lines, answers)
    attacking = "the queens given at row 1, column 1 and row 2, column 2 attack each other"
    assert f"line 2: contradictory givens ({attacking})" in err
    assert "line 4: no solution (the givens admit none)" in err
    assert err[-1].startswith("3 puzzles at budget 2: ") and err[-1].endswith(
        "1 no solution, 1 contradictory givens; answers in " + str(tmp_path / "answers.txt")
    )


def test_trm_nqueens8_keeps_every_given_queen_and_x_cell_on_held_out_puzzles() -> None:
    model = zoo.load("trm-nqueens8")
    task = NQueens(8, placed=4)  # more queens placed than the 2 it was trained with: it used to drop some
    puzzles, solutions = task.generate(200, seed=19)
    forbidden = (np.random.default_rng(0).random(puzzles.shape) < 0.15) & (solutions == 2)
    puzzles = np.where(forbidden, 2, puzzles)  # x cells, which generated puzzles never hold
    answers = model.solve(puzzles, 4)
    given = puzzles > 0
    assert np.array_equal(answers[given], puzzles[given])
    assert not np.any(answers == 0)
