"""Hub layout, locally: save/export -> load gives identical predictions for every family; the model card of
an export; and the clear errors of folders that are not zoo models (missing, pickled weights, another
family or task). The Hub's side (the cache, download, push, the Hub's errors) is in test_hub_remote.py.

No test reaches the network (the `hub_answers` fixture), and the Hugging Face cache is a temporary folder.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import pytest
import torch
from huggingface_hub import ModelCard, constants
from safetensors.torch import load_file, save_file

import zoo
from tests.helpers import assert_same_predictions, build, cache_repo, write_checkpoint
from zoo import hub, known
from zoo.cli import main
from zoo.errors import ZooError
from zoo.evaluation.results import write_results
from zoo.models import EnergyTransformer, RecursiveReasoner

pytestmark = pytest.mark.usefixtures("one_thread", "hub_answers")

FAMILIES = known.family_names()


# ---- round trips -----------------------------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
def test_save_then_load_predicts_the_same(family: str, tmp_path: Path) -> None:
    model = build(family)
    folder = hub.save(model, tmp_path / "model")
    loaded = zoo.load(folder)
    assert type(loaded) is type(model) and not loaded.training
    assert_same_predictions(model, loaded)
    # The evaluation weights are what was stored: the EMA where kept, the live weights otherwise.
    config = json.loads((folder / "config.json").read_text())
    stored = load_file(folder / "model.safetensors")
    evaluated = (model.ema_model or model.model).state_dict()
    assert config["weights"] == ("live" if model.ema_model is None else "ema")
    assert stored.keys() == evaluated.keys() and all(torch.equal(stored[k], evaluated[k]) for k in stored)
    assert config["family"] == type(model).__name__  # the registered name: loading looks it up, never imports it
    assert config["task"] == model.task.spec() and config["hparams"]["regime"] == model.hparams.regime
    assert {p.name for p in folder.iterdir()} == {"config.json", "model.safetensors", "README.md", "recipe.yaml"}


def replace_weights(folder: Path, tensors: dict[str, torch.Tensor]) -> None:
    """Write other weights into a model folder *and* record their checksum, as a consistent but mixed-up folder."""
    save_file(tensors, folder / "model.safetensors")
    config = json.loads((folder / "config.json").read_text())
    config["weights_sha256"] = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    (folder / "config.json").write_text(json.dumps(config))


def test_loading_is_strict(tmp_path: Path) -> None:
    folder = hub.save(build("recursive"), tmp_path / "model")
    weights = load_file(folder / "model.safetensors")
    replace_weights(folder, {k: v for k, v in weights.items() if k != "answer_head.weight"})
    with pytest.raises(ZooError, match="do not fit.*Missing key.*answer_head.weight"):
        zoo.load(folder)
    replace_weights(folder, {**weights, "extra.weight": torch.zeros(2)})
    with pytest.raises(ZooError, match="do not fit.*Unexpected key.*extra.weight"):
        zoo.load(folder)
    replace_weights(folder, {**weights, "answer_head.weight": torch.zeros(6, 17)})
    with pytest.raises(ZooError, match=r"answer_head.weight is \[6, 17\] in the file, \[6, 16\] in the network"):
        zoo.load(folder)


def test_export_writes_the_hub_folder_and_card(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = build("recursive")
    run = tmp_path / "run" / "lightning_logs" / "version_0"
    checkpoint = write_checkpoint(model, run / "checkpoints" / "last.ckpt")
    (run / "config.yaml").write_text(
        "init_from: org/base\nseed_everything: 0\nmodel:\n  class_path: zoo.models.RecursiveReasoner\n"
    )
    results = {
        "family": "RecursiveReasoner",
        "task": model.task.spec(),
        "exact_match": {"1": 0.25, "4": 0.75},
        "puzzles": 8,
        "machine": "test machine",
    }
    write_results(results, run)
    capsys.readouterr()

    main(["export", str(checkpoint), str(tmp_path / "out"), "--repo-id", "org/name", "--name", "tiny-trm"])
    out = tmp_path / "out"
    assert f"exported: {out}" in capsys.readouterr().out
    assert {p.name for p in out.iterdir()} == {
        "config.json",
        "model.safetensors",
        "README.md",
        "results.json",
        "budget_curve.png",
        "recipe.yaml",
    }
    assert_same_predictions(model, zoo.load(out))
    assert (out / "recipe.yaml").read_text() == (run / "config.yaml").read_text()

    card = ModelCard.load(out / "README.md")
    assert card.data.library_name == "belief-zoo" and card.data.license == "apache-2.0"
    assert {"recursive-reasoner", "sudoku", "deep-supervision"} <= set(card.data.tags)
    assert card.data.base_model == "org/base"  # the run was a fine-tune of a Hub model
    assert card.data.model_name == "tiny-trm"
    measured = {r.metric_config: r.metric_value for r in card.data.eval_results if r.metric_type == "exact_match"}
    assert measured == {"budget=1": 0.25, "budget=4": 0.75}
    for text in (
        "zoo eval org/name",
        "--init_from org/name",
        "zoo download org/name",
        "![",
        "(budget_curve.png)",
        "init_from: org/base",
        "| 4 | 0.750 |",
        "EMA",
    ):
        assert text in card.text, text


def test_export_keeps_the_card_of_the_same_model_unless_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = write_checkpoint(build("energy"), tmp_path / "run" / "checkpoints" / "last.ckpt")
    out = tmp_path / "out"
    main(["export", str(checkpoint), str(out)])
    (out / "README.md").write_text("my own card\n")  # the user edits the card of this model
    main(["export", str(checkpoint), str(out)])  # the same weights again
    assert (out / "README.md").read_text() == "my own card\n"
    assert "kept the existing" in capsys.readouterr().out
    main(["export", str(checkpoint), str(out), "--overwrite-card"])
    card = ModelCard.load(out / "README.md")
    assert "energy-transformer" in card.data.tags
    assert "Reconstructed from the model's hyper-parameters" in card.text  # no config.yaml in this run
    assert "class_path: zoo.models.EnergyTransformer" in (out / "recipe.yaml").read_text()


# ---- what a folder may not be ----------------------------------------------------------------------


def test_paths_that_do_not_exist_are_named(tmp_path: Path) -> None:
    with pytest.raises(hub.HubError, match="no folder or file at ./nowhere"):
        zoo.load("./nowhere")
    with pytest.raises(hub.HubError, match="no folder or file at .*last.ckpt"):
        zoo.load(str(tmp_path / "runs" / "last.ckpt"))


class _Unpickled:
    """Unpickling this creates a file: proof that something was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (open, (str(self.marker), "w"))


