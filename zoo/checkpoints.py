"""Rebuild a family from a Lightning checkpoint without unpickling anything (`weights_only=True`)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import torch

from zoo.models.base import ReasoningFamily


def import_family(path: str) -> type[ReasoningFamily]:
    module_name, _, class_name = path.rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, ReasoningFamily)):
        raise ValueError(f"{path!r} is not a belief-zoo family")
    return cls


def family_from_config(family: str, hparams: dict[str, Any]) -> ReasoningFamily:
    """Construct family class `family` from saved hyper-parameters (keys starting with '_' are Lightning's)."""
    arguments = {key: value for key, value in hparams.items() if not key.startswith("_")}
    return import_family(family)(**arguments)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> ReasoningFamily:
    """A `.ckpt` written by `zoo fit` -> the family with its weights, in eval mode."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}: give the .ckpt written by `zoo fit` (see its run directory)")
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises UnpicklingError and friends for disallowed objects
        raise ValueError(
            f"{path} is not a belief-zoo checkpoint that loads without unpickling code ({error.__class__.__name__}); "
            "only checkpoints written by `zoo fit` are accepted"
        ) from error
    saved = checkpoint.get("zoo")
    if saved is None:
        raise ValueError(f"{path} was not written by belief-zoo (no 'zoo' record): train it with `zoo fit`")
    model = family_from_config(saved["family"], checkpoint["hyper_parameters"])
    model.load_state_dict(checkpoint["state_dict"], strict=True)
    return model.eval()
