"""The one dispatch rule shared by every fused op, and the helpers their launchers share.

Dispatch (decided per call; the environment is read at call time):

* ``ZOO_KERNELS=auto`` (or unset): CUDA tensors run the Triton kernels, every other device runs the
  pure-PyTorch reference.
* ``ZOO_KERNELS=triton``: always the Triton kernels. CUDA tensors need compiled Triton. CPU tensors run
  through the Triton interpreter, which exists only if ``TRITON_INTERPRET=1`` was in the environment
  *before ``triton`` was first imported* (``triton.language`` decorates its own helpers, such as
  ``tl.sum`` and ``tl.randn4x``, at import time, so the flag cannot be switched on later). Forcing Triton on
  a CPU tensor without it raises an error that says so.
* ``ZOO_KERNELS=torch``: always the reference.

:func:`use_backend` overrides the environment for a block of code (a context variable, so it is scoped
to the current thread / task). The Triton path accepts float32, bfloat16 and float16 (arithmetic and
reductions in float32) and raises a ``TypeError`` for anything else; the reference also takes float64.

This package never imports ``zoo``, and imports without ``triton`` installed (then only the reference
path works).
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import types
import warnings
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import torch

try:  # pragma: no cover - exercised by whichever environment runs the tests
    import triton
    import triton.language as tl

    HAS_TRITON = True
    TRITON_IMPORT_ERROR: str | None = None
except Exception as exc:  # ImportError, or a broken install (missing driver libraries, ...)
    triton = None
    # Kernel signatures annotate constexpr parameters with ``tl.constexpr``; the stub keeps the
    # modules importable. Kernels are never launched without Triton.
    tl = types.SimpleNamespace(constexpr=int)
    HAS_TRITON = False
    TRITON_IMPORT_ERROR = f"{type(exc).__name__}: {exc}"


def _detect_interpreter() -> bool:
    """Whether ``triton`` was imported in interpreter mode (``TRITON_INTERPRET=1`` at import)."""
    if not HAS_TRITON:
        return False
    try:
        from triton.runtime.interpreter import InterpretedFunction

        return isinstance(tl.randn4x, InterpretedFunction)
    except Exception:  # pragma: no cover - layout of a future Triton
        return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


#: True when the Triton interpreter runs every kernel of this process (CPU tensors can use Triton).
INTERPRETER: bool = _detect_interpreter()

ENV_VAR = "ZOO_KERNELS"
_MODES = ("auto", "triton", "torch")
_override: contextvars.ContextVar[str | None] = contextvars.ContextVar("zoo_kernels", default=None)
SUPPORTED_DTYPES = (torch.float32, torch.bfloat16, torch.float16)


def current_mode() -> str:
    """The dispatch mode in force: :func:`use_backend` if active, else ``$ZOO_KERNELS``, else ``auto``."""
    mode = _override.get()
    if mode is None:
        mode = os.environ.get(ENV_VAR, "").strip().lower() or "auto"
    if mode not in _MODES:
        raise ValueError(f"{ENV_VAR}={mode!r} is not a dispatch mode; use one of {', '.join(_MODES)}.")
    return mode


@contextlib.contextmanager
def use_backend(mode: str) -> Iterator[None]:
    """Force ``"triton"``, ``"torch"`` or ``"auto"`` dispatch inside a ``with`` block (beats the env)."""
    mode = mode.strip().lower()
    if mode not in _MODES:
        raise ValueError(f"backend {mode!r} is not one of {', '.join(_MODES)}.")
    token = _override.set(mode)
    try:
        yield
    finally:
        _override.reset(token)


def triton_status() -> str:
    """One line saying how Triton kernels would run in this process."""
    if not HAS_TRITON:
        return f"unavailable ({TRITON_IMPORT_ERROR})"
    return f"triton {triton.__version__}, " + ("interpreter (TRITON_INTERPRET=1)" if INTERPRETER else "compiled")


_warned_fallback = False


def use_triton(op: str, *tensors: torch.Tensor) -> bool:
    """Apply the dispatch rule to an op's tensor inputs: True for the Triton kernels, False for the reference.

    Raises when Triton is required but cannot run (no Triton, CPU without the interpreter, another
    device, or a dtype other than float32/bfloat16/float16).
    """
    global _warned_fallback
    mode = current_mode()
    if mode == "torch":
        return False
    device = tensors[0].device
    if mode == "auto":
        if device.type != "cuda":
            return False
        if not HAS_TRITON:
            if not _warned_fallback:
                warnings.warn(
                    f"triton_kernels: CUDA tensors but Triton is unavailable ({TRITON_IMPORT_ERROR}); "
                    "running the PyTorch references. Install triton, or set ZOO_KERNELS=torch to silence this.",
                    RuntimeWarning,
                    stacklevel=3,
                )
                _warned_fallback = True
            return False
    else:  # forced
        if not HAS_TRITON:
            raise RuntimeError(
                f"{op}: {ENV_VAR}=triton but triton cannot be imported ({TRITON_IMPORT_ERROR}). "
                f"Install triton, or unset {ENV_VAR} to use the PyTorch reference."
            )
        if device.type == "cpu" and not INTERPRETER:
            raise RuntimeError(
                f"{op}: {ENV_VAR}=triton on a CPU tensor needs the Triton interpreter, but triton was imported "
                "without it. Set TRITON_INTERPRET=1 in the environment before triton is first imported "
                "(e.g. `TRITON_INTERPRET=1 python ...`), move the tensors to CUDA, or unset "
                f"{ENV_VAR} to use the PyTorch reference."
            )
        if device.type not in ("cpu", "cuda"):
            raise RuntimeError(
                f"{op}: the Triton kernels run on CUDA (or on CPU through the interpreter), not on "
                f"{device.type!r} tensors; unset {ENV_VAR} or set it to 'torch' to use the reference."
            )
    for t in tensors:
        if t.dtype not in SUPPORTED_DTYPES:
            raise TypeError(
                f"{op}: the Triton kernels take float32, bfloat16 or float16, got {t.dtype}. Cast the inputs, "
                f"or call the reference (`{op}_reference`, or {ENV_VAR}=torch) for other dtypes."
            )
    return True


# ----------------------------------------------------------------------------------------------------
# validation shared by the Triton path and the reference


def check_tensors(op: str, names: Sequence[str], tensors: Sequence[torch.Tensor]) -> None:
    """Same shape, dtype and device for every named input; floating point; at least one dimension."""
    first = tensors[0]
    for name, t in zip(names, tensors):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{op}: {name} must be a torch.Tensor, got {type(t).__name__}.")
        if not t.is_floating_point():
            raise TypeError(f"{op}: {name} must be a floating-point tensor, got {t.dtype}.")
        if t.dim() == 0:
            raise ValueError(f"{op}: {name} must have at least one dimension [..., D], got a scalar.")
        if t.shape != first.shape:
            raise ValueError(f"{op}: {name} has shape {list(t.shape)} but {names[0]} has {list(first.shape)}.")
        if t.dtype != first.dtype:
            raise TypeError(f"{op}: {name} is {t.dtype} but {names[0]} is {first.dtype}; cast them to one dtype.")
        if t.device != first.device:
            raise ValueError(f"{op}: {name} is on {t.device} but {names[0]} is on {first.device}.")


def check_scale(op: str, name: str, value: object, *, positive: bool = False) -> float:
    """A Python number >= 0 (or > 0) as a float; 0-d tensors are read with ``float()`` (a host sync)."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise TypeError(f"{op}: {name} must be a number, got a tensor of shape {list(value.shape)}.")
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__}.")
    value = float(value)
    if not value == value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{op}: {name} must be finite, got {value}.")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{op}: {name} must be {'> 0' if positive else '>= 0'}, got {value}.")
    return value


