"""The Regime base: a small, configurable object a family takes as a constructor argument."""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any


@dataclasses.dataclass
class Regime:
    """Base of all regimes. Subclasses are dataclasses, so their settings serialise to plain JSON."""

    def spec(self) -> dict[str, Any]:
        """`{"class_path", "init_args"}`: the form recipes use, and what checkpoints store."""
        cls = type(self)
        return {"class_path": f"{cls.__module__}.{cls.__qualname__}", "init_args": dataclasses.asdict(self)}


def instantiate_regime(spec: "Regime | dict[str, Any]") -> Regime:
    """Build a regime from its `spec()` (as stored in a checkpoint); a Regime passes through."""
    if isinstance(spec, Regime):
        return spec
    module_name, _, class_name = spec["class_path"].rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"unknown regime {spec['class_path']!r}: is it a class under zoo.regimes?") from error
    if not (isinstance(cls, type) and issubclass(cls, Regime)):
        raise ValueError(f"{spec['class_path']!r} is not a Regime")
    return cls(**spec.get("init_args", {}))
