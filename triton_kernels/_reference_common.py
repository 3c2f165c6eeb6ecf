"""What the pure-PyTorch references share: the compute dtype and the noise they draw."""

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
