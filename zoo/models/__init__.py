"""Model families: one LightningModule each, with a `think(inputs, budget)` procedure."""

from zoo.models.base import ReasoningFamily, Thought
from zoo.models.recursive import RecursiveReasoner

__all__ = ["ReasoningFamily", "RecursiveReasoner", "Thought"]
