"""Fused noisy softmax: ``softmax(x + σ·ε)`` over the last dimension, any width (50,277-token rows too).

Rows whose padded width fits a register tile are read once and written once. Wider rows take two passes
over chunks: an online max/sum pass, then a normalising pass that walks the chunks in reverse so the most
recently read ones are still in L2 (the autotuner may also pick a persistent grid, which keeps few rows in
flight). The second pass either regenerates ε from the seed, or, for float32 outputs when the autotuner
picks ``STASH``, reads back the noisy logits that the first pass parked in the output buffer.

ε is the Philox stream every op shares (``_jit_helpers``). The reference uses ``torch.randn`` from a
generator seeded with ``seed`` instead.

Backward is the softmax VJP ``p ⊙ (dp − ⟨p, dp⟩)`` from the saved output ``p``: it needs no noise, and
saving ``p`` (which a caller of a softmax usually keeps alive anyway) avoids re-reading ``x`` and
regenerating ε in an extra pass.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from . import _checks, _dispatch, _launch
from ._dispatch import tl
from ._jit_helpers import normal_row, normal_tile
from .reference import noisy_softmax as reference

OP = reference.OP


def _softmax_fwd_tile_kernel(
    x_ptr,
    p_ptr,
    N,
    D,
    G,
    seed,
    sigma,
    HAS_NOISE: tl.constexpr,
    ROWS: tl.constexpr,
    BLOCK_D: tl.constexpr,
):
    # ROWS whole rows per program, held in registers: one read, one write.
    rows = tl.program_id(0).to(tl.int64) * ROWS + tl.arange(0, ROWS)
    row_ok = rows < N
    cols = tl.arange(0, BLOCK_D)
    col_ok = cols[None, :] < D
    m = row_ok[:, None] & col_ok
    offs = rows[:, None] * D + cols[None, :]
    z = tl.load(x_ptr + offs, mask=m, other=0.0).to(tl.float32)
    if HAS_NOISE:
        z = z + sigma * normal_tile(seed, rows, 0, G, BLOCK_D)
    z = tl.where(col_ok, z, float("-inf"))
    e = tl.exp(z - tl.max(z, axis=1)[:, None])
    p = e / tl.sum(e, axis=1)[:, None]
    tl.store(p_ptr + offs, p.to(p_ptr.dtype.element_ty), mask=m)


def _softmax_fwd_loop_kernel(
    x_ptr,
    p_ptr,
    N,
    D,
    G,
    seed,
    sigma,
    HAS_NOISE: tl.constexpr,
    STASH: tl.constexpr,
    PER_SM: tl.constexpr,
    BLOCK_D: tl.constexpr,
):
    # Rows wider than a tile, one row at a time (a persistent grid when PER_SM > 0).
    # Pass 1: running max and rescaled sum of exp over chunks; with STASH (float32 output only) the noisy
    # logits are parked in the output so that pass 2 neither reads x nor draws the noise again.
    # Pass 2 walks the chunks last-first, while the most recently touched ones are still in L2.
    n_chunks = tl.cdiv(D, BLOCK_D)
    for row in range(tl.program_id(0).to(tl.int64), N, tl.num_programs(0)):
        base = row * D
        mx = tl.max(tl.full([BLOCK_D], float("-inf"), tl.float32), axis=0)
        s = tl.sum(tl.zeros([BLOCK_D], tl.float32), axis=0)
        for c0 in range(0, D, BLOCK_D):
            cols = c0 + tl.arange(0, BLOCK_D)
            m = cols < D
            z = tl.load(x_ptr + base + cols, mask=m, other=0.0).to(tl.float32)
            if HAS_NOISE:
                z = z + sigma * normal_row(seed, row, c0, G, BLOCK_D)
            z = tl.where(m, z, float("-inf"))
            if STASH:
                tl.store(p_ptr + base + cols, z, mask=m)
            new_mx = tl.maximum(mx, tl.max(z, axis=0))
            # a row that is all −inf so far keeps s = 0 (shift by 0 rather than −inf − (−inf) = NaN)
            shift = tl.where(new_mx == float("-inf"), 0.0, new_mx)
            s = s * tl.exp(mx - shift) + tl.sum(tl.exp(z - shift), axis=0)
            mx = new_mx
        inv = 1.0 / s
        if STASH:
            tl.debug_barrier()  # the parked logits are read back by whichever thread owns them now
        for i in range(0, n_chunks):
            c0 = (n_chunks - 1 - i) * BLOCK_D
            cols = c0 + tl.arange(0, BLOCK_D)
            m = cols < D
            if STASH:
                z = tl.load(p_ptr + base + cols, mask=m, other=float("-inf"))
            else:
                z = tl.load(x_ptr + base + cols, mask=m, other=float("-inf")).to(tl.float32)
                if HAS_NOISE:
                    z = z + sigma * normal_row(seed, row, c0, G, BLOCK_D)
            p = tl.exp(z - mx) * inv
            tl.store(p_ptr + base + cols, p.to(p_ptr.dtype.element_ty), mask=m)


def _softmax_bwd_tile_kernel(
    p_ptr,
    dp_ptr,
    dx_ptr,
    N,
    D,
    ROWS: tl.constexpr,
    BLOCK_D: tl.constexpr,
):
    # dx = p ⊙ (dp − ⟨p, dp⟩), ROWS whole rows per program
    rows = tl.program_id(0).to(tl.int64) * ROWS + tl.arange(0, ROWS)
    cols = tl.arange(0, BLOCK_D)
    m = (rows < N)[:, None] & (cols[None, :] < D)
    offs = rows[:, None] * D + cols[None, :]
    p = tl.load(p_ptr + offs, mask=m, other=0.0).to(tl.float32)
    dp = tl.load(dp_ptr + offs, mask=m, other=0.0).to(tl.float32)
    dot = tl.sum(p * dp, axis=1)
    tl.store(dx_ptr + offs, (p * (dp - dot[:, None])).to(dx_ptr.dtype.element_ty), mask=m)


def _softmax_bwd_loop_kernel(
    p_ptr,
    dp_ptr,
    dx_ptr,
    N,
    D,
    PER_SM: tl.constexpr,
    BLOCK_D: tl.constexpr,
):
    n_chunks = tl.cdiv(D, BLOCK_D)
    for row in range(tl.program_id(0).to(tl.int64), N, tl.num_programs(0)):
        base = row * D
        acc = tl.zeros([BLOCK_D], tl.float32)
        for c0 in range(0, D, BLOCK_D):
            cols = c0 + tl.arange(0, BLOCK_D)
            m = cols < D
            p = tl.load(p_ptr + base + cols, mask=m, other=0.0).to(tl.float32)
            dp = tl.load(dp_ptr + base + cols, mask=m, other=0.0).to(tl.float32)
            acc += p * dp
        dot = tl.sum(acc, axis=0)
        for i in range(0, n_chunks):
            c0 = (n_chunks - 1 - i) * BLOCK_D
            cols = c0 + tl.arange(0, BLOCK_D)
            m = cols < D
            p = tl.load(p_ptr + base + cols, mask=m, other=0.0).to(tl.float32)
            dp = tl.load(dp_ptr + base + cols, mask=m, other=0.0).to(tl.float32)
            tl.store(dx_ptr + base + cols, (p * (dp - dot)).to(dx_ptr.dtype.element_ty), mask=m)


def _stash_only_for_float32(configs, named_args, **kwargs):
    if named_args["p_ptr"].dtype == torch.float32:
        return configs
    return [c for c in configs if not c.kwargs.get("STASH", False)]


_fwd_tile = _launch.Kernel(
    _softmax_fwd_tile_kernel,
    configs=_launch.warps_configs(8, 16, 32),
    key=["D", "HAS_NOISE", "ROWS", "BLOCK_D"],
    do_not_specialize=["seed"],
)
_fwd_loop = _launch.Kernel(
    _softmax_fwd_loop_kernel,
    configs=_launch.loop_configs(stash=True),
    key=["D", "HAS_NOISE"],
    prune=_stash_only_for_float32,
    interp={"STASH": False},
    do_not_specialize=["seed"],
)
_bwd_tile = _launch.Kernel(
    _softmax_bwd_tile_kernel, configs=_launch.warps_configs(4, 8, 16), key=["D", "ROWS", "BLOCK_D"]
)
_bwd_loop = _launch.Kernel(_softmax_bwd_loop_kernel, configs=_launch.loop_configs(), key=["D"])


def _launch_fwd(x: torch.Tensor, sigma: float, seed: int) -> torch.Tensor:
    p = _launch.empty(x.shape, x.dtype, x.device)
    if x.numel() == 0:
        return p
    D = x.shape[-1]
    N = x.numel() // D
    G = (D + 3) // 4
    plan = _launch.row_plan(N, D)
    if plan.single:
        _fwd_tile[(plan.grid,)](x, p, N, D, G, seed, sigma, HAS_NOISE=sigma > 0, ROWS=plan.rows, BLOCK_D=plan.block_d)
    else:
        grid = _launch.persistent_grid(N, x.device)
        _fwd_loop[grid](x, p, N, D, G, seed, sigma, HAS_NOISE=sigma > 0, interp_meta=_launch.interp_loop_meta())
    return p


def _launch_bwd(p: torch.Tensor, dp: torch.Tensor) -> torch.Tensor:
    dx = _launch.empty(p.shape, p.dtype, p.device)
    if p.numel() == 0:
        return dx
    D = p.shape[-1]
    N = p.numel() // D
    plan = _launch.row_plan(N, D)
    if plan.single:
        _bwd_tile[(plan.grid,)](p, dp, dx, N, D, ROWS=plan.rows, BLOCK_D=plan.block_d)
    else:
        grid = _launch.persistent_grid(N, p.device)
        _bwd_loop[grid](p, dp, dx, N, D, interp_meta=_launch.interp_loop_meta())
    return dx


class _NoisySoftmax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, sigma, seed):
        p = _launch_fwd(x.contiguous(), sigma, seed)
        ctx.save_for_backward(p)
        ctx.set_materialize_grads(False)
        return p

    @staticmethod
    @once_differentiable
    def backward(ctx, dp):
        if dp is None or not ctx.needs_input_grad[0]:
            return None, None, None
        (p,) = ctx.saved_tensors
        return _launch_bwd(p, dp.contiguous()), None, None


def noisy_softmax(logits: torch.Tensor, noise_scale: float = 0.0, seed: int | None = None) -> torch.Tensor:
    """``softmax(logits + σ·ε)`` over the last dimension.

    Args:
        logits: ``[..., V]``; any width (the vocabulary of a language model included).
        noise_scale: σ ≥ 0 (a number); ``0`` is a plain softmax with no noise drawn.
        seed: Philox seed for ε; ``None`` draws one from torch's default generator (only when σ > 0).

    Returns:
        Probabilities ``[..., V]`` in ``logits``' dtype, differentiable in ``logits`` (first order).
    """
    sigma = reference.validate(logits, noise_scale)
    seed = _checks.resolve_seed(OP, seed) if sigma > 0 else 0
    if not _dispatch.use_triton(OP, logits):
        return reference.compute(logits, sigma, seed)
    return _NoisySoftmax.apply(logits, sigma, seed)
