"""`zoo solve MODEL FILE`: answer your own puzzles, written in the task's text form, and check the answers.

    zoo solve quickstart-sudoku6 puzzles.txt --out answers.txt
    cat puzzles.txt | zoo solve runs/.../last.ckpt - --budget 16x4

Puzzles are read one per line in the community text form of the model's task (e.g. 36 characters for a 6×6
Sudoku, `.` or `0` for a blank); empty lines and lines starting with `#` are skipped. Answers are written
in the same form, one per puzzle, in order, each keeping its puzzle's givens. Stderr gets a line for each
puzzle not solved, naming its input line and its status (`Task.diagnose`: unverified, no solution,
contradictory givens), then how many puzzles have each status.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from zoo import hub
from zoo.cli import options
from zoo.cli.report import ArgumentParser
from zoo.errors import ZooError
from zoo.evaluation import sizing
from zoo.evaluation.budget import Budget
from zoo.io import outputs, progress
from zoo.models.base import ReasoningFamily
from zoo.tasks import Task
from zoo.tasks.base import SOLVED, STATUSES


def read_puzzles(task: Task, source: str) -> tuple[np.ndarray, list[int]]:
    """Puzzles [N, n, n] from a file or, for "-", stdin, in the task's text form (`Task.read_text`), and the
    line number each starts on; a bad one is an error that names its line."""
    if source == "-":
        text = sys.stdin.read()
        where = "stdin"
    else:
        path = Path(source).expanduser()
        if not path.is_file():
            raise ZooError(
                f"no puzzle file at {source}: give a text file of puzzles in the task's text form, or - for stdin"
            )
        text = path.read_text(encoding="utf-8", errors="replace")
        where = str(path)
    try:
        found = task.read_text(text, where)
    except ValueError as error:
        raise ZooError(f"{error} (the model reads {task!r})") from None
    if not found:
        raise ZooError(f"{where} holds no puzzle: write them in the task's text form ({task.text_rule})")
    numbers, boards = zip(*found)
    return np.stack(boards), list(numbers)


def solve(
    model: ReasoningFamily, puzzles: np.ndarray, budget: Budget, seed: int, batch_size: int
) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Answers [N, n, n] to `puzzles` [N, n, n] at `budget`, and the (status, why) of each (`Task.diagnose`)."""
    task = model.task
    seconds = sizing.forecast(model, task.encode(puzzles[:batch_size]).to(model.device), budget, len(puzzles))
    torch.manual_seed(seed)  # sampling families draw their noise from torch's generator
    answers = []
    starts = range(0, len(puzzles), batch_size)
    # A bar from 10 s of expected work (from 0.1 s on a terminal).
    for start in progress.bar(work=int(1000 * seconds), large=10_000, iterable=starts, desc="solving", unit="batch"):
        inputs = task.encode(puzzles[start : start + batch_size]).to(model.device)
        with torch.no_grad():  # a family that descends an energy turns gradients on where it needs them
            answers.append(task.decode(model.think(inputs, budget).answer.cpu()))
    solved = np.concatenate(answers)
    return solved, [task.diagnose(puzzle, answer) for puzzle, answer in zip(puzzles, solved)]


def summary(diagnoses: list[tuple[str, str]], numbers: list[int], budget: Budget) -> list[str]:
    """What stderr says: a line for each puzzle not solved, named by its input line `numbers`, then the count
    of each status, e.g. "95 puzzles at budget 16: 56 solved, 37 unverified, 1 no solution, 1 contradictory
    givens"."""
    lines = [
        f"line {number}: {status} ({why})" for number, (status, why) in zip(numbers, diagnoses) if status != SOLVED
    ]
    counts = Counter(status for status, _ in diagnoses)
    counted = ", ".join(f"{counts[status]} {status}" for status in STATUSES)
    return [*lines, f"{len(diagnoses)} puzzles at budget {budget.label}: {counted}"]


def run(words: list[str]) -> None:
    parser = ArgumentParser(
        prog="zoo solve",
        description="Answer puzzles written in the task's text form (one per line; a maze is a block of lines; "
        "a file, or - for stdin) and write the answers in the same form (to --out, or stdout). Reports on stderr "
        "each puzzle not solved (unverified, no solution, contradictory givens) and how many have each status.",
    )
    parser.add_argument("model", help="a catalog name, a .ckpt file, a folder made by `zoo export`, or a Hub repo id")
    parser.add_argument("puzzles", help="a text file of puzzles in the task's text form, or - for stdin")
    parser.add_argument("--budget", default=None, help="steps, or STEPSxSAMPLES (default: the model's largest)")
    parser.add_argument("--out", default=None, help="file for the answers (default: stdout)")
    parser.add_argument("--force", action="store_true", help="replace the file at --out if there is one")
    parser.add_argument("--seed", default="0", help="seed of sampling, 0 to 2**63 - 1 (default 0)")
    parser.add_argument("--batch-size", default="256", help="puzzles thought about at once (default 256)")
    parser.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda when present)")
    args = parser.parse_args(words)
    inputs = (args.puzzles, args.model)
    out = None if args.out is None else outputs.check_file(args.out, force=args.force, inputs=inputs)
    seed, batch_size = options.seed(args.seed), options.positive(args.batch_size, "--batch-size")
    device = options.device(args.device)
    given = options.budgets(args.budget, "--budget") if args.budget is not None else None
    if given is not None and len(given) != 1:
        raise ZooError(f"--budget takes one budget, got {args.budget!r}: e.g. 16 or 16x4", key="budget")
    model = hub.load(args.model).to(device)
    budget = given[0] if given else max(sizing.default_budgets(model))
    puzzles, numbers = read_puzzles(model.task, args.puzzles)
    sizing.check_thinking(model, [budget], batch_size, len(puzzles), budget_key="budget")
    answers, diagnoses = solve(model, puzzles, budget, seed, batch_size)
    text = model.task.write_text(answers)
    if args.out is None:
        sys.stdout.write(text)
    else:
        outputs.write_file(out, text)
    *unsolved, counts = summary(diagnoses, numbers, budget)
    print(*unsolved, counts + (f"; answers in {args.out}" if args.out else ""), sep="\n", file=sys.stderr)