# ----------------------------------------------------------------------------------------------------
# seeds and reference noise

SEED_LIMIT = 2**63


def resolve_seed(op: str, seed: int | None) -> int:
    """``seed`` checked, or a fresh one from torch's default CPU generator when ``None``.

    Drawing from the default generator makes ``torch.manual_seed`` reproduce a run.
    """
    if seed is None:
        return int(torch.randint(0, 2**31 - 1, (1,)).item())
    if isinstance(seed, torch.Tensor) and seed.numel() == 1 and not seed.is_floating_point():
        seed = int(seed.item())
    if isinstance(seed, bool):
        raise TypeError(f"{op}: seed must be an int or None, got bool.")
    if not isinstance(seed, int):
        try:
            seed = int(seed.__index__())  # numpy integers
        except Exception:
            raise TypeError(f"{op}: seed must be an int or None, got {type(seed).__name__}.") from None
    if not 0 <= seed < SEED_LIMIT:
        raise ValueError(f"{op}: seed must be in [0, 2**63), got {seed}.")
    return seed


def reference_noise(shape: Sequence[int], seed: int, device: torch.device) -> torch.Tensor:
    """Standard-normal float32 noise of ``shape`` from a torch generator seeded with ``seed``.

    The reference path's ε. It is reproducible for a seed and device but is *not* the Philox stream the
    kernels draw, so the two backends give different samples for one seed.
    """
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    return torch.randn(tuple(shape), generator=gen, device=device, dtype=torch.float32)


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype the references compute in: float64 stays, everything else is float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32


