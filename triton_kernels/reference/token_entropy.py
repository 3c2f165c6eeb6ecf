"""Pure-PyTorch :func:`token_entropy_reference`: the entropy of each row's softmax and the log-probability of
the token chosen in it."""

from __future__ import annotations

import torch

from .. import _checks
from . import compute_dtype

OP = "token_entropy"


def validate(logits: torch.Tensor, tokens: torch.Tensor) -> None:
    """Check the arguments of either path: logits ``[..., V]`` floating point, tokens ``[...]`` integer ids in
    ``0 .. V - 1`` on the same device (the range check reads the ids: one host sync)."""
    _checks.check_tensors(OP, ("logits",), (logits,))
    if not isinstance(tokens, torch.Tensor):
        raise TypeError(f"{OP}: tokens must be a torch.Tensor, got {type(tokens).__name__}.")
    if tokens.is_floating_point() or tokens.is_complex() or tokens.dtype == torch.bool:
        raise TypeError(f"{OP}: tokens must hold integer ids, got {tokens.dtype}.")
    if tokens.shape != logits.shape[:-1]:
        raise ValueError(
            f"{OP}: tokens has shape {list(tokens.shape)} but logits {list(logits.shape)} needs "
            f"{list(logits.shape[:-1])} (one token per row of logits)."
        )
    if tokens.device != logits.device:
        raise ValueError(f"{OP}: tokens is on {tokens.device} but logits is on {logits.device}.")
    if tokens.numel() and not (0 <= int(tokens.min()) and int(tokens.max()) < logits.shape[-1]):
        raise ValueError(f"{OP}: token ids must lie in 0..{logits.shape[-1] - 1} (the width of logits).")


def token_entropy_math(logits: torch.Tensor, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(entropy ``[...]``, log-probability of ``tokens`` ``[...]``) of checked arguments, in float32 (float64
    for float64 logits)."""
    log_p = torch.log_softmax(logits.to(compute_dtype(logits.dtype)), dim=-1)
    p = log_p.exp()
    entropy = -torch.where(p > 0, p * log_p, torch.zeros_like(p)).sum(-1)
    return entropy, log_p.gather(-1, tokens.long()[..., None]).squeeze(-1)


def token_entropy_reference(logits: torch.Tensor, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Pure-PyTorch :func:`token_entropy`."""
    validate(logits, tokens)
    return token_entropy_math(logits, tokens)
