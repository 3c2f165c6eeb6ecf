"""Pure-PyTorch :func:`langevin_step_reference`: ``y − α·clamp(g, −c, c) + σ·ε`` with ε from ``torch.randn``."""

from __future__ import annotations

import torch

from .. import _checks
from . import compute_dtype, reference_noise

OP = "langevin_step"


def validate(
    y: torch.Tensor, grad: torch.Tensor, step_size: float | torch.Tensor, noise_scale: float, clip: float | None
) -> tuple[float, float | None]:
    """Check the arguments of either path; returns ``(σ, c)``."""
    _checks.check_tensors(OP, ("y", "grad"), (y, grad))
    _checks.check_step_size(OP, step_size, y)
    sigma = _checks.check_scale(OP, "noise_scale", noise_scale)
    c = None if clip is None else _checks.check_scale(OP, "clip", clip, positive=True)
    return sigma, c


def langevin_step_math(
    y: torch.Tensor,
    grad: torch.Tensor,
    step_size: float | torch.Tensor,
    sigma: float,
    clip: float | None,
    noise: torch.Tensor | None,
) -> torch.Tensor:
    """The step on checked arguments with a given ε (drawn by the caller; ``None`` for no noise term).

    ``y``, ``grad`` and ``noise`` ``[..., D]`` → ``[..., D]`` in ``y``'s dtype; computes in float32/float64.
    """
    ct = compute_dtype(y.dtype)
    g = grad.to(ct)
    if clip is not None:
        g = g.clamp(-clip, clip)
    if isinstance(step_size, torch.Tensor):
        a = _checks.step_size_view(OP, step_size, y.shape[:-1]).to(device=y.device, dtype=ct)
    else:
        a = float(step_size)
    out = y.to(ct) - a * g
    if noise is not None:
        out = out + sigma * noise.to(ct)
    return out.to(y.dtype)


def compute(
    y: torch.Tensor,
    grad: torch.Tensor,
    step_size: float | torch.Tensor,
    sigma: float,
    clip: float | None,
    seed: int,
) -> torch.Tensor:
    """:func:`langevin_step_math` with ε from :func:`reference_noise` (none when ``sigma`` is 0)."""
    noise = reference_noise(y.shape, seed, y.device) if sigma > 0 else None
    return langevin_step_math(y, grad, step_size, sigma, clip, noise)


def langevin_step_reference(
    y: torch.Tensor,
    grad: torch.Tensor,
    step_size: float | torch.Tensor,
    noise_scale: float = 0.0,
    clip: float | None = None,
    seed: int | None = None,
) -> torch.Tensor:
    """Pure-PyTorch :func:`langevin_step` (any float dtype, any device; computes in float32/float64).

    ε comes from ``torch.randn`` with a generator seeded by ``seed``, not from the kernels' Philox stream.
    """
    sigma, c = validate(y, grad, step_size, noise_scale, clip)
    seed = _checks.resolve_seed(OP, seed) if sigma > 0 else 0
    return compute(y, grad, step_size, sigma, c, seed)
