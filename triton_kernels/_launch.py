"""What the launchers of the Triton kernels share: allocation, tiling plans, per-row step sizes, and the kernel
wrapper with its autotune configurations (rows split across programs: ``_split``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from . import _dispatch
from ._checks import step_size_view


@dataclass
class StepRows:
    """A step size as the kernels read it: ``mode`` 0 = the float ``value``; 1 = one value at ``rows[0]``;
    2 = one float32 value per row in ``rows`` (``[N]``)."""

    mode: int
    value: float
    rows: torch.Tensor | None


def step_rows(op: str, step_size: float | torch.Tensor, like: torch.Tensor) -> StepRows:
    if not isinstance(step_size, torch.Tensor):
        return StepRows(0, float(step_size), None)
    a = step_size.detach().to(device=like.device, dtype=torch.float32)
    if a.numel() == 1:
        return StepRows(1, 0.0, a.reshape(1))
    view = step_size_view(op, a, like.shape[:-1])
    rows = view.expand(*like.shape[:-1], 1).reshape(-1).contiguous()
    return StepRows(2, 0.0, rows)


def step_size_grad(grad_rows: torch.Tensor, step_size: torch.Tensor, lead_shape: torch.Size) -> torch.Tensor:
    """Sum per-row gradients ``[N]`` (float32) back to ``step_size``'s shape, dtype and device."""
    g = grad_rows.reshape(*lead_shape, 1)
    if step_size.dim() == 0:
        g = g.sum()
    elif step_size.shape == lead_shape:
        g = g.reshape(lead_shape)
    else:
        g = g.sum_to_size(step_size.shape)
    return g.to(dtype=step_size.dtype, device=step_size.device)


