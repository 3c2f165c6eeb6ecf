"""Shared fixtures: an isolated data cache, and a tiny recipe for fast end-to-end runs; for the Hub tests (which
ask for them by name), one torch thread, a Hugging Face Hub that answers from a table, and offline mode."""

from __future__ import annotations

import os
from pathlib import Path

import httpx2
import pytest
import torch
from huggingface_hub import constants, set_client_factory
from huggingface_hub.utils._http import default_client_factory, hf_request_event_hook

# The Triton interpreter must be on before anything imports triton (Lightning does), so that kernel tests
# and kernel-vs-reference checks can run on the CPU in this same process. Dispatch stays on the reference
# for CPU tensors unless a test forces Triton.
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

# Under pytest-xdist each core runs a worker of its own: one torch thread each, or the workers' thread pools
# fight over the same cores. Subprocesses a test starts (zoo commands, distributed ranks) inherit it.
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)
    os.environ["OMP_NUM_THREADS"] = "1"

REPO = Path(__file__).resolve().parents[1]
RECIPES = sorted((REPO / "recipes").rglob("*.yaml"))
QUICKSTART_RECIPE = str(REPO / "recipes" / "quickstart.yaml")

# Overrides that shrink any recipe to a seconds-long CPU run without changing what it builds.
TINY = [
    "--trainer.accelerator",
    "cpu",
    "--trainer.devices",
    "1",
    "--trainer.precision",
    "32-true",
    "--trainer.enable_progress_bar",
    "false",
    "--trainer.enable_model_summary",
    "false",
    "--data.train_count",
    "32",
    "--data.val_count",
    "8",
    "--data.test_count",
    "8",
    "--data.batch_size",
    "8",
    "--data.eval_batch_size",
    "8",
    "--data.num_workers",
    "0",
]


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Generated puzzles go to one temporary cache per test session, never to the user's home."""
    cache = tmp_path_factory.getbasetemp() / "zoo-cache"
    monkeypatch.setenv("ZOO_CACHE", str(cache))
    return cache


@pytest.fixture(scope="module")
def one_thread():
    """Tiny models run fastest on one thread; on a shared, busy CPU, two OpenMP threads that wait for each
    other make a seconds-long fit take minutes."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
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


def zoo_error(capsys: pytest.CaptureFixture[str], *words: str) -> str:
    """Run `zoo WORDS` expecting a user error: exit status 2 and no traceback. Returns what it printed on stderr."""
    from zoo.cli import main

    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(list(words))
    printed = _without_logging_errors(capsys.readouterr().err)
    assert exit_info.value.code == 2, printed
    assert "Traceback" not in printed, printed
    return printed


def _without_logging_errors(text: str) -> str:
    """stderr without the '--- Logging error ---' reports of a logging handler that an earlier test's captured
    stream left behind (a test artefact: Lightning binds its handler to the stream of the first test that logs)."""
    kept, skipping = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith("--- Logging error ---"):
            skipping = True
        elif skipping and line.startswith("Arguments:"):
            skipping = False
        elif not skipping:
            kept.append(line)
    return "".join(kept)
