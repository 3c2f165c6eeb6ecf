"""Shared setup for the kernel tests.

The Triton kernels run here on CUDA when a GPU is present, and otherwise on the CPU through the Triton
interpreter, which `tests/conftest.py` switches on (``TRITON_INTERPRET=1``) before anything imports
triton. ``ZOO_KERNELS`` is not set process-wide: the tests force Triton per test (fixture ``forced``), so
other tests in the same pytest process keep the default dispatch.
"""

from __future__ import annotations

import types

import pytest
import torch

HAS_CUDA = torch.cuda.is_available()

from triton_kernels import _dispatch, _launch, _split  # noqa: E402


def kernel_device() -> str | None:
    """Where the Triton path can run in this process: "cuda", "cpu" (interpreter), or None."""
    if not _dispatch.HAS_TRITON:
        return None
    if _dispatch.INTERPRETER:
        return "cpu"
    if HAS_CUDA:
        return "cuda"
    return None


KERNEL_DEVICE = kernel_device()
SKIP_REASON = (
    "triton is not importable"
    if not _dispatch.HAS_TRITON
    else "Triton interpreter not active in this process (triton was imported before TRITON_INTERPRET=1 "
    "could be set) and no CUDA: run pytest from the repository so tests/conftest.py sets it first"
)


@pytest.fixture
def dev() -> str:
    """The device the Triton path runs on here (skips when there is none)."""
    if KERNEL_DEVICE is None:
        pytest.skip(SKIP_REASON)
    return KERNEL_DEVICE


@pytest.fixture
def forced(dev, monkeypatch) -> str:
    """Force the Triton path through the environment variable, for this test only."""
    monkeypatch.setenv(_dispatch.ENV_VAR, "triton")
    return dev


@pytest.fixture(autouse=True)
def nan_allocations(monkeypatch):
    """Every buffer a launcher allocates starts as NaN, so unwritten elements cannot pass a comparison."""

    def empty(shape, dtype, device):
        return torch.full(tuple(shape), float("nan"), dtype=dtype, device=device)

    monkeypatch.setattr(_launch, "empty", empty)


@pytest.fixture(params=["tile", "loop"])
def tiling(request, monkeypatch) -> str:
    """Run a test with whole rows in one tile, and again with tiny tiles: rows split into segments of 16
    columns by the row ops (walked in chunks of 16 by ``langevin_step``'s backward), and 32-column blocks
    for the elementwise ones. (On a GPU the autotuned segments are wider than these rows.)"""
    if request.param == "loop":
        for prefix in ("GPU", "INTERP"):
            monkeypatch.setattr(_launch, f"{prefix}_TILE_MAX", 16)
            monkeypatch.setattr(_launch, f"{prefix}_LOOP_BLOCK", 16)
            monkeypatch.setattr(_launch, f"{prefix}_TILE_ELEMS", 32)
        monkeypatch.setattr(_split, "INTERP_SPLIT_BLOCK", 16)
    return request.param


@pytest.fixture
def kt():
    """Helpers for the kernel tests (a fixture, so test modules need not import this conftest)."""
    return types.SimpleNamespace(grads_of=grads_of, assert_close=assert_close, strided=strided)


def grads_of(fn, inputs, seed: int = 1234):
    """Outputs of ``fn(*inputs)`` and the gradients of a fixed random projection of them."""
    leaves = [x.detach().clone().requires_grad_(True) if x.is_floating_point() else x for x in inputs]
    outs = fn(*leaves)
    outs = outs if isinstance(outs, tuple) else (outs,)
    gen = torch.Generator().manual_seed(seed)
    loss = sum((o.float() * torch.randn(o.shape, generator=gen).to(o.device)).sum() for o in outs)
    wrt = [x for x in leaves if x.requires_grad]
    gs = torch.autograd.grad(loss, wrt, allow_unused=True)
    return [o.detach() for o in outs], list(gs)


def assert_close(actual, expected, atol=1e-5, rtol=1e-5):
    torch.testing.assert_close(actual.float().cpu(), expected.float().cpu(), atol=atol, rtol=rtol)


def strided(t: torch.Tensor) -> torch.Tensor:
    """A non-contiguous view with the values of ``t``: every other column of a wider buffer."""
    big = torch.empty(t.shape[:-1] + (2 * t.shape[-1] + 1,), dtype=t.dtype, device=t.device)
    view = big[..., 1::2]
    view.copy_(t)
    assert not view.is_contiguous()
    return view
