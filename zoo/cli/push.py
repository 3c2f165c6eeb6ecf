"""`zoo push OUT_DIR REPO_ID` uploads a model folder made by `zoo export` to the Hugging Face Hub;
`zoo push --catalog ORG` uploads every catalog model to ORG/<name>."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from zoo.cli.report import ArgumentParser
from zoo.errors import ZooError


def _transport_errors() -> tuple[type[BaseException], ...]:
    """The connection errors of the HTTP client huggingface_hub uses (httpx2 today, httpx before)."""
    for name in ("httpx2", "httpx"):
        try:
            return (importlib.import_module(name).TransportError,)
        except (ImportError, AttributeError):
            continue
    return ()


def run(words: list[str]) -> None:
    parser = ArgumentParser(
        prog="zoo push",
        description="Upload a model folder made by `zoo export` to the Hugging Face Hub in one commit, or with "
        "--catalog ORG every model of belief-zoo's catalog to ORG/<name>. The card goes up with its usage lines "
        "naming the repo id; a different card already on the Hub is replaced only with --force. The token comes "
        "from HF_TOKEN or the saved login (`hf auth login`).",
    )
    parser.add_argument("out_dir", type=Path, nargs="?", help="a folder made by `zoo export`")
    parser.add_argument("repo_id", nargs="?", help="the Hub repository, org/name (created if it does not exist)")
    parser.add_argument("--catalog", metavar="ORG", default=None, help="push every catalog model to ORG/<name>")
    parser.add_argument("--private", action="store_true", help="create the repository private")
    parser.add_argument("--revision", default=None, metavar="BRANCH", help="push to this branch (created if needed)")
    parser.add_argument("--message", default=None, help="the commit message")
    parser.add_argument("--force", action="store_true", help="replace a model card on the Hub that differs")
    args = parser.parse_args(words)
    if args.catalog is not None and (args.out_dir is not None or args.repo_id is not None):
        parser.error("give either OUT_DIR REPO_ID or --catalog ORG, not both")
    if args.catalog is None and args.repo_id is None:
        parser.error("give OUT_DIR REPO_ID (a folder made by `zoo export` and org/name), or --catalog ORG")
    from zoo.hub import catalog

    if args.catalog is None:
        _push(args, args.out_dir, args.repo_id)
        return
    models = catalog.entries()
    if not models:
        raise ZooError("the catalog is empty: there is nothing to push")
    org = args.catalog.strip("/")
    for entry in models.values():
        if not entry.bundled:
            print(f"skipped {entry.name}: it does not ship with the package (it lives at {entry.hub})")
            continue
        _push(args, catalog.bundled_folder(entry), f"{org}/{entry.name}", renamed={entry.hub: f"{org}/{entry.name}"})


def _push(args: argparse.Namespace, folder: Path, repo_id: str, renamed: dict[str, str] | None = None) -> None:
    from huggingface_hub.errors import HfHubHTTPError

    from zoo import hub
    from zoo.hub import catalog

    try:
        commit = hub.push(
            folder,
            repo_id,
            private=args.private,
            revision=args.revision,
            commit_message=args.message,
            force=args.force,
            keep_names=tuple(catalog.entries()),
            renamed=renamed,
        )
    except HfHubHTTPError as error:
        raise ZooError(
            f"the Hub refused the upload ({' '.join(str(error).split())}); check that your token (HF_TOKEN or "
            f"`hf auth login`) may write to {repo_id}"
        ) from None
    except _transport_errors() as error:
        raise ZooError(
            f"could not reach the Hub to push to {repo_id} ({type(error).__name__}: {error}): check the "
            "connection (or HF_ENDPOINT), then push again (a push is one commit: all of its files or none)"
        ) from None
    print(f"pushed: {commit.commit_url}")
