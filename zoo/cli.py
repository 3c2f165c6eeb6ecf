"""The `zoo` command: Lightning's CLI for fit/validate/test/predict, plus zoo's own subcommands.

    zoo fit -c recipes/quickstart.yaml            # train, then test at every budget; writes results.json
    zoo eval runs/.../last.ckpt --budgets 1,2,4   # accuracy against inference budget, table + plot
"""

from __future__ import annotations

import sys
from pathlib import Path

from lightning.pytorch.cli import LightningCLI

from zoo.data import TaskDataModule
from zoo.models import ReasoningFamily
from zoo.results import ResultsWriter

ZOO_COMMANDS = ("eval",)


class ZooCLI(LightningCLI):
    """LightningCLI in subclass mode: `model: {class_path, init_args}`; `data:` configures TaskDataModule."""

    def add_arguments_to_parser(self, parser) -> None:  # type: ignore[no-untyped-def]
        # Recipes name the task once, under data; every family receives the same spec.
        parser.link_arguments("data.task", "model.init_args.task")
        parser.add_lightning_class_args(ResultsWriter, "results")

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


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `zoo` command; `argv` (without the program name) is for calls from Python."""
    words = sys.argv[1:] if argv is None else list(argv)
    if words and words[0] in ZOO_COMMANDS:
        from zoo import evaluate

        evaluate.main(words[1:])
        return
    _check_config_paths(words)
    ZooCLI(
        ReasoningFamily,
        TaskDataModule,
        subclass_mode_model=True,
        args=argv,
        parser_kwargs={"parser_mode": "omegaconf"},
        save_config_kwargs={"overwrite": True},
    )


if __name__ == "__main__":
    main()
