"""The model folder: which files it holds, config.json, and building a family from it safely.

    config.json        {"library_name": "belief-zoo", "zoo_version", "format_version", "family": registered name,
                        "task": task spec, "hparams": the family's constructor arguments (task and regime spec
                        included), "weights": "ema" | "live", "num_parameters", "weights_sha256", and where
                        known "training": {"steps", "batch_size", "flops_per_step", "flops"}
                        (`zoo.evaluation.training_cost`)}
    model.safetensors  the *evaluation* weights: `family.ema_model` where the family keeps an EMA, else
                       `family.model` (keys of `family.model.state_dict()`, no prefix)
    README.md          the model card
    results.json, budget_curve.png, recipe.yaml   when the run that trained the model left them

Loading reads JSON and safetensors only. The family is looked up by name in `zoo.registry`; its sizes are
checked against the safetensors header before any tensor is allocated; the weights' checksum is checked
against config.json, so a damaged file is reported as damaged.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal, TypedDict

import torch
from huggingface_hub import constants
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_model

from zoo import tasks
from zoo.checkpoints import build_family
from zoo.errors import DamagedFileError, ZooError
from zoo.evaluation.training_cost import TrainingEntry, TrainingRecord, training_entry
from zoo.io.typecheck import mismatch
from zoo.models.base import ReasoningFamily

CONFIG_NAME = constants.CONFIG_NAME  # config.json
WEIGHTS_NAME = constants.SAFETENSORS_SINGLE_FILE  # model.safetensors
CARD_NAME = constants.REPOCARD_NAME  # README.md
RESULTS_NAME = "results.json"
PLOT_NAME = "budget_curve.png"
RECIPE_NAME = "recipe.yaml"
EVAL_DIR = "eval"  # where `zoo eval FOLDER` writes its results
# What a model folder holds, in the order they are pushed. Nothing else is pushed or downloaded by default.
MODEL_FILES = (CONFIG_NAME, WEIGHTS_NAME, CARD_NAME, RESULTS_NAME, PLOT_NAME, RECIPE_NAME)
# Entries of a model folder that the zoo writes and replaces with the model: its files and `zoo eval`'s results.
OWNED_ENTRIES = frozenset({*MODEL_FILES, EVAL_DIR})
# Files that can only be read by unpickling. Never loaded, never downloaded, never pushed.
PICKLED = ("*.bin", "*.ckpt", "*.pt", "*.pth", "*.pkl", "*.pickle", "*.joblib")
# Code, in any form a machine could run. Never downloaded, whatever the user asks for.
CODE = (
    "*.py",
    "*.pyc",
    "*.pyo",
    "*.pyd",
    "*.pyx",
    "*.so",
    "*.dll",
    "*.dylib",
    "*.exe",
    "*.sh",
    "*.bat",
    "*.cmd",
    "*.ps1",
    "*.ipynb",
    "*.whl",
    "*.egg",
    "*.jar",
)
FORMAT_VERSION = 1
LIBRARY_NAME = "belief-zoo"
# config.json is a few kilobytes; a larger file is not one the zoo wrote.
MAX_JSON_BYTES = 1 << 20


def zoo_version() -> str:
    try:
        return version(LIBRARY_NAME)
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


class HubError(ZooError):
    """A model could not be loaded, saved, pushed or downloaded; the message says what to do."""


def matches(name: str, patterns: tuple[str, ...] | list[str]) -> bool:
    return any(fnmatch.fnmatch(name, pattern) or fnmatch.fnmatch(Path(name).name, pattern) for pattern in patterns)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_digest(path: Path) -> str:
    """A digest of the tensors in a safetensors file (names, dtypes, shapes, values), whatever the byte layout:
    two saves of the same weights may order the file differently."""
    digest = hashlib.sha256()
    with safe_open(str(path), framework="pt") as handle:
        for key in sorted(handle.keys()):
            tensor = handle.get_tensor(key)
            digest.update(f"{key}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
            digest.update(tensor.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


# ---- the family's settings and weights -------------------------------------------------------------


def plain_hparams(model: ReasoningFamily) -> dict[str, Any]:
    """The family's constructor arguments as JSON values (Lightning's own '_' keys left out)."""
    hparams = {key: value for key, value in dict(model.hparams).items() if not key.startswith("_")}
    try:
        return json.loads(json.dumps(hparams))
    except TypeError as error:
        raise HubError(
            f"{type(model).__name__}'s hyper-parameters are not plain JSON values ({error}): a family must save "
            "its constructor arguments as numbers, strings, lists and dicts (the regime as its spec)"
        ) from None


def evaluation_weights(model: ReasoningFamily) -> tuple[torch.nn.Module, str]:
    """The network `inference_model` uses in eval mode: (`ema_model`, "ema") if kept, else (`model`, "live")."""
    extra = sorted({key.split(".")[0] for key in model.state_dict()} - {"model", "ema_model"})
    if extra:
        raise HubError(
            f"{type(model).__name__} keeps weights outside `model` and `ema_model` ({', '.join(extra)}), which the "
            "Hub layout does not store: keep every trained tensor under `self.model`"
        )
    if model.ema_model is not None:
        return model.ema_model, "ema"
    return model.model, "live"


def model_config(model: ReasoningFamily, weights_sha256: str) -> dict[str, Any]:
    """What config.json holds for `model`, whose model.safetensors has checksum `weights_sha256`; "training"
    where its `training_record` says how it was trained (the FLOPs of a step counted if not yet)."""
    network, kind = evaluation_weights(model)
    training = training_entry(model)
    return {
        "library_name": LIBRARY_NAME,
        "zoo_version": zoo_version(),
        "format_version": FORMAT_VERSION,
        "family": type(model).__name__,
        "task": model.task.spec(),
        "hparams": plain_hparams(model),
        "weights": kind,
        "num_parameters": sum(p.numel() for p in network.parameters()),
        "weights_sha256": weights_sha256,
        **({} if training is None else {"training": training}),
    }


class _NeededEntries(TypedDict):
    library_name: str
    family: str
    task: dict[str, Any]
    hparams: dict[str, Any]


class ConfigEntries(_NeededEntries, total=False):
    """config.json as loading reads it: the entries it needs, and the types of the others (see the module
    docstring). The family's own settings under "hparams" are checked against its constructor."""

    zoo_version: str
    format_version: int
    weights: Literal["ema", "live"]
    num_parameters: int
    weights_sha256: str
    training: TrainingEntry


