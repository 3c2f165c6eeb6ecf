"""The Regime base: a small, configurable object a family takes as a constructor argument."""

from __future__ import annotations

import dataclasses
from typing import Any

from zoo import registry
from zoo.errors import ZooError


@dataclasses.dataclass
class Regime:
    """Base of all regimes. Subclasses are dataclasses, so their settings serialise to plain JSON."""

    def spec(self) -> dict[str, Any]:
        """`{"class_path": registered name, "init_args": settings}`: what checkpoints and config.json store."""
        return {"class_path": registry.name_of(self), "init_args": dataclasses.asdict(self)}


def instantiate_regime(spec: "Regime | dict[str, Any]", where: str = "") -> Regime:
    """Build a regime from its `spec()` (as stored in a checkpoint); a Regime passes through.

    The class is looked up by name in `zoo.registry`, never imported from the spec.
    """
    if isinstance(spec, Regime):
        return spec
    if not isinstance(spec, dict) or "class_path" not in spec:
        raise ZooError(f"a regime is written as {{class_path: NAME, init_args: {{...}}}}, got {spec!r}", key="regime")
    cls = registry.regime(spec["class_path"], where)
    settings = spec.get("init_args") or {}
    fields = {field.name for field in dataclasses.fields(cls)}
    unknown = sorted(set(settings) - fields) if isinstance(settings, dict) else ["(not a mapping)"]
    if unknown:
        raise ZooError(
            f"{cls.__name__} has no setting {', '.join(unknown)}{f' (in {where})' if where else ''}; "
            f"it takes {', '.join(sorted(fields)) or 'none'}",
            key="regime",
        )
    return cls(**settings)
