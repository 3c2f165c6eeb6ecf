"""The catalog mechanics on a catalog written here: names resolve to bundled folders, checked by SHA-256;
a local folder wins over a catalog name; unknown names list the catalog; `zoo models` lists and shows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import zoo
from tests.conftest import zoo_error
from tests.helpers import assert_same_predictions, build
from zoo import hub
from zoo.cli import main
from zoo.errors import DamagedFileError
from zoo.hub import catalog
from zoo.hub.layout import file_sha256


def write_catalog(root: Path, bundled: dict[str, Path], on_hub: dict[str, str] | None = None) -> Path:
    """A catalog.json under `root` naming the model folders `bundled` (copied to root/bundled/NAME)."""
    models = {}
    for name, folder in bundled.items():
        target = root / "bundled" / name
        target.mkdir(parents=True)
        for file in folder.iterdir():
            if file.is_file():
                (target / file.name).write_bytes(file.read_bytes())
        config = json.loads((target / "config.json").read_text())
        models[name] = entry_fields(config, bundled=True, files={f.name: file_sha256(f) for f in target.iterdir()})
    for name, repo_id in (on_hub or {}).items():
        spec = {"family": "RecursiveReasoner", "task": {"name": "sudoku", "size": 4}, "num_parameters": 1}
        models[name] = entry_fields(spec, hub=repo_id)
    path = root / "catalog.json"
    path.write_text(json.dumps({"models": models}))
    return path


def entry_fields(config: dict, bundled: bool = False, files: dict | None = None, hub: str = "zoo/x") -> dict:
    return {
        "family": config["family"],
        "regime": "DeepSupervision",
        "task": config["task"],
        "parameters": config["num_parameters"],
        "hub": hub,
        "bundled": bundled,
        "recipe": "recipes/quickstart.yaml",
        "seed": 0,
        "trained_with": "zoo fit -c recipes/quickstart.yaml",
        "evaluation": {
            "command": "zoo eval NAME --budgets 1,2 --count 8",
            "puzzles": 8,
            "seed": 0,
            "budgets": ["1", "2"],
            "exact_match": {"1": 0.25, "2": 0.5},
            "flops_per_puzzle": {"1": 1e6, "2": 2e6},
        },
        "files": files or {},
    }


@pytest.fixture
def tiny_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, object]:
    model = build("recursive")
    folder = hub.save(model, tmp_path / "export")
    path = write_catalog(tmp_path / "catalog", {"tiny-sudoku4": folder}, on_hub={"hub-only": "zoo/hub-only"})
    monkeypatch.setattr(catalog, "CATALOG_FILE", path)
    monkeypatch.setattr(catalog, "BUNDLED_DIR", path.parent / "bundled")
    monkeypatch.chdir(tmp_path)
    return path, model


def test_a_catalog_name_loads_its_bundled_model(tiny_catalog) -> None:
    _, model = tiny_catalog
    assert_same_predictions(model, zoo.load("tiny-sudoku4"))
    assert list(catalog.entries()) == ["tiny-sudoku4", "hub-only"]


def test_a_damaged_bundled_file_is_named_and_never_loaded(tiny_catalog) -> None:
    path, _ = tiny_catalog
    weights = path.parent / "bundled" / "tiny-sudoku4" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(DamagedFileError, match="model.safetensors does not match the catalog's record"):
        zoo.load("tiny-sudoku4")


def test_a_missing_bundled_file_is_named(tiny_catalog) -> None:
    path, _ = tiny_catalog
    (path.parent / "bundled" / "tiny-sudoku4" / "config.json").unlink()
    with pytest.raises(DamagedFileError, match="missing .*config.json"):
        zoo.load("tiny-sudoku4")


def test_a_local_folder_wins_over_a_catalog_name(tiny_catalog, tmp_path: Path) -> None:
    other = build("recursive", seed=1)
    hub.save(other, tmp_path / "tiny-sudoku4")  # the working directory is tmp_path
    assert_same_predictions(other, zoo.load("tiny-sudoku4"))


def test_an_entry_that_is_not_bundled_is_fetched_from_its_hub_repo(tiny_catalog, monkeypatch) -> None:
    asked = []

    def fake_fetch(repo_id, revision=None, **options):
        asked.append(repo_id)
        raise hub.HubError("offline")

    monkeypatch.setattr("zoo.hub.sources.fetch", fake_fetch)
    with pytest.raises(hub.HubError, match="offline"):
        zoo.load("hub-only")
    assert asked == ["zoo/hub-only"]


def test_an_unknown_name_lists_the_catalog(tiny_catalog, capsys) -> None:
    printed = zoo_error(capsys, "eval", "no-such-model")
    assert "no catalog name" in printed and "tiny-sudoku4, hub-only" in printed
    assert "tiny-sudoku4" in zoo_error(capsys, "models", "no-such-model")


def test_zoo_models_lists_the_catalog_and_shows_a_card(tiny_catalog, capsys) -> None:
    main(["models"])
    listed = capsys.readouterr().out
    assert "tiny-sudoku4" in listed and "RecursiveReasoner" in listed and "1:0.250 2:0.500" in listed
    assert "bundled" in listed and "Hub zoo/hub-only" in listed
    main(["models", "tiny-sudoku4"])
    card = capsys.readouterr().out
    assert "trained with: zoo fit -c recipes/quickstart.yaml" in card and "files:" in card


def test_a_damaged_catalog_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "catalog.json"
    path.write_text("{not json")
    monkeypatch.setattr(catalog, "CATALOG_FILE", path)
    with pytest.raises(DamagedFileError, match="catalog .* is damaged"):
        catalog.entries()


def test_zoo_push_catalog_uploads_every_bundled_model(tiny_catalog, monkeypatch, tmp_path, capsys) -> None:
    from tests.helpers import FakeApi
    from zoo.hub import remote

    monkeypatch.setattr(remote, "HfApi", FakeApi)
    monkeypatch.setattr(remote, "get_token", lambda: None)
    assert "no Hugging Face token: set HF_TOKEN, or run `hf auth login`" in zoo_error(
        capsys, "push", "--catalog", "my-org"
    )
    monkeypatch.setattr(remote, "get_token", lambda: "hf_test_token")
    FakeApi.calls, FakeApi.remote, FakeApi.cache = [], {}, tmp_path
    main(["push", "--catalog", "my-org"])
    printed = capsys.readouterr().out
    assert "pushed: https://huggingface.co/my-org/tiny-sudoku4/commit" in printed
    assert "skipped hub-only" in printed
    commits = [options for call, options in FakeApi.calls if call == "create_commit"]
    assert [commit["repo_id"] for commit in commits] == ["my-org/tiny-sudoku4"]
    uploaded = {op.path_in_repo for op in commits[0]["operations"]}
    assert {"config.json", "model.safetensors", "README.md"} <= uploaded
    assert "either OUT_DIR REPO_ID or --catalog" in zoo_error(capsys, "push", "x", "org/x", "--catalog", "o")


# ---- the catalog that ships with the package ----------------------------------------------------------

SHIPPED = list(catalog.entries().values())


def test_every_shipped_model_is_small_and_names_a_hub_repo() -> None:
    for entry in SHIPPED:
        assert entry.bundled and entry.hub.count("/") == 1, entry.name
        evaluation = entry.evaluation
        assert set(evaluation["budgets"]) == set(evaluation["exact_match"]) <= set(evaluation["flops_per_puzzle"])
        assert entry.largest_budget() == evaluation["check"]["budget"], entry.name
        size = sum((entry.folder / name).stat().st_size for name in entry.files)
        assert size < 2 * 2**20, f"{entry.name} ships {size:,} bytes"


@pytest.mark.parametrize("entry", SHIPPED, ids=[entry.name for entry in SHIPPED])
def test_a_shipped_model_reproduces_its_catalog_figure(entry) -> None:
    from zoo.evaluation.budget import parse_budgets
    from zoo.evaluation.evaluate import evaluate

    check = entry.evaluation["check"]
    model = zoo.load(entry.name)
    budgets = parse_budgets(check["budget"])
    measured = evaluate(model, model.task, budgets, check["count"], seed=0, batch_size=256)
    # Seeded and on the CPU the figure repeats exactly; 0.04 (one puzzle in 32) allows another machine's
    # floating-point rounding to flip a borderline answer.
    assert measured["exact_match"][check["budget"]] == pytest.approx(check["exact_match"], abs=0.04)