def empty(shape: Sequence[int], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Every buffer a launcher hands to a kernel comes from here (tests fill them with NaN)."""
    return torch.empty(tuple(shape), dtype=dtype, device=device)


def next_pow2(n: int) -> int:
    return 1 << max(0, int(n) - 1).bit_length()


#: Rows whose padded width fits ``*_TILE_MAX`` elements are held in registers whole, ``*_TILE_ELEMS`` to a
#: program's tile. Wider rows: the row ops split them across programs (``_split``); ``langevin_step``'s
#: backward walks them in chunks of ``*_LOOP_BLOCK``. Separate values for compiled GPU kernels (sized so
#: that sm_90 builds stay below ~128 registers per thread at 16 warps without spilling) and for the
#: interpreter, where larger blocks simply mean fewer (slow) Python-level program instances.
GPU_TILE_MAX = 8192
GPU_TILE_ELEMS = 4096
GPU_LOOP_BLOCK = 4096
INTERP_TILE_MAX = 65536
INTERP_TILE_ELEMS = 65536
INTERP_LOOP_BLOCK = 65536


@dataclass(frozen=True)
class RowPlan:
    """How a row kernel covers ``[N, D]``: ``rows`` rows per program, ``block_d`` columns per chunk,
    ``single`` when one chunk covers a whole row."""

    rows: int
    block_d: int
    single: bool
    grid: int


def row_plan(n_rows: int, d: int, gpu_tile_elems: int | None = None) -> RowPlan:
    tile_max = INTERP_TILE_MAX if _dispatch.INTERPRETER else GPU_TILE_MAX
    tile_elems = INTERP_TILE_ELEMS if _dispatch.INTERPRETER else min(GPU_TILE_ELEMS, gpu_tile_elems or GPU_TILE_ELEMS)
    loop_block = INTERP_LOOP_BLOCK if _dispatch.INTERPRETER else GPU_LOOP_BLOCK
    width = max(4, next_pow2(d))  # a multiple of 4: noise comes in groups of four columns
    if width <= tile_max:
        block_d, single = width, True
    else:
        block_d, single = max(4, next_pow2(min(loop_block, width))), False
    rows = max(1, min(tile_elems // block_d, next_pow2(n_rows)))
    return RowPlan(rows=rows, block_d=block_d, single=single, grid=(n_rows + rows - 1) // rows)


def elementwise_tile(n_rows: int, d: int) -> tuple[int, int]:
    """``(rows, block_d)`` of a 2-D tile for an elementwise kernel on a grid of row × column blocks."""
    tile_elems = INTERP_TILE_ELEMS if _dispatch.INTERPRETER else GPU_TILE_ELEMS
    block_d = max(4, min(next_pow2(d), tile_elems))
    rows = max(1, min(tile_elems // block_d, next_pow2(n_rows)))
    return rows, block_d


def require_triton() -> None:
    if not _dispatch.HAS_TRITON:
        raise RuntimeError(f"triton cannot be imported ({_dispatch.TRITON_IMPORT_ERROR}).")


def jit_for_mode(fn: Callable, do_not_specialize: Sequence[str] = ()) -> Callable:
    """``fn`` as a Triton function of the mode this process imported ``triton`` in (``_dispatch.INTERPRETER``).

    ``triton.jit`` instead picks the mode from ``TRITON_INTERPRET`` at decoration time, which can differ from
    the mode of ``triton.language`` (fixed at its import). A compiled kernel cannot call an interpreted
    device function nor the reverse, so kernels and their helpers are all built here, for one mode.
    """
    require_triton()
    if _dispatch.INTERPRETER:
        from triton.runtime.interpreter import InterpretedFunction

        return InterpretedFunction(fn)
    from triton.runtime.jit import JITFunction

    return JITFunction(fn, do_not_specialize=list(do_not_specialize))


def jit_helper(fn: Callable) -> Callable:
    """Decorator for a device function the kernels call: :func:`jit_for_mode` at import, or ``fn``
    unchanged without Triton (then no kernel is ever launched)."""
    return jit_for_mode(fn) if _dispatch.HAS_TRITON else fn


class Kernel:
    """A Triton kernel built on first launch in this process's mode.

    Compiled mode: :func:`jit_for_mode` (+ ``triton.autotune`` over ``configs()`` keyed on ``key``; the
    arguments named in ``reset_to_zero`` are zeroed before each timed run).
    Interpreter mode: the interpreted function with the fixed meta-parameters of ``interp``, since the
    autotuner's timing needs a GPU. ``fn`` may call ``triton.language`` and device functions made by
    :func:`jit_helper` (``_jit_helpers``).
    """

    def __init__(
        self,
        fn: Callable,
        *,
        configs: Callable[[], list] | None = None,
        key: Sequence[str] = (),
        interp: dict | None = None,
        prune: Callable | None = None,
        reset_to_zero: Sequence[str] = (),
        do_not_specialize: Sequence[str] = (),
    ) -> None:
        self.fn = fn
        self.configs = configs
        self.key = list(key)
        self.interp = dict(interp or {})
        self.prune = prune
        self.reset_to_zero = list(reset_to_zero)
        self.do_not_specialize = list(do_not_specialize)
        self._built = None

    def _build(self):
        built = jit_for_mode(self.fn, do_not_specialize=self.do_not_specialize)
        if _dispatch.INTERPRETER:
            return built
        if self.configs is not None:
            prune = {"early_config_prune": self.prune} if self.prune is not None else None
            built = _dispatch.triton.autotune(
                configs=self.configs(), key=self.key, prune_configs_by=prune, reset_to_zero=self.reset_to_zero or None
            )(built)
        return built

    def tuned(self) -> list[dict]:
        """What the autotuner chose in this process: one ``{"key", "meta", "num_warps"}`` per key tuned."""
        cache = getattr(self._built, "cache", None) or {}
        return [
            {"key": [str(k) for k in key], "meta": dict(config.kwargs), "num_warps": config.num_warps}
            for key, config in cache.items()
        ]

    def __getitem__(self, grid):
        """``kernel[grid](*args, interp_meta=None, **kwargs)``; in interpreter mode the meta-parameters
        the autotuner would pick come from ``interp`` updated with ``interp_meta``."""
        if self._built is None:
            self._built = self._build()
        built = self._built

        def launch(*args, interp_meta: dict | None = None, **kwargs):
            if _dispatch.INTERPRETER and self.configs is not None:
                kwargs = {**self.interp, **(interp_meta or {}), **kwargs}
            return built[grid](*args, **kwargs)

        return launch


def warps_configs(*warps: int) -> Callable[[], list]:
    """Autotune configs that only vary ``num_warps`` (tile sizes are passed by the launcher)."""

    def make() -> list:
        return [_dispatch.triton.Config({}, num_warps=w) for w in warps]

    return make
