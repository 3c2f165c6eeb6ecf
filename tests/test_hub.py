"""Hub layout: save/export -> load gives identical predictions for every family; the model card; loading
from an offline Hugging Face cache; `zoo download`, `zoo push` (mocked HfApi) and `zoo eval` on a folder
or repo id; and the clear errors (not found, gated, offline, pickled weights, another family or task).

No test reaches the network: huggingface_hub's HTTP client is replaced by one that answers from a table
and fails on anything else, and its cache is a temporary folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from pathlib import Path
from typing import Any

import httpx2
import pytest
import torch
from huggingface_hub import ModelCard, constants, scan_cache_dir, set_client_factory
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.file_download import repo_folder_name
from huggingface_hub.utils._http import default_client_factory, hf_request_event_hook
from safetensors.torch import load_file, save_file

import zoo
from tests.conftest import zoo_error
from zoo import hub, registry
from zoo.cli import main
from zoo.errors import ZooError
from zoo.evaluation.results import write_results
from zoo.hub import publish
from zoo.models import (
    EnergyTransformer,
    ReasoningFamily,
    RecursiveReasoner,
)

TASK = {"name": "sudoku", "size": 4, "givens": 8}


# Short names the tests use for the zoo's own families.
ALIASES = {"recursive": "RecursiveReasoner", "energy": "EnergyTransformer", "generative": "GenerativeRecursiveReasoner"}


def build(family: str, task: dict[str, Any] = TASK, seed: int = 0) -> ReasoningFamily:
    """A tiny model of `family` (a registered name, or an alias above) with its `tiny_settings`; where it keeps
    an EMA, the EMA is moved off the live weights so that a test can tell which of the two was stored."""
    cls = registry.family(ALIASES.get(family, family))
    torch.manual_seed(seed)
    model = cls(task, **cls.tiny_settings)
    if model.ema_model is not None:
        with torch.no_grad():
            for parameter in model.ema_model.parameters():
                parameter.add_(torch.randn_like(parameter) * 0.05)
    return model.eval()


FAMILIES = registry.family_names()


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run fastest on one thread; on a shared, busy CPU, two OpenMP threads that wait for each
    other make a seconds-long fit take minutes."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def predictions(model: ReasoningFamily, inputs: torch.Tensor, steps: int = 3) -> Any:
    """Answer, logits and trail on puzzles `inputs`, with a fixed seed for the families that sample."""
    torch.manual_seed(11)
    thought = model.think(inputs, steps)
    return thought.answer, thought.logits, thought.trail


def assert_same_predictions(a: ReasoningFamily, b: ReasoningFamily) -> None:
    """Both models in eval mode give equal answers, logits and trails on the same puzzles of a's task."""
    inputs = a.task.encode(a.task.generate(6, seed=5)[0])
    for x, y in zip(predictions(a.eval(), inputs), predictions(b.eval(), inputs)):
        assert torch.equal(x, y)


def write_checkpoint(model: ReasoningFamily, path: Path) -> Path:
    """What `zoo fit` leaves in a .ckpt, as far as loading goes (state dict, hyper-parameters, zoo record)."""
    checkpoint: dict[str, Any] = {
        "state_dict": model.state_dict(),
        "hyper_parameters": dict(model.hparams),
        "global_step": 3,
    }
    model.on_save_checkpoint(checkpoint)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, path)
    return path


def cache_repo(cache: Path, repo_id: str, folder: Path, revision: str = "main") -> Path:
    """Put `folder` into a Hugging Face cache as `repo_id` at `revision`, in huggingface_hub's layout:
    models--ORG--NAME/{blobs/<hash>, snapshots/<commit>/<file> -> blob, refs/<revision>}."""
    storage = cache / repo_folder_name(repo_id=repo_id, repo_type="model")
    commit = hashlib.sha1(repo_id.encode()).hexdigest()
    snapshot = storage / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (storage / "blobs").mkdir()
    for file in sorted(folder.iterdir()):
        if file.is_file():
            blob = storage / "blobs" / hashlib.sha256(file.read_bytes()).hexdigest()
            shutil.copyfile(file, blob)
            (snapshot / file.name).symlink_to(os.path.relpath(blob, snapshot))
    (storage / "refs").mkdir()
    (storage / "refs" / revision).write_text(commit)
    return snapshot