def read_config(folder: Path) -> dict[str, Any]:
    """config.json of a model folder, checked to be belief-zoo's and well-formed (each entry of the right type,
    the task buildable) before anything is built; refuses folders of pickled weights."""
    refuse_pickled(folder)
    path = folder / CONFIG_NAME
    if not path.is_file():
        raise HubError(
            f"{folder} is not a belief-zoo model folder (no {CONFIG_NAME}): make one with `zoo export CKPT {folder}`"
        )
    config = read_json(path, "export or download the model again")
    if not isinstance(config, dict) or config.get("library_name") != LIBRARY_NAME:
        raise HubError(
            f"{path} was not written by belief-zoo (library_name is not {LIBRARY_NAME!r}): "
            "only folders made by `zoo export` (or `zoo.hub.save`) can be loaded"
        )
    problem = mismatch(config, ConfigEntries, "")
    if problem is None and config.get("format_version", FORMAT_VERSION) < 1:
        problem = f"format_version = {config['format_version']}, not a version (1 or more)"
    if problem is None:
        try:
            tasks.get(**config["task"])
        except ZooError as error:
            problem = f"task{'.' + error.key if error.key else ''}: {error}"
    if problem is not None:
        raise DamagedFileError(f"{path} is damaged or was edited: {problem}; export or download the model again")
    if config.get("format_version", FORMAT_VERSION) > FORMAT_VERSION:
        raise HubError(
            f"{path} uses format version {config['format_version']!r}, newer than this belief-zoo "
            f"({zoo_version()}) reads: upgrade belief-zoo"
        )
    return config


