"""Pure-PyTorch :func:`noisy_softmax_reference`: ``softmax(x + σ·ε)`` with ε from ``torch.randn``."""

from __future__ import annotations

import torch

from .. import _checks
from . import compute_dtype, reference_noise

OP = "noisy_softmax"


def validate(logits: torch.Tensor, noise_scale: float) -> float:
    """Check the arguments of either path; returns σ."""
    _checks.check_tensors(OP, ("logits",), (logits,))
    return _checks.check_scale(OP, "noise_scale", noise_scale)


def noisy_softmax_math(logits: torch.Tensor, sigma: float, noise: torch.Tensor | None) -> torch.Tensor:
    """``softmax(logits + σ·ε)`` of checked arguments with a given ε (``None`` for no noise term).

    ``logits`` and ``noise`` ``[..., V]`` → ``[..., V]`` in ``logits``' dtype; computes in float32/float64.
    """
    ct = compute_dtype(logits.dtype)
    z = logits.to(ct)
    if noise is not None:
        z = z + sigma * noise.to(ct)
    return torch.softmax(z, dim=-1).to(logits.dtype)


def compute(logits: torch.Tensor, sigma: float, seed: int) -> torch.Tensor:
    """:func:`noisy_softmax_math` with ε from :func:`reference_noise` (none when ``sigma`` is 0)."""
    noise = reference_noise(logits.shape, seed, logits.device) if sigma > 0 else None
    return noisy_softmax_math(logits, sigma, noise)


def noisy_softmax_reference(logits: torch.Tensor, noise_scale: float = 0.0, seed: int | None = None) -> torch.Tensor:
    """Pure-PyTorch :func:`noisy_softmax`; ε from ``torch.randn`` seeded with ``seed`` (not Philox)."""
    sigma = validate(logits, noise_scale)
    seed = _checks.resolve_seed(OP, seed) if sigma > 0 else 0
    return compute(logits, sigma, seed)
