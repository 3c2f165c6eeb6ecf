"""Damaged and hostile inputs the zoo reads are refused in one line that names the file and what is wrong:
config.json with wrong types, signs, missing keys or deep nesting (and a checkpoint's hyper-parameters), a
truncated model.safetensors, a catalog entry missing a key. Also: a local folder that shadows a catalog name
says so, and the same weights always give the same model.safetensors bytes."""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

import zoo
from tests.conftest import zoo_error
from tests.helpers import build, write_checkpoint
from zoo import hub
from zoo.errors import DamagedFileError, ZooError
from zoo.hub import catalog


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model folder (RecursiveReasoner on 4x4 Sudoku) that tests copy and damage."""
    torch.set_num_threads(1)
    return hub.save(build("recursive"), tmp_path_factory.mktemp("saved") / "model")


def damaged_copy(saved: Path, tmp_path: Path, edit: Callable[[dict[str, Any]], object] | str) -> Path:
    """A copy of `saved` whose config.json is edited in place by `edit`, or is the text `edit`."""
    folder = Path(shutil.copytree(saved, tmp_path / "damaged"))
    config = json.loads((folder / "config.json").read_text())
    if callable(edit):
        edit(config)
    (folder / "config.json").write_text(edit if isinstance(edit, str) else json.dumps(config))
    return folder


def one_line(error: BaseException) -> str:
    text = str(error)
    assert "\n" not in text, text
    return text


# ---- (a) config.json: wrong types and signs, missing keys, nesting -------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("width", -1, "hparams.width = -1"),  # was a RuntimeError traceback from torch
        ("expansion", -2.0, "hparams.expansion = -2.0"),
        ("width", 2**20, "[6, 1048576] in the network"),  # checked on the meta device: nothing allocated
        ("width", 10**30, "hparams.width = 1000000000000000000000000000000"),
        ("width", "16", "hparams.width = '16', not an int"),
        ("width", 16.0, "hparams.width = 16.0, not an int"),
        ("width", None, "hparams.width = None, not an int"),
        ("width", [16], "hparams.width = [16], not an int"),
        ("width", True, "hparams.width = True, not an int"),
        ("expansion", float("inf"), "hparams.expansion = inf, not a finite number"),
        ("mixer", "conv", "hparams.mixer = 'conv', not one of 'mlp', 'attention'"),
        ("eval_budgets", [1, 1e12], "hparams.eval_budgets[1] = 1000000000000.0, not int | str"),
        ("eval_budgets", {"1": 1}, "hparams.eval_budgets = {'1': 1}, not a list"),
        ("cycles", 0, "hparams.cycles is refused: cycles and latent_updates must be >= 1"),
        ("task", [4], "hparams.task = [4], not a mapping"),
        ("task", {"name": "sudoku", "size": -4}, "hparams.task.size: Sudoku size must be one of"),
        ("regime", {"class_path": "DeepSupervision", "init_args": {"max_steps": "4"}}, "max_steps = '4', not an int"),
    ],
)
def test_a_config_with_a_wrong_setting_is_named_as_damaged(
    saved: Path, tmp_path: Path, key: str, value: Any, named: str
) -> None:
    folder = damaged_copy(saved, tmp_path, lambda config: config["hparams"].__setitem__(key, value))
    with pytest.raises(DamagedFileError) as error:
        zoo.load(folder)
    assert str(folder / "config.json") in one_line(error.value)
    assert named in str(error.value)


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda config: config.pop("hparams"), "no 'hparams' entry"),
        (lambda config: config.pop("family"), "no 'family' entry"),
        (lambda config: config.__setitem__("family", ["RecursiveReasoner"]), "family = ['RecursiveReasoner']"),
        (lambda config: config.__setitem__("task", {"name": "sudoku", "size": -1}), "task.size: Sudoku size"),
        (lambda config: config.__setitem__("format_version", "1"), "format_version = '1', not an int"),
        (lambda config: config.__setitem__("weights", "both"), "weights = 'both', not one of 'ema', 'live'"),
        (lambda config: config.__setitem__("weights_sha256", 7), "weights_sha256 = 7, not a string"),
        ("[" * 200_000 + "]" * 200_000, "nested too deeply"),  # was a RecursionError traceback
        ('{"a": ' + "1" * 5000 + "}", "not valid JSON"),  # more digits than Python reads
    ],
)
def test_a_config_with_a_wrong_or_missing_entry_is_named_as_damaged(
    saved: Path, tmp_path: Path, edit: Any, named: str
) -> None:
    folder = damaged_copy(saved, tmp_path, edit)
    with pytest.raises(DamagedFileError) as error:
        zoo.load(folder)
    assert str(folder / "config.json") in one_line(error.value)
    assert named in str(error.value)


def test_the_cli_names_a_damaged_config_in_one_line(
    saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "puzzles.txt").write_text("1.3.\n.4..\n..4.\n.2.1\n")
    for name, edit in (
        ("negative", lambda config: config["hparams"].__setitem__("width", -1)),
        ("nested", "[" * 200_000 + "]" * 200_000),
    ):
        folder = damaged_copy(saved, tmp_path / name, edit)
        printed = zoo_error(capsys, "solve", str(folder), str(tmp_path / "puzzles.txt"))
        assert len(printed.strip().splitlines()) == 1 and f"{folder / 'config.json'} is damaged" in printed


def test_an_unknown_family_is_named_with_the_file(saved: Path, tmp_path: Path) -> None:
    folder = damaged_copy(saved, tmp_path, lambda config: config.__setitem__("family", "NoSuchFamily"))
    with pytest.raises(ZooError, match="unknown family 'NoSuchFamily' in .*config.json"):
        zoo.load(folder)


def test_a_checkpoint_whose_hyper_parameters_are_wrong_is_named_as_damaged(tmp_path: Path) -> None:
    path = write_checkpoint(build("recursive"), tmp_path / "last.ckpt")
    checkpoint = torch.load(path, weights_only=True)
    for key, value, named in (
        ("width", -1, "hyper_parameters.width = -1"),
        ("mixer", 3, "hyper_parameters.mixer = 3, not one of"),
    ):
        torch.save({**checkpoint, "hyper_parameters": {**checkpoint["hyper_parameters"], key: value}}, path)
        with pytest.raises(DamagedFileError) as error:
            zoo.load(path)
        assert f"{path} is damaged or was edited" in one_line(error.value) and named in str(error.value)


# ---- (b) model.safetensors cut short ------------------------------------------------------------------


@pytest.mark.parametrize("cut", ["inside the header length", "inside the JSON header", "inside the data"])
@pytest.mark.parametrize("checksum", [True, False], ids=["with checksum", "without checksum"])
def test_a_truncated_safetensors_file_is_named_as_damaged(
    saved: Path, tmp_path: Path, cut: str, checksum: bool
) -> None:
    folder = damaged_copy(saved, tmp_path, lambda config: checksum or config.pop("weights_sha256"))
    weights = folder / "model.safetensors"
    data = weights.read_bytes()
    header = struct.unpack("<Q", data[:8])[0]
    keep = {"inside the header length": 5, "inside the JSON header": 8 + header // 2, "inside the data": 8 + header + 9}
    weights.write_bytes(data[: keep[cut]])
    with pytest.raises(DamagedFileError, match="model.safetensors is damaged") as error:
        zoo.load(folder)
    assert str(weights) in one_line(error.value)


# ---- (c) the catalog ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda entry: entry["evaluation"].pop("exact_match"), "evaluation has no 'exact_match'"),  # was a KeyError
        (lambda entry: entry["evaluation"]["flops_per_puzzle"].pop("16"), "flops_per_puzzle has no budget '16'"),
        (lambda entry: entry["evaluation"].__setitem__("budgets", "16"), "evaluation.budgets = '16', not a list"),
        (lambda entry: entry.pop("hub"), "no 'hub'"),
        (lambda entry: entry.__setitem__("parameters", "many"), "parameters = 'many', not an int"),
        (lambda entry: entry.__setitem__("bundled", "yes"), "bundled = 'yes', not true or false"),
        (lambda entry: entry["files"].pop("model.safetensors"), "files does not record"),
        (lambda entry: entry.__setitem__("task", {"size": 6}), "task = {'size': 6}, not a task"),
    ],
)
def test_a_damaged_catalog_entry_is_named_with_its_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], edit: Any, named: str
) -> None:
    raw = json.loads(catalog.CATALOG_FILE.read_text())
    edit(raw["models"]["quickstart-sudoku6"])
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(raw))
    monkeypatch.setattr(catalog, "CATALOG_FILE", path)
    for words in (["models"], ["models", "quickstart-sudoku6"]):
        printed = zoo_error(capsys, *words)
        assert len(printed.strip().splitlines()) == 1, printed
        assert f"the catalog {path} is damaged: entry 'quickstart-sudoku6': " in printed and named in printed


def test_a_catalog_nested_too_deeply_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "catalog.json"
    path.write_text('{"models": ' + "[" * 200_000 + "]" * 200_000 + "}")
    monkeypatch.setattr(catalog, "CATALOG_FILE", path)
    with pytest.raises(DamagedFileError, match="the catalog .*catalog.json is damaged \\(JSON nested too deeply"):
        catalog.entries()


# ---- (d) a local folder with a catalog name -----------------------------------------------------------


def test_a_local_folder_that_shadows_a_catalog_name_says_so(
    saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(saved, tmp_path / "quickstart-sudoku6")  # a 4x4 model; the catalog's is 6x6
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert zoo.load("quickstart-sudoku6").task.size == 4
    notice = capsys.readouterr().err
    assert notice.strip().splitlines() == [
        "zoo: using the local folder ./quickstart-sudoku6, not the catalog model of that name "
        "(write catalog:quickstart-sudoku6 for the catalog's, ./quickstart-sudoku6 to silence this)"
    ]
    assert zoo.load("catalog:quickstart-sudoku6").task.size == 6
    assert zoo.load("./quickstart-sudoku6").task.size == 4
    assert capsys.readouterr().err == ""


# ---- (e) the same weights, the same bytes -------------------------------------------------------------


def test_the_same_weights_give_the_same_safetensors_bytes(tmp_path: Path) -> None:
    model = build("energy")
    checkpoint = write_checkpoint(model, tmp_path / "run" / "last.ckpt")
    # safetensors orders its metadata by a hash seeded afresh for each save: eight saves differed before
    folders = [hub.save(model, tmp_path / f"saved{k}") for k in range(8)]
    folders += [hub.export(checkpoint, tmp_path / f"exported{k}").folder for k in range(2)]
    digests = {hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest() for folder in folders}
    assert len(digests) == 1
    recorded = {json.loads((folder / "config.json").read_text())["weights_sha256"] for folder in folders}
    assert recorded == digests
    zoo.load(folders[-1])  # the rewritten header still reads
