"""Code the test modules share (fixtures live in conftest.py): tiny models of the zoo's families, a stand-in
`.ckpt` of `zoo fit`, a model folder put into a Hugging Face cache, a stand-in for huggingface_hub's HfApi, a
family seen through its regime's protocols only, and the code blocks of a document imported as modules.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch
from huggingface_hub.errors import EntryNotFoundError
from huggingface_hub.file_download import repo_folder_name

from zoo import known
from zoo.contract import CAPABILITIES, capability_methods
from zoo.models import ReasoningFamily

TASK = {"name": "sudoku", "size": 4, "givens": 8}
#: the task of tiny models of families that do not read TASK (a trace decoder reads mazes only)
MAZE_TASK = {"name": "maze", "size": 5}


def task_for(family: type, task: dict[str, Any] = TASK) -> dict[str, Any]:
    """`task` when `family` reads it, else the small maze task."""
    return task if family.reads(task) else MAZE_TASK


# Short names the tests use for the zoo's own families.
ALIASES = {"recursive": "RecursiveReasoner", "energy": "EnergyTransformer", "generative": "GenerativeRecursiveReasoner"}


def build(family: str, task: dict[str, Any] = TASK, seed: int = 0) -> ReasoningFamily:
    """A tiny model of `family` (a registered name, or an alias above) with its `tiny_settings`; where it keeps
    an EMA, the EMA is moved off the live weights so that a test can tell which of the two was stored."""
    cls = known.family(ALIASES.get(family, family))
    torch.manual_seed(seed)
    model = cls(task_for(cls, task), **cls.tiny_settings)
    if model.ema_model is not None:
        with torch.no_grad():
            for parameter in model.ema_model.parameters():
                parameter.add_(torch.randn_like(parameter) * 0.05)
    return model.eval()


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


def training_losses(model: ReasoningFamily, batch: dict[str, torch.Tensor], steps: int = 60) -> list[float]:
    """The loss of each of `steps` plain AdamW steps (lr 3e-3) of `model` on one `batch`, without a Trainer."""
    model.log = lambda *args, **kwargs: None  # logging needs a Trainer; this loop is a plain one
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for step in range(steps):
        loss = model.training_step(batch, step)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


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


class OnlyTheContract:
    """A family seen through the protocols of `capabilities` only: anything else a regime touches is an error."""

    def __init__(self, family: Any, capabilities: tuple[str, ...]) -> None:
        allowed = {name for capability in capabilities for name in capability_methods(CAPABILITIES[capability])}
        object.__setattr__(self, "_family", family)
        object.__setattr__(self, "_allowed", allowed)

    def __getattr__(self, name: str) -> Any:
        if name not in self._allowed:
            raise AttributeError(f"the regime used {name!r}, which no protocol it requires holds")
        return getattr(self._family, name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"the regime set {name!r} on the family")


def doc_block(doc: Path, first_line: str) -> str:
    """The fenced code block of document `doc` that starts with `first_line`."""
    for body in re.findall(r"```\w*\n(.*?)```", doc.read_text(), re.DOTALL):
        if body.startswith(first_line):
            return body
    raise AssertionError(f"no code block starting {first_line!r} in {doc}")


def scratch_module(name: str, source: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """`source` imported as module `name` from a file in `folder`, in `sys.modules` for this test only."""
    path = folder / f"{name.rpartition('.')[2]}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module
