"""The Sudoku solver: bitmasks of used digits per row, column and box, always branching on the cell with the
fewest candidates; counts solutions up to a limit, and gives up after a number of nodes when asked to."""

from __future__ import annotations

import random


class GaveUp(Exception):
    """`search` visited more nodes than it was allowed."""


class Geometry:
    """Precomputed tables for the solver: units are rows ``0..n-1``, columns ``n..2n-1``, boxes ``2n..3n-1``."""

    def __init__(self, n: int, box_rows: int, box_cols: int) -> None:
        self.n = n
        self.full = (1 << n) - 1
        stacks = n // box_cols
        self.units = [
            (i // n, n + i % n, 2 * n + (i // n) // box_rows * stacks + (i % n) // box_cols) for i in range(n * n)
        ]
        self.popcount = [bin(m).count("1") for m in range(1 << n)]


def search(
    geo: Geometry,
    cells: list[int],
    limit: int | None,
    forbid_cell: int = -1,
    forbid_digit: int = 0,
    rnd: random.Random | None = None,
    max_nodes: int | None = None,
) -> list[list[int]]:
    """Solutions (flat lists) of ``cells`` (flat, 0 = blank), at most ``limit`` of them.

    ``forbid_digit`` is excluded from the blank cell ``forbid_cell``. ``rnd`` tries the candidate
    digits in random order (used to fill random grids). Contradicting givens give no solution.
    Raises `GaveUp` after visiting ``max_nodes`` nodes, if given.

    Each node fills a forced cell if there is one (a cell with one candidate, or the only place
    left for a digit in a row, column or box), otherwise branches on the cell with the fewest
    candidates; a cell without candidates or a digit without a place ends the branch.
    """
    n, full, units, popcount = geo.n, geo.full, geo.units, geo.popcount
    n_units = 3 * n
    used = [0] * n_units
    grid = list(cells)
    empties: list[int] = []
    for i, v in enumerate(grid):
        if v:
            r, c, b = units[i]
            bit = 1 << (v - 1)
            if (used[r] | used[c] | used[b]) & bit:
                return []
            used[r] |= bit
            used[c] |= bit
            used[b] |= bit
        else:
            empties.append(i)
    forbid_mask = full & ~(1 << (forbid_digit - 1)) if forbid_digit else full
    out: list[list[int]] = []
    masks = [0] * (n * n)
    nodes_left = [max_nodes]

    def rec(k: int) -> bool:
        """Fill ``empties[:k]``; True means stop (limit reached)."""
        if nodes_left[0] is not None:
            nodes_left[0] -= 1
            if nodes_left[0] < 0:
                raise GaveUp
        if k == 0:
            out.append(grid.copy())
            return limit is not None and len(out) >= limit
        best, best_mask, best_count = -1, 0, n + 1
        once = [0] * n_units  # digits with at least one place in the unit
        twice = [0] * n_units  # digits with at least two places
        for j in range(k):
            i = empties[j]
            r, c, b = units[i]
            m = full & ~(used[r] | used[c] | used[b])
            if i == forbid_cell:
                m &= forbid_mask
            if not m:
                return False
            cnt = popcount[m]
            if cnt < best_count:
                best, best_mask, best_count = j, m, cnt
                if cnt == 1:
                    break
            masks[i] = m
            twice[r] |= once[r] & m
            once[r] |= m
            twice[c] |= once[c] & m
            once[c] |= m
            twice[b] |= once[b] & m
            once[b] |= m
        else:
            # every cell was scanned: look for dead units and hidden singles
            for u in range(n_units):
                if (once[u] | used[u]) != full:
                    return False
            for u in range(n_units):
                hidden = once[u] & ~twice[u]
                if hidden:
                    bit = hidden & -hidden
                    for j in range(k):
                        i = empties[j]
                        if masks[i] & bit and u in units[i]:
                            best, best_mask, best_count = j, bit, 1
                            break
                    break
        i = empties[best]
        empties[best], empties[k - 1] = empties[k - 1], i
        r, c, b = units[i]
        m = best_mask
        bits = []
        while m:
            bit = m & -m
            bits.append(bit)
            m ^= bit
        if rnd is not None and len(bits) > 1:
            rnd.shuffle(bits)
        for bit in bits:
            used[r] |= bit
            used[c] |= bit
            used[b] |= bit
            grid[i] = bit.bit_length()
            if rec(k - 1):
                return True
            used[r] ^= bit
            used[c] ^= bit
            used[b] ^= bit
        grid[i] = 0
        return False

    if limit is None or limit > 0:
        rec(len(empties))
    return out
