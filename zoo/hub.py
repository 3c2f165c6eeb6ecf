"""Share models in the Hugging Face Hub layout: save, load, push, download, and the model card.

A model folder (local, or a Hub repository) holds:

    config.json        {"library_name": "belief-zoo", "zoo_version", "format_version", "family": class path,
                        "task": task spec, "hparams": the family's constructor arguments (task spec and
                        regime spec included), "weights": "ema" | "live", "num_parameters"}
    model.safetensors  the *evaluation* weights: `family.ema_model` where the family keeps an EMA, else
                       `family.model` (keys of `family.model.state_dict()`, no prefix)
    README.md          the model card (written once; an existing card is never overwritten unless asked)
    results.json, budget_curve.png, recipe.yaml   when the run that trained the model left them

One set of weights is stored, not two: `load` puts it into both `model` and `ema_model`, so the loaded
family's `inference_model` holds exactly the weights the source family evaluated with, and a fine-tune
starts its live weights and its EMA from them. Nothing is ever unpickled: weights are read from
safetensors only, settings from JSON; a `.ckpt` file is read with `torch.load(weights_only=True)`.

    zoo.load("runs/quickstart/export")             # a folder written by `zoo export`
    zoo.load("org/name", revision="v1")            # a Hub repository (cached by huggingface_hub)
    zoo.load("runs/.../last.ckpt")                 # a Lightning checkpoint written by `zoo fit`
"""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import torch
import yaml
from huggingface_hub import (
    CommitInfo,
    CommitOperationAdd,
    EvalResult,
    HfApi,
    ModelCard,
    ModelCardData,
    ModelHubMixin,
    constants,
    get_cached_repo_tree,
    get_token,
    snapshot_download,
)
from huggingface_hub.errors import (
    CachedRepoTreeNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    HFValidationError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import validate_repo_id
from safetensors.torch import load_model, save_model

from zoo import tasks
from zoo.budget import parse_budgets
from zoo.checkpoints import family_from_config, load_checkpoint
from zoo.models.base import ReasoningFamily, class_path

CONFIG_NAME = constants.CONFIG_NAME  # config.json
WEIGHTS_NAME = constants.SAFETENSORS_SINGLE_FILE  # model.safetensors
CARD_NAME = constants.REPOCARD_NAME  # README.md
RESULTS_NAME = "results.json"
PLOT_NAME = "budget_curve.png"
RECIPE_NAME = "recipe.yaml"
# What a model folder holds, in the order they are pushed. Nothing else is pushed.
MODEL_FILES = (CONFIG_NAME, WEIGHTS_NAME, CARD_NAME, RESULTS_NAME, PLOT_NAME, RECIPE_NAME)
# Files that can only be read by unpickling. Never loaded, never downloaded, never pushed.
PICKLED = ("*.bin", "*.ckpt", "*.pt", "*.pth", "*.pkl", "*.pickle")
FORMAT_VERSION = 1
LIBRARY_NAME = "belief-zoo"


def zoo_version() -> str:
    try:
        return version(LIBRARY_NAME)
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


class HubError(ValueError):
    """A model could not be loaded, saved, pushed or downloaded; the message says what to do."""


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


def model_config(model: ReasoningFamily) -> dict[str, Any]:
    """What config.json holds for `model`."""
    network, kind = evaluation_weights(model)
    return {
        "library_name": LIBRARY_NAME,
        "zoo_version": zoo_version(),
        "format_version": FORMAT_VERSION,
        "family": class_path(model),
        "task": model.task.spec(),
        "hparams": plain_hparams(model),
        "weights": kind,
        "num_parameters": sum(p.numel() for p in network.parameters()),
    }


def read_config(folder: Path) -> dict[str, Any]:
    """config.json of a model folder, checked to be belief-zoo's; refuses folders of pickled weights."""
    refuse_pickled(folder)
    path = folder / CONFIG_NAME
    if not path.is_file():
        raise HubError(
            f"{folder} is not a belief-zoo model folder (no {CONFIG_NAME}): make one with `zoo export CKPT {folder}`"
        )
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise HubError(f"{path} is not valid JSON ({error}): export the model again with `zoo export`") from None
    if not isinstance(config, dict) or config.get("library_name") != LIBRARY_NAME or "family" not in config:
        raise HubError(
            f"{path} was not written by belief-zoo (library_name is not {LIBRARY_NAME!r}): "
            "only folders made by `zoo export` (or `zoo.hub.save`) can be loaded"
        )
    if config.get("format_version", 1) > FORMAT_VERSION:
        raise HubError(
            f"{path} uses format version {config['format_version']}, newer than this belief-zoo "
            f"({zoo_version()}) reads: upgrade belief-zoo"
        )
    return config


def refuse_pickled(folder: Path, names: list[str] | None = None) -> None:
    """Raise when a model folder (or a repository's file list `names`) offers weights only in pickled form."""
    names = names if names is not None else [p.name for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
    if WEIGHTS_NAME in names:
        return  # pickled files beside the safetensors are never opened, nor pushed
    pickled = sorted(name for name in names if any(fnmatch.fnmatch(Path(name).name, p) for p in PICKLED))
    if pickled:
        raise HubError(
            f"{folder} holds pickled weights ({', '.join(pickled)}) and no {WEIGHTS_NAME}: belief-zoo never "
            "unpickles downloaded files. Ask the author for safetensors, or, for a checkpoint you trained "
            "yourself, give the .ckpt path (read with weights_only=True) or run `zoo export CKPT DIR`"
        )


# ---- the huggingface_hub mixin ---------------------------------------------------------------------


class HubFamily(
    ModelHubMixin,
    library_name=LIBRARY_NAME,
    license="apache-2.0",
    tags=[LIBRARY_NAME, "reasoning"],
):
    """A family wrapped for huggingface_hub's `ModelHubMixin`: `save_pretrained` writes the Hub layout
    (never overwriting an existing README.md), `from_pretrained` reads it strictly.

    Families stay free of Hub code; this wrapper is the one place that knows the layout.

        HubFamily(family).save_pretrained("out", model_card_kwargs={"results": {...}})
        family = HubFamily.from_pretrained("out").model
    """

    def __init__(self, model: ReasoningFamily) -> None:
        self.model = model

    def _save_pretrained(self, save_directory: Path) -> None:
        network, kind = evaluation_weights(self.model)
        (save_directory / CONFIG_NAME).write_text(json.dumps(model_config(self.model), indent=2) + "\n")
        save_model(network, str(save_directory / WEIGHTS_NAME), metadata={"format": "pt", "zoo_weights": kind})

    @classmethod
    def _from_pretrained(
        cls,
        *,
        model_id: str,
        revision: str | None,
        cache_dir: str | Path | None,
        force_download: bool,
        local_files_only: bool,
        token: str | bool | None,
        map_location: str | torch.device = "cpu",
        **unused: Any,
    ) -> "HubFamily":
        folder = Path(model_id)
        if not folder.is_dir():
            folder = fetch(model_id, revision, cache_dir=cache_dir, token=token, local_files_only=local_files_only)
        return cls(build_from_folder(folder, map_location))

    def generate_model_card(self, *args: Any, **kwargs: Any) -> ModelCard:
        """The card: the mixin's metadata (library, license, tags) plus this model's; see `model_card`."""
        return model_card(self.model, base=self._hub_mixin_info.model_card_data, **kwargs)


def build_from_folder(folder: Path, map_location: str | torch.device = "cpu") -> ReasoningFamily:
    """Construct the family config.json names and load model.safetensors into it, strictly."""
    config = read_config(folder)
    weights = folder / WEIGHTS_NAME
    if not weights.is_file():
        raise HubError(f"{folder} has no {WEIGHTS_NAME}: export the model again with `zoo export CKPT {folder}`")
    try:
        model = family_from_config(config["family"], config["hparams"])
    except (ImportError, TypeError, ValueError) as error:
        raise HubError(
            f"{folder / CONFIG_NAME} describes a model this belief-zoo ({zoo_version()}) cannot build "
            f"({error.__class__.__name__}: {error}); it was written by belief-zoo {config.get('zoo_version')}"
        ) from error
    try:
        load_model(model.model, weights, strict=True, device=str(map_location))
    except RuntimeError as error:
        raise HubError(
            f"{weights} does not fit the model {CONFIG_NAME} describes ({' '.join(str(error).split())}). The folder was edited or "
            f"mixed with another model's files; export it again with `zoo export`"
        ) from None
    if model.ema_model is not None:
        model.ema_model.load_state_dict(model.model.state_dict())
    return model.to(map_location).eval()


# ---- where a model comes from ----------------------------------------------------------------------


def _looks_like_path(source: str) -> bool:
    return source.startswith((".", "/", "~")) or source.endswith((".ckpt", ".json", ".safetensors")) or source.count("/") > 1


def fetch(
    repo_id: str,
    revision: str | None = None,
    *,
    cache_dir: str | Path | None = None,
    token: str | bool | None = None,
    local_files_only: bool = False,
    everything: bool = False,
) -> Path:
    """Download (or find in the huggingface_hub cache) a model repository; the local folder.

    Only config.json and model.safetensors are fetched, or with `everything` all files but pickled ones.
    The errors of huggingface_hub are turned into `HubError`s that say what to do (the original is the
    `__cause__`).
    """
    patterns = {"ignore_patterns": list(PICKLED)} if everything else {"allow_patterns": [CONFIG_NAME, WEIGHTS_NAME]}
    try:
        folder = Path(
            snapshot_download(
                repo_id,
                revision=revision,
                cache_dir=cache_dir,
                token=token,
                local_files_only=local_files_only,
                library_name=LIBRARY_NAME,
                library_version=zoo_version(),
                **patterns,
            )
        )
    except HFValidationError as error:
        raise HubError(
            f"{repo_id!r} is neither a local folder or file nor a Hub repository id ({error}): give a folder made by "
            "`zoo export`, a .ckpt written by `zoo fit`, or a repo id such as org/name"
        ) from error
    except GatedRepoError as error:
        raise HubError(
            f"{repo_id} is a gated repository: accept its conditions at https://huggingface.co/{repo_id} while "
            "logged in, then log in here with `hf auth login` or set HF_TOKEN"
        ) from error
    except RepositoryNotFoundError as error:
        raise HubError(
            f"no model repository {repo_id!r} on the Hub, and no local folder or file of that name: check the id "
            "(org/name); a private repository needs `hf auth login` or HF_TOKEN"
        ) from error
    except RevisionNotFoundError as error:
        raise HubError(f"{repo_id} has no revision {revision!r}: give a branch, tag or commit that exists") from error
    except HfHubHTTPError as error:  # e.g. 401: a token that may not read this repository
        raise HubError(
            f"the Hub refused access to {repo_id} ({' '.join(str(error).split())}): log in with `hf auth login` or "
            "set HF_TOKEN to a token that may read it"
        ) from error
    except LocalEntryNotFoundError as error:
        cache = cache_dir or constants.HF_HUB_CACHE
        if constants.HF_HUB_OFFLINE or local_files_only:
            why = "HF_HUB_OFFLINE=1 forbids downloading" if constants.HF_HUB_OFFLINE else "downloads were turned off"
            raise HubError(
                f"{repo_id} (revision {revision or 'main'}) is not in the local Hugging Face cache ({cache}) and {why}: "
                f"run `zoo download {repo_id}` while online, or unset HF_HUB_OFFLINE"
            ) from error
        raise HubError(
            f"could not reach the Hub for {repo_id}, and it is not in the local cache ({cache}): check the "
            f"connection (or HF_ENDPOINT), then retry; with a copy on disk, give its folder instead "
            f"({type(error.__cause__ or error).__name__})"
        ) from error
    if not everything and not (folder / WEIGHTS_NAME).is_file():
        try:
            names = [f.path for f in get_cached_repo_tree(repo_id, revision=revision, cache_dir=cache_dir)]
        except (CachedRepoTreeNotFoundError, OSError, ValueError):
            names = []  # no listing cached: the files on disk are all we know
        refuse_pickled(Path(repo_id), names)
    return folder


def locate(
    source: str | Path, revision: str | None = None, **fetch_options: Any
) -> tuple[str, Path]:
    """("checkpoint", path) for a .ckpt, ("folder", path) for a model folder, local or fetched from the Hub."""
    text = str(source)
    path = Path(text).expanduser()
    if path.is_dir():
        return "folder", path
    if path.is_file():
        if path.suffix == ".ckpt":
            return "checkpoint", path
        if path.name in (CONFIG_NAME, WEIGHTS_NAME):
            return "folder", path.parent
        if any(fnmatch.fnmatch(path.name, pattern) for pattern in PICKLED):
            raise HubError(
                f"{path} holds pickled weights, which belief-zoo refuses (it never unpickles downloaded files): "
                f"give a folder with {WEIGHTS_NAME}, made by `zoo export`"
            )
        raise HubError(f"{path} is not a model: give a folder made by `zoo export`, or a .ckpt written by `zoo fit`")
    if _looks_like_path(text):
        raise HubError(
            f"no folder or file at {text}: give a folder made by `zoo export`, a .ckpt written by `zoo fit`, "
            "or a Hub repo id such as org/name"
        )
    try:
        validate_repo_id(text)
    except HFValidationError:
        raise HubError(
            f"no folder or file at {text}, and it is not a Hub repo id either: give a folder made by `zoo export`, "
            "a .ckpt written by `zoo fit`, or a repo id such as org/name"
        ) from None
    return "folder", fetch(text, revision, **fetch_options)


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
        family: when given, the family class (or class path) the model must be.
        task: when given, a task spec the model must be able to read: the same task and board size
            (difficulty options such as givens may differ).
        cache_dir, token, local_files_only: passed to huggingface_hub (default: its cache, login, and
            `HF_HUB_OFFLINE`).
        map_location: device for the weights.
    """
    kind, path = locate(source, revision, cache_dir=cache_dir, token=token, local_files_only=local_files_only)
    if kind == "checkpoint":
        model = load_checkpoint(path, map_location)
        check_expected(str(source), class_path(model), model.task.spec(), family, task)
        return model
    config = read_config(path)
    check_expected(str(source), config["family"], config["task"], family, task)
    return HubFamily.from_pretrained(path, map_location=map_location).model


def check_expected(
    source: str, saved_family: str, saved_task: dict[str, Any], family: type | str | None, task: dict[str, Any] | None
) -> None:
    """Refuse a model of another family, or of a task (or board size) other than `task`."""
    if family is not None:
        expected = family if isinstance(family, str) else class_path(family)
        if saved_family != expected and saved_family.rpartition(".")[2] != expected.rpartition(".")[2]:
            raise HubError(f"{source} holds a {saved_family} model, not the {expected} expected here")
    if task is not None and not shapes_match(saved_task, task):
        raise HubError(
            f"{source} was trained on task {saved_task} and cannot read {tasks.get(**task).spec()} "
            "(another task or board size); only difficulty options such as givens may differ"
        )


def shapes_match(saved: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether a model trained on task spec `saved` reads puzzles of `wanted`: same task, cells and vocabulary."""
    a, b = tasks.get(**saved), tasks.get(**wanted)
    return a.name == b.name and (a.num_cells, a.vocab_size) == (b.num_cells, b.vocab_size)


# ---- fine-tuning -----------------------------------------------------------------------------------

# Settings that change how a family trains or evaluates, not the shape of its network.
_NOT_ARCHITECTURE = {"task", "regime", "eval_budgets", "lr", "weight_decay", "betas", "warmup_steps", "lr_min_ratio", "ema_decay"}


def init_from(model: ReasoningFamily, source: str | Path, revision: str | None = None, **load_options: Any) -> None:
    """Start `model` (built by a recipe) from the evaluation weights of `source` (folder, repo id or .ckpt).

    Both the live weights and the EMA take them; optimiser and schedule are not touched (a fit builds them
    fresh). The source must be the same family, trained on the same task and board size; difficulty
    options may differ (fine-tuning on harder puzzles is the point).
    """
    loaded = load(source, revision, **load_options)
    if class_path(loaded) != class_path(model):
        raise HubError(
            f"init_from {source} holds a {class_path(loaded)} model, but the recipe builds {class_path(model)}: "
            "fine-tune with a recipe of the same family"
        )
    if not shapes_match(loaded.task.spec(), model.task.spec()):
        raise HubError(
            f"init_from {source} was trained on task {loaded.task.spec()}, but the recipe sets task "
            f"{model.task.spec()}: fine-tuning may change difficulty options (givens, unique), not the task "
            "or the board size"
        )
    weights = evaluation_weights(loaded)[0].state_dict()
    try:
        model.model.load_state_dict(weights, strict=True)
    except RuntimeError as error:
        theirs, ours = plain_hparams(loaded), plain_hparams(model)
        differ = [
            f"{key}: {theirs.get(key)!r} in {source}, {ours.get(key)!r} in the recipe"
            for key in sorted((set(theirs) | set(ours)) - _NOT_ARCHITECTURE)
            if theirs.get(key) != ours.get(key)
        ]
        raise HubError(
            f"the weights of init_from {source} do not fit the recipe's {type(model).__name__}: "
            + ("; ".join(differ) + ". Set the recipe's model sizes to the source's" if differ else str(error))
        ) from None
    if model.ema_model is not None:
        model.ema_model.load_state_dict(weights)


# ---- saving, exporting, pushing, downloading -------------------------------------------------------


def save(
    model: ReasoningFamily,
    out_dir: str | Path,
    *,
    results: dict[str, Any] | None = None,
    plot: str | Path | None = None,
    recipe: str | None = None,
    recipe_source: str | None = None,
    name: str | None = None,
    repo_id: str | None = None,
    license: str | None = None,
    overwrite_card: bool = False,
) -> Path:
    """Write `model` into `out_dir` in the Hub layout; the folder.

    Args:
        results: a results.json dict (`zoo fit` or `zoo eval`) for the card's table and model-index.
        plot: its budget_curve.png (drawn from `results` when not given).
        recipe: the YAML that trained the model (default: reconstructed from its hyper-parameters).
        recipe_source: where `recipe` came from, for the card.
        name: the model's name in the card (default: the folder's name).
        repo_id: the Hub id the card's commands name (default: the folder's path).
        license: the card's license (default apache-2.0).
        overwrite_card: replace an existing README.md (by default it is kept).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if recipe is None:
        recipe, recipe_source = reconstruct_recipe(model), "reconstructed"
    (out_dir / RECIPE_NAME).write_text(recipe)
    if results is not None:
        (out_dir / RESULTS_NAME).write_text(json.dumps(results, indent=2) + "\n")
        if plot is not None and Path(plot).is_file():
            if Path(plot).resolve() != (out_dir / PLOT_NAME).resolve():
                shutil.copyfile(plot, out_dir / PLOT_NAME)
        else:
            from zoo.results import plot_budget_curve

            plot_budget_curve(results["exact_match"], out_dir / PLOT_NAME, f"{type(model).__name__} on {model.task.spec()}")
    if overwrite_card:
        (out_dir / CARD_NAME).unlink(missing_ok=True)
    card_kwargs = {
        "name": name or out_dir.resolve().name,
        "reference": repo_id or str(out_dir),
        "results": results,
        "recipe": recipe,
        "recipe_source": recipe_source,
        "license": license,
        "has_plot": (out_dir / PLOT_NAME).is_file(),
    }
    HubFamily(model).save_pretrained(out_dir, model_card_kwargs=card_kwargs)
    return out_dir


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


def export(
    checkpoint: str | Path,
    out_dir: str | Path,
    *,
    results: str | Path | None = None,
    recipe: str | Path | None = None,
    **save_options: Any,
) -> Path:
    """A Lightning checkpoint of `zoo fit` -> a model folder in the Hub layout (EMA weights where kept).

    The card takes the run's results.json, plot and config.yaml (found beside the checkpoint) unless
    `results` / `recipe` name other files. Runs no training.
    """
    checkpoint = Path(checkpoint)
    model = load_checkpoint(checkpoint)
    run = find_run_files(checkpoint)
    results_path = Path(results) if results is not None else run.get("results")
    recipe_path = Path(recipe) if recipe is not None else run.get("recipe")
    measured = None
    if results_path is not None:
        measured = json.loads(results_path.read_text())
        spec = model.task.spec()
        if measured.get("family") != type(model).__name__ or not shapes_match(measured.get("task", spec), spec):
            if results is not None:
                raise HubError(f"{results_path} holds results of another model ({measured.get('family')} on {measured.get('task')})")
            measured = None  # a results.json of another run in the same directory tree
    recipe_text = recipe_path.read_text() if recipe_path is not None else None
    source = f"`{recipe_path.name}` of the training run" if recipe_path is not None else None
    return save(
        model,
        out_dir,
        results=measured,
        plot=results_path.parent / PLOT_NAME if measured is not None else None,
        recipe=recipe_text,
        recipe_source=source,
        **save_options,
    )


def push(
    folder: str | Path,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    token: str | None = None,
    commit_message: str | None = None,
) -> CommitInfo:
    """Upload a model folder to the Hub in one commit (created repo if needed, branch `revision` if given).

    The folder is loaded first, so a broken folder is never pushed; only the files of the Hub layout
    go up (never pickled ones). The token comes from `token`, HF_TOKEN or the saved login.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise HubError(f"no folder at {folder}: make one with `zoo export CKPT {folder}`, then push it")
    model = load(folder)
    if token is None and get_token() is None:
        raise HubError("no Hugging Face token: set HF_TOKEN, or run `hf auth login`, then push again")
    files = [name for name in MODEL_FILES if (folder / name).is_file()]
    api = HfApi(token=token, library_name=LIBRARY_NAME, library_version=zoo_version())
    repo_id = api.create_repo(repo_id, repo_type="model", private=private or None, exist_ok=True).repo_id
    if revision is not None:
        api.create_branch(repo_id, branch=revision, repo_type="model", exist_ok=True)
    operations = [CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(folder / name)) for name in files]
    message = commit_message or f"Upload {type(model).__name__} on {model.task.name} with belief-zoo {zoo_version()}"
    return api.create_commit(repo_id, operations=operations, commit_message=message, revision=revision, repo_type="model")


def download(
    repo_id: str,
    revision: str | None = None,
    *,
    local_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    token: str | bool | None = None,
) -> Path:
    """Fetch a model repository (all files but pickled ones) into the Hugging Face cache; its snapshot folder,
    or `local_dir` with a copy of the files.

    The files always go through the cache (not huggingface_hub's `local_dir` mode), so that afterwards
    `zoo.load(repo_id)` and `init_from: repo_id` work offline too.
    """
    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        raise HubError(f"{repo_id!r} is not a Hub repo id: write it as org/name") from None
    folder = fetch(repo_id, revision, cache_dir=cache_dir, token=token, everything=True)
    read_config(folder)
    if local_dir is None:
        return folder
    local_dir = Path(local_dir)
    local_dir.mkdir(parents=True, exist_ok=True)
    for file in sorted(folder.iterdir()):
        if file.is_file():
            shutil.copyfile(file, local_dir / file.name)  # the cache's symlinks are followed
    return local_dir.resolve()


# ---- the model card --------------------------------------------------------------------------------


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def describe_task(spec: dict[str, Any]) -> str:
    options = ", ".join(f"{key}={value}" for key, value in spec.items() if key != "name")
    return f"{spec['name']} ({options})" if options else spec["name"]


def reconstruct_recipe(model: ReasoningFamily) -> str:
    """A recipe that builds `model` again, from its hyper-parameters (trainer and data sizes are unknown)."""
    hparams = plain_hparams(model)
    hparams.pop("task", None)
    recipe = {"model": {"class_path": class_path(model), "init_args": hparams}, "data": {"task": model.task.spec()}}
    return (
        "# Reconstructed from the model's hyper-parameters: the trainer and data settings other than the task\n"
        "# were not recorded. Add them (see recipes/ in belief-zoo) before training with it.\n"
        + yaml.safe_dump(recipe, sort_keys=False)
    )


def eval_results(results: dict[str, Any], task: dict[str, Any], source: str) -> list[EvalResult]:
    """One model-index entry per (metric, budget) of a results.json."""
    entries = []
    spec = results.get("task", task)
    names = {"exact_match": f"verified exact match ({source})", "coverage": "coverage", "diversity": "diversity"}
    for metric in ("exact_match", "coverage", "diversity"):
        for label, value in results.get(metric, {}).items():
            budget = parse_budgets(label)[0]
            entries.append(
                EvalResult(
                    task_type=spec["name"],
                    task_name=f"{spec['name']} puzzles",
                    dataset_type=f"{LIBRARY_NAME}/{spec['name']}",
                    dataset_name=f"generated {describe_task(spec)}, held-out split",
                    dataset_config=json.dumps(spec, sort_keys=True),
                    dataset_split="test",
                    dataset_args={**spec, "puzzles": results.get("puzzles"), "seed": results.get("seed", 0)},
                    metric_type=metric,
                    metric_value=round(float(value), 4),
                    metric_name=f"{names[metric]}, budget {budget.steps} steps x {budget.samples} samples",
                    metric_config=f"budget={label}",
                )
            )
    return entries


def _results_table(results: dict[str, Any]) -> str:
    columns = [name for name in ("exact_match", "coverage", "diversity") if name in results]
    lines = [
        "| budget (steps x samples) | " + " | ".join(name.replace("_", " ") for name in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for label in results["exact_match"]:
        cells = [results[name].get(label) for name in columns]
        lines.append(f"| {label} | " + " | ".join("" if v is None else f"{v:.3f}" for v in cells) + " |")
    return "\n".join(lines)


def model_card(
    model: ReasoningFamily,
    *,
    base: ModelCardData | None = None,
    name: str = "belief-zoo model",
    reference: str = "MODEL",
    results: dict[str, Any] | None = None,
    recipe: str | None = None,
    recipe_source: str | None = None,
    license: str | None = None,
    has_plot: bool = False,
) -> ModelCard:
    """README.md of a model folder: YAML metadata (library, license, tags, model-index), what the model is,
    its accuracy against inference budget, how to evaluate and fine-tune it, and the recipe that trained it."""
    family = type(model).__name__
    is_repo_id = not _looks_like_path(reference) and not Path(reference).exists()
    regime_spec = dict(model.hparams).get("regime")
    regime_path = regime_spec.get("class_path", "") if isinstance(regime_spec, dict) else ""
    regime = regime_path.rpartition(".")[2] or "unknown"
    spec = model.task.spec()
    _, weights = evaluation_weights(model)
    data = ModelCardData(**(base.to_dict() if base is not None else {"library_name": LIBRARY_NAME}))
    data.license = license or data.license or "apache-2.0"
    data.tags = sorted({*(data.tags or []), _kebab(family), spec["name"], _kebab(regime)})
    data.model_name = name
    recipe_data = yaml.safe_load(recipe) if recipe else None
    start = recipe_data.get("init_from") if isinstance(recipe_data, dict) else None
    if isinstance(start, str) and not _looks_like_path(start) and not Path(start).exists():
        data.base_model = start  # fine-tuned from a Hub model
    source = None
    if results is not None:
        source = "zoo eval" if "model" in results else "zoo fit (test split)"
        data.eval_results = eval_results(results, spec, source)

    doc = (type(model).__doc__ or "").strip().splitlines()
    sections = [
        f"# {name}",
        f"A **{family}** from belief-zoo ({doc[0].rstrip('.') if doc else family}), trained on "
        f"**{describe_task(spec)}** with the **{regime}** regime. It thinks in explicit steps: give it a larger "
        "inference budget (more steps, or more samples for families that sample) and measure what it buys.",
        "| | |\n|---|---|\n"
        f"| family | `{class_path(model)}` |\n| task | `{json.dumps(spec)}` |\n| regime | `{regime_path}` |\n"
        f"| weights | {'EMA (the evaluation weights)' if weights == 'ema' else 'trained weights (no EMA kept)'} |\n"
        f"| parameters | {sum(p.numel() for p in model.model.parameters()):,} |\n"
        f"| budgets measured in training | {', '.join(b.label for b in model.eval_budgets)} |",
    ]
    if results is not None:
        where = f", {results['machine']}" if results.get("machine") else ""
        sections += [
            "## Accuracy against inference budget",
            f"Verified exact match (any valid answer counts) on {results.get('puzzles', '?')} held-out puzzles of "
            f"{describe_task(results.get('task', spec))}, measured by `{source}`{where}.",
            _results_table(results),
        ]
        if has_plot:
            sections.append(f"![verified exact match against thinking steps]({PLOT_NAME})")
    sections += [
        "## Evaluate",
        "```bash\n# with belief-zoo installed (`pip install -e .` in its repository)\n"
        f"zoo eval {reference} --count 500                 # table + plot at the model's budgets\n"
        f"zoo eval {reference} --budgets 1,2,4,8,16,32     # other budgets\n"
        + (f"zoo eval {reference} --task.givens N            # other difficulty, same board\n" if "givens" in spec else "")
        + "```",
        "```python\nimport zoo\n\n"
        f"model = zoo.load({reference!r})   # eval mode, weights loaded strictly\n"
        f"puzzles, solutions = model.task.generate(4, seed=0)\n"
        f"answers = model.solve(puzzles, budget=16)\n```",
        "## Fine-tune",
        f"Start a recipe from these weights with `init_from` (the optimiser starts fresh; family, task and board "
        f"size must match, difficulty may change). `{RECIPE_NAME}` in this repository is the recipe that trained "
        "the model:",
        "```bash\n"
        + (f"zoo download {reference} --dir model\n" if is_repo_id else "")
        + f"zoo fit -c {'model' if is_repo_id else reference}/{RECIPE_NAME} --init_from {reference}"
        + (" --data.task.givens N" if "givens" in spec else "")
        + f" --trainer.default_root_dir runs/finetune\n```\n"
        "belief-zoo ships ready-made fine-tuning recipes in `recipes/finetune/`.",
    ]
    if recipe:
        if recipe_source == "reconstructed":
            origin = "Reconstructed from the model's hyper-parameters (trainer and data settings were not recorded):"
        else:
            origin = f"From {recipe_source or 'the training run'}:"
        sections += ["## Training recipe", origin, f"```yaml\n{recipe.rstrip()}\n```"]
    sections += [
        "## Files",
        f"- `{CONFIG_NAME}`: family, task, hyper-parameters (regime included), zoo version\n"
        f"- `{WEIGHTS_NAME}`: the evaluation weights ({weights}); belief-zoo never unpickles downloaded files\n"
        f"- `{RECIPE_NAME}`, `{RESULTS_NAME}`, `{PLOT_NAME}`: the recipe and the measurements above",
    ]
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n\n".join(sections) + "\n")
