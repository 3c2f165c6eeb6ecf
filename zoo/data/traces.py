"""Token ids of A* search traces (`zoo.tasks.maze.astar_trace`), the sequences trace SFT trains on in each arm
(`trained_sequence`), and which trace each maze is trained on in the `swapped` arm (`swap_partners`: the trace
of another maze of the same size).

    >>> vocabulary = TraceVocabulary(5)
    >>> vocabulary.decode(vocabulary.encode(["query", "start", "0", "4", "c7"]))
    ['query', 'start', '0', '4', 'c7']
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

import numpy as np

from zoo.tasks.maze import astar_trace, split_trace

#: the words of the trace format, in the order of `TraceVocabulary`'s ids after the special tokens
WORDS = ("query", "start", "goal", "wall", "reasoning", "create", "close", "solution", "plan", "end")
PAD, BOS = "<pad>", "<bos>"


class TraceVocabulary:
    """The tokens of traces of mazes up to side ``size``: pad (id 0), bos, the words, the coordinates
    ``0 .. size - 1`` and the costs ``c0 .. c{size * size - 1}`` (no path in a maze is longer, nor is a
    Manhattan distance)."""

    def __init__(self, size: int) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"a trace vocabulary is for mazes of a side >= 1, got {size!r}")
        self.size = size
        self.tokens = [PAD, BOS, *WORDS, *map(str, range(size)), *(f"c{cost}" for cost in range(size * size))]
        self.ids = {token: i for i, token in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """The ids of ``tokens``; ValueError naming the first one this vocabulary lacks."""
        try:
            return [self.ids[token] for token in tokens]
        except KeyError as missing:
            raise ValueError(
                f"token {missing.args[0]!r} is not in the trace vocabulary of mazes up to {self.size}x{self.size}: "
                "a coordinate or cost beyond the side, or not a trace token"
            ) from None

    def decode(self, ids: Sequence[int]) -> list[str]:
        """The tokens of ``ids``; ValueError for an id outside the vocabulary."""
        if any(not 0 <= int(i) < len(self.tokens) for i in ids):
            raise ValueError(f"trace token ids lie in 0..{len(self.tokens) - 1}")
        return [self.tokens[int(i)] for i in ids]


def swap_partners(sizes: Sequence[int] | np.ndarray, seed: int) -> np.ndarray:
    """For each example ``[N]`` (its maze side in ``sizes``), the index of the example whose trace it is trained
    on in the swapped arm: another example of the same side, never itself. Within each side the examples are
    put on one random cycle (seeded), each taking the trace of the next, so every trace is used once.
    ValueError for a side with a single example (it has no other to swap with)."""
    sides = np.asarray(sizes)
    partners = np.empty(len(sides), dtype=np.int64)
    rng = np.random.default_rng([seed, 0x5A])
    for side in np.unique(sides):
        members = np.flatnonzero(sides == side)
        if len(members) < 2:
            raise ValueError(
                f"only one maze of side {side}: the swapped arm pairs each maze with another of its side; "
                "give at least two of every side"
            )
        cycle = rng.permutation(members)
        partners[cycle] = np.roll(cycle, -1)
    return partners


#: what a trace-SFT example holds between its query and its solution (`trained_sequence`)
TRACE_ARMS = ("correct", "swapped", "none", "shuffled", "truncated")


def trained_sequence(
    arm: str, maze: np.ndarray, partner: np.ndarray | None = None, keep: float = 0.5, seed: int = 0
) -> tuple[list[str], int]:
    """The tokens a trace model is trained on for ``maze [n, n]``, and how many of them are its query (the loss
    covers the rest): the query, then per ``arm``

    - ``correct``: ``reasoning``, the maze's own A* search, its solution;
    - ``swapped``: ``reasoning``, the search of ``partner [n, n]`` (another maze), this maze's solution;
    - ``none``: the solution alone;
    - ``shuffled``: the maze's own search records in a random order, fixed by the maze and ``seed``;
    - ``truncated``: the first ``keep`` share (rounded up) of the maze's own search records.
    """
    query, records, solution = split_trace(astar_trace(maze))
    if arm == "none":
        return [*query, *solution], len(query)
    if arm == "swapped":
        if partner is None:
            raise ValueError("the swapped arm needs the partner maze whose search it trains on")
        records = split_trace(astar_trace(partner))[1]
    elif arm == "shuffled":
        rng = np.random.default_rng([seed, zlib.crc32(np.ascontiguousarray(maze, dtype=np.int64).tobytes())])
        records = [records[at] for at in rng.permutation(len(records))]
    elif arm == "truncated":
        records = records[: math.ceil(keep * len(records))]
    elif arm != "correct":
        raise ValueError(f"unknown trace arm {arm!r}: one of {', '.join(TRACE_ARMS)}")
    return [*query, "reasoning", *(token for record in records for token in record), *solution], len(query)
