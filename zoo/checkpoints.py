"""Families from saved files, without running code a file names and without trusting the sizes it states.

A saved model is a family name, its hyper-parameters and its tensors. `build_family` resolves the name
through `zoo.registry` (never by import), checks each hyper-parameter against the constructor's annotation
(and the task's and the regime's settings against theirs), builds the network on the meta device (no
memory, and the number of tensors it may register is bounded by the file's), checks every shape against the
file's, and only then builds the network for real. A value the constructor refuses (a negative size, an
unknown mixer) is reported as a damaged file, naming the file and the setting where it is known.
`read_checkpoint` reads a Lightning `.ckpt` with `weights_only=True` and tells a damaged file (truncated,
corrupted) from an unsafe one (pickled code).
"""

from __future__ import annotations

import dataclasses
import inspect
import numbers
import pickle
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch.nn.modules import module as nn_module

from zoo import known, tasks
from zoo.errors import DamagedFileError, ZooError
from zoo.evaluation.training_cost import checkpoint_record
from zoo.io.typecheck import mismatch, shown, type_hints
from zoo.models.base import SETTINGS_VERSION, ReasoningFamily

Shapes = Mapping[str, tuple[int, ...]]
# What the skeleton may register beyond the file's tensor count (containers, activations, EMA bookkeeping).
_REGISTRATION_SLACK = 256
# Numbers no setting of a network takes: named when a constructor fails on a file's settings.
_IMPLAUSIBLE = 2**31


def family_arguments(
    cls: type[ReasoningFamily], hparams: Mapping[str, Any], where: str, section: str = ""
) -> dict[str, Any]:
    """The saved hyper-parameters as constructor arguments (Lightning's '_' keys left out), each one accepted
    and of the type its annotation says; `section` is where they sit in the file ("hparams"), for messages."""
    if not isinstance(hparams, Mapping):
        raise ZooError(
            f"{where} holds no hyper-parameters mapping (got {type(hparams).__name__}): export or train it again"
        )
    version = hparams.get("_settings_version", 1)
    if isinstance(version, int) and not isinstance(version, bool) and version > SETTINGS_VERSION:
        raise ZooError(
            f"{where} was written by a newer belief-zoo (settings version {version}; this one reads up to "
            f"{SETTINGS_VERSION}): upgrade belief-zoo"
        )
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        problem = f"{section + '.' if section else ''}_settings_version = {version!r}, not 1..{SETTINGS_VERSION}"
        raise DamagedFileError(f"{where} is damaged or was edited: {problem}; {_advice(where)}")
    arguments = {key: value for key, value in hparams.items() if not str(key).startswith("_")}
    arguments = cls.upgrade_settings(arguments, version)
    hints = argument_hints(cls)
    unknown = sorted(map(str, set(arguments) - set(hints)))
    if unknown:
        raise ZooError(
            f"{where} gives {cls.__name__} settings it does not take ({', '.join(unknown)}): the file was edited or "
            f"written by another belief-zoo version; {cls.__name__} takes {', '.join(sorted(hints))}"
        )
    problem = settings_problem(arguments, hints, where, section)
    if problem is not None:
        raise DamagedFileError(f"{where} is damaged or was edited: {problem}; {_advice(where)}")
    return arguments


def argument_hints(cls: type) -> dict[str, Any]:
    """Each name a constructor accepts -> its annotation (`Any` where it has none or it cannot be resolved),
    following `**kwargs` passed on to the parent class's constructor."""
    hints: dict[str, Any] = {}
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        parameters = inspect.signature(klass.__init__).parameters.values()
        resolved = type_hints(klass.__init__)
        for p in parameters:
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self":
                hints.setdefault(p.name, resolved.get(p.name, Any))
        if not any(p.kind is p.VAR_KEYWORD for p in parameters):
            break
    return hints


