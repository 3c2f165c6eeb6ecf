"""Pure-PyTorch references of the fused ops, one module per op, and what they share (below).

Each module holds its op's argument checks (``validate``, shared with the Triton path), its math on
checked arguments with the noise ε passed in (``<op>_math``, which draws no random numbers, so
``benchmarks/kernels.py`` runs it with ``torch.randn_like`` noise as its eager and torch.compile baselines),
``compute`` (that math with ε from :func:`reference_noise`, which the dispatcher calls on the reference
path) and the public ``<op>_reference`` function that ``triton_kernels`` exports.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def reference_noise(shape: Sequence[int], seed: int, device: torch.device) -> torch.Tensor:
    """Standard-normal float32 noise of ``shape`` from a torch generator seeded with ``seed``.

    The reference path's ε. It is reproducible for a seed and device but is *not* the Philox stream the
    kernels draw, so the two backends give different samples for one seed.
    """
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    return torch.randn(tuple(shape), generator=gen, device=device, dtype=torch.float32)


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype the references compute in: float64 stays, everything else is float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32
