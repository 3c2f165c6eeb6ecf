"""Model families: one LightningModule each, with a `think(inputs, budget)` procedure."""

from zoo.models.base import ReasoningFamily, Thought
from zoo.models.energy import EnergyTransformer
from zoo.models.generative import GenerativeRecursiveReasoner
from zoo.models.recursive import RecursiveReasoner
from zoo.models.trace import TraceTransformer

__all__ = [
    "EnergyTransformer",
    "GenerativeRecursiveReasoner",
    "ReasoningFamily",
    "RecursiveReasoner",
    "Thought",
    "TraceTransformer",
]