def settings_problem(
    arguments: Mapping[str, Any], hints: Mapping[str, Any], where: str, section: str = ""
) -> str | None:
    """What is wrong with saved constructor arguments, found without building anything: each checked against
    its annotation, the task's options by building the task, the regime's settings against its fields."""
    prefix = f"{section}." if section else ""
    for key, value in arguments.items():
        problem = mismatch(value, hints.get(key, Any), f"{prefix}{key}")
        if problem is not None:
            return problem
    task = arguments.get("task")
    if isinstance(task, Mapping):
        try:
            tasks.get(**task)
        except ZooError as error:
            return f"{prefix}task{'.' + error.key if error.key else ''}: {error}"
        except TypeError as error:  # option names that are not text
            return f"{prefix}task: {error}"
    regime = arguments.get("regime")
    if isinstance(regime, Mapping) and "class_path" in regime:
        regime_cls = known.regime(regime["class_path"], where)
        fields = {field.name for field in dataclasses.fields(regime_cls)}  # every regime is a dataclass
        hints = type_hints(regime_cls)
        settings = regime.get("init_args")
        for key, value in settings.items() if isinstance(settings, Mapping) else ():
            problem = mismatch(value, hints.get(key, Any), f"{prefix}regime.init_args.{key}")
            if key in fields and problem is not None:
                return problem
    return None


def _advice(where: str) -> str:
    if where.endswith(".ckpt"):
        return "use another checkpoint of the run, or train again"
    return "export or download the model again"


@contextmanager
def _bounded_registration(limit: int, where: str) -> Iterator[None]:
    """Abort construction once more than `limit` parameters, buffers and modules have been registered."""
    count = 0

    def counted(*_: Any) -> None:
        nonlocal count
        count += 1
        if count > limit:
            raise DamagedFileError(
                f"{where} describes a network far larger than its weights (more than {limit} tensors and modules): "
                "the settings were edited or belong to another model; export or download the model again"
            )

    handles = [
        nn_module.register_module_parameter_registration_hook(counted),
        nn_module.register_module_buffer_registration_hook(counted),
        nn_module.register_module_module_registration_hook(counted),
    ]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def _construct(cls: type[ReasoningFamily], arguments: dict[str, Any], where: str, prefix: str) -> ReasoningFamily:
    """`cls(**arguments)`; a value it refuses (a ZooError naming its key, or torch's error on a negative or
    huge size) becomes one line naming the file and, where known, the setting."""
    try:
        return cls(**arguments)
    except (DamagedFileError, NotImplementedError):
        raise
    except (ValueError, TypeError, ArithmeticError, LookupError, RuntimeError) as error:
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        if isinstance(error, ZooError) and error.key:
            detail = f"{prefix}{error.key} is refused: {first_line.removeprefix(f'{error.key}: ')}"
        else:
            detail = f"{cls.__name__} cannot be built from its settings ({first_line}){_suspects(arguments, prefix)}"
        raise DamagedFileError(f"{where} is damaged or was edited: {detail}; {_advice(where)}") from None


def _suspects(arguments: Mapping[str, Any], prefix: str) -> str:
    """A note naming the negative or astronomically large numbers among `arguments` ("; suspect width = -1"),
    or "": no size, count or rate of a network is one."""
    odd = [
        f"{prefix}{key} = {shown(value)}"
        for key, value in arguments.items()
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and (value < 0 or abs(value) >= _IMPLAUSIBLE)
    ]
    return f"; suspect {', '.join(odd)}" if odd else ""


