"""The Regime base: how a family is trained. A regime computes the training step's loss through the capabilities
it requires (protocols of `zoo.contract`), so an impossible pairing is refused up front, and keeps any training
state between batches as a typed dataclass that checkpoints hold."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from torch import Tensor

from zoo import registry
from zoo.contract import CAPABILITIES, capability_methods
from zoo.errors import ZooError


@dataclasses.dataclass
class Regime:
    """Base of all regimes: a dataclass of settings (serialised to plain JSON) and the training step's loss.

    Class attributes a regime sets:
        requires: the capabilities a family must have (keys of `zoo.contract.CAPABILITIES`); the regime calls
            nothing on a family beyond their protocols.
        state_type: the dataclass of tensors the regime keeps between batches (a carry, a replay buffer), or
            None; resumed runs continue it.
        state_name: the key checkpoints store that state under.
        moved_to_family: settings older versions of the regime took that are now the family's (they change how
            it thinks), named in the error for a recipe that still sets them here.
    """

    requires: ClassVar[tuple[str, ...]] = ()
    state_type: ClassVar[type | None] = None
    state_name: ClassVar[str] = ""
    moved_to_family: ClassVar[tuple[str, ...]] = ()

    @property
    def step_cost_varies(self) -> bool:
        """Whether training steps differ in compute (a regime that draws, e.g. a number of descent steps)."""
        return False

    def spec(self) -> dict[str, Any]:
        """`{"class_path": registered name, "init_args": settings}`: what checkpoints and config.json store."""
        return {"class_path": registry.name_of(self), "init_args": dataclasses.asdict(self)}

    def training_loss(self, family: Any, batch: dict[str, Tensor], state: Any) -> tuple[Tensor, dict[str, Tensor], Any]:
        """(loss, statistics to log, the state for the next batch) of one training step on `batch`
        ({"inputs", "targets"}: [B, L]) given the state the last one left (None at the start)."""
        raise NotImplementedError(f"{type(self).__name__} does not define training_loss")

    def parameter_groups(self, family: Any, groups: list[dict[str, Any]], lr: float) -> list[dict[str, Any]]:
        """The optimiser's parameter groups given the family's (`lr` is its learning rate): a regime that trains a
        parameter differently (its own learning rate) regroups it here. Unchanged by default."""
        return groups

    @classmethod
    def upgrade(cls, settings: dict[str, Any]) -> tuple[type[Regime], dict[str, Any]]:
        """(regime class, settings) for settings saved by an older zoo; override where a setting became a regime."""
        return cls, settings

    # ---- the state between batches, as checkpoints hold it --------------------------------------------

    def saved_state(self, state: Any) -> dict[str, dict[str, Any]]:
        """`{state_name: {field: tensor}}` for a checkpoint (empty without state)."""
        if state is None or not self.state_name:
            return {}
        return {self.state_name: {field.name: getattr(state, field.name) for field in dataclasses.fields(state)}}

    def restored_state(self, saved: Mapping[str, Any]) -> Any:
        """The state `saved_state` wrote, or None where the checkpoint holds none of this regime's kind (another
        regime wrote it, or none was kept): the run then starts the state afresh."""
        fields = saved.get(self.state_name) if self.state_name else None
        if self.state_type is None or not isinstance(fields, Mapping):
            return None
        if set(fields) != {field.name for field in dataclasses.fields(self.state_type)}:
            return None
        return self.state_type(**fields)


def missing_capabilities(family: type, regime: type[Regime]) -> list[str]:
    """The capabilities `regime` needs that `family` does not declare."""
    return [name for name in regime.requires if name not in getattr(family, "capabilities", frozenset())]


def unimplemented(family: type, capability: str) -> list[str]:
    """The members of `capability`'s protocol that `family` (a class) lacks."""
    protocol = CAPABILITIES[capability]
    attributes = set(getattr(protocol, "__annotations__", {}))
    return [
        name
        for name in capability_methods(protocol)
        if not (callable(getattr(family, name, None)) or name in attributes)
    ]


def check_pairing(family: type, regime: type[Regime]) -> None:
    """Refuse training `family` with `regime` when the family lacks a capability the regime needs, or declares
    one without implementing its protocol (`zoo.contract`)."""
    unknown = [name for name in regime.requires if name not in CAPABILITIES]
    if unknown:
        raise ZooError(
            f"{regime.__name__} requires unknown capabilities {unknown}: name keys of zoo.contract.CAPABILITIES"
        )
    for name in regime.requires:
        lacking = unimplemented(family, name) if name in getattr(family, "capabilities", ()) else []
        if lacking:
            raise ZooError(
                f"{family.__name__} declares the capability {name} but does not implement {', '.join(lacking)} of "
                f"its protocol (zoo.contract.{CAPABILITIES[name].__name__})",
                key="regime",
            )
    missing = missing_capabilities(family, regime)
    if missing:
        needs = "; ".join(f"{name} (a family that {_first_line(CAPABILITIES[name])})" for name in missing)
        can = ", ".join(r.__name__ for r in registry.REGIMES.classes() if not missing_capabilities(family, r)) or "none"
        raise ZooError(
            f"{family.__name__} cannot be trained with {regime.__name__}, which needs the capability {needs}; "
            f"{family.__name__} trains with: {can}",
            key="regime",
        )


def instantiate_regime(spec: Regime | dict[str, Any], where: str = "") -> Regime:
    """Build a regime from its `spec()` (as stored in a checkpoint); a Regime passes through.

    The class is looked up by name in `zoo.registry`, never imported from the spec.
    """
    if isinstance(spec, Regime):
        return spec
    if not isinstance(spec, dict) or "class_path" not in spec:
        raise ZooError(f"a regime is written as {{class_path: NAME, init_args: {{...}}}}, got {spec!r}", key="regime")
    settings = spec.get("init_args") or {}
    if not isinstance(settings, dict):
        raise ZooError(f"the settings of regime {spec['class_path']!r} are not a mapping: {settings!r}", key="regime")
    cls, settings = registry.REGIMES.get(spec["class_path"], where).upgrade(dict(settings))
    fields = {field.name for field in dataclasses.fields(cls)}
    unknown = sorted(set(settings) - fields)
    moved = [name for name in unknown if name in cls.moved_to_family]
    if moved:
        raise ZooError(
            f"{', '.join(moved)} {'is a setting' if len(moved) == 1 else 'are settings'} of the family now, not of "
            f"{cls.__name__}{f' (in {where})' if where else ''}: {'it changes' if len(moved) == 1 else 'they change'} "
            f"how the model thinks, so set model.init_args.{moved[0]} instead of "
            f"model.init_args.regime.init_args.{moved[0]}",
            key=f"regime.init_args.{moved[0]}",
        )
    if unknown:
        raise ZooError(
            f"{cls.__name__} has no setting {', '.join(unknown)}{f' (in {where})' if where else ''}; "
            f"it takes {', '.join(sorted(fields)) or 'none'}",
            key="regime",
        )
    return cls(**settings)


def _first_line(protocol: type) -> str:
    """A protocol's docstring's first sentence, lower-cased to follow "a family that"."""
    text = " ".join((protocol.__doc__ or protocol.__name__).split())
    return text[0].lower() + text[1:].split(". ")[0].rstrip(".")
