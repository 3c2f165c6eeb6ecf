"""`zoo fit|validate|test|predict`: Lightning's CLI in subclass mode, with the zoo's checks around it.

Settings are checked once parsed and before anything is built or generated (data settings, the task,
the accelerator); `--ckpt_path` is read safely and checked against the recipe's model before Lightning
loads it (`last` finds the run's newest readable checkpoint); `--init_from` loads weights before training.
The run's saved config.yaml keeps `${oc.env:...}` references as written, never the values they resolved to.
"""

from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path
from typing import Any, NoReturn

import torch
import yaml
from jsonargparse import set_parsing_settings
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.cli import (
    LightningArgumentParser,
    LightningCLI,
    SaveConfigCallback,
)

from zoo import checkpoints, compat, known
from zoo.cli import options
from zoo.cli.recipe import RecipeSources, set_key
from zoo.data import TaskDataModule, check_settings, check_training_batch, task_for_generation
from zoo.errors import DamagedFileError, ZooError
from zoo.evaluation.results import PredictionsWriter, ResultsWriter
from zoo.io import redact
from zoo.io.files import write_text
from zoo.models import ReasoningFamily
from zoo.regimes import Regime, check_pairing

# A family's `regime` argument takes any registered Regime subclass, named by class_path in recipes.
set_parsing_settings(subclasses_enabled=[Regime])

# What Lightning's parser adds to an error that says nothing about the mistake itself.
_NOISE = (
    "Given value",
    "Subtypes:",
    "Errors:",
    "Does not validate against any of the Union subtypes",
    "Expected a <class 'NoneType'>",
    "tip:",
)


class ZooParser(LightningArgumentParser):
    """Lightning's parser, with errors cut to the lines that name the mistake (no usage dump)."""

    help_hint = "see `zoo fit --help`"

    def error(self, message: str, ex: Exception | None = None) -> NoReturn:
        message = re.sub(r'Parser key "([^"]+)":', r"\1:", str(message)).replace(f"; {self.help_hint}", "")
        lines = [line.strip().lstrip("- ").strip() for line in message.splitlines()]
        kept = [line for line in lines if line and not any(noise in line for noise in _NOISE)]
        text = " ".join(dict.fromkeys(kept[:4])).replace(": ;", ":")
        raise ZooError(f"{text}; {self.help_hint}") from ex