def tensor_shapes(state: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    return {key: tuple(value.shape) for key, value in state.items() if isinstance(value, torch.Tensor)}


def shape_mismatches(expected: Shapes, found: Shapes) -> list[str]:
    """Human-readable differences between the tensors a network has (`expected`) and a file's (`found`)."""
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    resized = [
        f"{key} is {list(found[key])} in the file, {list(expected[key])} in the network"
        for key in sorted(set(expected) & set(found))
        if tuple(found[key]) != tuple(expected[key])
    ]
    problems = resized[:3]
    if missing:
        problems.append(f"Missing key(s) {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}")
    if unexpected:
        problems.append(f"Unexpected key(s) {', '.join(unexpected[:3])}{' ...' if len(unexpected) > 3 else ''}")
    return problems


def build_family(
    name: object,
    hparams: Mapping[str, Any],
    *,
    where: str,
    shapes: Shapes | None = None,
    part: str = "model",
    section: str = "",
) -> ReasoningFamily:
    """Construct the family registered as `name` from saved hyper-parameters.

    With `shapes` (the tensor shapes a file holds), the network is first built on the meta device and its
    shapes compared: a mismatch is an error before any memory is allocated. `part` says what the file holds:
    "model" (the network's own state dict, as in model.safetensors) or "family" (the whole family's, as in a
    .ckpt). `section` is where `hparams` sit in the file ("hparams" of config.json), named in messages.
    A setting that is of the wrong type, or that the family refuses, is a `DamagedFileError` naming `where`.
    """
    cls = known.family(name, where)
    arguments = family_arguments(cls, hparams, where, section)
    prefix = f"{section}." if section else ""
    if shapes is not None:
        with torch.device("meta"), _bounded_registration(len(shapes) * 4 + _REGISTRATION_SLACK, where):
            skeleton = _construct(cls, arguments, where, prefix)
        state = skeleton.model.state_dict() if part == "model" else skeleton.state_dict()
        problems = shape_mismatches(tensor_shapes(state), shapes)
        if problems:
            raise DamagedFileError(
                f"the weights in {where} do not fit the {cls.__name__} its settings describe: {'; '.join(problems)}"
                f"{_suspects(arguments, prefix)}. The files were edited or mixed with another model's; {_advice(where)}"
            )
    return _construct(cls, arguments, where, prefix)


def read_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """A `.ckpt` written by `zoo fit`, read without unpickling anything; damaged and unsafe files are told apart.

    Raises `DamagedFileError` for a truncated or corrupted file, `ZooError` for one that holds pickled objects
    or misses what a zoo checkpoint has (weights, hyper-parameters, the zoo record).
    """
    path = Path(path)
    if not path.is_file():
        raise ZooError(f"no checkpoint at {path}: give the .ckpt written by `zoo fit` (see its run directory)")
    damaged = (
        f"{path} is damaged (truncated or corrupted: {{}}), so it cannot be read: use another checkpoint of the run "
        "(`--ckpt_path last` skips damaged ones) or train again"
    )
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise DamagedFileError(damaged.format(f"not a complete checkpoint archive, {error}")) from None
    if bad is not None:
        raise DamagedFileError(damaged.format(f"{bad} fails its checksum"))
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        raise ZooError(
            f"{path} holds Python objects other than tensors and plain values ({str(error).splitlines()[0]}), and "
            "belief-zoo never unpickles code: use checkpoints written by `zoo fit`"
        ) from None
    except (RuntimeError, OSError, EOFError, ValueError, KeyError) as error:
        raise DamagedFileError(damaged.format(f"{type(error).__name__}: {str(error).splitlines()[0]}")) from None
    if not isinstance(checkpoint, dict):
        raise ZooError(
            f"{path} is not a Lightning checkpoint (it holds a {type(checkpoint).__name__}): train it with `zoo fit`"
        )
    record = checkpoint.get("zoo")
    if not isinstance(record, dict) or "family" not in record or "task" not in record:
        raise ZooError(f"{path} was not written by belief-zoo (no 'zoo' record): train it with `zoo fit`")
    for key, what in (("state_dict", "weights"), ("hyper_parameters", "hyper-parameters")):
        if not isinstance(checkpoint.get(key), dict):
            raise ZooError(
                f"{path} has no {what} ('{key}'): it was written by something other than `zoo fit`, or edited; "
                "use a checkpoint of a `zoo fit` run"
            )
    return checkpoint


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> ReasoningFamily:
    """A `.ckpt` written by `zoo fit` -> the family with its weights, in eval mode, and the training the checkpoint
    records as its `training_record` (`zoo.evaluation.training_cost.checkpoint_record`)."""
    checkpoint = read_checkpoint(path, map_location)
    state = checkpoint["state_dict"]
    model = build_family(
        checkpoint["zoo"]["family"],
        checkpoint["hyper_parameters"],
        where=str(path),
        shapes=tensor_shapes(state),
        part="family",
        section="hyper_parameters",
    )
    model.load_state_dict(state, strict=True)
    model.training_record = checkpoint_record(checkpoint)
    return model.to(map_location).eval()
