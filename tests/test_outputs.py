"""The output rule of every verb that writes (`zoo.io.outputs`): nothing a user has is replaced without --force, the
input is never the output, devices and system folders are refused, links are written through, `~` is expanded,
and each refusal is one line, exit status 2, before any work, with nothing written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import QUICKSTART_RECIPE, TINY, zoo_error
from tests.helpers import TASK, build, write_checkpoint
from zoo import hub, tasks
from zoo.cli import main

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return hub.save(build("recursive"), tmp_path / "model")


@pytest.fixture
def puzzles(tmp_path: Path) -> Path:
    task = tasks.get(**TASK)
    path = tmp_path / "puzzles.txt"
    path.write_text("".join(task.format(p) + "\n" for p in task.generate(3, seed=3)[0]))
    return path


def tree(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every entry under `root` (links not followed): mode, size, modification time."""
    return {
        str(p.relative_to(root)): (p.lstat().st_mode, p.lstat().st_size, p.lstat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
    }


def refused(capsys: pytest.CaptureFixture[str], root: Path, *words: str) -> str:
    """`zoo WORDS` exits 2 with one line and leaves everything under `root` as it was."""
    before = tree(root)
    printed = zoo_error(capsys, *words)
    assert len(printed.strip().splitlines()) == 1, printed
    assert tree(root) == before
    return printed


def solve(model: Path, puzzles: Path, *words: str) -> list[str]:
    return ["solve", str(model), str(puzzles), "--budget", "1", *words]


# ---- zoo solve --out ------------------------------------------------------------------------------------


def test_an_existing_file_is_replaced_only_with_force_and_keeps_its_mode(model, puzzles, tmp_path, capsys) -> None:
    out = tmp_path / "answers.txt"
    out.write_text("keep me\n")
    out.chmod(0o600)
    assert "pass --force" in refused(capsys, tmp_path, *solve(model, puzzles, "--out", str(out)))
    assert out.read_text() == "keep me\n"
    main(solve(model, puzzles, "--out", str(out), "--force"))
    assert len(out.read_text().splitlines()) == 3
    assert out.stat().st_mode & 0o777 == 0o600


def test_the_input_puzzle_file_is_never_the_output(model, puzzles, tmp_path, capsys) -> None:
    (tmp_path / "link.txt").symlink_to(puzzles)
    os.link(puzzles, tmp_path / "hard-link.txt")
    text = puzzles.read_text()
    for out in (puzzles, tmp_path / "link.txt", tmp_path / "hard-link.txt"):
        assert "is the input file" in refused(capsys, tmp_path, *solve(model, puzzles, "--out", str(out), "--force"))
    assert puzzles.read_text() == text


def test_a_symlink_is_written_through_to_its_target(model, puzzles, tmp_path, capsys) -> None:
    target, link = tmp_path / "target.txt", tmp_path / "link.txt"
    link.symlink_to(target)  # dangling: the target is new
    main(solve(model, puzzles, "--out", str(link)))
    assert link.is_symlink() and len(target.read_text().splitlines()) == 3
    assert "pass --force" in refused(capsys, tmp_path, *solve(model, puzzles, "--out", str(link)))
    target.write_text("old\n")
    main(solve(model, puzzles, "--out", str(link), "--force"))
    assert link.is_symlink() and len(target.read_text().splitlines()) == 3


def test_devices_fifos_and_system_folders_are_refused(model, puzzles, tmp_path, capsys) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "to-null").symlink_to("/dev/null")
    for out in ("/dev/null", str(tmp_path / "to-null"), "/proc/self/comm", "/proc/zoo-answers.txt", "/sys/x"):
        assert "a folder of the system" in refused(capsys, tmp_path, *solve(model, puzzles, "--out", out, "--force"))
    assert "not a regular file" in refused(capsys, tmp_path, *solve(model, puzzles, "--out", str(fifo), "--force"))
    assert fifo.is_fifo()


