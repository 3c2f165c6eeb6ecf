"""Rows split across programs (``triton_kernels._split``): the parts the op tests do not reach.

The op tests run the split kernels under the interpreter in two stages, because there programs run one after
another and none could wait for a later one. These tests run the one-launch GPU form (stage 0: tickets and
the per-row meeting) where the interpreter can: rows of one segment, whose program meets only itself.
"""

from __future__ import annotations

import importlib

import pytest
import torch

from triton_kernels import _dispatch, _split

noisy_softmax_module = importlib.import_module("triton_kernels.noisy_softmax")
token_entropy_module = importlib.import_module("triton_kernels.token_entropy")


def test_segments_cap_bounds_the_segments_of_every_configuration():
    narrowest = _split.INTERP_SPLIT_BLOCK if _dispatch.INTERPRETER else min(_split.GPU_SPLIT_BLOCKS)
    for d in (1, 15, 16, 17, 2048, 2049, 50277, 1_000_003):
        cap = _split.segments_cap(d)
        assert cap & (cap - 1) == 0  # a power of two: the width of the partials' load
        assert cap >= -(-d // narrowest)


@pytest.mark.skipif(not _dispatch.HAS_TRITON, reason="triton is not importable")
def test_autotune_configurations_hold_8_or_16_elements_per_thread():
    configs = _split.configs()
    assert configs
    for c in configs:
        assert c.kwargs["BLOCK_D"] in _split.GPU_SPLIT_BLOCKS
        assert c.kwargs["BLOCK_D"] // (32 * c.num_warps) in (8, 16) and c.num_warps <= 16


def test_one_launch_meets_and_hands_out_every_segment_once(forced):
    if forced != "cpu":
        pytest.skip("the interpreter's form of the one-launch path; a GPU runs it in every op test")
    n, d, block = 5, 37, 64  # one segment per row: each program's meeting needs only itself
    x = torch.randn(n, d, generator=torch.Generator().manual_seed(0))
    p = torch.full_like(x, float("nan"))
    part = torch.full((n * 1 * 2,), float("nan"))
    sync = torch.zeros(n + 1, dtype=torch.int32)
    noisy_softmax_module._fwd_split[(n,)](
        part,
        sync,
        x,
        p,
        n,
        d,
        (d + 3) // 4,
        0,
        0.0,
        HAS_NOISE=False,
        SEG_CAP=1,
        STAGE=0,
        interp_meta={"BLOCK_D": block},
    )
    torch.testing.assert_close(p, torch.softmax(x, -1))
    assert sync.tolist() == [1] * n + [n]  # each row's counter met once; n tickets


def test_the_last_segment_to_arrive_finishes_the_row(forced):
    if forced != "cpu":
        pytest.skip("the interpreter's form of the launch; a GPU runs it in every op test")
    n, d, block, segs = 3, 50, 16, 4
    x = torch.randn(n, d, generator=torch.Generator().manual_seed(1))
    tokens = torch.tensor([0, 17, 49])
    h, lp, lse = (torch.full((n,), float("nan")) for _ in range(3))
    part = torch.full((n * segs * 3,), float("nan"))
    sync = torch.zeros(n + 1, dtype=torch.int32)
    token_entropy_module._fwd_split[(n * segs,)](
        part, sync, x, tokens, h, lp, lse, n, d, SEG_CAP=segs, interp_meta={"BLOCK_D": block}
    )
    log_p = torch.log_softmax(x, -1)
    torch.testing.assert_close(h, -(log_p.exp() * log_p).sum(-1))
    torch.testing.assert_close(lp, log_p[torch.arange(n), tokens])
    torch.testing.assert_close(lse, torch.logsumexp(x, -1))
    assert sync[:n].tolist() == [segs] * n  # every segment arrived at its row, once
