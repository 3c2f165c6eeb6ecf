"""The Hugging Face Hub side of model folders: `push` a folder up in one commit, `download` a repository's
model files into the cache (and, with `local_dir`, into a folder under the rules of `zoo.hub.exporting.place`).

Only the files of the Hub layout travel, never pickled ones or code; nothing that holds the value of a
secret-looking environment variable goes up, and a card on the Hub is never replaced unasked.
"""

from __future__ import annotations

import shutil
from collections.abc import Collection
from pathlib import Path

from huggingface_hub import CommitInfo, CommitOperationAdd, HfApi, get_token
from huggingface_hub.errors import (
    EntryNotFoundError,
    HFValidationError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import validate_repo_id

from zoo.hub.card import card_for_hub
from zoo.hub.exporting import place
from zoo.hub.layout import (
    CARD_NAME,
    CODE,
    MODEL_FILES,
    PICKLED,
    WEIGHTS_NAME,
    HubError,
    matches,
    read_config,
    zoo_version,
)
from zoo.hub.loading import load
from zoo.hub.sources import fetch
from zoo.io import outputs, redact
from zoo.io.files import staged_folder


def remote_card(api: HfApi, repo_id: str, revision: str | None) -> str | None:
    """The README.md of `repo_id` at `revision` on the Hub; None where the repository has none yet."""
    try:
        path = api.hf_hub_download(repo_id=repo_id, filename=CARD_NAME, revision=revision, repo_type="model")
    except (EntryNotFoundError, RevisionNotFoundError, RepositoryNotFoundError):
        return None
    return Path(path).read_text(encoding="utf-8", errors="replace")


def push(
    folder: str | Path,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    token: str | None = None,
    commit_message: str | None = None,
    force: bool = False,
    keep_names: Collection[str] = (),
    renamed: dict[str, str] | None = None,
) -> CommitInfo:
    """Upload a model folder to the Hub in one commit (created repo if needed, branch `revision` if given).

    The folder is loaded first, so a broken folder is never pushed; only the files of the Hub layout
    go up (never pickled ones), and none that holds the value of a secret-looking environment variable or
    the Hub token. The card goes up with its usage lines naming `repo_id` (`card_for_hub`; names in
    `keep_names` stay, `renamed` is applied first); a card already on the Hub that differs from it is
    replaced only with `force`. The token comes from `token`, HF_TOKEN or the saved login.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise HubError(f"no folder at {folder}: make one with `zoo export CKPT {folder}`, then push it")
    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        raise HubError(f"{repo_id!r} is not a Hub repo id: write it as org/name") from None
    model = load(folder)
    files = [name for name in MODEL_FILES if (folder / name).is_file()]
    for name in files:
        if name != WEIGHTS_NAME:
            leaked = redact.secrets_in((folder / name).read_text(errors="replace"))
            if leaked:
                raise HubError(
                    f"{folder / name} holds the value of {', '.join(leaked)}, which must not be uploaded: replace it "
                    "by a reference such as ${oc.env:NAME} (or export the model again), then push"
                )
    if token is None and get_token() is None:
        raise HubError("no Hugging Face token: set HF_TOKEN, or run `hf auth login`, then push again")
    card = None
    if CARD_NAME in files:
        card = card_for_hub((folder / CARD_NAME).read_text(), repo_id, keep=keep_names, renamed=renamed)
    api = HfApi(token=token, library_name="belief-zoo", library_version=zoo_version())
    repo_id = api.create_repo(repo_id, repo_type="model", private=private or None, exist_ok=True).repo_id
    if revision is not None:
        api.create_branch(repo_id, branch=revision, repo_type="model", exist_ok=True)
    if card is not None and not force:
        remote = remote_card(api, repo_id, revision)
        if remote is not None and remote != card:
            raise HubError(
                f"the model card on the Hub at {repo_id} differs from the one to push ({folder / CARD_NAME}): "
                "nothing was uploaded; pass --force to replace it, or bring its changes into your card first"
            )
    operations = [
        CommitOperationAdd(
            path_in_repo=name,
            path_or_fileobj=card.encode() if name == CARD_NAME and card is not None else str(folder / name),
        )
        for name in files
    ]
    message = commit_message or f"Upload {type(model).__name__} on {model.task.name} with belief-zoo {zoo_version()}"
    return api.create_commit(
        repo_id, operations=operations, commit_message=message, revision=revision, repo_type="model"
    )


def download(
    repo_id: str,
    revision: str | None = None,
    *,
    local_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    token: str | bool | None = None,
    include: tuple[str, ...] | list[str] = (),
    force: bool = False,
) -> Path:
    """Fetch the files of a model repository's layout (config, weights, card, recipe, results, plot, and what
    `include` adds; never code or pickles) into the Hugging Face cache; its snapshot folder, or `local_dir`
    with a copy of them.

    The files always go through the cache (not huggingface_hub's `local_dir` mode), so that afterwards
    `zoo.load(repo_id)` and `init_from: repo_id` work offline too. Into a `local_dir` that is not empty,
    files are written only under the rules of `place` (`force` to write over other files).
    """
    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        raise HubError(f"{repo_id!r} is not a Hub repo id: write it as org/name") from None
    target = None if local_dir is None else outputs.check_folder(local_dir, flag="--dir")
    wanted = (*MODEL_FILES, *include)
    folder = fetch(repo_id, revision, cache_dir=cache_dir, token=token, files=wanted)
    read_config(folder)
    if target is None:
        return folder
    with staged_folder(target) as staged:
        for file in sorted(folder.rglob("*")):
            name = file.relative_to(folder).as_posix()
            if file.is_file() and matches(name, wanted) and not matches(name, (*PICKLED, *CODE)):
                (staged / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(file, staged / name)  # the cache's symlinks are followed
        return place(staged, target, force=force, keep_card=True).folder
