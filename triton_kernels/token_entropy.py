"""Fused token entropy: the entropy of each row's softmax and the log-probability of the token chosen in it,
in one pass over the logits (the per-token quantities of RL on a language model's outputs).

Each row is read once: a running max ``m``, the rescaled sum ``s = Σ exp(z − m)`` and the rescaled first moment
``w = Σ exp(z − m)·(z − m)``, so that ``log Z = m + log s`` and ``H = log s − w / s`` are formed without the
cancellation of ``log Z − E[z]`` at large logits. Rows that fit a register tile are read in one load by one
program; wider rows (a 50,277-token vocabulary) are split across programs, one segment each (``_split``),
whose partial sums the last of them to finish rescales to a common max and combines.

Backward from the saved ``log Z`` and ``H`` per row is element-wise (2-D blocks of rows × columns): with
``log p = z − log Z``,

    ∂/∂z_j = g_logp · (1[j = token] − p_j) − g_H · p_j · (log p_j + H).
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from . import _dispatch, _launch, _split
from ._dispatch import tl
from .reference import token_entropy as reference

OP = reference.OP


def _entropy_fwd_tile_kernel(x_ptr, t_ptr, h_ptr, lp_ptr, lse_ptr, N, D, ROWS: tl.constexpr, BLOCK_D: tl.constexpr):
    rows = tl.program_id(0).to(tl.int64) * ROWS + tl.arange(0, ROWS)
    row_ok = rows < N
    cols = tl.arange(0, BLOCK_D)
    m = row_ok[:, None] & (cols[None, :] < D)
    z = tl.load(x_ptr + rows[:, None] * D + cols[None, :], mask=m, other=float("-inf")).to(tl.float32)
    mx = tl.max(z, axis=1)
    e = tl.exp(z - mx[:, None])
    s = tl.sum(e, axis=1)
    w = tl.sum(tl.where(e > 0, e * (z - mx[:, None]), 0.0), axis=1)
    log_s = tl.log(s)
    lse = mx + log_s
    token = tl.load(t_ptr + rows, mask=row_ok, other=0)
    z_token = tl.load(x_ptr + rows * D + token, mask=row_ok, other=0.0).to(tl.float32)
    tl.store(h_ptr + rows, log_s - w / s, mask=row_ok)
    tl.store(lp_ptr + rows, (z_token - mx) - log_s, mask=row_ok)  # (z − m) first: exact at large logits
    tl.store(lse_ptr + rows, lse, mask=row_ok)


def _entropy_fwd_split_kernel(
    part_ptr, sync_ptr, x_ptr, t_ptr, h_ptr, lp_ptr, lse_ptr, N, D, SEG_CAP: tl.constexpr, BLOCK_D: tl.constexpr
):
    # One segment of a row wider than a tile (``_split``): its max, rescaled sum and rescaled first moment are
    # published, and the row's last program to arrive combines them into the row's results. Nothing waits.
    row, c0 = _split.segment_of_program(D, BLOCK_D)
    cols = c0 + tl.arange(0, BLOCK_D)
    z = tl.load(x_ptr + row * D + cols, mask=cols < D, other=float("-inf")).to(tl.float32)
    mx = tl.max(z, axis=0)
    shift = tl.where(mx == float("-inf"), 0.0, mx)  # a segment all −inf: sums 0, not NaN
    e = tl.exp(z - shift)
    _split.publish(part_ptr, row, c0, 0, mx, SEG_CAP, 3, BLOCK_D)
    _split.publish(part_ptr, row, c0, 1, tl.sum(e, axis=0), SEG_CAP, 3, BLOCK_D)
    _split.publish(part_ptr, row, c0, 2, tl.sum(tl.where(e > 0, e * (z - shift), 0.0), axis=0), SEG_CAP, 3, BLOCK_D)
    if _split.last_to_arrive(sync_ptr, row, D, BLOCK_D):
        maxes = _split.partials(part_ptr, row, 0, D, float("-inf"), SEG_CAP, 3, BLOCK_D)
        sums = _split.partials(part_ptr, row, 1, D, 0.0, SEG_CAP, 3, BLOCK_D)
        moments = _split.partials(part_ptr, row, 2, D, 0.0, SEG_CAP, 3, BLOCK_D)
        row_max = tl.max(maxes, axis=0)
        # each segment's sums are centred on its own max: rescale them to the row's, and re-centre the moment
        live = sums > 0
        scale = tl.where(live, tl.exp(maxes - row_max), 0.0)
        s = tl.sum(scale * sums, axis=0)
        w = tl.sum(tl.where(live, scale * (moments + (maxes - row_max) * sums), 0.0), axis=0)
        log_s = tl.log(s)
        z_token = tl.load(x_ptr + row * D + tl.load(t_ptr + row)).to(tl.float32)
        tl.store(h_ptr + row, log_s - w / s)
        tl.store(lp_ptr + row, (z_token - row_max) - log_s)
        tl.store(lse_ptr + row, row_max + log_s)


def _entropy_bwd_tile_kernel(
    x_ptr, t_ptr, lse_ptr, h_ptr, gh_ptr, glp_ptr, dx_ptr, N, D, ROWS: tl.constexpr, BLOCK_D: tl.constexpr
):
    # Every element's gradient from its own logit and the row's saved log Z and H: one read, one write.
    # A program covers ROWS rows × BLOCK_D columns, from the grid's (row block, column block).
    rows = tl.program_id(0).to(tl.int64) * ROWS + tl.arange(0, ROWS)
    row_ok = rows < N
    cols = tl.program_id(1).to(tl.int64) * BLOCK_D + tl.arange(0, BLOCK_D)
    ok = row_ok[:, None] & (cols[None, :] < D)
    lse = tl.load(lse_ptr + rows, mask=row_ok, other=0.0)[:, None]
    h = tl.load(h_ptr + rows, mask=row_ok, other=0.0)[:, None]
    g_h = tl.load(gh_ptr + rows, mask=row_ok, other=0.0)[:, None]
    g_lp = tl.load(glp_ptr + rows, mask=row_ok, other=0.0)[:, None]
    token = tl.load(t_ptr + rows, mask=row_ok, other=0)[:, None]
    offs = rows[:, None] * D + cols[None, :]
    log_p = tl.load(x_ptr + offs, mask=ok, other=float("-inf")).to(tl.float32) - lse
    p = tl.exp(log_p)
    dz = g_lp * (tl.where(cols[None, :] == token, 1.0, 0.0) - p) - g_h * tl.where(p > 0, p * (log_p + h), 0.0)
    tl.store(dx_ptr + offs, dz.to(dx_ptr.dtype.element_ty), mask=ok)


_fwd_tile = _launch.Kernel(
    _entropy_fwd_tile_kernel, configs=_launch.warps_configs(8, 16, 32), key=["D", "ROWS", "BLOCK_D"]
)
_fwd_split = _split.kernel(_entropy_fwd_split_kernel, key=["D"])
_bwd = _launch.Kernel(_entropy_bwd_tile_kernel, configs=_launch.warps_configs(4, 8, 16), key=["D", "ROWS", "BLOCK_D"])


def _launch_fwd(x: torch.Tensor, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(entropy, log-probability, log Z), each float32 [N], of logits x [N, D] and tokens [N]."""
    n, d = x.shape
    h, lp, lse = (_launch.empty((n,), torch.float32, x.device) for _ in range(3))
    if n == 0:
        return h, lp, lse
    plan = _launch.row_plan(n, d)
    if plan.single:
        _fwd_tile[(plan.grid,)](x, tokens, h, lp, lse, n, d, ROWS=plan.rows, BLOCK_D=plan.block_d)
    else:
        _split.launch(_fwd_split, n, d, 3, (x, tokens, h, lp, lse, n, d), {}, waits=False)
    return h, lp, lse


