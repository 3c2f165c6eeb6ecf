"""The Hub's side of model folders: loading from an offline Hugging Face cache; `zoo download`, `zoo push`
(mocked HfApi) and `zoo eval` on a folder or repo id; the card as pushed; and the clear errors of the Hub
(not found, gated, unknown revision, offline).

No test reaches the network: huggingface_hub's HTTP client is replaced by one that answers from a table
and fails on anything else (the `hub_answers` fixture), and its cache is a temporary folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from huggingface_hub import constants, scan_cache_dir
from huggingface_hub.errors import (
    GatedRepoError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

import zoo
from tests.conftest import zoo_error
from tests.helpers import FakeApi, assert_same_predictions, build, cache_repo
from zoo import hub
from zoo.cli import main
from zoo.hub import remote

pytestmark = pytest.mark.usefixtures("one_thread", "hub_answers")


# ---- the Hugging Face cache, offline -------------------------------------------------------------


def test_load_and_download_from_the_cache_offline(
    tmp_path: Path, offline: None, capsys: pytest.CaptureFixture[str]
) -> None:
    model = build("generative")
    snapshot = cache_repo(Path(constants.HF_HUB_CACHE), "org/name", hub.save(model, tmp_path / "model"))
    (repo,) = scan_cache_dir(constants.HF_HUB_CACHE).repos  # huggingface_hub reads the layout as its own
    assert repo.repo_id == "org/name" and {f.file_name for f in next(iter(repo.revisions)).files} >= {
        "config.json",
        "model.safetensors",
    }

    assert_same_predictions(model, zoo.load("org/name"))
    assert_same_predictions(model, zoo.load("org/name", revision="main"))

    main(["download", "org/name"])
    assert capsys.readouterr().out.strip() == str(snapshot)
    main(["download", "org/name", "--dir", str(tmp_path / "copy")])
    assert Path(capsys.readouterr().out.strip()) == (tmp_path / "copy").resolve()
    assert_same_predictions(model, zoo.load(tmp_path / "copy"))


def test_eval_accepts_a_folder_and_a_repo_id(tmp_path: Path, offline: None, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = hub.save(build("recursive"), tmp_path / "model")
    cache_repo(Path(constants.HF_HUB_CACHE), "org/name", folder)
    main(["eval", str(folder), "--budgets", "1,2", "--count", "4"])
    assert list(json.loads((folder / "eval" / "results.json").read_text())["exact_match"]) == ["1", "2"]
    monkeypatch.chdir(tmp_path)
    main(["eval", "org/name", "--budgets", "1", "--count", "4"])
    results = json.loads((tmp_path / "eval" / "org--name" / "results.json").read_text())
    assert results["model"] == "org/name" and results["family"] == "RecursiveReasoner"


def test_offline_and_not_cached_says_so(offline: None, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(
        hub.HubError, match="not in the local Hugging Face cache.*HF_HUB_OFFLINE=1.*zoo download org/absent"
    ) as error:
        zoo.load("org/absent")
    assert isinstance(error.value.__cause__, LocalEntryNotFoundError)
    assert "zoo download: org/absent (revision main) is not in the local Hugging Face cache" in zoo_error(
        capsys, "download", "org/absent"
    )


# ---- errors from the Hub -------------------------------------------------------------------------


def test_repository_not_found(hub_answers: dict, capsys: pytest.CaptureFixture[str]) -> None:
    hub_answers["/api/models/org/missing"] = (404, {"X-Error-Code": "RepoNotFound"})
    with pytest.raises(hub.HubError, match="no model repository 'org/missing' on the Hub.*hf auth login") as error:
        zoo.load("org/missing")
    assert isinstance(error.value.__cause__, RepositoryNotFoundError)
    assert "zoo eval: no model repository 'org/missing'" in zoo_error(capsys, "eval", "org/missing")


def test_gated_repository(hub_answers: dict) -> None:
    hub_answers["/api/models/org/gated"] = (403, {"X-Error-Code": "GatedRepo", "X-Error-Message": "gated"})
    with pytest.raises(hub.HubError, match="org/gated is a gated repository.*huggingface.co/org/gated") as error:
        zoo.load("org/gated")
    assert isinstance(error.value.__cause__, GatedRepoError)


def test_revision_not_found(hub_answers: dict) -> None:
    hub_answers["/api/models/org/name/revision/nope"] = (404, {"X-Error-Code": "RevisionNotFound"})
    with pytest.raises(hub.HubError, match="org/name has no revision 'nope'") as error:
        zoo.load("org/name", revision="nope")
    assert isinstance(error.value.__cause__, RevisionNotFoundError)


# ---- push ------------------------------------------------------------------------------------------


def test_push_uploads_the_folder_in_one_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(remote, "HfApi", FakeApi)
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    FakeApi.calls, FakeApi.remote, FakeApi.cache = [], {}, tmp_path
    model = build("recursive")
    folder = hub.save(model, tmp_path / "model", results={"exact_match": {"1": 0.5}, "task": model.task.spec()})
    (folder / "notes.ckpt").write_bytes(b"not pushed")

    main(["push", str(folder), "org/name", "--private", "--revision", "dev", "--message", "first model"])
    assert "pushed: https://huggingface.co/org/name/commit/abc123" in capsys.readouterr().out
    calls = dict(FakeApi.calls)
    assert calls["create_repo"] == {"repo_id": "org/name", "repo_type": "model", "private": True, "exist_ok": True}
    assert calls["create_branch"] == {"repo_id": "org/name", "branch": "dev", "repo_type": "model", "exist_ok": True}
    commit = calls["create_commit"]
    assert commit["repo_id"] == "org/name" and commit["revision"] == "dev" and commit["commit_message"] == "first model"
    pushed = {op.path_in_repo: op.path_or_fileobj for op in commit["operations"]}
    assert set(pushed) == {
        "config.json",
        "model.safetensors",
        "README.md",
        "results.json",
        "budget_curve.png",
        "recipe.yaml",
    }
    assert all(Path(path) == folder / name for name, path in pushed.items() if name != "README.md")
    # the card goes up naming the repo id, not the folder it was exported to
    card = pushed["README.md"].decode()
    assert "zoo.load('org/name')" in card and "zoo eval org/name --count" in card
    assert str(folder) not in card and (folder / "README.md").read_text() != card

    FakeApi.calls = []
    hub.push(folder, "org/name")  # public by default, to main
    calls = dict(FakeApi.calls)
    assert calls["create_repo"]["private"] is None and "create_branch" not in calls
    assert calls["create_commit"]["revision"] is None


def test_push_never_replaces_a_different_remote_card_without_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(remote, "HfApi", FakeApi)
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    folder = hub.save(build("recursive"), tmp_path / "model", repo_id="org/name")
    FakeApi.calls, FakeApi.cache = [], tmp_path
    FakeApi.remote = {"README.md": "# name\n\nA card someone edited on the Hub.\n"}
    error = zoo_error(capsys, "push", str(folder), "org/name")
    assert "the model card on the Hub at org/name differs" in error and "--force" in error
    assert "create_commit" not in dict(FakeApi.calls)  # nothing went up

    FakeApi.remote = {"README.md": (folder / "README.md").read_text()}  # the same card: no --force needed
    main(["push", str(folder), "org/name"])
    assert "create_commit" in dict(FakeApi.calls)

    FakeApi.calls = []
    FakeApi.remote = {"README.md": "edited"}
    main(["push", str(folder), "org/name", "--force"])
    assert "create_commit" in dict(FakeApi.calls)


def test_card_for_hub_names_the_repo_id_and_keeps_what_the_user_wrote(tmp_path: Path) -> None:
    from zoo.hub.card import card_for_hub

    folder = hub.save(build("recursive"), tmp_path / "model", results={"exact_match": {"1": 0.5}})
    text = (folder / "README.md").read_text() + "\nMy notes about model.\n"
    local = str(folder)
    assert f"zoo.load('{local}')" in text  # exported without a repo id: usage lines name the folder
    card = card_for_hub(text, "org/name")
    assert local not in card and card.endswith("My notes about model.\n")
    assert "zoo eval org/name --count 500" in card and "zoo.load('org/name')" in card
    assert "zoo download org/name --dir model\nzoo fit -c model/recipe.yaml --init_from org/name" in card
    # exported for one repo id, pushed under another
    moved = card_for_hub(card, "org/other")
    assert "org/name" not in moved and "zoo.load('org/other')" in moved and "zoo download org/other --dir" in moved
    # a catalog name stays: it works wherever belief-zoo is installed
    named = hub.save(build("recursive"), tmp_path / "cat", repo_id="belief-zoo/x", catalog_name="x")
    catalog_card = (named / "README.md").read_text()
    assert "zoo eval x --count" in catalog_card and "zoo download belief-zoo/x" in catalog_card
    pushed = card_for_hub(catalog_card, "org/x", keep=("x",), renamed={"belief-zoo/x": "org/x"})
    assert "zoo eval x --count" in pushed and "zoo download org/x" in pushed and "belief-zoo/x" not in pushed


def test_push_needs_a_token_and_a_valid_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(remote, "HfApi", FakeApi)
    monkeypatch.setattr(remote, "get_token", lambda: None)
    folder = hub.save(build("energy"), tmp_path / "model")
    assert "zoo push: no Hugging Face token: set HF_TOKEN, or run `hf auth login`" in zoo_error(
        capsys, "push", str(folder), "org/name"
    )
    (folder / "model.safetensors").unlink()
    assert "has no model.safetensors" in zoo_error(capsys, "push", str(folder), "org/name")
    assert "zoo push: no folder at org/model: make one with `zoo export" in zoo_error(
        capsys, "push", "org/model", "org/name"
    )