def read_json(path: Path, advice: str, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """The JSON value in `path`, a file the zoo wrote; one that is not JSON, is nested too deeply to read or
    is larger than `max_bytes` (far more than the zoo writes) is a `DamagedFileError` naming it, with `advice`
    (what to do)."""
    size = path.stat().st_size
    if size > max_bytes:
        raise DamagedFileError(f"{path} is damaged ({size:,} bytes, far more than the zoo writes there): {advice}")
    try:
        return json.loads(path.read_bytes())
    except RecursionError:
        raise DamagedFileError(f"{path} is damaged (JSON nested too deeply to read): {advice}") from None
    except ValueError as error:  # not JSON, not UTF-8, or a number of more digits than Python reads
        raise DamagedFileError(f"{path} is damaged (not valid JSON: {error}): {advice}") from None


def refuse_pickled(folder: Path, names: list[str] | None = None) -> None:
    """Raise when a model folder (or a repository's file list `names`) offers weights only in pickled form."""
    names = names if names is not None else [p.name for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
    if WEIGHTS_NAME in names:
        return  # pickled files beside the safetensors are never opened, nor pushed
    pickled = sorted(name for name in names if matches(name, PICKLED))
    if pickled:
        raise HubError(
            f"{folder} holds pickled weights ({', '.join(pickled)}) and no {WEIGHTS_NAME}: belief-zoo never "
            "unpickles downloaded files. Ask the author for safetensors, or, for a checkpoint you trained "
            "yourself, give the .ckpt path (read with weights_only=True) or run `zoo export CKPT DIR`"
        )


def weights_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape, from the safetensors header only (no tensor is read)."""
    try:
        with safe_open(str(path), framework="pt") as handle:
            return {key: tuple(handle.get_slice(key).get_shape()) for key in handle.keys()}
    except (SafetensorError, OSError, ValueError) as error:
        raise DamagedFileError(
            f"{path} is damaged (not a readable safetensors file: {error}): export or download the model again"
        ) from None


def check_weights(folder: Path, config: dict[str, Any]) -> Path:
    """model.safetensors of `folder`, checked against the checksum config.json recorded."""
    weights = folder / WEIGHTS_NAME
    if not weights.is_file():
        raise HubError(f"{folder} has no {WEIGHTS_NAME}: export the model again with `zoo export CKPT {folder}`")
    expected = config.get("weights_sha256")
    if expected is not None and file_sha256(weights) != expected:
        raise DamagedFileError(
            f"{weights} is damaged or was replaced: its checksum is not the one {CONFIG_NAME} records. "
            "Export or download the model again"
        )
    return weights


def build_from_folder(folder: Path, map_location: str | torch.device = "cpu") -> ReasoningFamily:
    """Construct the family config.json names, sized by and checked against model.safetensors, loaded strictly;
    config.json's "training" entry, where it has one, becomes the family's `training_record`."""
    config = read_config(folder)
    weights = check_weights(folder, config)
    model = build_family(
        config["family"],
        config["hparams"],
        where=str(folder / CONFIG_NAME),
        shapes=weights_shapes(weights),
        section="hparams",
    )
    try:
        load_model(model.model, weights, strict=True, device=str(map_location))
    except (RuntimeError, SafetensorError) as error:
        raise DamagedFileError(
            f"{weights} is damaged ({' '.join(str(error).split())}): export or download it again"
        ) from None
    if model.ema_model is not None:
        model.ema_model.load_state_dict(model.model.state_dict())
    if "training" in config:
        model.training_record = TrainingRecord.from_entry(config["training"])
    return model.to(map_location).eval()
