"""`zoo push OUT_DIR REPO_ID`: upload a model folder made by `zoo export` to the Hugging Face Hub."""

from __future__ import annotations

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
        description="Upload a model folder made by `zoo export` to the Hugging Face Hub in one commit. The token "
        "comes from HF_TOKEN or the saved login (`hf auth login`).",
    )
    parser.add_argument("out_dir", type=Path, help="a folder made by `zoo export`")
    parser.add_argument("repo_id", help="the Hub repository, org/name (created if it does not exist)")
    parser.add_argument("--private", action="store_true", help="create the repository private")
    parser.add_argument("--revision", default=None, metavar="BRANCH", help="push to this branch (created if needed)")
    parser.add_argument("--message", default=None, help="the commit message")
    args = parser.parse_args(words)
    from huggingface_hub.errors import HfHubHTTPError

    from zoo import hub

    try:
        commit = hub.push(
            args.out_dir, args.repo_id, private=args.private, revision=args.revision, commit_message=args.message
        )
    except HfHubHTTPError as error:
        raise ZooError(
            f"the Hub refused the upload ({' '.join(str(error).split())}); check that your token (HF_TOKEN or "
            f"`hf auth login`) may write to {args.repo_id}"
        ) from None
    except _transport_errors() as error:
        raise ZooError(
            f"could not reach the Hub to push to {args.repo_id} ({type(error).__name__}: {error}): check the "
            "connection (or HF_ENDPOINT), then push again (a push is one commit: all of its files or none)"
        ) from None
    print(f"pushed: {commit.commit_url}")
