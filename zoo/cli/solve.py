"""`zoo solve MODEL FILE`: answer your own puzzles, written in the task's text form, and check the answers.

    zoo solve quickstart-sudoku6 puzzles.txt --out answers.txt
    cat puzzles.txt | zoo solve runs/.../last.ckpt - --budget 16x4

Puzzles are read one per line in the community text form of the model's task (e.g. 36 characters for a 6×6
Sudoku, `.` or `0` for a blank); empty lines and lines starting with `#` are skipped. Answers are written
in the same form, one per puzzle, in order; how many the task's verifier accepts goes to stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from zoo import files, hub
from zoo.budget import Budget, parse_budgets
from zoo.cli.eval import device_of
from zoo.cli.report import ArgumentParser, at_least_one
from zoo.errors import ZooError
from zoo.models.base import ReasoningFamily
from zoo.tasks import Task


def read_puzzles(task: Task, source: str) -> np.ndarray:
    """Puzzles [N, n, n] from a file or, for "-", stdin; a bad line is an error that names it."""
    if source == "-":
        lines = sys.stdin.read().splitlines()
        where = "stdin"
    else:
        path = Path(source).expanduser()
        if not path.is_file():
            raise ZooError(f"no puzzle file at {source}: give a text file, one puzzle per line, or - for stdin")
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        where = str(path)
    boards = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            boards.append(task.parse(text))
        except ValueError as error:
            raise ZooError(f"{where}:{number}: {error} (the model reads {task!r})") from None
    if not boards:
        raise ZooError(f"{where} holds no puzzle: write one per line in the task's text form ({task.text_rule})")
    return np.stack(boards)


def solve(
    model: ReasoningFamily, puzzles: np.ndarray, budget: Budget, seed: int, batch_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Answers [N, n, n] to `puzzles` [N, n, n] at `budget`, and whether the task verifies each [N]."""
    task = model.task
    torch.manual_seed(seed)  # sampling families draw their noise from torch's generator
    answers = []
    for start in range(0, len(puzzles), batch_size):
        inputs = task.encode(puzzles[start : start + batch_size]).to(model.device)
        with torch.no_grad():  # a family that descends an energy turns gradients on where it needs them
            answers.append(task.decode(model.think(inputs, budget).answer.cpu()))
    solved = np.concatenate(answers)
    verified = np.array([task.verify(p, a) for p, a in zip(puzzles, solved)], dtype=bool)
    return solved, verified


def run(words: list[str]) -> None:
    parser = ArgumentParser(
        prog="zoo solve",
        description="Answer puzzles written one per line in the task's community text form (a file, or - for "
        "stdin) and write the answers in the same form (to --out, or stdout). Reports on stderr how many "
        "answers the task's verifier accepts.",
    )
    parser.add_argument("model", help="a catalog name, a .ckpt file, a folder made by `zoo export`, or a Hub repo id")
    parser.add_argument("puzzles", help="a text file of puzzles, one per line, or - for stdin")
    parser.add_argument("--budget", default=None, help="steps, or STEPSxSAMPLES (default: the model's largest)")
    parser.add_argument("--out", type=Path, default=None, help="file for the answers (default: stdout)")
    parser.add_argument("--seed", type=int, default=0, help="seed of sampling (default 0)")
    parser.add_argument("--batch-size", type=at_least_one, default=256)
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    args = parser.parse_args(words)
    device = device_of(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    model = hub.load(args.model).to(device)
    budgets = parse_budgets(args.budget) if args.budget else [max(model.eval_budgets)]
    if len(budgets) != 1:
        raise ZooError(f"--budget takes one budget, got {args.budget!r}: e.g. 16 or 16x4", key="budget")
    budget = budgets[0]
    puzzles = read_puzzles(model.task, args.puzzles)
    answers, verified = solve(model, puzzles, budget, args.seed, args.batch_size)
    text = "".join(model.task.format(answer) + "\n" for answer in answers)
    if args.out is None:
        sys.stdout.write(text)
    else:
        files.write_text(args.out, text)
    print(
        f"{len(puzzles)} puzzles at budget {budget.label}: {int(verified.sum())} answers verified "
        f"({verified.mean():.1%})" + (f"; answers in {args.out}" if args.out else ""),
        file=sys.stderr,
    )
