"""Loading a model never runs its code: families and regimes come from the registry only, downloads bring no
code, and the sizes a file states are checked against its weights before anything is allocated."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import torch
from huggingface_hub import constants
from huggingface_hub.utils import filter_repo_objects

import zoo
from tests.conftest import QUICKSTART_RECIPE, TINY, zoo_error
from tests.helpers import build, cache_repo, write_checkpoint
from zoo import hub, registry
from zoo.errors import ZooError
from zoo.hub import sources
from zoo.models import RecursiveReasoner

EVIL = """
import pathlib
pathlib.Path(__file__).with_name("RAN").write_text("the model's code ran")

class Family:
    pass

class Regime:
    pass
"""


@pytest.fixture
def evil_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A downloaded model folder that ships `evil_family.py` beside its weights, importable from where the user
    works (the folder is the working directory and on sys.path, as for a script run from it)."""
    folder = hub.save(build("recursive"), tmp_path / "model")
    (folder / "evil_family.py").write_text(EVIL)
    monkeypatch.chdir(folder)
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, "evil_family", raising=False)
    return folder


def edit_config(folder: Path, **changes: Any) -> None:
    config = json.loads((folder / "config.json").read_text())
    for key, value in changes.items():
        if key == "regime":
            config["hparams"]["regime"]["class_path"] = value
        elif key in ("family",):
            config[key] = value
        else:
            config["hparams"][key] = value
    (folder / "config.json").write_text(json.dumps(config))


def assert_nothing_ran(folder: Path, module: str = "evil_family") -> None:
    assert not (folder / "RAN").exists(), "code from the model folder ran"
    assert module not in sys.modules, f"{module} was imported"


@pytest.mark.parametrize("field", ["family", "regime"])
def test_a_config_naming_code_beside_the_weights_runs_nothing(evil_folder: Path, field: str) -> None:
    edit_config(evil_folder, **{field: f"evil_family.{field.capitalize()}"})
    with pytest.raises(
        ZooError, match=rf"unknown {field} 'evil_family.{field.capitalize()}'.*belief-zoo knows"
    ) as error:
        zoo.load(evil_folder)
    assert "never imported" in str(error.value)
    assert_nothing_ran(evil_folder)


@pytest.mark.parametrize(
    "name", ["this.Zen", "json.JSONDecoder", "zoo.tasks.sudoku.Sudoku", "zoo.models.base.ReasoningFamily"]
)
def test_a_config_naming_an_importable_module_is_refused_without_importing_it(tmp_path: Path, name: str) -> None:
    folder = hub.save(build("recursive"), tmp_path / "model")
    edit_config(folder, family=name)
    module = name.rpartition(".")[0]
    imported = module in sys.modules
    with pytest.raises(
        ZooError, match="unknown family .*EnergyTransformer, GenerativeRecursiveReasoner, RecursiveReasoner"
    ):
        zoo.load(folder)
    assert (module in sys.modules) == imported  # `this` prints the Zen of Python when imported: it never is


