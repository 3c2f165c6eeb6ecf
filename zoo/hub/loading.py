"""`zoo.load` and `init_from`: a model from a folder, a Hub repository or a .ckpt, checked against what is expected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from zoo import compat
from zoo.checkpoints import load_checkpoint
from zoo.hub.layout import HubError, evaluation_weights, read_config
from zoo.hub.mixin import HubFamily
from zoo.hub.sources import locate
from zoo.models.base import ReasoningFamily


def load(
    source: str | Path,
    revision: str | None = None,
    *,
    family: type[ReasoningFamily] | str | None = None,
    task: dict[str, Any] | None = None,
    cache_dir: str | Path | None = None,
    token: str | bool | None = None,
    local_files_only: bool = False,
    map_location: str | torch.device = "cpu",
) -> ReasoningFamily:
    """A model in eval mode, loaded strictly (a missing or unexpected weight is an error).

    Args:
        source: a folder made by `zoo export` / `save`, a Hub repo id ("org/name"), or a `.ckpt` written by
            `zoo fit` on this machine.
        revision: branch, tag or commit of a Hub repository.
        family: when given, the family (class or registered name) the model must be.
        task: when given, a task spec the model must be able to read: the same task and board size
            (difficulty options such as givens may differ).
        cache_dir, token, local_files_only: passed to huggingface_hub (default: its cache, login, and
            `HF_HUB_OFFLINE`).
        map_location: device for the weights.
    """
    kind, path = locate(source, revision, cache_dir=cache_dir, token=token, local_files_only=local_files_only)
    if kind == "checkpoint":
        model = load_checkpoint(path, map_location)
        saved_family, saved_task = type(model).__name__, model.task.spec()
    else:
        config = read_config(path)
        saved_family, saved_task = config["family"], config["task"]
    if family is not None:
        compat.require_family(saved_family, family, str(source))
    if task is not None:
        compat.require_readable(saved_task, task, str(source))
    return model if kind == "checkpoint" else HubFamily.from_pretrained(path, map_location=map_location).model


def init_from(model: ReasoningFamily, source: str | Path, revision: str | None = None, **load_options: Any) -> None:
    """Start `model` (built by a recipe) from the evaluation weights of `source` (folder, repo id or .ckpt).

    Both the live weights and the EMA take them; optimiser and schedule are not touched (a fit builds them
    fresh). The source must be the same family, trained on the same task and board size; difficulty
    options may differ (fine-tuning on harder puzzles is the point).
    """
    loaded = load(source, revision, **load_options)
    compat.require_family(type(loaded).__name__, type(model), f"init_from {source}")
    compat.require_readable(loaded.task.spec(), model.task.spec(), f"init_from {source}")
    weights = evaluation_weights(loaded)[0].state_dict()
    try:
        model.model.load_state_dict(weights, strict=True)
    except RuntimeError as error:
        differ = compat.differing_settings(dict(loaded.hparams), model, str(source))
        raise HubError(
            f"the weights of init_from {source} do not fit the recipe's {type(model).__name__}: "
            + (differ + ". Set the recipe's model sizes to the source's" if differ else " ".join(str(error).split()))
        ) from None
    if model.ema_model is not None:
        model.ema_model.load_state_dict(weights)
