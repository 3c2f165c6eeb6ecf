"""Device functions the kernels share, each written once: the Philox draw of ε and the load of α.

ε: element ``(r, c)`` of the ``[N, D]`` view of an op's input takes component ``c % 4`` of
``tl.randn4x(seed, r·G + c // 4)`` with ``G = ⌈D/4⌉``, so one Philox call feeds four elements and the
stream depends only on the seed and the element's position, never on tiles, configs or dtype. Every op
draws through :func:`normal_tile` or :func:`normal_row`, so a seed gives every op the same ε.

α: the step size as ``_launch.StepRows`` hands it to a kernel (``ALPHA_MODE``, a float, a pointer).
"""

from __future__ import annotations

from ._dispatch import tl
from ._launch import jit_helper


@jit_helper
def _normal_quads(seed, quad_offsets):
    """Float32 ε ``[..., 4·Q]`` for Philox offsets ``[..., Q]``: offset ``o`` gives four consecutive columns."""
    r0, r1, r2, r3 = tl.randn4x(seed, quad_offsets)
    return tl.interleave(tl.interleave(r0, r2), tl.interleave(r1, r3))


@jit_helper
def normal_tile(seed, rows, c0, G, BLOCK_D: tl.constexpr):
    """ε ``[R, BLOCK_D]`` of rows ``rows`` (int64 ``[R]``) × columns ``c0 .. c0 + BLOCK_D``.

    ``c0`` and ``BLOCK_D`` are multiples of 4; ``G = ⌈D/4⌉``. Columns past ``D`` get values to be masked.
    """
    quads = c0 // 4 + tl.arange(0, BLOCK_D // 4)
    return _normal_quads(seed, rows[:, None] * G + quads[None, :])


@jit_helper
def normal_row(seed, row, c0, G, BLOCK_D: tl.constexpr):
    """ε ``[BLOCK_D]`` of one row ``row`` (an int64 index) × columns ``c0 .. c0 + BLOCK_D``; as :func:`normal_tile`."""
    return _normal_quads(seed, row * G + c0 // 4 + tl.arange(0, BLOCK_D // 4))


@jit_helper
def step_sizes(alpha_ptr, alpha_value, rows, N, ALPHA_MODE: tl.constexpr):
    """Float32 α that broadcasts against a tile whose rows are ``rows`` (an int64 index, or ``[R, 1]``).

    ``ALPHA_MODE`` 0: the scalar ``alpha_value``; 1: the scalar at ``alpha_ptr``; 2: ``alpha_ptr[row]`` per
    row, the shape of ``rows`` (0 for rows at or past ``N``).
    """
    if ALPHA_MODE == 0:
        a = alpha_value
    elif ALPHA_MODE == 1:
        a = tl.load(alpha_ptr)
    else:
        a = tl.load(alpha_ptr + rows, mask=rows < N, other=0.0)
    return a
