"""The one dispatch rule shared by every fused op: Triton kernels or the pure-PyTorch reference.

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
path works). Argument checks live in ``_checks``, launch helpers in ``_launch``, the device functions the
kernels share in ``_jit_helpers``, and the references in ``reference``.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import types
import warnings
from collections.abc import Iterator

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
