"""Nothing a user has is lost or left mixed: model folders are written whole or not at all, another model's
export or the user's own files are never overwritten without --force, and --force leaves no stale file."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest
from huggingface_hub import constants

from tests.conftest import zoo_error
from tests.helpers import build, cache_repo, write_checkpoint
from zoo import hub
from zoo.cli import main
from zoo.evaluation.results import write_results
from zoo.hub import mixin
from zoo.io import files


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` (relative path -> sha256), to compare a folder before and after."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def trained_run(tmp_path: Path, family: str, name: str, seed: int = 0) -> Path:
    """A checkpoint in a run directory beside its results.json and plot, as `zoo fit` leaves them."""
    model = build(family, seed=seed)
    run = tmp_path / name / "lightning_logs" / "version_0"
    checkpoint = write_checkpoint(model, run / "checkpoints" / "last.ckpt")
    write_results(
        {"family": type(model).__name__, "task": model.task.spec(), "exact_match": {"1": 0.5}, "puzzles": 4}, run
    )
    return checkpoint


def no_leftovers(parent: Path) -> bool:
    return not [p.name for p in parent.iterdir() if "zoo-partial" in p.name or "zoo-replaced" in p.name]


def test_an_export_interrupted_by_a_full_disk_leaves_the_old_folder_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "models" / "mine"
    main(["export", str(trained_run(tmp_path, "recursive", "a")), str(out)])
    before = snapshot(out)

    def disk_full(module, path, **_):  # type: ignore[no-untyped-def]
        Path(path).write_bytes(b"\0" * 100)  # part of the file made it to disk
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(mixin, "save_model", disk_full)
    printed = zoo_error(capsys, "export", str(trained_run(tmp_path, "recursive", "b", seed=1)), str(out), "--force")
    assert "No space left on device" in printed
    assert snapshot(out) == before
    assert no_leftovers(out.parent)


def test_a_failed_commit_is_undone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A target that refuses the move part-way (read-only, another filesystem) gets back every file it had."""
    out = tmp_path / "mine"
    hub.save(build("recursive"), out)
    (out / "notes.txt").write_text("mine")
    before = snapshot(out)
    rename, calls = os.rename, []

    def fail_on_the_third(source, destination):  # type: ignore[no-untyped-def]
        calls.append(source)
        if len(calls) == 3:
            raise OSError(errno.EROFS, "Read-only file system")
        rename(source, destination)

    monkeypatch.setattr(files.os, "rename", fail_on_the_third)
    with pytest.raises(OSError, match="Read-only"):
        hub.save(build("recursive", seed=1), out, force=True)
    monkeypatch.setattr(files.os, "rename", rename)
    assert snapshot(out) == before
    assert no_leftovers(out) and no_leftovers(tmp_path)


def test_exporting_model_b_over_model_a(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mine"
    main(["export", str(trained_run(tmp_path, "recursive", "a")), str(out)])
    main(["eval", str(out), "--budgets", "1", "--count", "4"])  # zoo eval's results of model A
    (out / "notes.txt").write_text("the user's own notes")
    before = snapshot(out)
    other = write_checkpoint(build("energy"), tmp_path / "b" / "last.ckpt")  # no results beside it

    printed = zoo_error(capsys, "export", str(other), str(out))
    assert "holds files belief-zoo did not write (notes.txt)" in printed and "--force" in printed
    assert snapshot(out) == before
    (out / "notes.txt").unlink()
    printed = zoo_error(capsys, "export", str(other), str(out))
    assert "holds another model (RecursiveReasoner on sudoku" in printed and "--force" in printed
    (out / "notes.txt").write_text("the user's own notes")

    main(["export", str(other), str(out), "--force"])
    assert "replaced RecursiveReasoner on sudoku" in capsys.readouterr().out
    # Model B's files only (it has no results, so no results.json, plot or eval/ of model A), and the notes.
    assert {p.name for p in out.iterdir()} == {
        "config.json",
        "model.safetensors",
        "README.md",
        "recipe.yaml",
        "notes.txt",
    }
    assert (out / "notes.txt").read_text() == "the user's own notes"
    assert "energy-transformer" in (out / "README.md").read_text()
    assert hub.load(out).__class__.__name__ == "EnergyTransformer"


def test_an_edited_card_is_kept_only_for_the_same_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checkpoint = trained_run(tmp_path, "recursive", "a")
    out = tmp_path / "mine"
    main(["export", str(checkpoint), str(out)])
    (out / "README.md").write_text("edited by hand\n")
    main(["export", str(checkpoint), str(out)])  # the same model again
    assert (out / "README.md").read_text() == "edited by hand\n"
    main(["export", str(trained_run(tmp_path, "recursive", "b", seed=1)), str(out), "--force"])  # another model
    assert (out / "README.md").read_text() != "edited by hand\n"


def test_exporting_into_a_file_or_a_folder_of_other_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checkpoint = str(trained_run(tmp_path, "recursive", "a"))
    (tmp_path / "a-file").write_text("x")
    assert "is a file, not a folder" in zoo_error(capsys, "export", checkpoint, str(tmp_path / "a-file"))
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.json").write_text('{"another": "program"}')
    (home / "thesis.tex").write_text("years of work")
    before = snapshot(home)
    assert "holds files belief-zoo did not write (config.json, thesis.tex)" in zoo_error(
        capsys, "export", checkpoint, str(home)
    )
    assert snapshot(home) == before
    main(["export", checkpoint, str(home), "--force"])
    assert (home / "thesis.tex").read_text() == "years of work"
    assert type(hub.load(home)).__name__ == "RecursiveReasoner"
    assert no_leftovers(home) and no_leftovers(tmp_path)


def test_download_into_a_folder_never_overwrites_without_force(
    tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    cache_repo(Path(constants.HF_HUB_CACHE), "org/name", hub.save(build("recursive"), tmp_path / "model"))
    target = tmp_path / "work"
    target.mkdir()
    (target / "README.md").write_text("my project's readme")
    (target / "train.py").write_text("print('mine')")
    before = snapshot(target)
    printed = zoo_error(capsys, "download", "org/name", "--dir", str(target))
    assert "holds files belief-zoo did not write" in printed and "--force" in printed
    assert snapshot(target) == before

    main(["download", "org/name", "--dir", str(tmp_path / "fresh")])
    main(["download", "org/name", "--dir", str(tmp_path / "fresh")])  # the same model again: fine
    main(["download", "org/name", "--dir", str(target), "--force"])
    assert (target / "train.py").read_text() == "print('mine')"
    assert type(hub.load(target)).__name__ == "RecursiveReasoner"