class ConfigSaver(SaveConfigCallback):
    """Saves the run's config.yaml, with every value a recipe read from the environment written as its reference."""

    def __init__(self, *args: Any, sources: RecipeSources | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sources = sources

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if self.already_saved:
            return
        log_dir = trainer.log_dir  # a collective under DDP: every rank asks
        if trainer.is_global_zero and self.save_to_log_dir and log_dir is not None:
            text = self.parser.dump(self.config, skip_none=False)
            header = "".join(line + "\n" for line in text.splitlines() if line.startswith("#"))
            config = yaml.safe_load(text)
            if self.sources is not None:
                for key, written in self.sources.env_keys().items():
                    set_key(config, key, written)
                config = redact.restore_references(config, redact.env_references(self.sources.texts()))
            Path(log_dir).mkdir(parents=True, exist_ok=True)
            write_text(Path(log_dir) / self.config_filename, header + yaml.safe_dump(config, sort_keys=False))
        self.already_saved = trainer.strategy.broadcast(True)


class ZooCLI(LightningCLI):
    """LightningCLI in subclass mode: `model: {class_path, init_args}`; `data:` configures TaskDataModule."""

    sources: RecipeSources

    def __init__(self, *args: Any, sources: RecipeSources, **kwargs: Any) -> None:
        ZooCLI.sources = sources
        kwargs.setdefault("save_config_kwargs", {})["sources"] = sources
        super().__init__(*args, parser_class=ZooParser, save_config_callback=ConfigSaver, **kwargs)

    def add_arguments_to_parser(self, parser) -> None:  # type: ignore[no-untyped-def]
        # Recipes name the task once, under data; every family receives the same spec.
        parser.link_arguments("data.task", "model.init_args.task")
        parser.add_lightning_class_args(ResultsWriter, "results")
        parser.add_lightning_class_args(PredictionsWriter, "predictions")
        parser.add_argument(
            "--init_from",
            type=str | None,
            default=None,
            help="Start from the weights of a model: a folder made by `zoo export`, a Hub repo id (org/name) or a "
            ".ckpt. The family and the task's board must match; the optimiser starts fresh. With --ckpt_path the "
            "checkpoint's weights win (a resumed run).",
        )

    # ---- before anything is built ------------------------------------------------------------------

    def parse_arguments(self, parser: LightningArgumentParser, args: Any) -> None:
        super().parse_arguments(parser, args)
        subcommand = self.config.get("subcommand")
        if subcommand:
            self._check_settings(self.config[subcommand], training=subcommand == "fit")

    def _check_settings(self, config: Any, training: bool) -> None:
        """Data settings, the task and the accelerator, refused before any work with the key at fault."""
        data = config.get("data")
        data = data.as_dict() if hasattr(data, "as_dict") else dict(data or {})
        try:
            task_for_generation(data.get("task"))
            check_settings(
                **{key: value for key, value in data.items() if key not in ("task", "cache_dir", "partners")}
            )
            sizes = [data.get(key) for key in ("train_count", "augment_copies", "batch_size")]
            if training and None not in sizes:
                check_training_batch(*sizes)
        except ZooError as error:
            raise error.under("data") from None
        self._check_pairing(config.get("model"))
        seed = config.get("seed_everything")
        if not isinstance(seed, bool) and isinstance(seed, int) and not 0 <= seed < 2**32:
            raise ZooError(
                f"seed_everything must be a whole number from 0 to 2**32 - 1 (numpy's seeds), or true for a random "
                f"one; got {seed}",
                key="seed_everything",
            )
        accelerator = str(config.get("trainer", {}).get("accelerator", "auto")).lower()
        if accelerator in ("gpu", "cuda") and not torch.cuda.is_available():
            raise ZooError(
                f"trainer.accelerator is {accelerator!r} but this machine has no CUDA device: use cpu (or auto)",
                key="trainer.accelerator",
            )

    @staticmethod
    def _check_pairing(model: Any) -> None:
        """A family and a regime that cannot train together are refused here, before anything is built."""
        family = getattr(model, "class_path", None)
        regime = getattr(getattr(getattr(model, "init_args", None), "regime", None), "class_path", None)
        if family is None:
            return
        family_cls = known.family(family)
        regime_cls = known.regime(regime) if regime is not None else type(family_cls.default_regime())
        try:
            check_pairing(family_cls, regime_cls)
        except ZooError as error:
            raise error.under("model.init_args") from None

    def _parse_ckpt_path(self) -> None:
        """Read `--ckpt_path` safely; never merge the checkpoint's settings into the config.

        Lightning would parse the checkpoint's hyper-parameters into the recipe, which lets a file name the
        classes to import and silently changes the model the recipe asked for. The zoo builds the recipe's
        model and refuses a checkpoint that does not fit it (see `_check_checkpoint`).
        """
        subcommand = self.config.get("subcommand")
        path = self.config[subcommand].get("ckpt_path") if subcommand else None
        if path and path not in ("last", "best", "hpc", "registry"):
            self._read_checkpoint(path)

    @staticmethod
    def _read_checkpoint(path: str) -> dict[str, Any]:
        try:
            checkpoint = checkpoints.read_checkpoint(path)
            known.family(checkpoint["zoo"]["family"], path)
            regime = checkpoint["hyper_parameters"].get("regime")
            if isinstance(regime, dict):
                known.regime(regime.get("class_path"), path)
        except ZooError as error:
            error.key = "ckpt_path"
            raise
        return checkpoint

    # ---- once the model exists, before the trainer -------------------------------------------------

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        config = self.config_init[self.subcommand]
        self._resolve_last_checkpoint(config)
        if config.get("ckpt_path"):
            checkpoint = self._read_checkpoint(config["ckpt_path"])
            try:
                compat.require_resumable(checkpoint, self.model, str(config["ckpt_path"]))
            except ZooError as error:
                raise ZooError(str(error), key="ckpt_path") from None
            config["weights_only"] = True
        if config.get("init_from"):
            from zoo.hub import init_from

            try:
                init_from(self.model, config["init_from"])
            except ZooError as error:
                raise ZooError(str(error), key="init_from") from None
        return super().instantiate_trainer(**kwargs)

    def _resolve_last_checkpoint(self, config: Any) -> None:
        """Turn `--ckpt_path last` into the newest readable checkpoint of the recipe's run directory.

        Lightning looks for "last" only in the checkpoint folder of the *new* run's logger version, which is
        empty, and then quietly starts from scratch; a killed run must continue where it stopped instead. Every
        checkpoint of the run counts (last.ckpt and the step checkpoints `every_n_train_steps` leaves); a
        damaged one (a kill while writing, a full disk) is skipped, and said so.
        """
        if config.get("ckpt_path") != "last":
            return
        trainer = config.get("trainer") or {}
        root = Path(trainer.get("default_root_dir") or ".")
        dirpaths = [Path(c.dirpath) for c in trainer.get("callbacks") or [] if getattr(c, "dirpath", None)]
        found = run_checkpoints(root, dirpaths)
        if not found:
            where = ", ".join(sorted({str(folder) for folder in (root, *dirpaths)}))
            print(f"zoo: no checkpoint under {where}: starting from scratch", file=sys.stderr)
            config["ckpt_path"] = None
            return
        chosen, skipped = newest_readable(found)
        if chosen is None:
            what = "last.ckpt" if all(path.name.startswith("last") for path in found) else "checkpoint"
            raise ZooError(
                f"every {what} of this run is damaged: {'; '.join(skipped)}. Give an intact checkpoint with "
                "--ckpt_path PATH, or remove these files to start from scratch",
                key="ckpt_path",
            )
        note = f" (newest readable; skipped damaged {'; '.join(skipped)})" if skipped else ""
        print(f"zoo: resuming from {chosen}{note}", file=sys.stderr)
        config["ckpt_path"] = str(chosen)

    def after_fit(self) -> None:
        """Every fit ends with a test at each budget, so its run directory holds results.json."""
        self.trainer.test(self.model, datamodule=self.datamodule, verbose=False)


def run_checkpoints(root: Path, dirpaths: list[Path]) -> list[Path]:
    """Every checkpoint a run may have left: the .ckpt files in the `checkpoints` folders Lightning keeps below
    its root directory (`<root>/<logger>/version_N/checkpoints/`) and in the folders its ModelCheckpoint
    callbacks were given (`dirpaths`), each named once."""
    found = [*root.rglob("checkpoints/*.ckpt"), *(path for folder in dirpaths for path in folder.glob("*.ckpt"))]
    unique = {path.resolve(): path for path in found if path.is_file()}
    return list(unique.values())


def newest_readable(paths: list[Path]) -> tuple[Path | None, list[str]]:
    """The newest checkpoint of `paths` that reads whole, and the damaged ones skipped on the way ("PATH (why)").

    Newest is the latest modification time: a later run in the same folder starts its step count again, so
    the step alone cannot say which state came last. Modification times tie where the file system keeps
    them coarsely (seconds, or two on FAT) or files were restored from an archive, so among checkpoints of
    the same time the one at the larger global step (read from the file) wins, then last.ckpt, then the name.
    """
    by_time: dict[int, list[Path]] = {}
    for path in paths:
        by_time.setdefault(path.stat().st_mtime_ns, []).append(path)
    skipped = []
    for mtime in sorted(by_time, reverse=True):
        readable = []
        for path in sorted(by_time[mtime]):
            try:
                step = checkpoints.read_checkpoint(path).get("global_step")
            except DamagedFileError as error:
                skipped.append(f"{path} ({str(error).split(' (', 1)[-1].split(')', 1)[0]})")
                continue
            readable.append((step if isinstance(step, int) else -1, path.name.startswith("last"), path))
        if readable:
            return max(readable)[2], skipped
    return None, skipped


def run(words: list[str]) -> None:
    """`zoo fit|validate|test|predict ...` (words without the program name)."""
    options.ascii_numbers(words)
    sources = RecipeSources(words)
    sources.check()
    verb = words[0] if words and words[0] in ("fit", "validate", "test", "predict") else ""
    ZooParser.help_hint = f"see `{' '.join(('zoo', verb)).strip()} --help`"
    # zoo hands Lightning the words it was given (without --debug), which Lightning would warn about.
    warnings.filterwarnings("ignore", message="LightningCLI's args parameter is intended")
    try:
        ZooCLI(
            ReasoningFamily,
            TaskDataModule,
            subclass_mode_model=True,
            args=words,
            parser_kwargs={"parser_mode": "omegaconf"},
            save_config_kwargs={"overwrite": True},
            sources=sources,
        )
    except torch.distributed.DistError as error:
        raise ZooError(
            f"the processes of this distributed run did not all meet: {error}\n"
            "  every node runs the same command with its own NODE_RANK (0 .. num_nodes-1) and MASTER_ADDR/MASTER_PORT "
            "naming node 0, which must be reachable from the others; the wait is bounded by "
            "`--trainer.strategy DDPStrategy --trainer.strategy.timeout H:MM:SS` (default 0:30:00). "
            "See docs/multinode.md"
        ) from None
    finally:
        # Lightning leaves the process group open; tearing down gloo's threads at interpreter exit instead can
        # abort a process that has finished ("terminate called without an active exception").
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