@pytest.fixture(autouse=True)
def hub_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """huggingface_hub with a temporary cache, online, and an HTTP client that answers from this dict
    (URL path prefix -> (status, headers)) and fails the test on any other request."""
    routes: dict[str, tuple[int, dict[str, str]]] = {}

    def answer(request: httpx2.Request) -> httpx2.Response:
        for prefix, (status, headers) in routes.items():
            if request.url.path.startswith(prefix):
                return httpx2.Response(status, headers=headers, request=request)
        raise AssertionError(f"a test tried to reach the network: {request.method} {request.url}")

    set_client_factory(
        lambda: httpx2.Client(transport=httpx2.MockTransport(answer), event_hooks={"request": [hf_request_event_hook]})
    )
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    yield routes
    set_client_factory(default_client_factory)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """HF_HUB_OFFLINE=1 as huggingface_hub sees it (it reads the variable once, at import)."""
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)


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


def test_paths_that_do_not_exist_are_named(tmp_path: Path) -> None:
    with pytest.raises(hub.HubError, match="no folder or file at ./nowhere"):
        zoo.load("./nowhere")
    with pytest.raises(hub.HubError, match="no folder or file at .*last.ckpt"):
        zoo.load(str(tmp_path / "runs" / "last.ckpt"))


# ---- what a folder may not be ----------------------------------------------------------------------


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


# ---- push ------------------------------------------------------------------------------------------


class FakeApi:
    """Stands in for HfApi: records the calls a push makes; `remote` holds the Hub's files (name -> text)."""

    calls: list[tuple[str, dict[str, Any]]] = []
    remote: dict[str, str] = {}
    cache: Path = Path(".")

    def __init__(self, **options: Any) -> None:
        FakeApi.calls.append(("__init__", options))

    def create_repo(self, repo_id: str, **options: Any) -> Any:
        FakeApi.calls.append(("create_repo", {"repo_id": repo_id, **options}))
        return type("RepoUrl", (), {"repo_id": repo_id})()

    def create_branch(self, repo_id: str, **options: Any) -> None:
        FakeApi.calls.append(("create_branch", {"repo_id": repo_id, **options}))

    def hf_hub_download(self, repo_id: str, filename: str, **options: Any) -> str:
        if filename not in FakeApi.remote:
            raise EntryNotFoundError(f"{filename} not in {repo_id}")
        path = FakeApi.cache / filename
        path.write_text(FakeApi.remote[filename])
        return str(path)

    def create_commit(self, repo_id: str, **options: Any) -> Any:
        FakeApi.calls.append(("create_commit", {"repo_id": repo_id, **options}))
        return type(
            "CommitInfo", (), {"commit_url": f"https://huggingface.co/{repo_id}/commit/abc123", "oid": "abc123"}
        )()


def test_push_uploads_the_folder_in_one_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(publish, "HfApi", FakeApi)
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
    monkeypatch.setattr(publish, "HfApi", FakeApi)
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
    monkeypatch.setattr(publish, "HfApi", FakeApi)
    monkeypatch.setattr(publish, "get_token", lambda: None)
    folder = hub.save(build("energy"), tmp_path / "model")
    assert "zoo push: no Hugging Face token: set HF_TOKEN, or run `hf auth login`" in zoo_error(
        capsys, "push", str(folder), "org/name"
    )
    (folder / "model.safetensors").unlink()
    assert "has no model.safetensors" in zoo_error(capsys, "push", str(folder), "org/name")
    assert "zoo push: no folder at org/model: make one with `zoo export" in zoo_error(
        capsys, "push", "org/model", "org/name"
    )
