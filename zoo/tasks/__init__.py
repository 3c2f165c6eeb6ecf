"""Problem families: seeded generation, text formats, verification, enumeration and tokens.

    >>> from zoo import tasks
    >>> task = tasks.get("sudoku", size=6, givens=12)
    >>> puzzles, solutions = task.generate(4, seed=0)
    >>> tasks.get(**task.spec()) == task
    True

A new task is a ``Task`` subclass in its own module, decorated with ``@register`` and imported
below.
"""

from .base import Task, get, names, register
from .maze import Maze
from .nqueens import NQueens
from .sudoku import Sudoku

__all__ = ["Maze", "NQueens", "Sudoku", "Task", "get", "names", "register"]
