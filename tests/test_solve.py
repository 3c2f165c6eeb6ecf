"""`zoo solve` answers puzzles written in the task's text form and checks them; `zoo predict` writes what it
predicted to a file it names."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.conftest import QUICKSTART_RECIPE, TINY, zoo_error
from tests.helpers import TASK, build
from zoo import hub, tasks
from zoo.cli import main


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return hub.save(build("recursive"), tmp_path / "model")


def puzzle_file(path: Path, count: int, comment: bool = True) -> tuple[Path, list[str]]:
    task = tasks.get(**TASK)
    puzzles, _ = task.generate(count, seed=3)
    lines = [task.format(p) for p in puzzles]
    path.write_text(("# my puzzles\n\n" if comment else "") + "\n".join(lines) + "\n")
    return path, lines


def test_solve_writes_one_answer_per_puzzle_and_counts_the_verified(folder, tmp_path, capsys) -> None:
    source, lines = puzzle_file(tmp_path / "puzzles.txt", 5)
    main(["solve", str(folder), str(source), "--budget", "2", "--out", str(tmp_path / "answers.txt")])
    task = tasks.get(**TASK)
    answers = (tmp_path / "answers.txt").read_text().splitlines()
    assert len(answers) == 5
    verified = 0
    for puzzle_line, answer_line in zip(lines, answers):
        verified += task.verify(task.parse(puzzle_line), task.parse(answer_line))
    assert f"5 puzzles at budget 2: {verified} solved, {5 - verified} unverified," in capsys.readouterr().err


def test_solve_reads_stdin_and_writes_stdout(folder, tmp_path, capsys, monkeypatch) -> None:
    _, lines = puzzle_file(tmp_path / "p.txt", 2, comment=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines)))
    main(["solve", str(folder), "-"])
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 2 and "2 puzzles at budget" in captured.err


def test_solve_names_a_bad_line(folder, tmp_path, capsys) -> None:
    source, lines = puzzle_file(tmp_path / "p.txt", 2, comment=False)
    source.write_text(lines[0] + "\n" + lines[1][:-1] + "\n")
    printed = zoo_error(capsys, "solve", str(folder), str(source))
    assert f"{source}:2:" in printed and "16 characters" in printed


def test_solve_refuses_an_empty_file_and_a_list_of_budgets(folder, tmp_path, capsys) -> None:
    (tmp_path / "empty.txt").write_text("# nothing\n")
    assert "holds no puzzle" in zoo_error(capsys, "solve", str(folder), str(tmp_path / "empty.txt"))
    source, _ = puzzle_file(tmp_path / "p.txt", 1)
    assert "one budget" in zoo_error(capsys, "solve", str(folder), str(source), "--budget", "1,2")
    assert "no puzzle file" in zoo_error(capsys, "solve", str(folder), str(tmp_path / "nowhere.txt"))


def test_predict_writes_puzzles_answers_and_verdicts(tmp_path: Path, capsys) -> None:
    root = tmp_path / "run"
    main(["fit", "-c", QUICKSTART_RECIPE, *TINY, "--trainer.max_steps", "2", "--trainer.logger", "false",
          "--trainer.default_root_dir", str(root)])  # fmt: skip
    checkpoint = next(root.rglob("last.ckpt"))
    out = tmp_path / "predicted.txt"
    main(["predict", "-c", QUICKSTART_RECIPE, *TINY, "--trainer.logger", "false", "--ckpt_path", str(checkpoint),
          "--trainer.default_root_dir", str(root), "--predictions.path", str(out)])  # fmt: skip
    lines = out.read_text().splitlines()
    assert lines[0].startswith("# puzzle\tanswer\tverdict")
    rows = [line.split("\t") for line in lines[1:]]
    assert len(rows) == 8 and all(verdict in ("verified", "wrong") for _, _, verdict in rows)
    task = tasks.get(name="sudoku", size=6, givens=10)
    for puzzle, answer, verdict in rows:
        assert (verdict == "verified") == task.verify(task.parse(puzzle), task.parse(answer))
    assert f"predictions: {out}" in capsys.readouterr().out


@pytest.mark.parametrize(("family", "budget"), [("recursive", "1"), ("TraceTransformer", "8x2")])
def test_solve_reads_and_writes_mazes_as_blocks(family: str, budget: str, tmp_path, capsys) -> None:
    """A maze file is blocks of lines separated by blank lines (`#` is a wall there, not a comment); the answers
    come back as blocks in the same order, and stderr names a puzzle by the line its block starts on. The same
    for a family that answers by writing a trace."""
    task = tasks.get("maze", size=5)
    folder = hub.save(build(family, task=task.spec()), tmp_path / "maze-model")
    puzzles, _ = task.generate(3, seed=1)
    source = tmp_path / "mazes.txt"
    source.write_text(task.write_text(puzzles))
    main(["solve", str(folder), str(source), "--budget", budget, "--out", str(tmp_path / "answers.txt")])
    blocks = (tmp_path / "answers.txt").read_text().split("\n\n")
    assert len(blocks) == 3
    for puzzle, block in zip(puzzles, blocks):  # an untrained model: its answers need not be mazes, only keep givens
        rows, given = block.strip("\n").splitlines(), task.format_block(puzzle).splitlines()
        assert len(rows) == 5 and all(len(row) == 5 for row in rows)
        for row, given_row in zip(rows, given):
            assert all(char == kept for char, kept in zip(row, given_row) if kept in "#SG")
    err = capsys.readouterr().err
    assert f"3 puzzles at budget {budget}:" in err
    named = {int(line.split(":")[0].removeprefix("line ")) for line in err.splitlines() if line.startswith("line ")}
    assert named == {1, 7, 13}, "each unsolved puzzle is named by the line its block starts on"
