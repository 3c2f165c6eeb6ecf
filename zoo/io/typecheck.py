"""Whether a value read from a file (JSON, or a checkpoint's plain values) fits the annotation of the argument
or field it is meant for, so that a file is refused with the setting at fault before anything is built.

    mismatch(16.5, int, "width")                         -> "width = 16.5, not an int"
    mismatch([1, 1e12], Sequence[int | str], "budgets")  -> "budgets[1] = 1000000000000.0, not int | str"
    mismatch({"a": 1}, SomeTypedDict, "entry")           -> "entry has no 'b'"

Checked: None, bool, int, float (finite), str, Literal, unions, sequences and tuples, dicts and TypedDicts.
Any other annotation (a class such as `Regime`, `Any`) is left to the constructor, whose own errors the
caller reports.
"""

from __future__ import annotations

import math
import reprlib
import sys
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Union

_UNIONS = (Union, types.UnionType)
_SEQUENCES = (list, tuple, Sequence, typing.Sequence)
_MAPPINGS = (dict, Mapping, typing.Mapping)
_SHORT = reprlib.Repr()  # a value shown in a message: a few items, a few characters
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlong, _SHORT.maxlist, _SHORT.maxdict = 40, 40, 40, 4, 4


def type_hints(owner: Callable[..., Any] | type) -> dict[str, Any]:
    """The resolved annotations of a function or class; one that cannot be resolved (a name imported only
    for type checkers) is left out rather than failing the rest."""
    try:
        return typing.get_type_hints(owner)
    except Exception:  # noqa: BLE001 - any unresolvable name; resolved one by one below
        pass
    module = sys.modules.get(getattr(owner, "__module__", ""), None)
    namespace = vars(module) if module is not None else {}
    hints = {}
    for name, annotation in getattr(owner, "__annotations__", {}).items():
        holder = types.SimpleNamespace(__annotations__={name: annotation})
        try:
            hints[name] = typing.get_type_hints(holder, globalns=namespace)[name]
        except Exception:  # noqa: BLE001 - unresolvable: left unchecked
            continue
    return hints


def mismatch(value: object, hint: Any, key: str) -> str | None:
    """Why `value` does not fit `hint` ("key = value, not what"), naming the part at fault by its path from
    `key`; None when it fits or `hint` is not one this module checks."""
    found = _mismatch(value, hint, key)
    return None if found is None else found[1]


def _mismatch(value: object, hint: Any, key: str) -> tuple[int, str] | None:
    """(depth of the part at fault, message) or None; the depth lets a union report its deepest failure."""
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if hint is None or hint is type(None):
        return None if value is None else (0, _wrong(key, value, "null"))
    if origin in _UNIONS:
        failures = [_mismatch(value, member, key) for member in arguments]
        if any(failure is None for failure in failures):
            return None
        deepest = max(failures, key=lambda failure: failure[0])  # type: ignore[index]
        return deepest if deepest[0] > 0 else (0, _wrong(key, value, _text(hint)))  # type: ignore[index]
    if origin is Literal:
        fits = any(value == choice and type(value) is type(choice) for choice in arguments)
        return None if fits else (0, _wrong(key, value, _text(hint)))
    if hint in (bool, int, float, str):
        return None if _scalar_fits(value, hint) else (0, _wrong(key, value, _text(hint)))
    if typing.is_typeddict(hint):
        return _typeddict_mismatch(value, hint, key)
    if origin in _MAPPINGS or hint in _MAPPINGS:
        if not isinstance(value, Mapping):
            return 0, _wrong(key, value, "a mapping")
        item_hint = arguments[1] if len(arguments) == 2 else Any
        for name, item in value.items():
            found = _mismatch(item, item_hint, _join(key, name))
            if found is not None:
                return found[0] + 1, found[1]
        return None
    if origin in _SEQUENCES or hint in (list, tuple):
        if not isinstance(value, (list, tuple)):
            return 0, _wrong(key, value, _text(hint))
        if origin is tuple and arguments and arguments[-1] is not Ellipsis:
            if len(value) != len(arguments):
                return 0, _wrong(key, value, _text(hint))
            item_hints = list(arguments)
        else:
            item_hints = [arguments[0] if arguments else Any] * len(value)
        for index, (item, item_hint) in enumerate(zip(value, item_hints)):
            found = _mismatch(item, item_hint, f"{key}[{index}]")
            if found is not None:
                return found[0] + 1, found[1]
        return None
    return None


def _typeddict_mismatch(value: object, hint: Any, key: str) -> tuple[int, str] | None:
    if not isinstance(value, Mapping):
        return 0, _wrong(key, value, "a mapping")
    missing = sorted(name for name in hint.__required_keys__ if name not in value)
    if missing:
        return 1, f"{key} has no {missing[0]!r}" if key else f"no {missing[0]!r} entry"
    fields = type_hints(hint)
    for name, item in value.items():
        if name in fields:
            found = _mismatch(item, fields[name], _join(key, name))
            if found is not None:
                return found[0] + 1, found[1]
    return None


def _join(key: str, name: object) -> str:
    return f"{key}.{name}" if key else str(name)


def _scalar_fits(value: object, hint: type) -> bool:
    if hint is bool or isinstance(value, bool):
        return hint is bool and isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and math.isfinite(value)
    return isinstance(value, hint)


def _text(hint: Any) -> str:
    """An annotation as a reader would say it: "an int", "one of 'mlp', 'attention'", "int | str | null"."""
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin is Literal:
        return "one of " + ", ".join(repr(choice) for choice in arguments)
    if origin in _UNIONS:
        return " | ".join(_member_text(member) for member in arguments)
    if origin is tuple and arguments and arguments[-1] is not Ellipsis:
        return f"a list of {len(arguments)}"
    if origin in _SEQUENCES or hint in (list, tuple):
        return "a list"
    if origin in _MAPPINGS or hint in _MAPPINGS or typing.is_typeddict(hint):
        return "a mapping"
    names = {bool: "true or false", int: "an int", float: "a finite number", str: "a string"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def _member_text(hint: Any) -> str:
    if hint is type(None):
        return "null"
    return getattr(hint, "__name__", str(hint)) if hint in (bool, int, float, str) else _text(hint)


def shown(value: object) -> str:
    """`value` as a message shows it: a few items, a few characters."""
    try:
        return _SHORT.repr(value)
    except ValueError:  # an int too long to print
        return "a number too long to print"


def _wrong(key: str, value: object, expected: str) -> str:
    return f"{key} = {shown(value)}, not {expected}"
