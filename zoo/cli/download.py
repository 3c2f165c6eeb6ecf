"""`zoo download REPO_ID`: fetch a model's files (never code, never pickles) and print where they are."""

from __future__ import annotations

from pathlib import Path

from zoo.cli.report import ArgumentParser


def run(words: list[str]) -> None:
    parser = ArgumentParser(
        prog="zoo download",
        description="Fetch the files of a model repository (config.json, model.safetensors, README.md, recipe.yaml, "
        "results.json, budget_curve.png) into the Hugging Face cache, or into --dir, and print the local folder. "
        "Code and pickled files are never downloaded. Works offline (HF_HUB_OFFLINE=1) for models already cached.",
    )
    parser.add_argument("repo_id", help="the Hub repository, org/name")
    parser.add_argument("--revision", default=None, help="branch, tag or commit (default: main)")
    parser.add_argument("--dir", type=Path, default=None, help="also copy the files into this folder")
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="the Hugging Face cache to use (default: HF_HUB_CACHE)"
    )
    parser.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="PATTERN",
        help="also fetch files matching this glob (repeatable); code and pickles stay excluded",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into a --dir that holds other files or another "
        "model (files of the same names are replaced, others kept)",
    )
    args = parser.parse_args(words)
    from zoo import hub

    print(
        hub.download(
            args.repo_id,
            args.revision,
            local_dir=args.dir,
            cache_dir=args.cache_dir,
            include=args.include,
            force=args.force,
        )
    )
