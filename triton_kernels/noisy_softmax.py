"""Fused noisy softmax: ``softmax(x + σ·ε)`` over the last dimension, any width (50,277-token rows too).

Rows whose padded width fits a register tile are read once and written once by one program. Wider rows are
split across programs (``_split``), one segment each: a program publishes its segment's max and rescaled
sum, meets the other programs of its row, and normalises its segment from registers, so these rows too are
read once, drawn once and written once.

ε is the Philox stream every op shares (``_jit_helpers``). The reference uses ``torch.randn`` from a
generator seeded with ``seed`` instead.

Backward is the softmax VJP ``p ⊙ (dp − ⟨p, dp⟩)`` from the saved output ``p`` (split the same way for
wide rows): it needs no noise, and saving ``p`` (which a caller of a softmax usually keeps alive anyway)
avoids re-reading ``x`` and regenerating ε in an extra pass.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from . import _checks, _dispatch, _launch, _split
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


def _softmax_fwd_split_kernel(
    part_ptr,
    sync_ptr,
    x_ptr,
    p_ptr,
    N,
    D,
    G,
    seed,
    sigma,
    HAS_NOISE: tl.constexpr,
    SEG_CAP: tl.constexpr,
    STAGE: tl.constexpr,
    BLOCK_D: tl.constexpr,
):
    # One segment of a row wider than a tile, held in registers from load to store (``_split``): the
    # segment's max and rescaled sum are published, the row's programs meet, and each normalises its own
    # segment by the row's max and total.
    row, c0 = _split.claim_segment(sync_ptr, N, D, BLOCK_D)
    cols = c0 + tl.arange(0, BLOCK_D)
    m = cols < D
    z = tl.load(x_ptr + row * D + cols, mask=m, other=0.0).to(tl.float32)
    if HAS_NOISE:
        z = z + sigma * normal_row(seed, row, c0, G, BLOCK_D)
    z = tl.where(m, z, float("-inf"))
    if STAGE != 2:
        mx = tl.max(z, axis=0)
        shift = tl.where(mx == float("-inf"), 0.0, mx)  # a segment all −inf: sum 0, not NaN
        _split.publish(part_ptr, row, c0, 0, mx, SEG_CAP, 2, BLOCK_D)
        _split.publish(part_ptr, row, c0, 1, tl.sum(tl.exp(z - shift), axis=0), SEG_CAP, 2, BLOCK_D)
    if STAGE == 0:
        _split.meet_row(sync_ptr, row, D, BLOCK_D)
    if STAGE != 1:
        maxes = _split.partials(part_ptr, row, 0, D, float("-inf"), SEG_CAP, 2, BLOCK_D)
        sums = _split.partials(part_ptr, row, 1, D, 0.0, SEG_CAP, 2, BLOCK_D)
        row_max = tl.max(maxes, axis=0)
        total = tl.sum(tl.where(sums > 0, sums * tl.exp(maxes - row_max), 0.0), axis=0)
        p = tl.exp(z - row_max) / total
        tl.store(p_ptr + row * D + cols, p.to(p_ptr.dtype.element_ty), mask=m)


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


def _softmax_bwd_split_kernel(
    part_ptr,
    sync_ptr,
    p_ptr,
    dp_ptr,
    dx_ptr,
    N,
    D,
    SEG_CAP: tl.constexpr,
    STAGE: tl.constexpr,
    BLOCK_D: tl.constexpr,
):
    # dx = p ⊙ (dp − ⟨p, dp⟩) on one segment of a wide row: the segment's share of ⟨p, dp⟩ is published,
    # the row's programs meet, and each finishes its segment from registers.
    row, c0 = _split.claim_segment(sync_ptr, N, D, BLOCK_D)
    cols = c0 + tl.arange(0, BLOCK_D)
    m = cols < D
    p = tl.load(p_ptr + row * D + cols, mask=m, other=0.0).to(tl.float32)
    dp = tl.load(dp_ptr + row * D + cols, mask=m, other=0.0).to(tl.float32)
    if STAGE != 2:
        _split.publish(part_ptr, row, c0, 0, tl.sum(p * dp, axis=0), SEG_CAP, 1, BLOCK_D)
    if STAGE == 0:
        _split.meet_row(sync_ptr, row, D, BLOCK_D)
    if STAGE != 1:
        dot = tl.sum(_split.partials(part_ptr, row, 0, D, 0.0, SEG_CAP, 1, BLOCK_D), axis=0)
        tl.store(dx_ptr + row * D + cols, (p * (dp - dot)).to(dx_ptr.dtype.element_ty), mask=m)


_fwd_tile = _launch.Kernel(
    _softmax_fwd_tile_kernel,
    configs=_launch.warps_configs(8, 16, 32),
    key=["D", "HAS_NOISE", "ROWS", "BLOCK_D"],
    do_not_specialize=["seed"],
)
_fwd_split = _split.kernel(_softmax_fwd_split_kernel, key=["D", "HAS_NOISE"], do_not_specialize=["seed"])
_bwd_tile = _launch.Kernel(
    _softmax_bwd_tile_kernel, configs=_launch.warps_configs(4, 8, 16), key=["D", "ROWS", "BLOCK_D"]
)
_bwd_split = _split.kernel(_softmax_bwd_split_kernel, key=["D"])


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
        _split.launch(_fwd_split, N, D, 2, (x, p, N, D, G, seed, sigma), dict(HAS_NOISE=sigma > 0), waits=True)
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
        _split.launch(_bwd_split, N, D, 1, (p, dp, dx, N, D), {}, waits=True)
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
