"""The `zoo` command: Lightning's CLI for fit/validate/test/predict, plus zoo's own verbs.

    zoo fit -c recipes/quickstart.yaml            # train, then test at every budget; writes results.json
    zoo eval runs/.../last.ckpt --budgets 1,2,4   # accuracy against inference budget, table + plot
    zoo export runs/.../last.ckpt models/mine     # checkpoint -> Hub folder (config.json, model.safetensors, card)
    zoo push models/mine org/name                 # upload the folder to the Hugging Face Hub
    zoo download org/name                         # fetch a model; prints its local folder
    zoo fit -c recipes/finetune/quickstart-harder.yaml --init_from org/name   # fine-tune from a model

Every mistake ends in one or two lines and exit status 2; `--debug` (or ZOO_DEBUG=1) shows the traceback.
"""

from __future__ import annotations

import sys
from importlib import import_module

from zoo.cli.report import debug_requested, flag_locator, reporting

# zoo's own verbs -> the module that runs each (a fixed table: nothing on the command line names a module)
ZOO_VERBS = {"eval": "zoo.cli.eval", "export": "zoo.cli.export", "push": "zoo.cli.push", "download": "zoo.cli.download"}
LIGHTNING_VERBS = ("fit", "validate", "test", "predict")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `zoo` command; `argv` (without the program name) is for calls from Python."""
    debug, words = debug_requested(sys.argv[1:] if argv is None else list(argv))
    verb = words[0] if words and words[0] in (*ZOO_VERBS, *LIGHTNING_VERBS) else ""
    if verb in ZOO_VERBS:
        with reporting(verb, debug, flag_locator(words[1:])):
            import_module(ZOO_VERBS[verb]).run(words[1:])
        return
    from zoo.cli import lightning
    from zoo.cli.recipe import RecipeSources

    with reporting(verb, debug, RecipeSources(words).where):
        lightning.run(words)
