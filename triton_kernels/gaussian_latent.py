"""Fused Gaussian latent sample and per-row KL: ``z = μ_q + exp(½·logvar_q)·ε`` and ``KL(q‖p)``.

GRAM's stochastic transition: sample ``h = u + ε`` from a diagonal Gaussian (posterior q in training,
prior p at inference) and the per-row ``KL(q‖p)`` summed over the last dimension, in one pass. The
backward regenerates ε from the seed (it is never stored): ∂z/∂logvar_q = ½·exp(½·logvar_q)·ε.

ε is the Philox stream every op shares (``_jit_helpers``); the reference uses ``torch.randn`` from a
generator seeded with ``seed`` instead.

KL per element, with ``p = N(μ_p, exp(logvar_p))`` (``μ_p = 0``, ``logvar_p = 0`` when omitted)::

    ½·(logvar_p − logvar_q + (exp(logvar_q) + (μ_q − μ_p)²)·exp(−logvar_p) − 1)

KL balancing (``balance=β``): the value is unchanged; the gradient is that of
``β·KL(sg q‖p) + (1−β)·KL(q‖sg p)``, i.e. q's parameters get ``(1−β)`` of the KL gradient and p's get ``β``.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from . import _checks, _dispatch, _launch
from ._dispatch import tl
from ._jit_helpers import normal_tile
from .reference import gaussian_latent as reference

OP = reference.OP


def _gaussian_fwd_kernel(
    mq_ptr,
    lq_ptr,
    mp_ptr,
    lp_ptr,
    z_ptr,
    kl_ptr,
    N,
    D,
    G,
    seed,
    HAS_P: tl.constexpr,
    ROWS: tl.constexpr,
    BLOCK_D: tl.constexpr,
):
    rows = tl.program_id(0).to(tl.int64) * ROWS + tl.arange(0, ROWS)
    row_ok = rows < N
    kl = tl.zeros([ROWS], tl.float32)
    for c0 in range(0, D, BLOCK_D):
        cols = c0 + tl.arange(0, BLOCK_D)
        m = row_ok[:, None] & (cols[None, :] < D)
        offs = rows[:, None] * D + cols[None, :]
        mq = tl.load(mq_ptr + offs, mask=m, other=0.0).to(tl.float32)
        lq = tl.load(lq_ptr + offs, mask=m, other=0.0).to(tl.float32)
        eps = normal_tile(seed, rows, c0, G, BLOCK_D)
        var_q = tl.exp(lq)
        z = mq + tl.sqrt(var_q) * eps
        tl.store(z_ptr + offs, z.to(z_ptr.dtype.element_ty), mask=m)
        if HAS_P:
            mp = tl.load(mp_ptr + offs, mask=m, other=0.0).to(tl.float32)
            lp = tl.load(lp_ptr + offs, mask=m, other=0.0).to(tl.float32)
            diff = mq - mp
            k = lp - lq + (var_q + diff * diff) * tl.exp(-lp) - 1.0
        else:
            k = var_q + mq * mq - lq - 1.0
        kl += tl.sum(tl.where(m, k, 0.0), axis=1)
    tl.store(kl_ptr + rows, (0.5 * kl).to(kl_ptr.dtype.element_ty), mask=row_ok)


def _gaussian_bwd_kernel(
    dz_ptr,
    dk_ptr,
    mq_ptr,
    lq_ptr,
    mp_ptr,
    lp_ptr,
    dmq_ptr,
    dlq_ptr,
    dmp_ptr,
    dlp_ptr,
    N,
    D,
    G,
    seed,
    w_q,
    w_p,
    HAS_P: tl.constexpr,
    HAS_DZ: tl.constexpr,
    HAS_DK: tl.constexpr,
    NEED_Q: tl.constexpr,
    NEED_P: tl.constexpr,
    ROWS: tl.constexpr,
    BLOCK_D: tl.constexpr,
):
    # dμq = dz + w_q·dk·(μq−μp)·e^{−lvp}     dlvq = dz·½·e^{½lvq}·ε + w_q·dk·½·(e^{lvq−lvp} − 1)
    # dμp = −w_p·dk·(μq−μp)·e^{−lvp}          dlvp = w_p·dk·½·(1 − (e^{lvq} + (μq−μp)²)·e^{−lvp})
    rows = tl.program_id(0).to(tl.int64) * ROWS + tl.arange(0, ROWS)
    row_ok = rows < N
    if HAS_DK:
        dk = tl.load(dk_ptr + rows, mask=row_ok, other=0.0).to(tl.float32)[:, None]
    for c0 in range(0, D, BLOCK_D):
        cols = c0 + tl.arange(0, BLOCK_D)
        m = row_ok[:, None] & (cols[None, :] < D)
        offs = rows[:, None] * D + cols[None, :]
        lq = tl.load(lq_ptr + offs, mask=m, other=0.0).to(tl.float32)
        dmq = tl.zeros([ROWS, BLOCK_D], tl.float32)
        dlq = tl.zeros([ROWS, BLOCK_D], tl.float32)
        if HAS_DZ:
            dz = tl.load(dz_ptr + offs, mask=m, other=0.0).to(tl.float32)
            eps = normal_tile(seed, rows, c0, G, BLOCK_D)
            dmq += dz
            dlq += 0.5 * dz * tl.exp(0.5 * lq) * eps
        if HAS_DK:
            mq = tl.load(mq_ptr + offs, mask=m, other=0.0).to(tl.float32)
            var_q = tl.exp(lq)
            if HAS_P:
                mp = tl.load(mp_ptr + offs, mask=m, other=0.0).to(tl.float32)
                lp = tl.load(lp_ptr + offs, mask=m, other=0.0).to(tl.float32)
                inv_p = tl.exp(-lp)
                diff = mq - mp
            else:
                inv_p = 1.0
                diff = mq
            dmq += (w_q * dk) * diff * inv_p
            dlq += (w_q * dk) * 0.5 * (var_q * inv_p - 1.0)
            if NEED_P:
                dmp = -(w_p * dk) * diff * inv_p
                dlp = (w_p * dk) * 0.5 * (1.0 - (var_q + diff * diff) * inv_p)
                tl.store(dmp_ptr + offs, dmp.to(dmp_ptr.dtype.element_ty), mask=m)
                tl.store(dlp_ptr + offs, dlp.to(dlp_ptr.dtype.element_ty), mask=m)
        if NEED_Q:
            tl.store(dmq_ptr + offs, dmq.to(dmq_ptr.dtype.element_ty), mask=m)
            tl.store(dlq_ptr + offs, dlq.to(dlq_ptr.dtype.element_ty), mask=m)


_fwd = _launch.Kernel(
    _gaussian_fwd_kernel,
    configs=_launch.warps_configs(8, 16, 32),
    key=["D", "HAS_P", "ROWS", "BLOCK_D"],
    do_not_specialize=["seed"],
)
_bwd = _launch.Kernel(
    _gaussian_bwd_kernel,
    configs=_launch.warps_configs(8, 16, 32),
    key=["D", "HAS_P", "HAS_DZ", "HAS_DK", "NEED_Q", "NEED_P", "ROWS", "BLOCK_D"],
    do_not_specialize=["seed"],
)


# up to six [*, D] streams and the Philox state live at once: a smaller tile than the other ops
_GPU_TILE_ELEMS = 2048


def _plan(shape):
    D = shape[-1]
    N = 1
    for s in shape[:-1]:
        N *= s
    return N, D


def _launch_fwd(mq, lq, mp, lp, seed):
    N, D = _plan(mq.shape)
    z = _launch.empty(mq.shape, mq.dtype, mq.device)
    kl = _launch.empty(mq.shape[:-1], mq.dtype, mq.device)
    if mq.numel() == 0:
        return z, kl.zero_()
    plan = _launch.row_plan(N, D, gpu_tile_elems=_GPU_TILE_ELEMS)
    has_p = mp is not None
    _fwd[(plan.grid,)](
        mq,
        lq,
        mp if has_p else mq,
        lp if has_p else lq,
        z,
        kl,
        N,
        D,
        (D + 3) // 4,
        seed,
        HAS_P=has_p,
        ROWS=plan.rows,
        BLOCK_D=plan.block_d,
    )
    return z, kl


def _launch_bwd(dz, dk, mq, lq, mp, lp, seed, w_q, w_p, need_q, need_p):
    N, D = _plan(mq.shape)
    has_p = mp is not None
    need_p = need_p and has_p and dk is not None
    dmq = _launch.empty(mq.shape, mq.dtype, mq.device) if need_q else None
    dlq = _launch.empty(mq.shape, mq.dtype, mq.device) if need_q else None
    dmp = _launch.empty(mq.shape, mq.dtype, mq.device) if need_p else None
    dlp = _launch.empty(mq.shape, mq.dtype, mq.device) if need_p else None
    if mq.numel() == 0:
        return dmq, dlq, dmp, dlp
    plan = _launch.row_plan(N, D, gpu_tile_elems=_GPU_TILE_ELEMS)
    _bwd[(plan.grid,)](
        dz if dz is not None else mq,
        dk if dk is not None else mq,
        mq,
        lq,
        mp if has_p else mq,
        lp if has_p else lq,
        dmq if dmq is not None else mq,
        dlq if dlq is not None else mq,
        dmp if dmp is not None else mq,
        dlp if dlp is not None else mq,
        N,
        D,
        (D + 3) // 4,
        seed,
        w_q,
        w_p,
        HAS_P=has_p,
        HAS_DZ=dz is not None,
        HAS_DK=dk is not None,
        NEED_Q=need_q,
        NEED_P=need_p,
        ROWS=plan.rows,
        BLOCK_D=plan.block_d,
    )
    return dmq, dlq, dmp, dlp


class _GaussianLatent(torch.autograd.Function):
    @staticmethod
    def forward(ctx, mq, lq, mp, lp, seed, w_q, w_p):
        mq, lq = mq.contiguous(), lq.contiguous()
        if mp is not None:
            mp, lp = mp.contiguous(), lp.contiguous()
        z, kl = _launch_fwd(mq, lq, mp, lp, seed)
        ctx.save_for_backward(mq, lq, mp, lp)
        ctx.seed, ctx.w_q, ctx.w_p = seed, w_q, w_p
        ctx.set_materialize_grads(False)
        return z, kl

    @staticmethod
    @once_differentiable
    def backward(ctx, dz, dk):
        mq, lq, mp, lp = ctx.saved_tensors
        need_q = ctx.needs_input_grad[0] or ctx.needs_input_grad[1]
        need_p = mp is not None and (ctx.needs_input_grad[2] or ctx.needs_input_grad[3])
        if (dz is None and dk is None) or not (need_q or need_p):
            return (None,) * 7
        dz = dz.contiguous() if dz is not None else None
        dk = dk.contiguous() if dk is not None else None
        dmq, dlq, dmp, dlp = _launch_bwd(dz, dk, mq, lq, mp, lp, ctx.seed, ctx.w_q, ctx.w_p, need_q, need_p)
        if need_p and dmp is None:  # p needs a gradient but only z was used: it is zero
            dmp, dlp = torch.zeros_like(mp), torch.zeros_like(lp)
        g = ctx.needs_input_grad
        return (
            dmq if g[0] else None,
            dlq if g[1] else None,
            dmp if g[2] else None,
            dlp if g[3] else None,
            None,
            None,
            None,
        )


def gaussian_latent(
    mu_q: torch.Tensor,
    logvar_q: torch.Tensor,
    mu_p: torch.Tensor | None = None,
    logvar_p: torch.Tensor | None = None,
    seed: int | None = None,
    balance: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample ``z ~ N(μ_q, exp(logvar_q))`` and the per-row ``KL(q‖p)``.

    Args:
        mu_q, logvar_q: ``[..., D]`` mean and log-variance of q.
        mu_p, logvar_p: ``[..., D]`` of the prior p (both or neither; neither means ``N(0, I)``).
        seed: Philox seed for ε; ``None`` draws one from torch's default generator. The backward
            regenerates the same ε from it.
        balance: β in [0, 1] for KL balancing (gradient of ``β·KL(sg q‖p) + (1−β)·KL(q‖sg p)``), or
            ``None`` for the plain KL gradient.

    Returns:
        ``(z [..., D], kl [...])`` in the inputs' dtype, both differentiable (first order).
        To sample alone (e.g. from the prior: ``gaussian_latent(mu_p, logvar_p)``) ignore ``kl``: an
        unused ``kl`` costs one value per row and contributes nothing to the backward.
    """
    w_q, w_p = reference.validate(mu_q, logvar_q, mu_p, logvar_p, balance)
    seed = _checks.resolve_seed(OP, seed)
    tensors = (mu_q, logvar_q) if mu_p is None else (mu_q, logvar_q, mu_p, logvar_p)
    if not _dispatch.use_triton(OP, *tensors):
        return reference.compute(mu_q, logvar_q, mu_p, logvar_p, seed, balance)
    return _GaussianLatent.apply(mu_q, logvar_q, mu_p, logvar_p, seed, w_q, w_p)
