"""Argument checks shared by the Triton path and the reference of every op: tensors, scales, seeds, step sizes."""

from __future__ import annotations

from collections.abc import Sequence

import torch


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
