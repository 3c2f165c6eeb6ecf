"""Writing model folders: `save` (a model in memory), `export` (a checkpoint of `zoo fit`), and `place`, the
rule by which a finished folder goes into its target (which `zoo download --dir` follows too).

A model folder is built in full in a staged folder beside its target, then moved in (`zoo.io.files`), so a
failure part-way leaves the target as it was. Into a folder that is not empty, the zoo writes only when
that folder holds an export of the *same* model (the same weights): a user's edited card is then kept.
Another model's export, or files the zoo did not write, need `force`; with it, every file of the old
model (card, results, plot, and its `zoo eval` results in eval/) goes, and files the zoo does not own stay,
results of other models under eval/ (`zoo eval NAME` run in the folder) included. The target itself is
checked under the output rule of `zoo.io.outputs` (no devices or system folders, `~` expanded) before any work.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safetensors import SafetensorError

from zoo import compat
from zoo.checkpoints import load_checkpoint
from zoo.errors import ZooError
from zoo.evaluation.training_cost import TrainingEntry, TrainingRecord
from zoo.hub.card import describe_task
from zoo.hub.layout import (
    CARD_NAME,
    CONFIG_NAME,
    EVAL_DIR,
    OWNED_ENTRIES,
    PLOT_NAME,
    RECIPE_NAME,
    RESULTS_NAME,
    WEIGHTS_NAME,
    HubError,
    read_config,
    weights_digest,
)
from zoo.hub.mixin import HubFamily
from zoo.io import outputs, redact
from zoo.io.files import commit_folder, staged_folder
from zoo.io.typecheck import mismatch
from zoo.models.base import ReasoningFamily

# What `zoo eval FOLDER` writes into FOLDER/eval: the model's own results, which go with the model. Anything
# else under eval/ (`zoo eval NAME` run inside the folder writes eval/ORG--NAME) is another model's, and stays.
EVAL_FILES = frozenset({f"{EVAL_DIR}/{RESULTS_NAME}", f"{EVAL_DIR}/{PLOT_NAME}"})


@dataclass
class Written:
    """Where a model folder was written, and what happened to what was there."""

    folder: Path
    kept_card: bool = False  # the folder's card (same model) was kept instead of a new one
    replaced: str | None = None  # the model whose files were replaced (with force), described


def _describe(folder: Path) -> str:
    try:
        config = read_config(folder)
    except ZooError:
        return "files of another program"
    return f"{config['family']} on {describe_task(config['task'])}"


def _same_model(old: Path, new: Path) -> bool:
    """Whether two model folders hold the same weights of the same family and task."""
    try:
        a, b = read_config(old), read_config(new)
        if (a["family"], a["task"]) != (b["family"], b["task"]):
            return False
        return weights_digest(old / WEIGHTS_NAME) == weights_digest(new / WEIGHTS_NAME)
    except (ZooError, OSError, SafetensorError):
        return False


def _outgoing(target: Path, entries: set[str]) -> set[str]:
    """What goes of the model folder `target` with its model: `entries`, but of a folder eval/ its own results."""
    evaluations = target / EVAL_DIR
    if EVAL_DIR not in entries or evaluations.is_symlink() or not evaluations.is_dir():
        return entries
    return (entries - {EVAL_DIR}) | EVAL_FILES


def place(staged: Path, target: Path, *, force: bool, keep_card: bool, flag: str = "--force") -> Written:
    """Move a complete model folder `staged` into `target` under the rules of this module's docstring.

    `keep_card`: keep the target's README.md when it belongs to the same model.
    """
    if target.exists() and not target.is_dir():
        raise HubError(f"{target} is a file, not a folder: give a folder path for the model")
    entries = {entry.name for entry in target.iterdir()} if target.is_dir() else set()
    if not entries:
        commit_folder(staged, target)
        return Written(target.resolve())
    zoo_folder = (target / CONFIG_NAME).is_file() and _describe(target) != "files of another program"
    owned = entries & OWNED_ENTRIES if zoo_folder else set()
    foreign = sorted(entries - owned)
    same = zoo_folder and _same_model(target, staged)
    if not force:
        if foreign:
            shown = ", ".join(foreign[:3]) + (" ..." if len(foreign) > 3 else "")
            raise HubError(
                f"{target} is not empty and holds files belief-zoo did not write ({shown}): choose a new or empty "
                f"folder, or pass {flag} to write the model's files into it (your other files stay; files of the "
                "same names are replaced)"
            )
        if not same:
            raise HubError(
                f"{target} holds another model ({_describe(target)}): choose a new folder, or pass {flag} to "
                "replace it (its card, results and plot go with it)"
            )
    kept: set[str] = set()
    if same and keep_card and (target / CARD_NAME).is_file():
        kept.add(CARD_NAME)
        (staged / CARD_NAME).unlink(missing_ok=True)
    if same and (target / EVAL_DIR).is_dir():
        kept.add(EVAL_DIR)  # `zoo eval` results of these same weights stay true
    replaced = None if same else _describe(target) if zoo_folder else None
    commit_folder(staged, target, remove=_outgoing(target, owned - kept))
    evaluations = target / EVAL_DIR
    if EVAL_DIR in owned - kept and evaluations.is_dir() and not any(evaluations.iterdir()):
        evaluations.rmdir()
    return Written(target.resolve(), kept_card=CARD_NAME in kept, replaced=replaced)


def write_model(
    model: ReasoningFamily,
    out_dir: str | Path,
    *,
    results: dict[str, Any] | None = None,
    plot: str | Path | None = None,
    recipe: str | None = None,
    recipe_source: str | None = None,
    name: str | None = None,
    repo_id: str | None = None,
    catalog_name: str | None = None,
    license: str | None = None,
    overwrite_card: bool = False,
    force: bool = False,
) -> Written:
    """Write `model` into `out_dir` in the Hub layout, whole or not at all; see `save` for the arguments."""
    target = outputs.check_folder(out_dir, flag="folder")
    if recipe is None:
        from zoo.hub.card import reconstruct_recipe

        recipe, recipe_source = reconstruct_recipe(model), "reconstructed"
    recipe = redact.scrub(recipe)
    with staged_folder(target) as staged:
        (staged / RECIPE_NAME).write_text(recipe)
        if results is not None:
            (staged / RESULTS_NAME).write_text(json.dumps(results, indent=2) + "\n")
            if plot is not None and Path(plot).is_file():
                shutil.copyfile(plot, staged / PLOT_NAME)
            else:
                from zoo.evaluation.results import plot_budget_curve

                title = f"{type(model).__name__} on {model.task.spec()}"
                plot_budget_curve(results["exact_match"], staged / PLOT_NAME, title)
        card_kwargs = {
            "name": name or target.resolve().name,
            "reference": repo_id or str(outputs.expand(out_dir)),  # as given, not resolved
            "catalog_name": catalog_name,
            "results": results,
            "recipe": recipe,
            "recipe_source": recipe_source,
            "license": license,
            "has_plot": (staged / PLOT_NAME).is_file(),
        }
        HubFamily(model).save_pretrained(staged, model_card_kwargs=card_kwargs)
        card = staged / CARD_NAME
        card.write_text(redact.scrub(card.read_text()))
        return place(staged, target, force=force, keep_card=not overwrite_card)


def save(model: ReasoningFamily, out_dir: str | Path, **options: Any) -> Path:
    """Write `model` into `out_dir` in the Hub layout; the folder.

    Args:
        results: a results.json dict (`zoo fit` or `zoo eval`) for the card's table and model-index.
        plot: its budget_curve.png (drawn from `results` when not given).
        recipe: the YAML that trained the model (default: reconstructed from its hyper-parameters); values
            of secret-looking environment variables are replaced by their `${oc.env:NAME}` reference.
        recipe_source: where `recipe` came from, for the card.
        name: the model's name in the card (default: the folder's name).
        repo_id: the Hub id the card's commands name (default: the folder's path).
        catalog_name: the model's name in belief-zoo's catalog, which the card's commands use where given.
        license: the card's license (default apache-2.0).
        overwrite_card: replace the card of the same model (by default an existing one is kept).
        force: write over another model's export (replacing all its files) or into a folder with other files.
    """
    return write_model(model, out_dir, **options).folder


def find_run_files(checkpoint: Path) -> dict[str, Path]:
    """results.json (+ its budget_curve.png) and config.yaml of the run that wrote `checkpoint`, nearest first.

    `zoo fit` writes config.yaml and results.json into the run's log directory, the parent of checkpoints/;
    `zoo eval CKPT` writes results.json beside the checkpoint.
    """
    found: dict[str, Path] = {}
    for directory in list(checkpoint.resolve().parents)[:3]:
        if "results" not in found and (directory / RESULTS_NAME).is_file():
            found["results"] = directory / RESULTS_NAME
        if "recipe" not in found and (directory / "config.yaml").is_file():
            found["recipe"] = directory / "config.yaml"
    return found


def _read_results(path: Path) -> dict[str, Any]:
    try:
        results = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HubError(f"{path} is not a readable results.json ({error}): pass --results with another file") from None
    if not isinstance(results, dict) or not isinstance(results.get("exact_match"), dict):
        raise HubError(f"{path} is not a results.json of `zoo fit` or `zoo eval` (no exact_match table)")
    return results


def _take_run_training(model: ReasoningFamily, results: dict[str, Any]) -> None:
    """Where the run's results.json counted the training of the same number of steps as the checkpoint's, take
    its entry: `zoo fit` knew the gradient accumulation a checkpoint does not record, and it is counted already."""
    entry = results.get("training")
    record = model.training_record
    if record is not None and mismatch(entry, TrainingEntry, "training") is None and entry["steps"] == record.steps:
        model.training_record = TrainingRecord.from_entry(entry)


def export(
    checkpoint: str | Path,
    out_dir: str | Path,
    *,
    results: str | Path | None = None,
    recipe: str | Path | None = None,
    **save_options: Any,
) -> Written:
    """A Lightning checkpoint of `zoo fit` -> a model folder in the Hub layout (EMA weights where kept).

    The card takes the run's results.json, plot and config.yaml (found beside the checkpoint) unless
    `results` / `recipe` name other files. config.json and the card say how the model was trained where the
    checkpoint records it: the run's "training" entry when it counted as many steps, else counted here (a few
    training steps on a copy of the model: `zoo.evaluation.training_cost`). Runs no training. Options: see `save`.
    """
    outputs.check_folder(out_dir, flag="folder")
    checkpoint = Path(checkpoint)
    model = load_checkpoint(checkpoint)
    run = find_run_files(checkpoint)
    for given, flag in ((results, "--results"), (recipe, "--recipe")):
        if given is not None and not Path(given).is_file():
            raise HubError(f"no file at {given} ({flag}): give an existing file, or leave {flag} out")
    results_path = Path(results) if results is not None else run.get("results")
    recipe_path = Path(recipe) if recipe is not None else run.get("recipe")
    measured = None
    if results_path is not None:
        measured = _read_results(results_path)
        spec = model.task.spec()
        if measured.get("family") != type(model).__name__ or not compat.reads(measured.get("task", spec), spec):
            if results is not None:
                raise HubError(
                    f"{results_path} holds results of another model "
                    f"({measured.get('family')} on {measured.get('task')})"
                )
            measured = None  # a results.json of another run in the same directory tree
    if measured is not None:
        _take_run_training(model, measured)
    recipe_text = recipe_path.read_text() if recipe_path is not None else None
    source = f"`{recipe_path.name}` of the training run" if recipe_path is not None else None
    return write_model(
        model,
        out_dir,
        results=measured,
        plot=results_path.parent / PLOT_NAME if measured is not None else None,
        recipe=recipe_text,
        recipe_source=source,
        **save_options,
    )
