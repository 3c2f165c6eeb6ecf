"""Token ids of A* search traces (`zoo.tasks.maze.astar_trace`), and which trace each maze is trained on in the
`swapped` arm of trace SFT (the trace of another maze of the same size).

    >>> vocabulary = TraceVocabulary(5)
    >>> vocabulary.decode(vocabulary.encode(["query", "start", "0", "4", "c7"]))
    ['query', 'start', '0', '4', 'c7']
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

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