def test_a_folder_is_refused_and_missing_folders_are_made(model, puzzles, tmp_path, capsys) -> None:
    assert "is a folder" in refused(capsys, tmp_path, *solve(model, puzzles, "--out", str(tmp_path), "--force"))
    printed = refused(capsys, tmp_path, *solve(model, puzzles, "--out", str(puzzles / "answers.txt")))
    assert "is not a folder" in printed
    main(solve(model, puzzles, "--out", str(tmp_path / "new" / "deeper" / "answers.txt")))
    assert len((tmp_path / "new" / "deeper" / "answers.txt").read_text().splitlines()) == 3


def test_tilde_is_expanded_and_never_a_literal_folder(model, puzzles, tmp_path, capsys, monkeypatch) -> None:
    (tmp_path / "home").mkdir()
    (tmp_path / "work").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path / "work")
    main(solve(model, puzzles, "--out=~/x"))
    assert len((tmp_path / "home" / "x").read_text().splitlines()) == 3
    assert "names no user" in refused(capsys, tmp_path, *solve(model, puzzles, "--out=~no-such-user-here/x"))
    assert not list((tmp_path / "work").iterdir())


# ---- zoo eval / bench --out ----------------------------------------------------------------------------


def evaluate(model: Path, *words: str) -> list[str]:
    return ["eval", str(model), "--budgets", "1", "--count", "4", *words]


def test_eval_out_onto_a_file_or_a_device_is_refused(model, puzzles, tmp_path, capsys) -> None:
    assert "is a file, not a folder" in refused(capsys, tmp_path, *evaluate(model, "--out", str(puzzles)))
    assert "a folder of the system" in refused(capsys, tmp_path, *evaluate(model, "--out", "/dev/null"))
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "results.json").mkdir()
    assert "is a folder" in refused(capsys, tmp_path, *evaluate(model, "--out", str(tmp_path / "results")))


def test_eval_into_another_models_folder_needs_force(model, tmp_path, capsys) -> None:
    results = {"family": "RecursiveReasoner", "task": TASK, "exact_match": {"1": 0.25}}
    other = hub.save(build("recursive", seed=1), tmp_path / "other", results=results)
    kept = (other / "results.json").read_bytes()
    assert "holds a model" in refused(capsys, tmp_path, *evaluate(model, "--out", str(other)))
    assert (other / "results.json").read_bytes() == kept
    main(evaluate(model, "--out", str(other), "--force"))
    assert json.loads((other / "results.json").read_text())["model"] == str(model)

    out = tmp_path / "mine"
    main(evaluate(model, "--out", str(out)))
    main(evaluate(model, "--out", str(out)))  # the same model's results again
    printed = refused(capsys, tmp_path, *evaluate(other, "--out", str(out)))
    assert f"holds the results of `zoo eval {model}`" in printed and "--force" in printed


def test_bench_over_a_bench_of_other_models_needs_force(model, tmp_path, capsys) -> None:
    out = tmp_path / "bench"
    out.mkdir()
    (out / "bench.json").write_text(json.dumps({"models": [{"model": "someone-else"}]}))
    words = ["bench", str(model), "--budgets", "1", "--count", "4", "--out", str(out)]
    assert "the bench of someone-else" in refused(capsys, tmp_path, *words)
    main([*words, "--force"])
    assert [entry["model"] for entry in json.loads((out / "bench.json").read_text())["models"]] == [str(model)]


# ---- zoo predict, export, download ---------------------------------------------------------------------


def test_predict_refuses_an_existing_file_before_predicting(tmp_path, capsys) -> None:
    out = tmp_path / "predicted.txt"
    out.write_text("keep me\n")
    words = ["predict", "-c", QUICKSTART_RECIPE, *TINY, "--trainer.logger", "false"]
    words += ["--trainer.default_root_dir", str(tmp_path / "run"), "--predictions.path", str(out)]
    assert "pass --force" in zoo_error(capsys, *words)
    assert out.read_text() == "keep me\n"
    main([*words, "--predictions.force", "true"])
    assert out.read_text().startswith("# puzzle\tanswer\tverdict")


