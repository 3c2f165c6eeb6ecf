"""The Regime base: how a family is trained. A regime computes the training step's loss from what a family
exposes, and says which of those capabilities it needs, so an impossible pairing is refused up front."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar

from torch import Tensor

from zoo import registry
from zoo.errors import ZooError

if TYPE_CHECKING:
    from zoo.models.base import ReasoningFamily

# What a family can expose to a regime, and what exposing it means (see docs/adding-a-family.md).
CAPABILITIES = {
    "supervision_step": "advances a per-puzzle state by one supervision step and reads answer and halting logits "
    "(`initial_state`, `embed`, `supervision_step`)",
    "latent_posterior": "samples its state updates from a learned prior, and in training from a posterior that sees "
    "the target, reporting their KL (`supervision_step(..., target=...)`)",
    "value_head": "scores its own answers with a value head (`SupervisionStep.value_logits`)",
    "energy_descent": "descends a learned energy over beliefs (`initial_logits`, `energy_and_grad`, `descend`)",
}


@dataclasses.dataclass
class Regime:
    """Base of all regimes: a dataclass of settings (serialised to plain JSON) and the training step's loss.

    `requires` names the capabilities a family must have (keys of `CAPABILITIES`); `state_attributes` names
    the training state the regime keeps between batches in `family.regime_state` (a carry, a replay buffer),
    which checkpoints hold so that a resumed run continues it.
    """

    requires: ClassVar[tuple[str, ...]] = ()
    state_attributes: ClassVar[tuple[str, ...]] = ()

    def spec(self) -> dict[str, Any]:
        """`{"class_path": registered name, "init_args": settings}`: what checkpoints and config.json store."""
        return {"class_path": registry.name_of(self), "init_args": dataclasses.asdict(self)}

    def training_loss(self, family: ReasoningFamily, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """The loss of one training step on `batch` ({"inputs", "targets"}: [B, L]) and statistics to log."""
        raise NotImplementedError(f"{type(self).__name__} does not define training_loss")

    @classmethod
    def upgrade(cls, settings: dict[str, Any]) -> tuple[type[Regime], dict[str, Any]]:
        """(regime class, settings) for settings saved by an older zoo; override where a setting became a regime."""
        return cls, settings


def missing_capabilities(family: type, regime: type[Regime]) -> list[str]:
    """The capabilities `regime` needs that `family` does not declare."""
    return [name for name in regime.requires if name not in getattr(family, "capabilities", frozenset())]


def check_pairing(family: type, regime: type[Regime]) -> None:
    """Refuse training `family` with `regime` when the family lacks a capability the regime needs."""
    missing = missing_capabilities(family, regime)
    if missing:
        needs = "; ".join(f"{name} (a family that {CAPABILITIES.get(name, name)})" for name in missing)
        can = (
            ", ".join(registry.name_of(r) for r in registry.regimes() if not missing_capabilities(family, r)) or "none"
        )
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
    cls, settings = registry.regime(spec["class_path"], where).upgrade(dict(settings))
    fields = {field.name for field in dataclasses.fields(cls)}
    unknown = sorted(set(settings) - fields)
    if unknown:
        raise ZooError(
            f"{cls.__name__} has no setting {', '.join(unknown)}{f' (in {where})' if where else ''}; "
            f"it takes {', '.join(sorted(fields)) or 'none'}",
            key="regime",
        )
    return cls(**settings)
