"""The `zoo` command: Lightning's CLI for fit/validate/test/predict, plus zoo's own subcommands.

    zoo fit -c recipes/quickstart.yaml            # train, then test at every budget; writes results.json
    zoo eval runs/.../last.ckpt --budgets 1,2,4   # accuracy against inference budget, table + plot
    zoo export runs/.../last.ckpt models/mine     # checkpoint -> Hub folder (config.json, model.safetensors, card)
    zoo push models/mine org/name                 # upload the folder to the Hugging Face Hub
    zoo download org/name                         # fetch a model; prints its local folder
    zoo fit -c recipes/finetune/quickstart-harder.yaml --init_from org/name   # fine-tune from a model
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

import torch
from lightning.pytorch.cli import LightningCLI

from zoo.data import TaskDataModule
from zoo.models import ReasoningFamily
from zoo.results import ResultsWriter

ZOO_COMMANDS = ("eval", "export", "push", "download")


class ZooCLI(LightningCLI):
    """LightningCLI in subclass mode: `model: {class_path, init_args}`; `data:` configures TaskDataModule."""

    def add_arguments_to_parser(self, parser) -> None:  # type: ignore[no-untyped-def]
        # Recipes name the task once, under data; every family receives the same spec.
        parser.link_arguments("data.task", "model.init_args.task")
        parser.add_lightning_class_args(ResultsWriter, "results")
        parser.add_argument(
            "--init_from",
            type=Optional[str],
            default=None,
            help="Start from the weights of a model: a folder made by `zoo export`, a Hub repo id (org/name) or a "
            ".ckpt. The family and the task's board must match; the optimiser starts fresh. With --ckpt_path the "
            "checkpoint's weights win (a resumed run).",
        )

    def _init_from(self) -> None:
        """Load `init_from` weights into the freshly built family, before Lightning sets up the optimiser."""
        source = self.config[self.subcommand].get("init_from")
        if source:
            from zoo.hub import init_from

            init_from(self.model, source)

    def _resolve_last_checkpoint(self) -> None:
        """Turn `--ckpt_path last` into the newest last*.ckpt of the recipe's run directory.

        Lightning looks for "last" only in the checkpoint folder of the *new* run's logger version, which is
        empty, and then quietly starts from scratch; a killed run must continue where it stopped instead.
        """
        config = self.config_init[self.subcommand]
        if config.get("ckpt_path") != "last":
            return
        folders = {Path(self.trainer.default_root_dir)}
        folders |= {Path(cb.dirpath) for cb in self.trainer.checkpoint_callbacks if getattr(cb, "dirpath", None)}
        found = [path for folder in folders for path in folder.rglob("last*.ckpt")]
        if not found:
            print(f"zoo: no last.ckpt under {', '.join(sorted(map(str, folders)))}: starting from scratch", file=sys.stderr)
            config["ckpt_path"] = None
            return
        newest = max(found, key=lambda path: path.stat().st_mtime)
        print(f"zoo: resuming from {newest}", file=sys.stderr)
        config["ckpt_path"] = str(newest)

    def _before_subcommand(self) -> None:
        self._resolve_last_checkpoint()
        self._init_from()

    before_fit = before_validate = before_test = before_predict = _before_subcommand

    def after_fit(self) -> None:
        """Every fit ends with a test at each budget, so its run directory holds results.json."""
        self.trainer.test(self.model, datamodule=self.datamodule, verbose=False)


def _check_config_paths(argv: list[str]) -> None:
    """Name a missing recipe file plainly instead of letting the parser fail on it."""
    for flag, value in zip(argv, argv[1:]):
        if flag in ("-c", "--config") and not Path(value).is_file():
            raise SystemExit(
                f"zoo: recipe file not found: {value}\n"
                "  give a path to a YAML recipe, e.g. `zoo fit -c recipes/quickstart.yaml` (see recipes/)"
            )


def export_main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="zoo export",
        description="Turn a checkpoint written by `zoo fit` into a model folder in the Hugging Face Hub layout: "
        "config.json, model.safetensors (EMA weights where the family keeps them) and a README.md model card with "
        "the run's results, plot and recipe. Runs no training.",
    )
    parser.add_argument("checkpoint", help="a .ckpt written by `zoo fit`")
    parser.add_argument("out_dir", type=Path, help="the folder to write (created if needed)")
    parser.add_argument("--results", type=Path, default=None, help="results.json for the card (default: the run's, found next to the checkpoint)")
    parser.add_argument("--recipe", type=Path, default=None, help="the recipe for the card (default: the run's config.yaml)")
    parser.add_argument("--repo-id", default=None, help="the Hub id the card's commands name, e.g. org/name (default: OUT_DIR)")
    parser.add_argument("--name", default=None, help="the model's name in the card (default: OUT_DIR's name)")
    parser.add_argument("--license", default=None, help="the card's license (default: apache-2.0)")
    parser.add_argument("--overwrite-card", action="store_true", help="replace an existing README.md (kept by default)")
    args = parser.parse_args(argv)
    from zoo import hub

    card_existed = (args.out_dir / hub.CARD_NAME).is_file()
    try:
        folder = hub.export(
            args.checkpoint, args.out_dir, results=args.results, recipe=args.recipe, name=args.name,
            repo_id=args.repo_id, license=args.license, overwrite_card=args.overwrite_card,
        )
    except (FileNotFoundError, ValueError) as error:
        raise SystemExit(f"zoo export: {error}") from None
    if card_existed and not args.overwrite_card:
        print(f"kept the existing {folder / hub.CARD_NAME} (pass --overwrite-card to write a new one)")
    print(f"exported: {folder}")


def push_main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="zoo push",
        description="Upload a model folder made by `zoo export` to the Hugging Face Hub in one commit. The token "
        "comes from HF_TOKEN or the saved login (`hf auth login`).",
    )
    parser.add_argument("out_dir", type=Path, help="a folder made by `zoo export`")
    parser.add_argument("repo_id", help="the Hub repository, org/name (created if it does not exist)")
    parser.add_argument("--private", action="store_true", help="create the repository private")
    parser.add_argument("--revision", default=None, metavar="BRANCH", help="push to this branch (created if needed)")
    parser.add_argument("--message", default=None, help="the commit message")
    args = parser.parse_args(argv)
    from huggingface_hub.errors import HfHubHTTPError

    from zoo import hub

    try:
        commit = hub.push(args.out_dir, args.repo_id, private=args.private, revision=args.revision, commit_message=args.message)
    except (FileNotFoundError, ValueError) as error:
        raise SystemExit(f"zoo push: {error}") from None
    except HfHubHTTPError as error:
        raise SystemExit(
            f"zoo push: the Hub refused the upload ({error}); check that your token (HF_TOKEN or `hf auth login`) "
            f"may write to {args.repo_id}"
        ) from None
    print(f"pushed: {commit.commit_url}")


def download_main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="zoo download",
        description="Fetch a model repository (all files except pickled ones) into the Hugging Face cache, or into "
        "--dir, and print its local folder. Works offline (HF_HUB_OFFLINE=1) for models already cached.",
    )
    parser.add_argument("repo_id", help="the Hub repository, org/name")
    parser.add_argument("--revision", default=None, help="branch, tag or commit (default: main)")
    parser.add_argument("--dir", type=Path, default=None, help="also copy the files into this folder")
    parser.add_argument("--cache-dir", type=Path, default=None, help="the Hugging Face cache to use (default: HF_HUB_CACHE)")
    args = parser.parse_args(argv)
    from zoo import hub

    try:
        folder = hub.download(args.repo_id, args.revision, local_dir=args.dir, cache_dir=args.cache_dir)
    except (FileNotFoundError, ValueError) as error:
        raise SystemExit(f"zoo download: {error}") from None
    print(folder)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `zoo` command; `argv` (without the program name) is for calls from Python."""
    words = sys.argv[1:] if argv is None else list(argv)
    if words and words[0] in ZOO_COMMANDS:
        if words[0] == "eval":
            from zoo import evaluate

            evaluate.main(words[1:])
        else:
            {"export": export_main, "push": push_main, "download": download_main}[words[0]](words[1:])
        return
    _check_config_paths(words)
    try:
        ZooCLI(
            ReasoningFamily,
            TaskDataModule,
            subclass_mode_model=True,
            args=argv,
            parser_kwargs={"parser_mode": "omegaconf"},
            save_config_kwargs={"overwrite": True},
        )
    except torch.distributed.DistError as error:
        raise SystemExit(
            f"zoo: the processes of this distributed run did not all meet: {error}\n"
            "  every node runs the same command with its own NODE_RANK (0 .. num_nodes-1) and MASTER_ADDR/MASTER_PORT "
            "naming node 0, which must be reachable from the others; the wait is bounded by "
            "`--trainer.strategy DDPStrategy --trainer.strategy.timeout H:MM:SS` (default 0:30:00). See docs/multinode.md"
        ) from None
    finally:
        # Lightning leaves the process group open; tearing down gloo's threads at interpreter exit instead can
        # abort a process that has finished ("terminate called without an active exception").
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
