"""Damaged files are detected and repaired or skipped, saying so: a data cache that does not load or fails its
checksum is generated again, `--ckpt_path last` skips a damaged newest checkpoint, and a truncated or corrupted
checkpoint or weights file is reported as damaged (not as unsafe)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import zoo
from tests.conftest import QUICKSTART_RECIPE, TINY
from tests.helpers import build, write_checkpoint
from zoo import hub
from zoo.checkpoints import read_checkpoint
from zoo.cli import main
from zoo.data import TaskDataModule
from zoo.errors import DamagedFileError, ZooError

TASK = {"name": "sudoku", "size": 4, "givens": 8}


def truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def flip_byte(path: Path, at: float = 0.6) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0xFF
    path.write_bytes(bytes(data))


# ---- the data cache ----------------------------------------------------------------------------------


def cached_splits(**options) -> TaskDataModule:
    data = TaskDataModule(TASK, train_count=30, val_count=5, test_count=5, seed=2, **options)
    data.prepare_data()
    data.setup()
    return data


@pytest.mark.parametrize("damage", ["truncated", "flipped byte", "edited arrays", "empty"])
def test_a_damaged_data_cache_is_generated_again(damage: str, capsys: pytest.CaptureFixture[str]) -> None:
    expected = cached_splits().splits
    path = cached_splits().cache_path
    if damage == "truncated":
        truncate(path)
    elif damage == "flipped byte":
        flip_byte(path)
    elif damage == "edited arrays":  # a valid file whose contents no longer match their checksum
        with np.load(path) as data:
            arrays = dict(data)
        arrays["train_puzzles"][0, 0, 0] = 4 - arrays["train_puzzles"][0, 0, 0]
        np.savez_compressed(path, **arrays)
    else:
        path.write_bytes(b"")
    capsys.readouterr()
    repaired = cached_splits()
    assert f"the data cache file {path} is damaged" in capsys.readouterr().err
    for split in ("train", "val", "test"):
        assert np.array_equal(repaired.splits[split][0], expected[split][0])
    cached_splits()
    assert "damaged" not in capsys.readouterr().err  # the file was written again, whole


def test_the_cache_key_includes_the_generators_version(monkeypatch: pytest.MonkeyPatch) -> None:
    from zoo.tasks import Sudoku

    before = cached_splits().cache_path
    monkeypatch.setattr(Sudoku, "generator_version", Sudoku.generator_version + 1)
    assert cached_splits().cache_path != before


# ---- checkpoints and weights -------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncated", "flipped byte", "empty"])
def test_a_damaged_checkpoint_is_reported_as_damaged(tmp_path: Path, damage: str) -> None:
    path = write_checkpoint(build("recursive"), tmp_path / "last.ckpt")
    {"truncated": truncate, "flipped byte": flip_byte, "empty": lambda p: p.write_bytes(b"")}[damage](path)
    with pytest.raises(DamagedFileError, match="is damaged \\(truncated or corrupted") as error:
        zoo.load(path)
    assert "unpickl" not in str(error.value) and "unsafe" not in str(error.value)


def test_checkpoints_without_weights_or_settings_are_named(tmp_path: Path) -> None:
    path = write_checkpoint(build("recursive"), tmp_path / "last.ckpt")
    checkpoint = torch.load(path, weights_only=True)
    for key, what in (("state_dict", "weights"), ("hyper_parameters", "hyper-parameters")):
        torch.save({k: v for k, v in checkpoint.items() if k != key}, tmp_path / "partial.ckpt")
        with pytest.raises(ZooError, match=f"has no {what} \\('{key}'\\)"):
            zoo.load(tmp_path / "partial.ckpt")


@pytest.mark.parametrize("damage", ["truncated", "flipped byte"])
def test_damaged_weights_are_reported_as_damaged(tmp_path: Path, damage: str) -> None:
    folder = hub.save(build("recursive"), tmp_path / "model")
    (truncate if damage == "truncated" else flip_byte)(folder / "model.safetensors")
    with pytest.raises(DamagedFileError, match="model.safetensors is damaged"):
        zoo.load(folder)


def test_a_damaged_config_is_reported_as_damaged(tmp_path: Path) -> None:
    folder = hub.save(build("energy"), tmp_path / "model")
    truncate(folder / "config.json")
    with pytest.raises(DamagedFileError, match="config.json is damaged \\(not valid JSON"):
        zoo.load(folder)


# ---- resuming --------------------------------------------------------------------------------------


def fit(root: Path, *extra: str) -> None:
    main(
        [
            "fit",
            "-c",
            QUICKSTART_RECIPE,
            *TINY,
            "--model.init_args.width",
            "16",
            "--model.init_args.expansion",
            "1.0",
            "--trainer.default_root_dir",
            str(root),
            "--trainer.val_check_interval",
            "2",
            *extra,
        ]
    )


def test_resuming_skips_a_damaged_newest_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fit(tmp_path, "--trainer.max_steps", "2")
    intact = next(tmp_path.rglob("last.ckpt"))
    assert read_checkpoint(intact)["global_step"] == 2
    newer = tmp_path / "lightning_logs" / "version_9" / "checkpoints" / "last.ckpt"  # a later run, killed mid-write
    newer.parent.mkdir(parents=True)
    newer.write_bytes(intact.read_bytes())
    truncate(newer)
    os.utime(newer, (time.time() + 60, time.time() + 60))
    capsys.readouterr()
    fit(tmp_path, "--trainer.max_steps", "3", "--ckpt_path", "last")
    printed = capsys.readouterr().err
    assert f"resuming from {intact} (newest readable; skipped damaged {newer}" in printed
    results = json.loads(next(p for p in tmp_path.rglob("results.json") if "version_10" in str(p)).read_text())
    assert results["global_step"] == 3  # continued from step 2, not from scratch


def test_resuming_when_every_checkpoint_is_damaged_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import zoo_error

    fit(tmp_path, "--trainer.max_steps", "2")
    truncate(next(tmp_path.rglob("last.ckpt")))
    printed = zoo_error(
        capsys,
        "fit",
        "-c",
        QUICKSTART_RECIPE,
        *TINY,
        "--trainer.default_root_dir",
        str(tmp_path),
        "--ckpt_path",
        "last",
    )
    assert "every last.ckpt of this run is damaged" in printed
