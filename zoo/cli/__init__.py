"""The `zoo` command: Lightning's CLI for fit/validate/test/predict, plus zoo's own verbs.

    zoo fit -c recipes/quickstart.yaml            # train, then test at every budget; writes results.json
    zoo eval runs/.../last.ckpt --budgets 1,2,4   # accuracy against inference budget, table + plot
    zoo export runs/.../last.ckpt models/mine     # checkpoint -> Hub folder (config.json, model.safetensors, card)
    zoo push models/mine org/name                 # upload the folder to the Hugging Face Hub
    zoo download org/name                         # fetch a model; prints its local folder
    zoo models                                    # the catalog of pretrained models (names work as MODEL)
    zoo solve MODEL puzzles.txt --out answers.txt # answer your own puzzles, checked by the task's verifier
    zoo fit -c recipes/finetune/quickstart-harder.yaml --init_from org/name   # fine-tune from a model

Every mistake ends in one or two lines and exit status 2; `--debug` (or ZOO_DEBUG=1) shows the traceback.
"""

from __future__ import annotations

import sys
from importlib import import_module

from zoo.cli.report import debug_requested, flag_locator, reporting
from zoo.errors import ZooError

# zoo's own verbs -> the module that runs each (a fixed table: nothing on the command line names a module)
ZOO_VERBS = {
    "eval": "zoo.cli.eval",
    "bench": "zoo.cli.bench",
    "export": "zoo.cli.export",
    "push": "zoo.cli.push",
    "download": "zoo.cli.download",
    "models": "zoo.cli.models",
    "solve": "zoo.cli.solve",
}
LIGHTNING_VERBS = ("fit", "validate", "test", "predict")
# What each verb does, for `zoo --help`.
VERBS = {
    "fit": "train a model from a recipe (-c RECIPE.yaml), then test it at every budget",
    "validate": "score a model on the validation split (-c RECIPE.yaml --ckpt_path CKPT)",
    "test": "score a model on the test split at every budget (-c RECIPE.yaml --ckpt_path CKPT)",
    "predict": "answer the test puzzles (-c RECIPE.yaml --ckpt_path CKPT)",
    "eval": "accuracy against inference budget on held-out puzzles: MODEL [--budgets 1,2,4] [--count N]",
    "bench": "several models on the same puzzles, accuracy against inference FLOPs per puzzle: MODEL [MODEL ...]",
    "export": "checkpoint -> model folder in the Hugging Face Hub layout: CKPT OUT_DIR",
    "push": "upload a model folder to the Hugging Face Hub: OUT_DIR ORG/NAME",
    "download": "fetch a model's files from the Hub (never code): ORG/NAME [--dir DIR]",
    "models": "the catalog of pretrained models, or one model's card: [NAME]",
    "solve": "answer puzzles written in the task's text form, checked by its verifier: MODEL FILE|- [--out F]",
}


def usage() -> str:
    """`zoo --help`: every verb with one line."""
    lines = ["usage: zoo VERB [options]   (zoo VERB --help for a verb's options)", "", "verbs:"]
    lines += [f"  {verb:<9} {what}" for verb, what in VERBS.items()]
    lines += ["", "options:", "  --debug   show the full traceback of an error (also ZOO_DEBUG=1)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `zoo` command; `argv` (without the program name) is for calls from Python."""
    debug, words = debug_requested(sys.argv[1:] if argv is None else list(argv))
    if not words or words[0] in ("-h", "--help", "help"):
        print(usage(), file=sys.stdout if words else sys.stderr)
        raise SystemExit(0 if words else 2)
    verb = words[0] if words[0] in VERBS else ""
    if not verb and not words[0].startswith("-"):
        with reporting(verb, debug):
            raise ZooError(f"unknown verb {words[0]!r}: the verbs are {', '.join(VERBS)}; see `zoo --help`")
    if verb in ZOO_VERBS:
        with reporting(verb, debug, flag_locator(words[1:])):
            import_module(ZOO_VERBS[verb]).run(words[1:])
        return
    from zoo.cli import lightning
    from zoo.cli.recipe import RecipeSources

    with reporting(verb, debug, RecipeSources(words).where):
        lightning.run(words)
