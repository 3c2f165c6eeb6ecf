"""Where a model comes from: a local folder or .ckpt, or a Hub repository fetched through the cache.

The errors of huggingface_hub (not found, gated, offline, refused) become `HubError`s that say what to do.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from huggingface_hub import constants, get_cached_repo_tree, snapshot_download
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

from zoo.errors import DamagedFileError
from zoo.hub import catalog
from zoo.hub.layout import (
    CODE,
    CONFIG_NAME,
    LIBRARY_NAME,
    PICKLED,
    WEIGHTS_NAME,
    HubError,
    matches,
    refuse_pickled,
    zoo_version,
)


def looks_like_path(source: str) -> bool:
    return (
        source.startswith((".", "/", "~"))
        or source.endswith((".ckpt", ".json", ".safetensors"))
        or source.count("/") > 1
    )


def fetch(
    repo_id: str,
    revision: str | None = None,
    *,
    cache_dir: str | Path | None = None,
    token: str | bool | None = None,
    local_files_only: bool = False,
    files: tuple[str, ...] | list[str] = (CONFIG_NAME, WEIGHTS_NAME),
) -> Path:
    """Download (or find in the huggingface_hub cache) a model repository; the local folder.

    Only the files matching `files` (glob patterns; by default config.json and model.safetensors) are
    fetched, and never pickled files or code, whatever the patterns say. The errors of huggingface_hub are
    turned into `HubError`s that say what to do (the original is the `__cause__`).
    """
    patterns = {"allow_patterns": list(files), "ignore_patterns": [*PICKLED, *CODE]}
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
                f"{repo_id} (revision {revision or 'main'}) is not in the local Hugging Face cache ({cache}) "
                f"and {why}: run `zoo download {repo_id}` while online, or unset HF_HUB_OFFLINE"
            ) from error
        raise HubError(
            f"could not reach the Hub for {repo_id}, and it is not in the local cache ({cache}): check the "
            f"connection (or HF_ENDPOINT), then retry; with a copy on disk, give its folder instead "
            f"({type(error.__cause__ or error).__name__})"
        ) from error
    if not (folder / WEIGHTS_NAME).is_file():
        try:
            names = [f.path for f in get_cached_repo_tree(repo_id, revision=revision, cache_dir=cache_dir)]
        except (CachedRepoTreeNotFoundError, OSError, ValueError):
            names = []  # no listing cached: the files on disk are all we know
        refuse_pickled(Path(repo_id), names)
    return folder


def locate(source: str | Path, revision: str | None = None, **fetch_options: Any) -> tuple[str, Path]:
    """("checkpoint", path) for a .ckpt, ("folder", path) for a model folder: local, a catalog name (its
    bundled copy, checked, or its Hub repository), or a Hub repo id. A local path wins over a catalog name,
    saying so on stderr, which wins over a repo id; `catalog:NAME` is always the catalog's (docs:
    zoo/hub/catalog.py)."""
    text = str(source)
    if text.startswith(catalog.CATALOG_PREFIX):
        return "folder", _catalog_folder(catalog.get(text), revision, **fetch_options)
    path = Path(text).expanduser()
    if path.exists() and not isinstance(source, Path):
        _note_shadowing(text)
    if path.is_dir():
        return "folder", path
    if path.is_file():
        if path.suffix == ".ckpt":
            return "checkpoint", path
        if path.name in (CONFIG_NAME, WEIGHTS_NAME):
            return "folder", path.parent
        if matches(path.name, PICKLED):
            raise HubError(
                f"{path} holds pickled weights, which belief-zoo refuses (it never unpickles downloaded files): "
                f"give a folder with {WEIGHTS_NAME}, made by `zoo export`"
            )
        raise HubError(f"{path} is not a model: give a folder made by `zoo export`, or a .ckpt written by `zoo fit`")
    entry = catalog.find(text)
    if entry is not None:
        return "folder", _catalog_folder(entry, revision, **fetch_options)
    known = f"the catalog holds {', '.join(catalog.entries()) or 'nothing'} (`zoo models`)"
    if looks_like_path(text):
        raise HubError(
            f"no folder or file at {text}: give a folder made by `zoo export`, a .ckpt written by `zoo fit`, "
            "a catalog name, or a Hub repo id such as org/name"
        )
    if "/" not in text:
        raise HubError(f"{text!r} is no local folder or file and no catalog name ({known}); a Hub repo id is org/name")
    try:
        validate_repo_id(text)
    except HFValidationError:
        raise HubError(
            f"no folder or file at {text}, and it is not a catalog name or Hub repo id either: give a folder made "
            f"by `zoo export`, a .ckpt written by `zoo fit`, a catalog name ({known}), or a repo id such as org/name"
        ) from None
    try:
        return "folder", fetch(text, revision, **fetch_options)
    except HubError as error:
        if text.split("/")[0] in ("models", "runs", "eval") or Path(text.split("/")[0]).is_dir():
            raise HubError(f"no folder or file at {text} (read as a Hub repo id instead: {error})") from error.__cause__
        raise


def _catalog_folder(entry: catalog.CatalogEntry, revision: str | None, **fetch_options: Any) -> Path:
    """The folder of a catalog model: its bundled copy, checked, or its Hub repository, fetched."""
    if entry.bundled:
        return catalog.bundled_folder(entry)
    return fetch(entry.hub, revision, **fetch_options)


def _note_shadowing(text: str) -> None:
    """Say on stderr when a bare name given as a model is a local path and a catalog name too: the local
    one is used (`./NAME` says so without a notice, `catalog:NAME` asks for the catalog's)."""
    if looks_like_path(text):
        return
    try:
        shadowed = catalog.find(text) is not None
    except DamagedFileError:  # a damaged catalog does not stand between a user and a local folder
        return
    if shadowed:
        print(
            f"zoo: using the local {'folder' if Path(text).is_dir() else 'file'} ./{text}, not the catalog model "
            f"of that name (write {catalog.CATALOG_PREFIX}{text} for the catalog's, ./{text} to silence this)",
            file=sys.stderr,
        )
