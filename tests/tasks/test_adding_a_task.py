"""docs/adding-a-task.md works as written: its module registers a task that passes the task conformance suite,
its own tests pass, and its recipe trains through `zoo fit`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, TINY
from tests.helpers import doc_block, scratch_module
from tests.tasks.test_task_conformance import PROPERTIES
from zoo import registry, tasks
from zoo.cli import main
from zoo.tasks import Task

DOC = REPO / "docs" / "adding-a-task.md"
TWO_TINY_STEPS = ["--trainer.max_steps", "2", "--model.init_args.width", "16"]


def block(first_line: str) -> str:
    return doc_block(DOC, first_line)


@pytest.fixture
def latin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> type[Task]:
    """The document's task module, imported as `zoo.tasks.latin` from a scratch file, registered for this test."""
    monkeypatch.setattr(registry.TASKS, "table", dict(registry.TASKS.table))
    return scratch_module("zoo.tasks.latin", block("# zoo/tasks/latin.py"), tmp_path, monkeypatch).LatinSquare


@pytest.mark.parametrize("check", PROPERTIES, ids=lambda check: check.__name__.removeprefix("check_"))
def test_the_example_task_conforms(latin: type[Task], check: Callable[[Task], None]) -> None:
    assert "latin" in tasks.names() and latin.conformance_options
    for options in latin.conformance_options:
        task = tasks.get("latin", **options)
        assert type(task) is latin
        check(task)


def test_the_example_task_passes_its_own_tests(
    latin: type[Task], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = scratch_module("latin_tests", block("# tests/tasks/test_latin.py"), tmp_path, monkeypatch)
    tests = [test for name, test in vars(module).items() if name.startswith("test_")]
    assert len(tests) == 3
    for test in tests:
        test()


@pytest.mark.slow
def test_the_example_recipe_trains_through_zoo_fit(latin: type[Task], tmp_path: Path) -> None:
    path, run = tmp_path / "latin.yaml", tmp_path / "run"
    path.write_text(block("# recipes/trm/latin5-deep-supervision.yaml"))
    main(["fit", "-c", str(path), *TINY, *TWO_TINY_STEPS, "--trainer.default_root_dir", str(run)])
    results = yaml.safe_load(next(run.rglob("results.json")).read_text())
    assert results["task"]["name"] == "latin" and set(results["exact_match"]) == {"1", "2", "4", "8"}
