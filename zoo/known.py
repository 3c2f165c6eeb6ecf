"""The zoo's own tasks, families and regimes, loaded, and names resolved against them.

Code that reads a name from a file or a recipe asks here rather than `zoo.registry` directly: importing this
module imports the zoo's own classes (whose modules register them), so their names resolve whatever else has
been imported. It sits above `zoo.tasks`, `zoo.models` and `zoo.regimes`; nothing below it imports it.
"""

from __future__ import annotations

import zoo.models
import zoo.regimes
import zoo.tasks
from zoo.models.base import ReasoningFamily
from zoo.regimes.base import Regime
from zoo.registry import FAMILIES, REGIMES, TASKS

__all__ = ["families", "family", "family_names", "regime", "regime_names", "regimes", "task_names"]
_OWN = (zoo.models, zoo.regimes, zoo.tasks)  # imported for their registrations


def family(name: object, where: str = "") -> type[ReasoningFamily]:
    """The family class registered as `name` (or an old class path of it); `where` names the file for errors."""
    return FAMILIES.get(name, where)


def regime(name: object, where: str = "") -> type[Regime]:
    """The regime class registered as `name` (or an old class path of it)."""
    return REGIMES.get(name, where)


def families() -> list[type[ReasoningFamily]]:
    """Every registered family, by name."""
    return FAMILIES.classes()


def regimes() -> list[type[Regime]]:
    """Every registered regime, by name."""
    return REGIMES.classes()


def family_names() -> list[str]:
    return FAMILIES.names()


def regime_names() -> list[str]:
    return REGIMES.names()


def task_names() -> list[str]:
    return TASKS.names()
