"""Rows split across programs: how the row ops cover rows too wide for one program's registers.

A row of a 50,277-token vocabulary is 201 KB in float32, more than one program can hold on chip. Walking it in
chunks takes two passes over memory (a reduction, then the update that needs it). Here the row is split into
``BLOCK_D``-wide segments instead, one program per segment, each holding its segment in registers from load to
store, so every element is read once and written once:

1. each program loads its segment and reduces it to a few partials (for a softmax: the segment's max and
   rescaled sum), which it publishes to a small ``[N, SEG_CAP, K]`` float32 buffer;
2. the programs of a row meet at a per-row counter (:func:`meet_row`), read the row's partials and combine
   them (the second-stage reduction, over ``SEGS ≤ SEG_CAP`` values);
3. each finishes its own segment from the registers and stores it.

Forward progress. A program waiting at the counter holds its place on the GPU, so the segments of a row must
be handed out in the order programs actually start. :func:`claim_segment` does that with a ticket counter
(the order of ``program_id`` is not a promise of start order): ticket ``t`` is segment ``t mod SEGS`` of row
``t div SEGS``. Every ticket is held by a program that is running; rows whose tickets are all handed out
therefore finish, and only the row of the latest ticket can be waiting for programs that have not started,
which start as soon as any program ends. The launch can only stall if fewer than ``SEGS`` programs fit on
the whole GPU at once (about 25 segments at most for a 50,277-wide row, against 132 SMs of several
programs each).

Reductions that need no update afterwards (``token_entropy``) do not wait: the last program of a row to
arrive (:func:`last_to_arrive`) combines the partials and stores the row's results.

The interpreter runs programs one after another, so no program there can wait for a later one. It runs a
launch in two stages instead: stage 1 publishes every segment's partials, stage 2 reloads each segment and
finishes it from them. The GPU runs stage 0, both in one launch. Kernels take ``part_ptr, sync_ptr`` first
and the meta-parameters ``SEG_CAP``, ``BLOCK_D`` and (those that wait) ``STAGE``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from . import _dispatch, _launch
from ._dispatch import tl
from ._launch import jit_helper

#: Segment widths the GPU autotuner chooses from (with the number of warps); the interpreter uses one.
GPU_SPLIT_BLOCKS = (2048, 4096)
INTERP_SPLIT_BLOCK = 65536


def configs():
    """Autotune configurations of a split-row kernel: each segment width at 8 or 16 elements per thread.

    Wider segments need 16 elements per thread at 16 warps, where an sm_90 thread may use at most 128
    registers: ``simplex_descent``, holding three inputs, spills there (``cuobjdump -res-usage``).
    """
    return [
        _dispatch.triton.Config({"BLOCK_D": b}, num_warps=w)
        for b in GPU_SPLIT_BLOCKS
        for w in (4, 8, 16)
        if b // (32 * w) in (8, 16)
    ]


def kernel(fn, *, key: Sequence[str], do_not_specialize: Sequence[str] = ()) -> _launch.Kernel:
    """A split-row kernel, autotuned on the GPU; the ticket counters are zeroed before every timed run."""
    return _launch.Kernel(
        fn,
        configs=configs,
        key=key,
        reset_to_zero=["sync_ptr"],
        do_not_specialize=do_not_specialize,
    )


def _min_block() -> int:
    return INTERP_SPLIT_BLOCK if _dispatch.INTERPRETER else min(GPU_SPLIT_BLOCKS)


def segments_cap(d: int) -> int:
    """A power of two ≥ the number of segments of a ``d``-wide row at the narrowest segment width."""
    return _launch.next_pow2(-(-d // _min_block()))


def grid(n_rows: int, d: int):
    """Grid of one program per segment of ``[n_rows, d]``, for whichever ``BLOCK_D`` the launch picks."""

    def make(meta: dict) -> tuple:
        return (n_rows * -(-d // meta["BLOCK_D"]),)

    return make


def interp_meta() -> dict:
    """The segment width under the interpreter (tests shrink it)."""
    return {"BLOCK_D": INTERP_SPLIT_BLOCK}


def launch(fn: _launch.Kernel, n_rows: int, d: int, n_partials: int, args: Sequence, meta: dict, *, waits: bool):
    """Launch ``fn(part_ptr, sync_ptr, *args, SEG_CAP=…, BLOCK_D=…, **meta)`` over ``[n_rows, d]``.

    ``waits``: the programs of a row meet at :func:`meet_row`; the kernel then also takes ``STAGE`` (0 on
    the GPU, 1 then 2 under the interpreter). A kernel that only reduces (:func:`last_to_arrive`) runs once.
    """
    device = args[0].device
    seg_cap = segments_cap(d)
    part = _launch.empty((n_rows * seg_cap * n_partials,), torch.float32, device)
    sync = torch.zeros(n_rows + 1, dtype=torch.int32, device=device)
    stages = ((1, 2) if _dispatch.INTERPRETER else (0,)) if waits else (None,)
    for stage in stages:
        sync.zero_()
        staged = {} if stage is None else {"STAGE": stage}
        fn[grid(n_rows, d)](part, sync, *args, SEG_CAP=seg_cap, **staged, **meta, interp_meta=interp_meta())


@jit_helper
def segment_of_program(D, BLOCK_D: tl.constexpr):
    """``(row, first column)`` of this program's segment, in ``program_id`` order (for kernels that never
    wait for another program)."""
    pid = tl.program_id(0)
    segs = tl.cdiv(D, BLOCK_D)
    row = pid // segs
    return row.to(tl.int64), ((pid - row * segs) * BLOCK_D).to(tl.int64)


@jit_helper
def claim_segment(sync_ptr, N, D, BLOCK_D: tl.constexpr):
    """``(row, first column)`` of the next segment not yet claimed (int64 scalars).

    Tickets from the counter at ``sync_ptr[N]`` hand segments out in the order programs start; see the
    module docstring for why waiting programs need that.
    """
    ticket = tl.atomic_add(sync_ptr + N, 1)  # int32: divided as such (an int64 division takes a stack frame)
    segs = tl.cdiv(D, BLOCK_D)
    row = ticket // segs
    return row.to(tl.int64), ((ticket - row * segs) * BLOCK_D).to(tl.int64)


@jit_helper
def publish(part_ptr, row, c0, k, value, SEG_CAP: tl.constexpr, K: tl.constexpr, BLOCK_D: tl.constexpr):
    """Store partial ``k`` (of ``K``) of the segment starting at column ``c0`` of ``row``."""
    tl.store(part_ptr + ((row * SEG_CAP + c0 // BLOCK_D) * K + k), value)


@jit_helper
def partials(part_ptr, row, k, D, other, SEG_CAP: tl.constexpr, K: tl.constexpr, BLOCK_D: tl.constexpr):
    """Partial ``k`` of every segment of ``row``: ``[SEG_CAP]`` float32, ``other`` past the row's segments.

    Volatile loads: the values were written by other programs after this SM may have cached the line.
    """
    seg = tl.arange(0, SEG_CAP)
    ok = seg < tl.cdiv(D, BLOCK_D)
    return tl.load(part_ptr + ((row * SEG_CAP + seg) * K + k), mask=ok, other=other, volatile=True)


@jit_helper
def meet_row(sync_ptr, row, D, BLOCK_D: tl.constexpr):
    """Arrive at ``row``'s counter, then wait until every segment of the row has arrived.

    The barrier orders this program's published partials before the release; the acquire orders the
    partials the others published before the loads that follow.
    """
    tl.debug_barrier()
    tl.atomic_add(sync_ptr + row, 1, sem="release")
    segs = tl.cdiv(D, BLOCK_D)
    while tl.atomic_add(sync_ptr + row, 0, sem="acquire") < segs:
        pass


@jit_helper
def last_to_arrive(sync_ptr, row, D, BLOCK_D: tl.constexpr):
    """Arrive at ``row``'s counter; true for the one program whose segment completes the row."""
    tl.debug_barrier()
    return tl.atomic_add(sync_ptr + row, 1, sem="acq_rel") == tl.cdiv(D, BLOCK_D) - 1
