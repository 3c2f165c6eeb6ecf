"""Fused descent on logits through the softmax: ``logits − α·clamp(p ⊙ (g − ⟨p, g⟩), −c, c) + σ·ε``.

``p ⊙ (g − ⟨p, g⟩)`` is the softmax VJP: with ``p = softmax(logits)`` and ``g = ∂E/∂p`` it is ∂E/∂logits.
Fusing it with the (clamped) descent update lets a family take ∂E/∂p and step the logits without
differentiating through a softmax, in one kernel that reads each input once: rows wider than a register
tile are split across programs that meet to sum ``⟨p, g⟩`` (``_split``). ``probs`` is taken as given; it is
not recomputed from ``logits``.

With σ > 0 the step is a Langevin step on the logits: ε is the noise :func:`noisy_softmax` draws for the
same ``seed`` (the stream every op shares, ``_jit_helpers``), so ``p = noisy_softmax(y, σ, seed)`` followed
by ``simplex_descent(y, p, g, α, noise_scale=σ, seed=seed)`` moves the noisy state ``y + σ·ε`` at which the
gradient was taken. The noise carries no gradient.

Backward, with ``w`` the incoming gradient, ``s = ⟨p, g⟩`` (saved per row), ``v = p ⊙ (g − s)``,
``u = clamp(v)`` and ``h = −α·w`` where ``v`` is not clamped (0 elsewhere)::

    d logits = w
    dα       = −Σ_d w·u              (per row, summed to α's shape)
    dg       = p ⊙ (h − ⟨h, p⟩)
    dp       = h ⊙ (g − s) − g·⟨h, p⟩
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from . import _checks, _dispatch, _launch, _split
from ._dispatch import tl
from ._jit_helpers import normal_row, normal_tile, step_sizes
from .reference import simplex_descent as reference

OP = reference.OP


def _simplex_fwd_tile_kernel(
    l_ptr,
    p_ptr,
    g_ptr,
    out_ptr,
    s_ptr,
    alpha_ptr,
    alpha_value,
    N,
    D,
    G,
    seed,
    sigma,
    clip,
    ALPHA_MODE: tl.constexpr,
    HAS_CLIP: tl.constexpr,
    HAS_NOISE: tl.constexpr,
    ROWS: tl.constexpr,
    BLOCK_D: tl.constexpr,
):
    # ROWS whole rows per program: s = ⟨p, g⟩, out = l − α·clamp(p ⊙ (g − s)) + σ·ε; s saved for backward.
    rows = tl.program_id(0).to(tl.int64) * ROWS + tl.arange(0, ROWS)
    row_ok = rows < N
    a = step_sizes(alpha_ptr, alpha_value, rows[:, None], N, ALPHA_MODE)
    cols = tl.arange(0, BLOCK_D)
    m = row_ok[:, None] & (cols[None, :] < D)
    offs = rows[:, None] * D + cols[None, :]
    p = tl.load(p_ptr + offs, mask=m, other=0.0).to(tl.float32)
    g = tl.load(g_ptr + offs, mask=m, other=0.0).to(tl.float32)
    s = tl.sum(p * g, axis=1)
    v = p * (g - s[:, None])
    if HAS_CLIP:
        v = tl.where(v > clip, clip, tl.where(v < -clip, -clip, v))
    x = tl.load(l_ptr + offs, mask=m, other=0.0).to(tl.float32)
    out = x - a * v
    if HAS_NOISE:
        out = out + sigma * normal_tile(seed, rows, 0, G, BLOCK_D)
    tl.store(out_ptr + offs, out.to(out_ptr.dtype.element_ty), mask=m)
    tl.store(s_ptr + rows, s, mask=row_ok)


def _simplex_fwd_split_kernel(
    part_ptr,
    sync_ptr,
    l_ptr,
    p_ptr,
    g_ptr,
    out_ptr,
    s_ptr,
    alpha_ptr,
    alpha_value,
    N,
    D,
    G,
    seed,
    sigma,
    clip,
    ALPHA_MODE: tl.constexpr,
    HAS_CLIP: tl.constexpr,
    HAS_NOISE: tl.constexpr,
    SEG_CAP: tl.constexpr,
    STAGE: tl.constexpr,
    BLOCK_D: tl.constexpr,
):
    # One segment of a row wider than a tile (``_split``): its share of ⟨p, g⟩ is published, the row's
    # programs meet, and each updates its segment from registers; the first segment's program saves s.
    row, c0 = _split.claim_segment(sync_ptr, N, D, BLOCK_D)
    cols = c0 + tl.arange(0, BLOCK_D)
    m = cols < D
    offs = row * D + cols
    p = tl.load(p_ptr + offs, mask=m, other=0.0).to(tl.float32)
    g = tl.load(g_ptr + offs, mask=m, other=0.0).to(tl.float32)
    if STAGE != 2:
        _split.publish(part_ptr, row, c0, 0, tl.sum(p * g, axis=0), SEG_CAP, 1, BLOCK_D)
    x = tl.load(l_ptr + offs, mask=m, other=0.0).to(tl.float32)  # before the wait, which it overlaps
    if STAGE == 0:
        _split.meet_row(sync_ptr, row, D, BLOCK_D)
    if STAGE != 1:
        s = tl.sum(_split.partials(part_ptr, row, 0, D, 0.0, SEG_CAP, 1, BLOCK_D), axis=0)
        v = p * (g - s)
        if HAS_CLIP:
            v = tl.where(v > clip, clip, tl.where(v < -clip, -clip, v))
        out = x - step_sizes(alpha_ptr, alpha_value, row, N, ALPHA_MODE) * v
        if HAS_NOISE:
            out = out + sigma * normal_row(seed, row, c0, G, BLOCK_D)
        tl.store(out_ptr + offs, out.to(out_ptr.dtype.element_ty), mask=m)
        if c0 == 0:
            tl.store(s_ptr + row, s)


def _simplex_bwd_tile_kernel(
    w_ptr,
    p_ptr,
    g_ptr,
    s_ptr,
    dp_ptr,
    dg_ptr,
    dalpha_ptr,
    alpha_ptr,
    alpha_value,
    N,
    D,
    clip,
    ALPHA_MODE: tl.constexpr,
    HAS_CLIP: tl.constexpr,
    NEED_DPG: tl.constexpr,
    NEED_DALPHA: tl.constexpr,
    ROWS: tl.constexpr,
    BLOCK_D: tl.constexpr,
):
    rows = tl.program_id(0).to(tl.int64) * ROWS + tl.arange(0, ROWS)
    row_ok = rows < N
    a = step_sizes(alpha_ptr, alpha_value, rows[:, None], N, ALPHA_MODE)
    s = tl.load(s_ptr + rows, mask=row_ok, other=0.0)
    cols = tl.arange(0, BLOCK_D)
    m = row_ok[:, None] & (cols[None, :] < D)
    offs = rows[:, None] * D + cols[None, :]
    w = tl.load(w_ptr + offs, mask=m, other=0.0).to(tl.float32)
    p = tl.load(p_ptr + offs, mask=m, other=0.0).to(tl.float32)
    g = tl.load(g_ptr + offs, mask=m, other=0.0).to(tl.float32)
    gs = g - s[:, None]
    v = p * gs
    h = -a * w
    if HAS_CLIP:
        h = tl.where((v >= -clip) & (v <= clip), h, 0.0)
        v = tl.where(v > clip, clip, tl.where(v < -clip, -clip, v))
    if NEED_DALPHA:
        tl.store(dalpha_ptr + rows, -tl.sum(w * v, axis=1), mask=row_ok)
    if NEED_DPG:
        hp = tl.sum(h * p, axis=1)[:, None]
        tl.store(dg_ptr + offs, (p * (h - hp)).to(dg_ptr.dtype.element_ty), mask=m)
        tl.store(dp_ptr + offs, (h * gs - g * hp).to(dp_ptr.dtype.element_ty), mask=m)


def _simplex_bwd_split_kernel(
    part_ptr,
    sync_ptr,
    w_ptr,
    p_ptr,
    g_ptr,
    s_ptr,
    dp_ptr,
    dg_ptr,
    dalpha_ptr,
    alpha_ptr,
    alpha_value,
    N,
    D,
    clip,
    ALPHA_MODE: tl.constexpr,
    HAS_CLIP: tl.constexpr,
    NEED_DPG: tl.constexpr,
    NEED_DALPHA: tl.constexpr,
    SEG_CAP: tl.constexpr,
    STAGE: tl.constexpr,
    BLOCK_D: tl.constexpr,
):
    # One segment of a wide row: its shares of ⟨h, p⟩ and Σ w·u are published, the row's programs meet,
    # and each writes its segment of dg and dp from registers; the first segment's program writes dα.
    row, c0 = _split.claim_segment(sync_ptr, N, D, BLOCK_D)
    cols = c0 + tl.arange(0, BLOCK_D)
    m = cols < D
    offs = row * D + cols
    s = tl.load(s_ptr + row)
    w = tl.load(w_ptr + offs, mask=m, other=0.0).to(tl.float32)
    p = tl.load(p_ptr + offs, mask=m, other=0.0).to(tl.float32)
    g = tl.load(g_ptr + offs, mask=m, other=0.0).to(tl.float32)
    gs = g - s
    v = p * gs
    h = -step_sizes(alpha_ptr, alpha_value, row, N, ALPHA_MODE) * w
    if HAS_CLIP:
        h = tl.where((v >= -clip) & (v <= clip), h, 0.0)
        v = tl.where(v > clip, clip, tl.where(v < -clip, -clip, v))
    if STAGE != 2:
        _split.publish(part_ptr, row, c0, 0, tl.sum(h * p, axis=0), SEG_CAP, 2, BLOCK_D)
        _split.publish(part_ptr, row, c0, 1, tl.sum(w * v, axis=0), SEG_CAP, 2, BLOCK_D)
    if STAGE == 0:
        _split.meet_row(sync_ptr, row, D, BLOCK_D)
    if STAGE != 1:
        if NEED_DALPHA:
            if c0 == 0:
                wu = tl.sum(_split.partials(part_ptr, row, 1, D, 0.0, SEG_CAP, 2, BLOCK_D), axis=0)
                tl.store(dalpha_ptr + row, -wu)
        if NEED_DPG:
            hp = tl.sum(_split.partials(part_ptr, row, 0, D, 0.0, SEG_CAP, 2, BLOCK_D), axis=0)
            tl.store(dg_ptr + offs, (p * (h - hp)).to(dg_ptr.dtype.element_ty), mask=m)
            tl.store(dp_ptr + offs, (h * gs - g * hp).to(dp_ptr.dtype.element_ty), mask=m)


_TILE_CONFIGS = _launch.warps_configs(4, 8, 16)
_fwd_tile = _launch.Kernel(
    _simplex_fwd_tile_kernel,
    configs=_TILE_CONFIGS,
    key=["D", "ALPHA_MODE", "HAS_CLIP", "HAS_NOISE", "ROWS", "BLOCK_D"],
    do_not_specialize=["seed"],
)
_fwd_split = _split.kernel(
    _simplex_fwd_split_kernel, key=["D", "ALPHA_MODE", "HAS_CLIP", "HAS_NOISE"], do_not_specialize=["seed"]
)
_bwd_tile = _launch.Kernel(
    _simplex_bwd_tile_kernel,
    configs=_TILE_CONFIGS,
    key=["D", "ALPHA_MODE", "HAS_CLIP", "NEED_DPG", "NEED_DALPHA", "ROWS", "BLOCK_D"],
)
_bwd_split = _split.kernel(_simplex_bwd_split_kernel, key=["D", "ALPHA_MODE", "HAS_CLIP", "NEED_DPG", "NEED_DALPHA"])


def _launch_fwd(logits, probs, grad_probs, alpha: _launch.StepRows, clip, sigma: float, seed: int):
    D = logits.shape[-1]
    N = logits.numel() // D if D else 0
    out = _launch.empty(logits.shape, logits.dtype, logits.device)
    s = _launch.empty((N,), torch.float32, logits.device)
    if logits.numel() == 0:
        return out, s.zero_()
    plan = _launch.row_plan(N, D)
    args = (
        logits,
        probs,
        grad_probs,
        out,
        s,
        alpha.rows if alpha.rows is not None else s,
        alpha.value,
        N,
        D,
        (D + 3) // 4,
        seed,
        sigma,
        clip if clip is not None else 0.0,
    )
    meta = dict(ALPHA_MODE=alpha.mode, HAS_CLIP=clip is not None, HAS_NOISE=sigma > 0)
    if plan.single:
        _fwd_tile[(plan.grid,)](*args, **meta, ROWS=plan.rows, BLOCK_D=plan.block_d)
    else:
        _split.launch(_fwd_split, N, D, 1, args, meta, waits=True)
    return out, s


def _launch_bwd(w, probs, grad_probs, s, alpha: _launch.StepRows, clip, need_pg: bool, need_da: bool):
    D = probs.shape[-1]
    N = probs.numel() // D if D else 0
    dp = _launch.empty(probs.shape, probs.dtype, probs.device) if need_pg else None
    dg = _launch.empty(probs.shape, probs.dtype, probs.device) if need_pg else None
    da = _launch.empty((N,), torch.float32, probs.device) if need_da else None
    if probs.numel() == 0:
        return dp, dg, (da.zero_() if da is not None else None)
    plan = _launch.row_plan(N, D)
    args = (
        w,
        probs,
        grad_probs,
        s,
        dp if dp is not None else w,
        dg if dg is not None else w,
        da if da is not None else s,
        alpha.rows if alpha.rows is not None else s,
        alpha.value,
        N,
        D,
        clip if clip is not None else 0.0,
    )
    meta = dict(ALPHA_MODE=alpha.mode, HAS_CLIP=clip is not None, NEED_DPG=need_pg, NEED_DALPHA=need_da)
    if plan.single:
        _bwd_tile[(plan.grid,)](*args, **meta, ROWS=plan.rows, BLOCK_D=plan.block_d)
    else:
        _split.launch(_bwd_split, N, D, 2, args, meta, waits=True)
    return dp, dg, da


class _SimplexDescent(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, probs, grad_probs, alpha_t, alpha_value, clip, sigma, seed):
        l_c, p_c, g_c = logits.contiguous(), probs.contiguous(), grad_probs.contiguous()
        rows = _launch.step_rows(OP, alpha_t if alpha_t is not None else alpha_value, l_c)
        out, s = _launch_fwd(l_c, p_c, g_c, rows, clip, sigma, seed)
        ctx.save_for_backward(p_c, g_c)
        ctx.s, ctx.rows, ctx.clip, ctx.alpha_t, ctx.lead = s, rows, clip, alpha_t, logits.shape[:-1]
        ctx.set_materialize_grads(False)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, w):
        if w is None:
            return (None,) * 8
        p_c, g_c = ctx.saved_tensors
        need_pg = ctx.needs_input_grad[1] or ctx.needs_input_grad[2]
        need_da = ctx.alpha_t is not None and ctx.needs_input_grad[3]
        dp = dg = da = None
        if need_pg or need_da:
            dp, dg, da_rows = _launch_bwd(w.contiguous(), p_c, g_c, ctx.s, ctx.rows, ctx.clip, need_pg, need_da)
            if need_da:
                da = _launch.step_size_grad(da_rows, ctx.alpha_t, ctx.lead)
        return (
            w if ctx.needs_input_grad[0] else None,
            dp if ctx.needs_input_grad[1] else None,
            dg if ctx.needs_input_grad[2] else None,
            da,
            None,
            None,
            None,
            None,
        )


def simplex_descent(
    logits: torch.Tensor,
    probs: torch.Tensor,
    grad_probs: torch.Tensor,
    step_size: float | torch.Tensor,
    clip: float | None = None,
    noise_scale: float = 0.0,
    seed: int | None = None,
) -> torch.Tensor:
    """``logits − α·clamp(p ⊙ (g − ⟨p, g⟩), −c, c) + σ·ε``: a descent (or Langevin) step on logits from ∂E/∂p.

    Args:
        logits: ``[..., V]`` logits being revised.
        probs: ``[..., V]`` ``softmax(logits)`` (or any distribution the caller differentiated at).
        grad_probs: ``[..., V]`` ∂E/∂probs.
        step_size: α — a float, a 0-d tensor, a tensor of shape ``[...]`` or one broadcastable to
            ``[..., 1]``; tensors receive gradients.
        clip: c > 0 clamps the per-element change ``p ⊙ (g − ⟨p, g⟩)`` to ``[−c, c]``, or ``None``.
        noise_scale: σ ≥ 0 of the noise added to the result; 0 draws none.
        seed: Philox seed of ε, the seed of the `noisy_softmax` call that gave ``probs`` to share its noise;
            ``None`` draws one from torch's default generator (only when σ > 0).

    Returns:
        ``[..., V]`` in ``logits``' dtype; differentiable in every tensor input (first order).
    """
    c, sigma = reference.validate(logits, probs, grad_probs, step_size, clip, noise_scale)
    seed = _checks.resolve_seed(OP, seed) if sigma > 0 else 0
    if not _dispatch.use_triton(OP, logits, probs, grad_probs):
        return reference.compute(logits, probs, grad_probs, step_size, c, sigma, seed)
    alpha_t = step_size if isinstance(step_size, torch.Tensor) else None
    alpha_value = 0.0 if alpha_t is not None else float(step_size)
    return _SimplexDescent.apply(logits, probs, grad_probs, alpha_t, alpha_value, c, sigma, seed)