def test_export_and_download_refuse_devices_and_system_folders(tmp_path, capsys) -> None:
    checkpoint = str(write_checkpoint(build("recursive"), tmp_path / "last.ckpt"))
    for out in ("/dev/null", "/proc/zoo-model", "/sys/zoo-model"):
        assert "a folder of the system" in refused(capsys, tmp_path, "export", checkpoint, out, "--force")
        assert "a folder of the system" in refused(capsys, tmp_path, "download", "org/name", "--dir", out)
    assert "names no user" in refused(capsys, tmp_path, "export", checkpoint, "~no-such-user-here/m")


def test_export_force_keeps_the_results_of_other_models_under_eval(tmp_path, capsys, monkeypatch) -> None:
    first = write_checkpoint(build("recursive"), tmp_path / "a" / "last.ckpt")
    second = write_checkpoint(build("recursive", seed=1), tmp_path / "b" / "last.ckpt")
    folder = tmp_path / "work"
    main(["export", str(first), str(folder)])
    monkeypatch.chdir(folder)
    main(["eval", ".", "--budgets", "1", "--count", "4"])  # this model's results: ./eval/results.json
    main(["eval", "quickstart-sudoku6", "--budgets", "1", "--count", "4"])  # another's: ./eval/quickstart-sudoku6
    others = (folder / "eval" / "quickstart-sudoku6" / "results.json").read_bytes()

    main(["export", str(second), ".", "--force"])
    assert (folder / "eval" / "quickstart-sudoku6" / "results.json").read_bytes() == others
    assert not (folder / "eval" / "results.json").exists() and not (folder / "eval" / "budget_curve.png").exists()


# ---- staging leftovers -----------------------------------------------------------------------------------

STAGING = """
import os, signal, sys, time
from zoo.io.files import staged_folder
with staged_folder(sys.argv[1]) as staged:
    (staged / "config.json").write_text("{}")
    print(staged, flush=True)
    if sys.argv[2] == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(60)
"""


def stage(target: Path, how: str) -> tuple[subprocess.Popen[str], Path]:
    """A writer that stages `target` and then dies (SIGKILL) or keeps writing; its staged folder."""
    writer = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(STAGING), str(target), how],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    staged = Path(writer.stdout.readline().strip())
    if how == "die":
        writer.wait(timeout=30)
    return writer, staged


def test_staging_of_a_killed_export_is_removed_by_the_next_write_and_a_live_one_kept(tmp_path) -> None:
    parent = tmp_path / "models"
    parent.mkdir()
    dead, dead_staged = stage(parent / "killed", "die")
    assert dead.returncode == -signal.SIGKILL and dead_staged.is_dir()
    live, live_staged = stage(parent / "running", "live")
    try:
        hub.save(build("recursive"), parent / "mine")
        assert not dead_staged.exists()
        assert (live_staged / "config.json").is_file()
    finally:
        live.kill()
        live.wait(timeout=30)
    assert sorted(p.name for p in parent.iterdir()) == sorted(["mine", live_staged.name])


def test_eval_of_a_catalog_name_writes_under_eval_by_its_bare_name(tmp_path, monkeypatch) -> None:
    """`catalog:NAME` and NAME are the same model: results go to ./eval/NAME, never to a folder named 'catalog:NAME'."""
    monkeypatch.chdir(tmp_path)
    for source in ("catalog:quickstart-sudoku6", "quickstart-sudoku6"):
        main(["eval", source, "--count", "2", "--budgets", "1", "--force"])
    assert sorted(path.name for path in (tmp_path / "eval").iterdir()) == ["quickstart-sudoku6"]
