"""Pure-PyTorch :func:`simplex_descent_reference`: ``logits − α·clamp(p ⊙ (g − ⟨p, g⟩), −c, c) + σ·ε``."""

from __future__ import annotations

import torch

from .. import _checks
from . import compute_dtype, reference_noise
from .langevin import langevin_step_math

OP = "simplex_descent"


def validate(
    logits: torch.Tensor,
    probs: torch.Tensor,
    grad_probs: torch.Tensor,
    step_size: float | torch.Tensor,
    clip: float | None,
    noise_scale: float,
) -> tuple[float | None, float]:
    """Check the arguments of either path; returns ``(c, σ)``."""
    _checks.check_tensors(OP, ("logits", "probs", "grad_probs"), (logits, probs, grad_probs))
    _checks.check_step_size(OP, step_size, logits)
    c = None if clip is None else _checks.check_scale(OP, "clip", clip, positive=True)
    return c, _checks.check_scale(OP, "noise_scale", noise_scale)


def simplex_descent_math(
    logits: torch.Tensor,
    probs: torch.Tensor,
    grad_probs: torch.Tensor,
    step_size: float | torch.Tensor,
    clip: float | None,
    sigma: float,
    noise: torch.Tensor | None,
) -> torch.Tensor:
    """The step on checked arguments with a given ε (drawn by the caller; ``None`` for no noise term).

    Four ``[..., V]`` tensors → ``[..., V]`` in ``logits``' dtype; computes in float32/float64.
    """
    ct = compute_dtype(logits.dtype)
    p, g = probs.to(ct), grad_probs.to(ct)
    direction = p * (g - (p * g).sum(-1, keepdim=True))  # the softmax VJP: a Langevin step along it
    return langevin_step_math(logits, direction, step_size, sigma, clip, noise)


def compute(
    logits: torch.Tensor,
    probs: torch.Tensor,
    grad_probs: torch.Tensor,
    step_size: float | torch.Tensor,
    clip: float | None,
    sigma: float,
    seed: int,
) -> torch.Tensor:
    """:func:`simplex_descent_math` with ε from :func:`reference_noise` (none when ``sigma`` is 0)."""
    noise = reference_noise(logits.shape, seed, logits.device) if sigma > 0 else None
    return simplex_descent_math(logits, probs, grad_probs, step_size, clip, sigma, noise)


def simplex_descent_reference(
    logits: torch.Tensor,
    probs: torch.Tensor,
    grad_probs: torch.Tensor,
    step_size: float | torch.Tensor,
    clip: float | None = None,
    noise_scale: float = 0.0,
    seed: int | None = None,
) -> torch.Tensor:
    """Pure-PyTorch :func:`simplex_descent` (any float dtype and device); ε from ``torch.randn`` seeded with
    ``seed`` (not Philox), the same ε as :func:`noisy_softmax_reference` for that seed."""
    c, sigma = validate(logits, probs, grad_probs, step_size, clip, noise_scale)
    seed = _checks.resolve_seed(OP, seed) if sigma > 0 else 0
    return compute(logits, probs, grad_probs, step_size, c, sigma, seed)
