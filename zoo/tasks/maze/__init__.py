"""Mazes: mark a path from the start to the goal of a grid maze, and the A* search traces that find one.

Encoding: boards ``[n, n]`` hold ``0`` blank (an open cell of a puzzle), ``1`` wall, ``2`` open (an answer's
cell off the path), ``3`` path, ``4`` start and ``5`` goal. A puzzle gives the walls, one start and one goal;
every open cell is blank. An answer fills every blank with 2 or 3 so that the path cells, with the start and the
goal, are the cells of one simple path from the start to the goal (4-neighbour moves). Any such path is valid
(`Maze.verify`); `Maze.optimal` also asks for a shortest one; `Maze.solutions` enumerates the shortest paths
only, and a generated solution is the first of them.

Text forms:

- One line of ``n * n`` characters, row by row (`Maze.format`, the conformance form; `Maze.parse` reads puzzles
  and answers in it): ``.`` blank, ``#`` wall, ``-`` open, ``o`` path, ``S`` start, ``G`` goal (``E`` is read as
  the goal too).
- A block of ``n`` lines of ``n`` characters, one per row (`Maze.format_block`; `Maze.parse` reads it too):
  ``#`` wall, ``.``, ``-`` or space open, ``S`` start, ``G`` or ``E`` goal, and the path marks ``o * X +`` of
  other maze tools read as open cells, so that a printed solution reads as its puzzle (`Maze.parse_block` with
  ``answer=True`` reads it as an answer instead). ``format_block`` writes open cells as ``.``: editors drop
  trailing spaces, and a row of spaces would read as the blank line between blocks.

`Maze.parse` and `Maze.read_file` (a file of blocks separated by blank lines, or of one-line mazes) refuse a maze
without exactly one start and one goal. Maze files have no comment lines, as ``#`` is a wall.

Generators: ``wilson`` (uniform spanning tree by loop-erased random walks, the default), ``kruskal`` (random edge
order) and ``dfs`` (recursive backtracker) carve a spanning tree of rooms at even coordinates, opening the
passage between two joined rooms: perfect mazes, with one simple path between any two open cells (for an even
``n`` the last row and column stay walls). ``drunkard`` starts from walls and carves by a random walk until half
of the cells are open; ``random_walls`` makes each cell a wall with probability 0.3 (as in Searchformer). The
start and the goal are two distinct open cells (rooms, for the tree mazes) drawn at random; the maze and both
are drawn again together until the goal is at least 2 steps from the start (one path cell or more).

A* traces (`astar_trace`, `validate_trace`): tokens ``query start X Y goal X Y wall X Y ... reasoning`` then the
search, ``create X Y cG cH`` (a node put on the open list, or given a lower cost g) and ``close X Y cG cH`` (a
node taken off it), then ``solution plan X Y ... end``: every cell of the plan from the start to the goal. X is
the column and Y the row, from 0 at the top left; walls are listed row by row; g is the cost from the start, h
the Manhattan distance to the goal. For the maze ``S.# / .#. / ..G`` (any side is traced)::

    query start 0 0 goal 2 2 wall 2 0 wall 1 1 reasoning
    create 0 0 c0 c4 close 0 0 c0 c4 create 1 0 c1 c3 create 0 1 c1 c3 close 1 0 c1 c3
    close 0 1 c1 c3 create 0 2 c2 c2 close 0 2 c2 c2 create 1 2 c3 c1 close 1 2 c3 c1
    create 2 2 c4 c0 close 2 2 c4 c0 solution plan 0 0 plan 0 1 plan 0 2 plan 1 2 plan 2 2 end
"""

from .generators import GENERATORS
from .grid import BLANK, GOAL, MOVES, NUM_SYMBOLS, OPEN, PATH, START, WALL
from .task import Maze
from .traces import (
    TraceJudgement,
    astar_trace,
    judge_trace,
    plan_board,
    plan_cells,
    plan_problem,
    query_tokens,
    split_trace,
    validate_trace,
)

__all__ = [
    "BLANK",
    "GENERATORS",
    "GOAL",
    "MOVES",
    "NUM_SYMBOLS",
    "OPEN",
    "PATH",
    "START",
    "WALL",
    "Maze",
    "TraceJudgement",
    "astar_trace",
    "judge_trace",
    "plan_board",
    "plan_cells",
    "plan_problem",
    "query_tokens",
    "split_trace",
    "validate_trace",
]
