"""The one list of families and regimes. Saved models name theirs, and loading resolves the name here only.

A model file (config.json of an exported folder, the hyper-parameters of a .ckpt, a recipe) names its family
and regime as plain text. That text is looked up in this registry and never imported: a file cannot choose
which code runs. The zoo's own classes register themselves when `zoo.models` and `zoo.regimes` are imported;
a family or regime from outside the zoo registers explicitly, in Python, before it is loaded:

    from zoo.registry import register_family
    register_family(MyFamily)          # now zoo.load(...) accepts config.json files that name "MyFamily"

Names are the class names ("RecursiveReasoner", "VariationalRecursion"). The class paths older zoo versions
wrote ("zoo.models.recursive.RecursiveReasoner", "zoo.regimes.DeepSupervision") map to the same entries.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TypeVar

from zoo.errors import ZooError

if TYPE_CHECKING:
    from zoo.models.base import ReasoningFamily
    from zoo.regimes.base import Regime

T = TypeVar("T", bound=type)

_FAMILIES: dict[str, type] = {}
_REGIMES: dict[str, type] = {}


def _register(table: dict[str, type], kind: str, cls: T) -> T:
    name = cls.__name__
    known = table.get(name)
    if known is not None and known is not cls:
        raise ZooError(
            f"the {kind} name {name!r} is already registered by {known.__module__}.{known.__qualname__}; "
            f"rename {cls.__module__}.{cls.__qualname__}"
        )
    table[name] = cls
    return cls


def register_family(cls: T) -> T:
    """Make a `ReasoningFamily` subclass loadable by name (usable as a class decorator)."""
    from zoo.models.base import ReasoningFamily

    if not (isinstance(cls, type) and issubclass(cls, ReasoningFamily)):
        raise TypeError(f"register_family takes a ReasoningFamily subclass, got {cls!r}")
    return _register(_FAMILIES, "family", cls)


def register_regime(cls: T) -> T:
    """Make a `Regime` subclass loadable by name (usable as a class decorator)."""
    from zoo.regimes.base import Regime

    if not (isinstance(cls, type) and issubclass(cls, Regime)):
        raise TypeError(f"register_regime takes a Regime subclass, got {cls!r}")
    return _register(_REGIMES, "regime", cls)


def _load_own() -> None:
    """Register the zoo's own families and regimes (fixed modules of this package, whatever any file says)."""
    import zoo.models  # noqa: F401
    import zoo.regimes  # noqa: F401


def _spellings(cls: type) -> set[str]:
    """The name and the class paths that mean `cls`: its module's, and its package's (`zoo.models.X`)."""
    module = cls.__module__
    return {cls.__name__, f"{module}.{cls.__qualname__}", f"{module.rpartition('.')[0]}.{cls.__qualname__}"}


def _resolve(table: dict[str, type], kind: str, value: object, where: str) -> type:
    _load_own()
    if isinstance(value, str):
        cls = table.get(value.rpartition(".")[2])
        if cls is not None and value in _spellings(cls):
            return cls
    known = ", ".join(sorted(table)) or "(none)"
    raise ZooError(
        f"unknown {kind} {value!r}{f' in {where}' if where else ''}: belief-zoo knows {known}. Names are looked up, "
        f"never imported; a {kind} from another package must be registered in Python "
        f"(zoo.registry.register_{kind}) before loading"
    )


def family(name: object, where: str = "") -> type[ReasoningFamily]:
    """The family class registered as `name` (or an old class path of it); `where` names the file for errors."""
    return _resolve(_FAMILIES, "family", name, where)


def regime(name: object, where: str = "") -> type[Regime]:
    """The regime class registered as `name` (or an old class path of it)."""
    return _resolve(_REGIMES, "regime", name, where)


def families() -> list[type[ReasoningFamily]]:
    """Every registered family, by name."""
    _load_own()
    return [_FAMILIES[name] for name in sorted(_FAMILIES)]


def regimes() -> list[type[Regime]]:
    """Every registered regime, by name."""
    _load_own()
    return [_REGIMES[name] for name in sorted(_REGIMES)]


def family_names() -> list[str]:
    return [cls.__name__ for cls in families()]


def regime_names() -> list[str]:
    return [cls.__name__ for cls in regimes()]


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