# ----------------------------------------------------------------------------------------------------
# per-row step sizes (langevin_step and simplex_descent)


def step_size_view(op: str, step_size: torch.Tensor, lead_shape: torch.Size) -> torch.Tensor:
    """``step_size`` viewed so that it broadcasts per row against a ``[*lead_shape, D]`` tensor.

    Accepted: a 0-d tensor; a tensor of exactly ``lead_shape`` (one value per row, ``[...]``); or a tensor
    whose last dimension is 1 and that broadcasts to ``[*lead_shape, 1]`` (``[..., 1]``). The exact
    ``lead_shape`` form is checked first.
    """
    if step_size.dim() == 0:
        return step_size
    if step_size.shape == lead_shape:
        return step_size.unsqueeze(-1)
    target = tuple(lead_shape) + (1,)
    ok = step_size.shape[-1] == 1 and step_size.dim() <= len(target)
    if ok:
        try:
            ok = torch.broadcast_shapes(step_size.shape, target) == torch.Size(target)
        except RuntimeError:
            ok = False
    if not ok:
        raise ValueError(
            f"{op}: step_size of shape {list(step_size.shape)} is not per row for inputs [..., D] with "
            f"[...] = {list(lead_shape)}; pass a float, a 0-d tensor, a tensor of shape {list(lead_shape)}, "
            f"or one broadcastable to {list(target)}."
        )
    return step_size


def check_step_size(op: str, step_size: object, like: torch.Tensor) -> None:
    if isinstance(step_size, torch.Tensor):
        if not step_size.is_floating_point():
            raise TypeError(f"{op}: step_size must be floating point, got {step_size.dtype}.")
        step_size_view(op, step_size, like.shape[:-1])
    elif isinstance(step_size, bool) or not isinstance(step_size, (int, float)):
        raise TypeError(f"{op}: step_size must be a float or a tensor, got {type(step_size).__name__}.")


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


# ----------------------------------------------------------------------------------------------------
# allocation, tiling and kernel construction


