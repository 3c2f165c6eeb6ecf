"""huggingface_hub's `ModelHubMixin` around a family: the Hub library's own save/load code paths."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import torch
from huggingface_hub import ModelCard, ModelHubMixin
from safetensors.torch import save_model

from zoo.hub.card import model_card
from zoo.hub.layout import (
    CONFIG_NAME,
    LIBRARY_NAME,
    WEIGHTS_NAME,
    build_from_folder,
    evaluation_weights,
    file_sha256,
    model_config,
)
from zoo.hub.sources import fetch
from zoo.models.base import ReasoningFamily


def write_weights(network: torch.nn.Module, path: Path, metadata: dict[str, str]) -> None:
    """`network`'s state dict as the safetensors file `path`, the same bytes for the same weights and metadata.

    safetensors writes its metadata in hash-map order, which changes from one save to the next (and with it
    the file's checksum); the header is written again with its keys sorted, in place (the same length).
    """
    save_model(network, str(path), metadata=metadata)
    with open(path, "r+b") as handle:
        length = struct.unpack("<Q", handle.read(8))[0]
        header = json.loads(handle.read(length))
        if isinstance(header.get("__metadata__"), dict):
            header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
        ordered = {key: header[key] for key in sorted(header, key=lambda key: (key != "__metadata__", key))}
        text = json.dumps(ordered, separators=(",", ":"), ensure_ascii=False).encode()
        if len(text) > length:  # a bug: the same entries, reordered, take the same bytes
            raise RuntimeError(f"the reordered header of {path} is longer than safetensors' ({len(text)} > {length})")
        handle.seek(8)
        handle.write(text.ljust(length, b" "))


class HubFamily(
    ModelHubMixin,
    library_name=LIBRARY_NAME,
    license="apache-2.0",
    tags=[LIBRARY_NAME, "reasoning"],
):
    """A family wrapped for huggingface_hub's `ModelHubMixin`: `save_pretrained` writes the Hub layout,
    `from_pretrained` reads it strictly.

    Families stay free of Hub code; this wrapper is the one place that knows the layout.

        HubFamily(family).save_pretrained("out", model_card_kwargs={"results": {...}})
        family = HubFamily.from_pretrained("out").model
    """

    def __init__(self, model: ReasoningFamily) -> None:
        self.model = model

    def _save_pretrained(self, save_directory: Path) -> None:
        network, kind = evaluation_weights(self.model)
        weights = save_directory / WEIGHTS_NAME
        write_weights(network, weights, metadata={"format": "pt", "zoo_weights": kind})
        config = model_config(self.model, weights_sha256=file_sha256(weights))
        (save_directory / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n")

    @classmethod
    def _from_pretrained(
        cls,
        *,
        model_id: str,
        revision: str | None,
        cache_dir: str | Path | None,
        force_download: bool,
        local_files_only: bool,
        token: str | bool | None,
        map_location: str | torch.device = "cpu",
        **unused: Any,
    ) -> HubFamily:
        folder = Path(model_id)
        if not folder.is_dir():
            folder = fetch(model_id, revision, cache_dir=cache_dir, token=token, local_files_only=local_files_only)
        return cls(build_from_folder(folder, map_location))

    def generate_model_card(self, *args: Any, **kwargs: Any) -> ModelCard:
        """The card: the mixin's metadata (library, license, tags) plus this model's; see `model_card`."""
        return model_card(self.model, base=self._hub_mixin_info.model_card_data, **kwargs)
