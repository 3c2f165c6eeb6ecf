"""Fused Langevin step on logits: ``y − α·clamp(g, −c, c) + σ·ε`` in one pass over memory.

EBT's descent step (``y ← y − α·∂E/∂y`` with Langevin noise on the logits and an optional clamp) as one
kernel instead of four to eight eager ones, over ``[ROWS, BLOCK_D]`` tiles so a per-row α is one load per
row. ε is drawn inside the kernel from Philox, the stream every op shares (``_jit_helpers``): it depends on
the seed and the element's position, not on the tile shape. The reference draws ε with ``torch.randn`` from
a generator seeded with ``seed`` instead (same distribution, different numbers).
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from . import _checks, _dispatch, _launch
from ._dispatch import tl
from ._jit_helpers import normal_tile, step_sizes
from .reference import langevin as reference

OP = reference.OP


# ----------------------------------------------------------------------------------------------------
# kernels


def _langevin_fwd_kernel(
    y_ptr,
    g_ptr,
    out_ptr,
    alpha_ptr,
    alpha_value,
    N,
    D,
    G,
    seed,
    sigma,
    clip,
    ALPHA_MODE: tl.constexpr,
    HAS_NOISE: tl.constexpr,
    HAS_CLIP: tl.constexpr,
    ROWS: tl.constexpr,
    BLOCK_D: tl.constexpr,
):
    # One program: a [ROWS, BLOCK_D] tile (grid: row blocks × column blocks).
    rows = tl.program_id(0).to(tl.int64) * ROWS + tl.arange(0, ROWS)
    c0 = tl.program_id(1) * BLOCK_D
    cols = c0 + tl.arange(0, BLOCK_D)
    row_ok = rows < N
    m = row_ok[:, None] & (cols[None, :] < D)
    offs = rows[:, None] * D + cols[None, :]
    y = tl.load(y_ptr + offs, mask=m, other=0.0).to(tl.float32)
    g = tl.load(g_ptr + offs, mask=m, other=0.0).to(tl.float32)
    if HAS_CLIP:
        g = tl.where(g > clip, clip, tl.where(g < -clip, -clip, g))  # NaN stays NaN, like torch.clamp
    out = y - step_sizes(alpha_ptr, alpha_value, rows[:, None], N, ALPHA_MODE) * g
    if HAS_NOISE:
        out = out + sigma * normal_tile(seed, rows, c0, G, BLOCK_D)
    tl.store(out_ptr + offs, out.to(out_ptr.dtype.element_ty), mask=m)


def _langevin_bwd_kernel(
    w_ptr,
    g_ptr,
    dg_ptr,
    dalpha_ptr,
    alpha_ptr,
    alpha_value,
    N,
    D,
    clip,
    ALPHA_MODE: tl.constexpr,
    HAS_CLIP: tl.constexpr,
    NEED_DG: tl.constexpr,
    NEED_DALPHA: tl.constexpr,
    ROWS: tl.constexpr,
    BLOCK_D: tl.constexpr,
):
    # One program: ROWS rows, walked in chunks of BLOCK_D columns.
    # dg = −α·w where −c ≤ g ≤ c (0 where clamped); dα_row = −Σ_d w·clamp(g).
    rows = tl.program_id(0).to(tl.int64) * ROWS + tl.arange(0, ROWS)
    row_ok = rows < N
    a = step_sizes(alpha_ptr, alpha_value, rows[:, None], N, ALPHA_MODE)
    acc = tl.zeros([ROWS], tl.float32)
    for c0 in range(0, D, BLOCK_D):
        cols = c0 + tl.arange(0, BLOCK_D)
        m = row_ok[:, None] & (cols[None, :] < D)
        offs = rows[:, None] * D + cols[None, :]
        w = tl.load(w_ptr + offs, mask=m, other=0.0).to(tl.float32)
        g = tl.load(g_ptr + offs, mask=m, other=0.0).to(tl.float32)
        if HAS_CLIP:
            inside = (g >= -clip) & (g <= clip)
            g = tl.where(g > clip, clip, tl.where(g < -clip, -clip, g))
        if NEED_DG:
            dg = -a * w
            if HAS_CLIP:
                dg = tl.where(inside, dg, 0.0)
            tl.store(dg_ptr + offs, dg.to(dg_ptr.dtype.element_ty), mask=m)
        if NEED_DALPHA:
            acc += tl.sum(w * g, axis=1)
    if NEED_DALPHA:
        tl.store(dalpha_ptr + rows, -acc, mask=row_ok)


_fwd = _launch.Kernel(
    _langevin_fwd_kernel,
    configs=_launch.warps_configs(8, 16, 32),
    key=["ROWS", "BLOCK_D", "ALPHA_MODE", "HAS_NOISE", "HAS_CLIP"],
    do_not_specialize=["seed"],
)
_bwd = _launch.Kernel(
    _langevin_bwd_kernel,
    configs=_launch.warps_configs(4, 8, 16),
    key=["D", "ROWS", "BLOCK_D", "NEED_DG", "NEED_DALPHA"],
)


# ----------------------------------------------------------------------------------------------------
# launchers and autograd


def _launch_fwd(y, g, alpha: _launch.StepRows, sigma: float, clip: float | None, seed: int):
    out = _launch.empty(y.shape, y.dtype, y.device)
    if y.numel() == 0:
        return out
    D = y.shape[-1]
    N = y.numel() // D
    rows, block_d = _launch.elementwise_tile(N, D)
    grid = ((N + rows - 1) // rows, (D + block_d - 1) // block_d)
    _fwd[grid](
        y,
        g,
        out,
        alpha.rows if alpha.rows is not None else y,
        alpha.value,
        N,
        D,
        (D + 3) // 4,
        seed,
        sigma,
        clip if clip is not None else 0.0,
        ALPHA_MODE=alpha.mode,
        HAS_NOISE=sigma > 0,
        HAS_CLIP=clip is not None,
        ROWS=rows,
        BLOCK_D=block_d,
    )
    return out


def _launch_bwd(w, g, alpha: _launch.StepRows, clip, need_dg: bool, need_dalpha: bool):
    D = g.shape[-1]
    N = g.numel() // D if D else 0
    dg = _launch.empty(g.shape, g.dtype, g.device) if need_dg else None
    dalpha = _launch.empty((N,), torch.float32, g.device) if need_dalpha else None
    if g.numel() == 0:
        if dalpha is not None:
            dalpha.zero_()
        return dg, dalpha
    plan = _launch.row_plan(N, D)
    _bwd[(plan.grid,)](
        w,
        g,
        dg if dg is not None else w,
        dalpha if dalpha is not None else w,
        alpha.rows if alpha.rows is not None else w,
        alpha.value,
        N,
        D,
        clip if clip is not None else 0.0,
        ALPHA_MODE=alpha.mode,
        HAS_CLIP=clip is not None,
        NEED_DG=need_dg,
        NEED_DALPHA=need_dalpha,
        ROWS=plan.rows,
        BLOCK_D=plan.block_d,
    )
    return dg, dalpha


class _LangevinStep(torch.autograd.Function):
    @staticmethod
    def forward(ctx, y, g, alpha_t, alpha_value, sigma, clip, seed):
        y_c, g_c = y.contiguous(), g.contiguous()
        rows = _launch.step_rows(OP, alpha_t if alpha_t is not None else alpha_value, y_c)
        out = _launch_fwd(y_c, g_c, rows, sigma, clip, seed)
        ctx.save_for_backward(g_c)
        ctx.rows, ctx.clip, ctx.alpha_t, ctx.lead = rows, clip, alpha_t, y.shape[:-1]
        ctx.set_materialize_grads(False)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, w):
        if w is None:
            return (None,) * 7
        (g_c,) = ctx.saved_tensors
        need_dg = ctx.needs_input_grad[1]
        need_da = ctx.alpha_t is not None and ctx.needs_input_grad[2]
        dg = da = None
        if need_dg or need_da:
            dg, da_rows = _launch_bwd(w.contiguous(), g_c, ctx.rows, ctx.clip, need_dg, need_da)
            if need_da:
                da = _launch.step_size_grad(da_rows, ctx.alpha_t, ctx.lead)
        dy = w if ctx.needs_input_grad[0] else None
        return dy, dg, da, None, None, None, None


# ----------------------------------------------------------------------------------------------------
# public API


def langevin_step(
    y: torch.Tensor,
    grad: torch.Tensor,
    step_size: float | torch.Tensor,
    noise_scale: float = 0.0,
    clip: float | None = None,
    seed: int | None = None,
) -> torch.Tensor:
    """One Langevin descent step ``y − α·clamp(grad, −c, c) + σ·ε``.

    Args:
        y: ``[..., D]`` current prediction (e.g. logits ``[B, S, V]``).
        grad: ``[..., D]`` ∂E/∂y, same shape/dtype/device as ``y``.
        step_size: α — a float, a 0-d tensor, a tensor of shape ``[...]`` (one α per row) or one
            broadcastable to ``[..., 1]``. Tensors receive gradients.
        noise_scale: σ ≥ 0 (a number). ``0`` skips the noise entirely.
        clip: c > 0 clamps the gradient to ``[−c, c]`` (its gradient is 0 where clamped), or ``None``.
        seed: Philox seed for ε; ``None`` draws one from torch's default generator (only when σ > 0).

    Returns:
        ``[..., D]`` in ``y``'s dtype. Differentiable in ``y``, ``grad`` and a tensor ``step_size``
        (first order only).
    """
    sigma, c = reference.validate(y, grad, step_size, noise_scale, clip)
    seed = _checks.resolve_seed(OP, seed) if sigma > 0 else 0
    if not _dispatch.use_triton(OP, y, grad):
        return reference.compute(y, grad, step_size, sigma, c, seed)
    alpha_t = step_size if isinstance(step_size, torch.Tensor) else None
    alpha_value = 0.0 if alpha_t is not None else float(step_size)
    return _LangevinStep.apply(y, grad, alpha_t, alpha_value, sigma, c, seed)
