"""Every command shown in README.md and docs/ runs as written.

The shell blocks of the documents are read in order and each command is run in one scratch folder (with the
repository's recipes): `zoo` commands for real, with tiny overrides where they train (a model of width 16,
two steps); multi-node commands, which need several machines, through `--print_config` (they parse);
benchmark commands through their argument parser (the studies take an hour). The Hub is a temporary offline
cache holding what the documents' own `zoo export` wrote, and pushes go to a stand-in for HfApi.
"""

from __future__ import annotations

import importlib
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from huggingface_hub import constants

from tests.conftest import REPO, TINY
from tests.helpers import FakeApi, cache_repo
from zoo.cli import main
from zoo.hub import catalog, remote
from zoo.tasks.sudoku import Sudoku

DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
TWO_STEPS = [*TINY, "--trainer.max_steps", "2", "--trainer.val_check_interval", "2"]
TRAIN_TINY = [*TWO_STEPS, "--model.init_args.width", "16", "--model.init_args.expansion", "1.0"]
# Words the documents use for "your own": what they stand for here.
PLACEHOLDERS = {
    "RECIPE": "recipes/quickstart.yaml",
    "MODEL.ckpt": "runs/quickstart/lightning_logs/version_0/checkpoints/last.ckpt",
    "CKPT": "runs/quickstart/lightning_logs/version_0/checkpoints/last.ckpt",
}
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def shown_commands() -> Iterator[tuple[str, list[str]]]:
    """(document:line, words) of every command in the shell blocks of the documents, in order."""
    for document in DOCUMENTS:
        in_shell, pending, start = False, "", 0
        for number, line in enumerate(document.read_text().splitlines(), 1):
            if line.startswith("```"):
                in_shell = not in_shell and line.strip("`").strip() in ("bash", "sh", "shell")
                continue
            if not in_shell:
                continue
            start = start or number
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            text, pending = pending + line, ""
            words = shlex.split(text, comments=True)
            while "&&" in words:
                cut = words.index("&&")
                yield from _command(f"{document.relative_to(REPO)}:{start}", words[:cut])
                words = words[cut + 1 :]
            yield from _command(f"{document.relative_to(REPO)}:{start}", words)
            start = 0


def _command(where: str, words: list[str]) -> Iterator[tuple[str, list[str]]]:
    while words and re.match(r"^[A-Z_]+=", words[0]):  # VAR=value before the command
        words = words[1:]
    if words[:1] == ["srun"]:
        words = words[1:]
    if words[:1] == ["torchrun"]:
        words = words[words.index("--no-python") + 1 :]
    if words and (words[0] == "zoo" or words[:2] == ["python", "-m"]):
        yield where, words


COMMANDS = list(shown_commands())


def test_the_documents_show_commands() -> None:
    verbs = {words[1] for _, words in COMMANDS if words[0] == "zoo"}
    assert {"fit", "eval", "export", "push", "download"} <= verbs


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A scratch folder with the repository's recipes, an isolated data cache and an offline Hugging Face cache."""
    root = tmp_path_factory.mktemp("docs")
    (root / "recipes").symlink_to(REPO / "recipes")
    sudoku = Sudoku(9, givens=30)
    (root / "sudoku9.txt").write_text("".join(sudoku.format(p) + "\n" for p in sudoku.generate(3, seed=5)[0]))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("ZOO_CACHE", str(tmp_path_factory.getbasetemp() / "zoo-cache"))
        patch.setenv("HF_TOKEN", "hf_docs_test_token")
        patch.setattr(constants, "HF_HUB_CACHE", str(root / "hf-cache"))
        patch.setattr(constants, "HF_HUB_OFFLINE", True)
        patch.setattr(remote, "HfApi", FakeApi)
        yield root


def catalog_start(arguments: list[str]) -> str | None:
    """The catalog model a command's recipe starts from (its init_from), if any."""
    recipe = yaml.safe_load(Path(arguments[arguments.index("-c") + 1]).read_text()) if "-c" in arguments else None
    start = recipe.get("init_from") if isinstance(recipe, dict) else None
    return start if isinstance(start, str) and catalog.find(start) is not None else None


def repo_ids() -> set[str]:
    """The Hub ids the documents use (arguments of download, push, eval and --init_from that are not paths)."""
    found = set()
    for _, words in COMMANDS:
        found |= {
            word for word in words[2:] if REPO_ID.match(word) and not word.startswith(("runs/", "models/", "recipes/"))
        }
    return found


@pytest.mark.parametrize("where, words", COMMANDS, ids=[f"{where} {' '.join(words)[:60]}" for where, words in COMMANDS])
def test_a_shown_command_runs(where: str, words: list[str], workspace: Path) -> None:
    words = [PLACEHOLDERS.get(word, word) for word in words]
    if words[0] == "python":
        module = words[2]
        if module == "pytest":
            pytest.skip("the test suite itself")
        importlib.import_module(module).build_parser().parse_args(words[3:])  # studies take an hour: the flags parse
        return
    verb, arguments = words[1], words[2:]
    if verb in ("fit", "validate", "test", "predict"):
        nodes = arguments[arguments.index("--trainer.num_nodes") + 1] if "--trainer.num_nodes" in arguments else "1"
        if nodes != "1":
            with pytest.raises(SystemExit) as done:  # several machines: check that the command parses
                main([verb, *arguments, "--print_config"])
            assert done.value.code in (0, None)
            return
        # A recipe that starts from a catalog model trains that model's own size; others a tiny one.
        starts_from_catalog = "--init_from" not in arguments and catalog_start(arguments) is not None
        main([verb, *arguments, *(TWO_STEPS if starts_from_catalog else TRAIN_TINY)])
    elif verb == "eval":
        main([verb, *arguments, "--count", "8"])
    else:
        main([verb, *arguments])
    if verb == "export":  # what the documents push and download next is this export
        for repo_id in repo_ids():
            if not (Path(constants.HF_HUB_CACHE) / f"models--{repo_id.replace('/', '--')}").exists():
                cache_repo(Path(constants.HF_HUB_CACHE), repo_id, Path(arguments[1]))
