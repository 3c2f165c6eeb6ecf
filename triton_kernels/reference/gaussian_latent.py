"""Pure-PyTorch :func:`gaussian_latent_reference`: ``z = μ_q + exp(½·logvar_q)·ε`` and per-row ``KL(q‖p)``."""

from __future__ import annotations

import torch

from .. import _checks
from . import compute_dtype, reference_noise

OP = "gaussian_latent"


def validate(
    mu_q: torch.Tensor,
    logvar_q: torch.Tensor,
    mu_p: torch.Tensor | None,
    logvar_p: torch.Tensor | None,
    balance: float | None,
) -> tuple[float, float]:
    """Check the arguments of either path; returns the KL-gradient weights ``(w_q, w_p) = (1 − β, β)``
    (``(1, 1)`` without ``balance``)."""
    _checks.check_tensors(OP, ("mu_q", "logvar_q"), (mu_q, logvar_q))
    if (mu_p is None) != (logvar_p is None):
        raise ValueError(f"{OP}: pass both mu_p and logvar_p for the prior, or neither for N(0, I).")
    if mu_p is not None:
        _checks.check_tensors(OP, ("mu_q", "mu_p", "logvar_p"), (mu_q, mu_p, logvar_p))
    if balance is None:
        return 1.0, 1.0
    b = _checks.check_scale(OP, "balance", balance)
    if b > 1:
        raise ValueError(f"{OP}: balance must be in [0, 1], got {b}.")
    return 1.0 - b, b


def _kl(mq: torch.Tensor, lq: torch.Tensor, mp: torch.Tensor | None, lp: torch.Tensor | None) -> torch.Tensor:
    """``KL(q‖p)`` ``[...]`` summed over the last dimension; p = N(0, I) when ``mp`` is ``None``."""
    if mp is None:
        return 0.5 * (lq.exp() + mq * mq - lq - 1.0).sum(-1)
    diff = mq - mp
    return 0.5 * (lp - lq + (lq.exp() + diff * diff) * (-lp).exp() - 1.0).sum(-1)


def gaussian_latent_math(
    mu_q: torch.Tensor,
    logvar_q: torch.Tensor,
    mu_p: torch.Tensor | None,
    logvar_p: torch.Tensor | None,
    balance: float | None,
    noise: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(z [..., D], kl [...])`` of checked arguments with a given ε ``[..., D]`` (drawn by the caller).

    Returned in ``mu_q``'s dtype; computes in float32/float64.
    """
    dtype = mu_q.dtype
    ct = compute_dtype(dtype)
    mq, lq = mu_q.to(ct), logvar_q.to(ct)
    mp = lp = None
    if mu_p is not None:
        mp, lp = mu_p.to(ct), logvar_p.to(ct)
    z = mq + (0.5 * lq).exp() * noise.to(ct)
    if balance is None:
        kl = _kl(mq, lq, mp, lp)
    else:
        b = float(balance)
        sg = lambda t: None if t is None else t.detach()  # noqa: E731
        kl = b * _kl(mq.detach(), lq.detach(), mp, lp) + (1.0 - b) * _kl(mq, lq, sg(mp), sg(lp))
    return z.to(dtype), kl.to(dtype)


def compute(
    mu_q: torch.Tensor,
    logvar_q: torch.Tensor,
    mu_p: torch.Tensor | None,
    logvar_p: torch.Tensor | None,
    seed: int,
    balance: float | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`gaussian_latent_math` with ε from :func:`reference_noise`."""
    noise = reference_noise(mu_q.shape, seed, mu_q.device)
    return gaussian_latent_math(mu_q, logvar_q, mu_p, logvar_p, balance, noise)


def gaussian_latent_reference(
    mu_q: torch.Tensor,
    logvar_q: torch.Tensor,
    mu_p: torch.Tensor | None = None,
    logvar_p: torch.Tensor | None = None,
    seed: int | None = None,
    balance: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pure-PyTorch :func:`gaussian_latent`; ε from ``torch.randn`` seeded with ``seed`` (not Philox)."""
    validate(mu_q, logvar_q, mu_p, logvar_p, balance)
    seed = _checks.resolve_seed(OP, seed)
    return compute(mu_q, logvar_q, mu_p, logvar_p, seed, balance)
