"""The zoo's one compute axis, counted one way for inference and training, and the words that label it.

Floating-point operations are those `torch.utils.flop_counter` counts (matrix products, convolutions,
attention), in the forward pass and in every backward pass the work runs: thinking by energy descent
differentiates the energy, so its inference FLOPs include that backward; a training step's include the
backward of its loss. `ReasoningFamily.budget_cost` counts inference this way, `zoo.evaluation.training_cost`
training.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode, register_flop_formula, sdpa_backward_flop_count, sdpa_flop_count

INFERENCE_FLOPS = "inference FLOPs per puzzle (backward of energy descent included)"
TRAINING_FLOPS = "training FLOPs (forward + backward of every optimiser step, counted like the inference FLOPs)"


# torch counts the fused attention kernels of CUDA but not the one `scaled_dot_product_attention` runs on the CPU,
# so attention would cost nothing here and something on a GPU. The same formulas as CUDA's flash attention (every
# query against every key, as a dense product; a causal mask is not discounted there either).
_CPU_ATTENTION = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu


@register_flop_formula(_CPU_ATTENTION)
def _cpu_attention_flops(query: Any, key: Any, value: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    return sdpa_flop_count(query, key, value)


@register_flop_formula(torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward)
def _cpu_attention_backward_flops(
    grad_out: Any, query: Any, key: Any, value: Any, *args: Any, out_shape: Any = None, **kwargs: Any
) -> int:
    return sdpa_backward_flop_count(grad_out, query, key, value)


def count_flops(work: Callable[[], object]) -> int:
    """The floating-point operations `work()` runs, forward and backward."""
    with FlopCounterMode(display=False) as counter:
        work()
    return int(counter.get_total_flops())