def _launch_bwd(x, tokens, lse, h, g_h, g_lp) -> torch.Tensor:
    n, d = x.shape
    dx = _launch.empty(x.shape, x.dtype, x.device)
    if n == 0:
        return dx
    rows, block = _launch.elementwise_tile(n, d)
    grid = (-(-n // rows), -(-d // block))
    _bwd[grid](x, tokens, lse, h, g_h, g_lp, dx, n, d, ROWS=rows, BLOCK_D=block)
    return dx


class _TokenEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, tokens):
        lead = logits.shape[:-1]
        x = logits.reshape(-1, logits.shape[-1]).contiguous()
        flat = tokens.reshape(-1).to(torch.int64).contiguous()
        h, lp, lse = _launch_fwd(x, flat)
        ctx.save_for_backward(x, flat, lse, h)
        ctx.shape = logits.shape
        ctx.mark_non_differentiable(lse)
        return h.view(lead), lp.view(lead)

    @staticmethod
    @once_differentiable
    def backward(ctx, g_h, g_lp):
        if not ctx.needs_input_grad[0]:
            return None, None
        x, flat, lse, h = ctx.saved_tensors
        zeros = torch.zeros_like(h)
        g_h = zeros if g_h is None else g_h.reshape(-1).float().contiguous()
        g_lp = zeros if g_lp is None else g_lp.reshape(-1).float().contiguous()
        return _launch_bwd(x, flat, lse, h, g_h, g_lp).view(ctx.shape), None


def token_entropy(logits: torch.Tensor, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The entropy of ``softmax(logits)`` and the log-probability of ``tokens`` under it, per row.

    Args:
        logits: ``[..., V]``; any width (a language model's vocabulary included).
        tokens: ``[...]`` integer ids in ``0 .. V − 1``, one per row.

    Returns:
        (entropy ``[...]``, log-probability ``[...]``), float32 (float64 on the reference path for float64
        logits), both differentiable in ``logits`` (first order on the Triton path).
    """
    reference.validate(logits, tokens)
    if not _dispatch.use_triton(OP, logits):
        return reference.token_entropy_math(logits, tokens)
    return _TokenEntropy.apply(logits, tokens)