def test_pickled_weights_are_refused_and_never_unpickled(tmp_path: Path, offline: None) -> None:
    folder = hub.save(build("recursive"), tmp_path / "model")
    (folder / "model.safetensors").unlink()
    marker = tmp_path / "unpickled"
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(_Unpickled(marker)))
    with pytest.raises(hub.HubError, match=r"pickled weights \(pytorch_model.bin\).*never unpickles"):
        zoo.load(folder)
    with pytest.raises(hub.HubError, match="pickled weights"):
        zoo.load(folder / "pytorch_model.bin")
    cache_repo(Path(constants.HF_HUB_CACHE), "org/pickled", folder)
    with pytest.raises(hub.HubError, match="pickled weights"):
        zoo.load("org/pickled")
    assert not marker.exists()


def test_folders_that_are_not_zoo_models(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(hub.HubError, match="not a belief-zoo model folder \\(no config.json\\).*zoo export"):
        zoo.load(tmp_path / "empty")
    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"hidden_size": 8}))
    (other / "model.safetensors").write_bytes(b"")
    with pytest.raises(hub.HubError, match="not written by belief-zoo"):
        zoo.load(other)


def test_a_folder_of_another_family_or_task_is_refused_when_one_is_expected(tmp_path: Path) -> None:
    folder = hub.save(build("energy"), tmp_path / "model")
    with pytest.raises(ZooError, match="holds an EnergyTransformer model, but a RecursiveReasoner is expected"):
        zoo.load(folder, family=RecursiveReasoner)
    with pytest.raises(ZooError, match="trained on task .*'size': 4.*cannot read .*'size': 6"):
        zoo.load(folder, task={"name": "sudoku", "size": 6})
    with pytest.raises(ZooError, match="cannot read .*nqueens"):
        zoo.load(folder, task={"name": "nqueens", "size": 6})
    harder = zoo.load(folder, family="EnergyTransformer", task={"name": "sudoku", "size": 4, "givens": 6})
    assert isinstance(harder, EnergyTransformer)  # difficulty may differ


def test_a_card_tags_a_model_by_its_family_task_and_regime_in_kebab_case(tmp_path: Path) -> None:
    """A run of capitals is one word: TraceSFT is tagged trace-sft (not trace-s-f-t)."""
    folder = hub.save(build("TraceTransformer"), tmp_path / "trace")
    assert {"trace-transformer", "maze", "trace-sft"} <= set(ModelCard.load(folder / "README.md").data.tags)