def test_a_checkpoint_naming_code_runs_nothing(evil_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = build("recursive")
    checkpoint: dict[str, Any] = {"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams)}
    model.on_save_checkpoint(checkpoint)
    checkpoint["zoo"]["family"] = "evil_family.Family"
    torch.save(checkpoint, evil_folder / "family.ckpt")
    checkpoint["zoo"]["family"] = "RecursiveReasoner"
    checkpoint["hyper_parameters"]["regime"] = {"class_path": "evil_family.Regime", "init_args": {}}
    torch.save(checkpoint, evil_folder / "regime.ckpt")
    with pytest.raises(ZooError, match="unknown family 'evil_family.Family'"):
        zoo.load(evil_folder / "family.ckpt")
    with pytest.raises(ZooError, match="unknown regime 'evil_family.Regime'"):
        zoo.load(evil_folder / "regime.ckpt")
    # Resuming from it: Lightning would merge the checkpoint's settings into the recipe and import them.
    printed = zoo_error(
        capsys,
        "fit",
        "-c",
        QUICKSTART_RECIPE,
        *TINY,
        "--trainer.max_steps",
        "1",
        "--ckpt_path",
        str(evil_folder / "regime.ckpt"),
    )
    assert "unknown regime 'evil_family.Regime'" in printed
    assert_nothing_ran(evil_folder)


def test_a_recipe_naming_code_is_refused_before_parsing(evil_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = Path(QUICKSTART_RECIPE).read_text().replace("zoo.models.RecursiveReasoner", "evil_family.Family")
    (evil_folder / "recipe.yaml").write_text(recipe)
    printed = zoo_error(capsys, "fit", "-c", "recipe.yaml", "--print_config")
    assert "unknown family 'evil_family.Family' in recipe.yaml, line" in printed
    printed = zoo_error(
        capsys, "fit", "-c", QUICKSTART_RECIPE, "--model.init_args.regime.class_path", "evil_family.Regime"
    )
    assert "unknown regime 'evil_family.Regime' in flag --model.init_args.regime.class_path" in printed
    assert_nothing_ran(evil_folder)


def test_old_class_paths_of_the_zoos_own_classes_still_load(tmp_path: Path) -> None:
    model = build("generative")
    folder = hub.save(model, tmp_path / "model")
    edit_config(
        folder,
        family="zoo.models.generative.GenerativeRecursiveReasoner",
        regime="zoo.regimes.variational.VariationalRecursion",
    )
    assert type(zoo.load(folder)) is type(model)
    edit_config(folder, family="zoo.models.GenerativeRecursiveReasoner", regime="zoo.regimes.VariationalRecursion")
    assert type(zoo.load(folder)) is type(model)


def test_a_family_from_outside_the_zoo_registers_in_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class OutsideReasoner(RecursiveReasoner):
        """A family defined outside the zoo's package."""

    monkeypatch.setitem(registry.FAMILIES.table, "OutsideReasoner", OutsideReasoner)  # what register_family does
    torch.manual_seed(0)
    model = OutsideReasoner({"name": "sudoku", "size": 4}, width=16, cycles=1, latent_updates=1)
    folder = hub.save(model, tmp_path / "model")
    assert type(zoo.load(folder)) is OutsideReasoner
    monkeypatch.delitem(registry.FAMILIES.table, "OutsideReasoner")
    with pytest.raises(ZooError, match="unknown family 'OutsideReasoner'.*register_family"):
        zoo.load(folder)


# ---- sizes come from the weights, not from the config ----------------------------------------------


@pytest.mark.parametrize("setting, value", [("width", 10_000_000), ("depth", 100_000_000), ("expansion", 1e9)])
def test_a_small_config_cannot_make_the_loader_allocate(tmp_path: Path, setting: str, value: float) -> None:
    folder = hub.save(build("recursive"), tmp_path / "model")
    edit_config(folder, **{setting: value})
    started = time.monotonic()
    with pytest.raises(ZooError, match="do not fit|far larger than its weights"):
        zoo.load(folder)  # built for real, any of these would need terabytes (or hang building modules)
    assert time.monotonic() - started < 10


def test_a_checkpoint_is_checked_before_it_is_built(tmp_path: Path) -> None:
    model = build("recursive")
    path = write_checkpoint(model, tmp_path / "last.ckpt")
    checkpoint = torch.load(path, weights_only=True)
    checkpoint["hyper_parameters"]["width"] = 10_000_000
    torch.save(checkpoint, path)
    with pytest.raises(
        ZooError, match=r"do not fit the RecursiveReasoner.*is \[6, 16\] in the file, \[6, 10000000\] in the network"
    ):
        zoo.load(path)


# ---- downloads bring the model's files, never code --------------------------------------------------


@pytest.fixture
def remote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """A Hub repository "org/name" served by a stand-in for snapshot_download that applies allow and ignore
    patterns exactly as huggingface_hub does (`filter_repo_objects`), into a temporary cache snapshot.
    Returns the patterns of each request."""
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    repo = tmp_path / "remote"
    hub.save(build("recursive"), repo)
    for name in ("evil_family.py", "setup.sh", "weights.bin", "notes/extra.txt", "tokenizer.so"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text("not model data")
    requests: list[dict[str, Any]] = []

    def snapshot_download(repo_id: str, *, allow_patterns: Any = None, ignore_patterns: Any = None, **_: Any) -> str:
        requests.append({"allow": allow_patterns, "ignore": ignore_patterns})
        names = [p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file()]
        snapshot = Path(constants.HF_HUB_CACHE) / "snapshot"
        for name in filter_repo_objects(names, allow_patterns=allow_patterns, ignore_patterns=ignore_patterns):
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            (snapshot / name).write_bytes((repo / name).read_bytes())
        return str(snapshot)

    monkeypatch.setattr(sources, "snapshot_download", snapshot_download)
    return requests


def test_download_fetches_the_model_layout_and_never_code(
    remote: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from zoo.cli import main

    main(["download", "org/name", "--dir", str(tmp_path / "copy")])
    assert {p.name for p in (tmp_path / "copy").iterdir()} == {
        "config.json",
        "model.safetensors",
        "README.md",
        "recipe.yaml",
    }
    main(["download", "org/name", "--dir", str(tmp_path / "more"), "--include", "notes/*", "--include", "*.py"])
    assert sorted(
        p.relative_to(tmp_path / "more").as_posix() for p in (tmp_path / "more").rglob("*") if p.is_file()
    ) == ["README.md", "config.json", "model.safetensors", "notes/extra.txt", "recipe.yaml"]
    for request in remote:
        assert "*.py" in request["ignore"] and "*.bin" in request["ignore"] and "*.so" in request["ignore"]


def test_download_copies_no_code_that_a_cache_already_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    from zoo.cli import main

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    folder = hub.save(build("recursive"), tmp_path / "model")
    (folder / "evil_family.py").write_text(EVIL)
    cache_repo(Path(constants.HF_HUB_CACHE), "org/name", folder)  # a cache filled by something else
    main(["download", "org/name", "--dir", str(tmp_path / "copy")])
    assert not list((tmp_path / "copy").glob("*.py"))
