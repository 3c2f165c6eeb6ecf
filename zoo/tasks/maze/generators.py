"""How mazes are made: spanning trees of rooms (Wilson, Kruskal, the recursive backtracker) and the drunkard's walk."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .grid import Cell, Edge, steps

#: the generators `Maze` takes; the first three carve spanning trees
GENERATORS = ("wilson", "kruskal", "dfs", "drunkard", "random_walls")
#: the chance that a cell of a ``random_walls`` maze is a wall
WALL_PROBABILITY = 0.3


def _wilson_tree(k: int, rng: np.random.Generator) -> list[Edge]:
    """A uniform spanning tree of the ``k x k`` grid (Wilson's algorithm): from each cell in random order, a
    random walk until it meets the tree, whose loops are erased by keeping the last exit from each cell."""
    cells = [(r, c) for r in range(k) for c in range(k)]
    tree = {cells[rng.integers(len(cells))]}
    edges = []
    for first in (cells[i] for i in rng.permutation(len(cells)).tolist()):
        exit_from: dict[Cell, Cell] = {}
        cell = first
        while cell not in tree:
            options = steps(cell, k)
            exit_from[cell] = cell = options[rng.integers(len(options))]
        cell = first
        while cell not in tree:
            tree.add(cell)
            edges.append((cell, exit_from[cell]))
            cell = exit_from[cell]
    return edges


def _kruskal_tree(k: int, rng: np.random.Generator) -> list[Edge]:
    """A spanning tree of the ``k x k`` grid from its edges in random order (Kruskal's algorithm)."""
    edges = [((r, c), (r + dr, c + dc)) for r in range(k) for c in range(k) for dr, dc in ((0, 1), (1, 0))]
    edges = [(one, other) for one, other in edges if max(other) < k]
    parent = {(r, c): (r, c) for r in range(k) for c in range(k)}

    def root(cell: Cell) -> Cell:
        while parent[cell] != cell:
            parent[cell] = cell = parent[parent[cell]]
        return cell

    tree = []
    for one, other in (edges[i] for i in rng.permutation(len(edges)).tolist()):
        if root(one) != root(other):
            parent[root(one)] = root(other)
            tree.append((one, other))
    return tree


def _backtracker_tree(k: int, rng: np.random.Generator) -> list[Edge]:
    """A spanning tree of the ``k x k`` grid by randomised depth-first search (the recursive backtracker)."""
    first = (int(rng.integers(k)), int(rng.integers(k)))
    seen, stack, tree = {first}, [first], []
    while stack:
        options = [cell for cell in steps(stack[-1], k) if cell not in seen]
        if not options:
            stack.pop()
            continue
        cell = options[rng.integers(len(options))]
        seen.add(cell)
        tree.append((stack[-1], cell))
        stack.append(cell)
    return tree


TREES: dict[str, Callable[[int, np.random.Generator], list[Edge]]] = {
    "wilson": _wilson_tree,
    "kruskal": _kruskal_tree,
    "dfs": _backtracker_tree,
}


def tree_maze(n: int, generator: str, rng: np.random.Generator) -> tuple[np.ndarray, list[Cell]]:
    """Open cells ``[n, n]`` (bool) of a perfect maze, rooms at even coordinates joined along a spanning tree of
    their grid, and the rooms (where its ends go)."""
    free = np.zeros((n, n), dtype=bool)
    free[::2, ::2] = True
    for (r1, c1), (r2, c2) in TREES[generator]((n + 1) // 2, rng):
        free[r1 + r2, c1 + c2] = True  # the passage between rooms (2 r1, 2 c1) and (2 r2, 2 c2)
    return free, [(r, c) for r in range(0, n, 2) for c in range(0, n, 2)]


def drunkard_maze(n: int, rng: np.random.Generator) -> np.ndarray:
    """Open cells ``[n, n]`` (bool) carved into walls by a random walk until half of the cells are open."""
    free = np.zeros((n, n), dtype=bool)
    cell = (int(rng.integers(n)), int(rng.integers(n)))
    free[cell] = True
    carved = 1
    while carved < n * n // 2:
        options = steps(cell, n)
        cell = options[rng.integers(len(options))]
        carved += not free[cell]
        free[cell] = True
    return free
