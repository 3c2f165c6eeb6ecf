"""The one registry of tasks, families and regimes: saved models and recipes name theirs, and names resolve here.

A file (config.json of an exported folder, the hyper-parameters of a .ckpt, a recipe) names its task, family
and regime as plain text. That text is looked up in these tables and never imported: a file cannot choose
which code runs. Classes register themselves with a decorator when their module is imported; the zoo's own are
imported by `zoo.known`, which is what code that reads files asks. A family or regime from outside the zoo
registers explicitly, in Python, before it is loaded:

    from zoo.registry import register_family
    register_family(MyFamily)          # now zoo.load(...) accepts config.json files that name "MyFamily"

Families and regimes are named by their class name ("RecursiveReasoner"); the class paths older zoo versions
wrote ("zoo.models.recursive.RecursiveReasoner", "zoo.regimes.DeepSupervision") mean the same entries. Tasks
are named by their `name` attribute ("sudoku").

This module is a leaf: it imports nothing of the zoo but its errors, so any module may register or look up.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Generic, TypeVar

from zoo.errors import ZooError

T = TypeVar("T", bound=type)


class Registry(Generic[T]):
    """A table of classes of one kind, by name.

    Args:
        kind: what the classes are ("task", "family", "regime"), for messages.
        base: the dotted path of the class every entry subclasses, checked by name so this module imports none.
        name_of: a class's registered name.
        old_spellings: whether class paths (`package.module.Name`) resolve too, as older saved files wrote them.
    """

    def __init__(self, kind: str, base: str, name_of: Callable[[type], object], old_spellings: bool) -> None:
        self.kind, self.base, self.name_of, self.old_spellings = kind, base, name_of, old_spellings
        self.table: dict[str, T] = {}

    def register(self, cls: T) -> T:
        """Make `cls` resolvable by its name (usable as a class decorator); refuses a name taken by another class."""
        if not isinstance(cls, type) or not any(f"{c.__module__}.{c.__qualname__}" == self.base for c in cls.__mro__):
            raise TypeError(f"register_{self.kind} takes a subclass of {self.base}, got {cls!r}")
        name = self.name_of(cls)
        if not isinstance(name, str) or not name:
            raise TypeError(f"{cls.__qualname__} needs a non-empty name to be registered as a {self.kind}")
        known = self.table.get(name)
        if known is not None and known is not cls:
            raise ZooError(
                f"the {self.kind} name {name!r} is already registered by {known.__module__}.{known.__qualname__}; "
                f"rename {cls.__module__}.{cls.__qualname__}"
            )
        self.table[name] = cls
        return cls

    def get(self, value: object, where: str = "", key: str | None = None) -> T:
        """The class registered as `value` (or, for families and regimes, an old class path of it); `where` names
        the file and `key` the setting for the error."""
        if isinstance(value, str):
            cls = self.table.get(value.rpartition(".")[2] if self.old_spellings else value)
            if cls is not None and (value in _spellings(cls) if self.old_spellings else True):
                return cls
        known = ", ".join(self.names()) or "(none)"
        advice = (
            f" Names are looked up, never imported; a {self.kind} from another package must be registered in Python "
            f"(zoo.registry.register_{self.kind}) before loading"
            if self.old_spellings
            else ""
        )
        raise ZooError(
            f"unknown {self.kind} {value!r}{f' in {where}' if where else ''}: belief-zoo knows {known}.{advice}",
            key=key,
        )

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        return sorted(self.table)

    def classes(self) -> list[T]:
        """Every registered class, by name."""
        return [self.table[name] for name in self.names()]


TASKS: Registry[type] = Registry("task", "zoo.tasks.base.Task", lambda cls: getattr(cls, "name", None), False)
FAMILIES: Registry[type] = Registry("family", "zoo.models.base.ReasoningFamily", lambda cls: cls.__name__, True)
REGIMES: Registry[type] = Registry("regime", "zoo.regimes.base.Regime", lambda cls: cls.__name__, True)

register_task = TASKS.register
register_family = FAMILIES.register
register_regime = REGIMES.register


def _spellings(cls: type) -> set[str]:
    """The name and the class paths that mean `cls`: its module's, and its package's (`zoo.models.X`)."""
    module = cls.__module__
    return {cls.__name__, f"{module}.{cls.__qualname__}", f"{module.rpartition('.')[0]}.{cls.__qualname__}"}


def name_of(obj: object) -> str:
    """The registered name of a family or regime (instance or class)."""
    cls = obj if isinstance(obj, type) else type(obj)
    return cls.__name__


def recipe_path(obj: object) -> str:
    """The class path a LightningCLI recipe uses for a class: its package's re-export where there is one
    (`zoo.models.RecursiveReasoner`), else its module's."""
    cls = obj if isinstance(obj, type) else type(obj)
    package = sys.modules.get(cls.__module__.rpartition(".")[0])
    if package is not None and getattr(package, cls.__name__, None) is cls:
        return f"{package.__name__}.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"
