"""The zoo's one compute axis, counted one way for inference and training, and the words that label it.

Floating-point operations are those `torch.utils.flop_counter` counts (matrix products, convolutions,
attention), in the forward pass and in every backward pass the work runs: thinking by energy descent
differentiates the energy, so its inference FLOPs include that backward; a training step's include the
backward of its loss. `ReasoningFamily.budget_cost` counts inference this way, `zoo.evaluation.training_cost`
training.
"""

from __future__ import annotations

from collections.abc import Callable

from torch.utils.flop_counter import FlopCounterMode

INFERENCE_FLOPS = "inference FLOPs per puzzle (backward of energy descent included)"
TRAINING_FLOPS = "training FLOPs (forward + backward of every optimiser step, counted like the inference FLOPs)"


def count_flops(work: Callable[[], object]) -> int:
    """The floating-point operations `work()` runs, forward and backward."""
    with FlopCounterMode(display=False) as counter:
        work()
    return int(counter.get_total_flops())
