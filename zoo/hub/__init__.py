"""Share models in the Hugging Face Hub layout: save, load, push, download, and the model card.

One set of weights is stored, not two: `load` puts it into both `model` and `ema_model`, so the loaded
family's `inference_model` holds exactly the weights the source family evaluated with, and a fine-tune
starts its live weights and its EMA from them. Nothing is ever unpickled and nothing a file names is
imported: weights are read from safetensors only, settings from JSON, families looked up in
`zoo.registry`; a `.ckpt` file is read with `torch.load(weights_only=True)`. See docs/security.md.

    zoo.load("runs/quickstart/export")             # a folder written by `zoo export`
    zoo.load("org/name", revision="v1")            # a Hub repository (cached by huggingface_hub)
    zoo.load("runs/.../last.ckpt")                 # a Lightning checkpoint written by `zoo fit`

Modules: `layout` (the folder's files, config.json, building a family from it), `sources` (folder, file or
repo id; the Hub's errors), `loading` (`load`, `init_from`), `card` (the model card), `mixin`
(huggingface_hub's ModelHubMixin), `exporting` (writing a model folder: save, export), `remote` (push, download).
"""

from zoo.hub.card import model_card, reconstruct_recipe
from zoo.hub.exporting import Written, export, save
from zoo.hub.layout import (
    CARD_NAME,
    CONFIG_NAME,
    MODEL_FILES,
    PICKLED,
    PLOT_NAME,
    RECIPE_NAME,
    RESULTS_NAME,
    WEIGHTS_NAME,
    HubError,
    read_config,
)
from zoo.hub.loading import init_from, load
from zoo.hub.mixin import HubFamily
from zoo.hub.remote import download, push
from zoo.hub.sources import fetch, locate

__all__ = [
    "CARD_NAME",
    "CONFIG_NAME",
    "MODEL_FILES",
    "PICKLED",
    "PLOT_NAME",
    "RECIPE_NAME",
    "RESULTS_NAME",
    "WEIGHTS_NAME",
    "HubError",
    "HubFamily",
    "Written",
    "download",
    "export",
    "fetch",
    "init_from",
    "load",
    "locate",
    "model_card",
    "push",
    "read_config",
    "reconstruct_recipe",
    "save",
]
