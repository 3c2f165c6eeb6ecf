"""Families from saved files, without running code a file names and without trusting the sizes it states.

A saved model is a family name, its hyper-parameters and its tensors. `build_family` resolves the name
through `zoo.registry` (never by import), builds the network on the meta device (no memory, and the number
of tensors it may register is bounded by the file's), checks every shape against the file's, and only then
builds the network for real. `read_checkpoint` reads a Lightning `.ckpt` with `weights_only=True` and tells
a damaged file (truncated, corrupted) from an unsafe one (pickled code).
"""

from __future__ import annotations

import inspect
import pickle
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch.nn.modules import module as nn_module

from zoo import registry
from zoo.errors import DamagedFileError, ZooError
from zoo.models.base import ReasoningFamily

Shapes = Mapping[str, tuple[int, ...]]
# What the skeleton may register beyond the file's tensor count (containers, activations, EMA bookkeeping).
_REGISTRATION_SLACK = 256


def family_arguments(cls: type[ReasoningFamily], hparams: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The saved hyper-parameters as constructor arguments (Lightning's '_' keys left out), each one accepted."""
    if not isinstance(hparams, Mapping):
        raise ZooError(
            f"{where} holds no hyper-parameters mapping (got {type(hparams).__name__}): export or train it again"
        )
    arguments = {key: value for key, value in hparams.items() if not str(key).startswith("_")}
    arguments = {**getattr(cls, "legacy_defaults", {}), **arguments}
    accepted = accepted_arguments(cls)
    unknown = sorted(set(arguments) - accepted)
    if unknown:
        raise ZooError(
            f"{where} gives {cls.__name__} settings it does not take ({', '.join(unknown)}): the file was edited or "
            f"written by another belief-zoo version; {cls.__name__} takes {', '.join(sorted(accepted))}"
        )
    return arguments


def accepted_arguments(cls: type) -> set[str]:
    """Names a constructor accepts, following `**kwargs` passed on to the parent class's constructor."""
    accepted: set[str] = set()
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        parameters = inspect.signature(klass.__init__).parameters.values()
        accepted |= {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)} - {"self"}
        if not any(p.kind is p.VAR_KEYWORD for p in parameters):
            break
    return accepted


@contextmanager
def _bounded_registration(limit: int, where: str) -> Iterator[None]:
    """Abort construction once more than `limit` parameters, buffers and modules have been registered."""
    count = 0

    def counted(*_: Any) -> None:
        nonlocal count
        count += 1
        if count > limit:
            raise ZooError(
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


def _construct(cls: type[ReasoningFamily], arguments: dict[str, Any], where: str) -> ReasoningFamily:
    try:
        return cls(**arguments)
    except ZooError:
        raise
    except (TypeError, ValueError) as error:
        raise ZooError(f"{where} describes a {cls.__name__} this belief-zoo cannot build: {error}") from error


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
    name: object, hparams: Mapping[str, Any], *, where: str, shapes: Shapes | None = None, part: str = "model"
) -> ReasoningFamily:
    """Construct the family registered as `name` from saved hyper-parameters.

    With `shapes` (the tensor shapes a file holds), the network is first built on the meta device and its
    shapes compared: a mismatch is an error before any memory is allocated. `part` says what the file holds:
    "model" (the network's own state dict, as in model.safetensors) or "family" (the whole family's, as in a
    .ckpt).
    """
    cls = registry.family(name, where)
    arguments = family_arguments(cls, hparams, where)
    if shapes is not None:
        with torch.device("meta"), _bounded_registration(len(shapes) * 4 + _REGISTRATION_SLACK, where):
            skeleton = _construct(cls, arguments, where)
        state = skeleton.model.state_dict() if part == "model" else skeleton.state_dict()
        problems = shape_mismatches(tensor_shapes(state), shapes)
        if problems:
            raise ZooError(
                f"the weights in {where} do not fit the {cls.__name__} its settings describe: {'; '.join(problems)}. "
                "The files were edited or mixed with another model's; export or download the model again"
            )
    return _construct(cls, arguments, where)


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
    """A `.ckpt` written by `zoo fit` -> the family with its weights, in eval mode."""
    checkpoint = read_checkpoint(path, map_location)
    state = checkpoint["state_dict"]
    model = build_family(
        checkpoint["zoo"]["family"],
        checkpoint["hyper_parameters"],
        where=str(path),
        shapes=tensor_shapes(state),
        part="family",
    )
    model.load_state_dict(state, strict=True)
    return model.to(map_location).eval()
