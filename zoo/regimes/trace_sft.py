"""Supervised fine-tuning on A* traces (Beyond Semantics): next-token loss on what follows a maze's query.

Each maze becomes one sequence, bos, its query, then per `trace` arm a search and its plan
(`zoo.data.traces.trained_sequence`): its own search (`correct`), the search of another maze of the same side
(`swapped`; the data serves that maze, `data.partners: true`, one fixed partner per maze and data seed), no
search (`none`), its own search records in a random order (`shuffled`), or their first `keep` share
(`truncated`). The loss is the mean cross-entropy over the tokens after the query; the query itself is read,
never predicted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from zoo.contract import TraceDecoder
from zoo.data.traces import BOS, TRACE_ARMS, trained_sequence
from zoo.errors import ZooError
from zoo.registry import register_regime

from .base import Regime


@register_regime
@dataclass
class TraceSFT(Regime):
    """Next-token cross-entropy on the trace and plan after each maze's query.

    Attributes:
        trace: what stands between the query and the plan: "correct", "swapped", "none", "shuffled" or
            "truncated" (see the module docstring).
        keep: the share of the search records the truncated arm keeps (rounded up), in (0, 1].
    """

    trace: Literal["correct", "swapped", "none", "shuffled", "truncated"] = "correct"
    keep: float = 0.5

    requires: ClassVar[tuple[str, ...]] = ("trace_decoder",)

    def __post_init__(self) -> None:
        if self.trace not in TRACE_ARMS:
            raise ZooError(f"trace must be one of {', '.join(TRACE_ARMS)}, got {self.trace!r}", key="regime.trace")
        if not 0 < self.keep <= 1:
            raise ZooError(f"keep is the share of search records kept, in (0, 1], got {self.keep}", key="regime.keep")

    def sequences(self, family: TraceDecoder, batch: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """The batch's training sequences: (ids [B, T] right-padded with 0, starting with bos; a mask [B, T] of
        the positions whose token the loss predicts, those after the query)."""
        mazes = family.task.decode(batch["inputs"].cpu())
        partners = batch.get("partners")
        if self.trace == "swapped" and partners is None:
            raise ZooError(
                "TraceSFT(trace=swapped) trains each maze on another maze's search, which the data serves with "
                "data.partners: true; set it in the recipe",
                key="data.partners",
            )
        partner_mazes = family.task.decode(partners.cpu()) if partners is not None else [None] * len(mazes)
        rows, masks = [], []
        for maze, partner in zip(mazes, partner_mazes):
            tokens, query = trained_sequence(self.trace, maze, partner, self.keep)
            rows.append(family.vocabulary.encode([BOS, *tokens]))
            masks.append([False] * (1 + query) + [True] * (len(tokens) - query))
        ids = torch.zeros(len(rows), max(map(len, rows)), dtype=torch.long)
        mask = torch.zeros_like(ids, dtype=torch.bool)
        for at, (row, keep) in enumerate(zip(rows, masks)):
            ids[at, : len(row)], mask[at, : len(row)] = torch.tensor(row), torch.tensor(keep)
        device = batch["inputs"].device
        return ids.to(device), mask.to(device)

    def training_loss(self, family: Any, batch: dict[str, Tensor], state: Any) -> tuple[Tensor, dict[str, Tensor], Any]:
        ids, predicted = self.sequences(family, batch)
        logits = family.sequence_logits(ids[:, :-1])  # position t predicts token t + 1
        targets, mask = ids[:, 1:], predicted[:, 1:]
        loss = F.cross_entropy(logits[mask], targets[mask])
        with torch.no_grad():
            accuracy = (logits[mask].argmax(-1) == targets[mask]).float().mean()
        return loss, {"token_accuracy": accuracy, "tokens": mask.sum(1).float().mean()}, None