def empty(shape: Sequence[int], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Every buffer a launcher hands to a kernel comes from here (tests fill them with NaN)."""
    return torch.empty(tuple(shape), dtype=dtype, device=device)


def next_pow2(n: int) -> int:
    return 1 << max(0, int(n) - 1).bit_length()


#: Rows whose padded width fits ``*_TILE_MAX`` elements are held in registers whole (one pass over
#: memory); wider rows are walked in chunks (``*_LOOP_BLOCK`` in the interpreter; autotuned on GPU).
#: ``*_TILE_ELEMS`` is the size of one program's tile. Separate values for compiled GPU kernels (sized so
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
    tile_max = INTERP_TILE_MAX if INTERPRETER else GPU_TILE_MAX
    tile_elems = INTERP_TILE_ELEMS if INTERPRETER else min(GPU_TILE_ELEMS, gpu_tile_elems or GPU_TILE_ELEMS)
    loop_block = INTERP_LOOP_BLOCK if INTERPRETER else GPU_LOOP_BLOCK
    width = max(4, next_pow2(d))  # a multiple of 4: noise comes in groups of four columns
    if width <= tile_max:
        block_d, single = width, True
    else:
        block_d, single = max(4, next_pow2(min(loop_block, width))), False
    rows = max(1, min(tile_elems // block_d, next_pow2(n_rows)))
    return RowPlan(rows=rows, block_d=block_d, single=single, grid=(n_rows + rows - 1) // rows)


def elementwise_tile(n_rows: int, d: int) -> tuple[int, int]:
    """``(rows, block_d)`` of a 2-D tile for an elementwise kernel on a grid of row × column blocks."""
    tile_elems = INTERP_TILE_ELEMS if INTERPRETER else GPU_TILE_ELEMS
    block_d = max(4, min(next_pow2(d), tile_elems))
    rows = max(1, min(tile_elems // block_d, next_pow2(n_rows)))
    return rows, block_d


def require_triton() -> None:
    if not HAS_TRITON:
        raise RuntimeError(f"triton cannot be imported ({TRITON_IMPORT_ERROR}).")


class Kernel:
    """A Triton kernel built on first launch in this process's mode.

    Compiled mode: ``triton.jit`` (+ ``triton.autotune`` over ``configs()`` keyed on ``key``).
    Interpreter mode: the interpreted function with the fixed meta-parameters of ``interp``, since the
    autotuner's timing needs a GPU. ``fn`` must not call other user ``@jit`` functions (a helper would be
    built for one mode only), only ``triton.language``.
    """

    def __init__(
        self,
        fn: Callable,
        *,
        configs: Callable[[], list] | None = None,
        key: Sequence[str] = (),
        interp: dict | None = None,
        prune: Callable | None = None,
        do_not_specialize: Sequence[str] = (),
    ) -> None:
        self.fn = fn
        self.configs = configs
        self.key = list(key)
        self.interp = dict(interp or {})
        self.prune = prune
        self.do_not_specialize = list(do_not_specialize)
        self._built = None

    def _build(self):
        require_triton()
        if INTERPRETER:
            from triton.runtime.interpreter import InterpretedFunction

            return InterpretedFunction(self.fn)
        built = triton.jit(self.fn, do_not_specialize=self.do_not_specialize)
        if self.configs is not None:
            prune = {"early_config_prune": self.prune} if self.prune is not None else None
            built = triton.autotune(configs=self.configs(), key=self.key, prune_configs_by=prune)(built)
        return built

    def __getitem__(self, grid):
        """``kernel[grid](*args, interp_meta=None, **kwargs)``; in interpreter mode the meta-parameters
        the autotuner would pick come from ``interp`` updated with ``interp_meta``."""
        if self._built is None:
            self._built = self._build()
        built = self._built

        def launch(*args, interp_meta: dict | None = None, **kwargs):
            if INTERPRETER and self.configs is not None:
                kwargs = {**self.interp, **(interp_meta or {}), **kwargs}
            return built[grid](*args, **kwargs)

        return launch


def persistent_grid(n_blocks: int, device: torch.device) -> Callable[[dict], tuple]:
    """Grid for kernels that loop over row blocks: ``PER_SM`` programs per SM (0: one per block).

    Few resident programs keep a wide row's second pass in L2 (the first pass just read it).
    """
    sms = sm_count(device)

    def grid(meta: dict) -> tuple:
        per_sm = meta.get("PER_SM", 0)
        return (n_blocks if per_sm == 0 else max(1, min(n_blocks, sms * per_sm)),)

    return grid


_SM_COUNT: dict = {}


def sm_count(device: torch.device) -> int:
    if device.type != "cuda":
        return 1
    index = device.index if device.index is not None else torch.cuda.current_device()
    if index not in _SM_COUNT:
        _SM_COUNT[index] = torch.cuda.get_device_properties(index).multi_processor_count
    return _SM_COUNT[index]


def loop_configs(*, stash: bool = False) -> Callable[[], list]:
    """Autotune configs for rows wider than a tile: chunk width × warps × persistence (× stash)."""

    def make() -> list:
        out = []
        for block, warps in ((4096, 8), (8192, 16), (8192, 32)):
            for per_sm in (0, 1):
                for st in (False, True) if stash else (False,):
                    meta = {"BLOCK_D": block, "PER_SM": per_sm}
                    if stash:
                        meta["STASH"] = st
                    out.append(triton.Config(meta, num_warps=warps))
        return out

    return make


def interp_loop_meta() -> dict:
    """Meta-parameters of a chunked-row kernel under the interpreter (tests shrink the chunk)."""
    return {"BLOCK_D": INTERP_LOOP_BLOCK, "PER_SM": 0}


def warps_configs(*warps: int) -> Callable[[], list]:
    """Autotune configs that only vary ``num_warps`` (tile sizes are passed by the launcher)."""

    def make() -> list:
        return [triton.Config({}, num_warps=w) for w in warps]

    return make
