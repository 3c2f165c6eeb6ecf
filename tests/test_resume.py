"""Resumable runs: the loader, sampler and generator states a resumed run restores (the end-to-end SIGKILL test
of every family is in tests/test_conformance.py)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import REPO, TINY
from zoo import rng
from zoo.cli import main
from zoo.cli.lightning import newest_readable, run_checkpoints
from zoo.data import PuzzleDataset, ResumableLoader, ResumableSampler, ShardSampler
from zoo.tasks import get


def loader(examples: int = 20, batch_size: int = 4, replicas: int = 1, rank: int = 0) -> ResumableLoader:
    task = get("sudoku", size=4, givens=8)
    puzzles, solutions = task.generate(examples, seed=0)
    dataset = PuzzleDataset(task, puzzles, solutions)
    sampler = ResumableSampler(dataset, replicas, rank, seed=3)
    return ResumableLoader(dataset, sampler, batch_size=batch_size, drop_last=True)


def batches(source: ResumableLoader, count: int | None = None) -> list[torch.Tensor]:
    taken = []
    for batch in source:
        taken.append(batch["inputs"])
        if count is not None and len(taken) == count:
            break
    return taken


def test_loader_resumes_mid_epoch_with_the_same_order() -> None:
    torch.manual_seed(0)
    whole_epoch = batches(loader())
    torch.manual_seed(0)
    first = loader()
    seen = batches(first, 2)
    state = first.state_dict()
    assert state["batches"] == 2

    resumed = loader()
    torch.manual_seed(123)  # a resumed loader replays the saved order, whatever the generator says now
    resumed.load_state_dict(state)
    rest = batches(resumed)
    assert [b.tolist() for b in seen + rest] == [b.tolist() for b in whole_epoch]
    assert resumed.state_dict()["batches"] == len(whole_epoch)


def test_loader_after_a_complete_epoch_starts_the_next() -> None:
    done = loader()
    batches(done)
    state = done.state_dict()
    resumed = loader()
    resumed.load_state_dict(state)
    assert resumed.sampler.epoch == state["epoch"] + 1
    assert len(batches(resumed)) == len(resumed)


def test_loader_order_follows_the_global_seed_in_one_process() -> None:
    torch.manual_seed(0)
    a = batches(loader())
    torch.manual_seed(0)
    b = batches(loader())
    torch.manual_seed(1)
    c = batches(loader())
    assert [x.tolist() for x in a] == [x.tolist() for x in b]
    assert [x.tolist() for x in a] != [x.tolist() for x in c]


def test_processes_train_on_disjoint_slices_of_one_order() -> None:
    ranks = [loader(examples=24, batch_size=2, replicas=3, rank=r) for r in range(3)]
    rows = [tuple(row.tolist()) for source in ranks for batch in batches(source) for row in batch]
    assert len(rows) == 24 and len(set(rows)) == 24


def test_evaluation_shards_score_each_puzzle_once() -> None:
    dataset = list(range(7))
    shards = [list(ShardSampler(dataset, 3, rank)) for rank in range(3)]  # type: ignore[arg-type]
    assert sorted(sum(shards, [])) == dataset
    assert [len(ShardSampler(dataset, 3, rank)) for rank in range(3)] == [3, 2, 2]  # type: ignore[arg-type]


def test_generator_states_survive_a_weights_only_checkpoint() -> None:
    import random

    torch.manual_seed(5), np.random.seed(5), random.seed(5)
    buffer = io.BytesIO()
    torch.save(rng.capture(), buffer)
    expected = (torch.rand(3), np.random.rand(3), random.random())
    torch.manual_seed(0), np.random.seed(0), random.seed(0)
    buffer.seek(0)
    rng.restore(torch.load(buffer, weights_only=True))
    assert torch.equal(torch.rand(3), expected[0])
    assert np.array_equal(np.random.rand(3), expected[1])
    assert random.random() == expected[2]


# ---- end to end: SIGKILL, then `zoo fit --ckpt_path last`, runs for every family in tests/test_conformance.py


def test_ckpt_path_last_without_a_checkpoint_starts_from_scratch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(
        [
            "fit",
            "-c",
            str(REPO / "recipes" / "quickstart.yaml"),
            *TINY,
            "--trainer.max_steps",
            "2",
            "--trainer.limit_val_batches",
            "0",
            "--trainer.default_root_dir",
            str(tmp_path),
            "--ckpt_path",
            "last",
        ]
    )
    assert f"zoo: no checkpoint under {tmp_path}: starting from scratch" in capsys.readouterr().err
    assert list(tmp_path.rglob("last.ckpt"))


def fit_every_step(root: Path, max_steps: int, *extra: str) -> None:
    """A tiny quickstart run that keeps a checkpoint at every step (`every_n_train_steps: 1, save_top_k: -1`)
    beside last.ckpt, as a run that must lose little work does."""
    callbacks = root / "every-step.yaml"
    if not callbacks.exists():
        root.mkdir(parents=True, exist_ok=True)
        callbacks.write_text(
            "trainer:\n  callbacks:\n    - class_path: lightning.pytorch.callbacks.ModelCheckpoint\n"
            "      init_args: {save_last: true, every_n_train_steps: 1, save_top_k: -1}\n"
        )
    main(
        [
            "fit",
            *("-c", str(REPO / "recipes" / "quickstart.yaml"), "-c", str(callbacks)),
            *TINY,
            *("--model.init_args.width", "16", "--model.init_args.expansion", "1.0"),
            *("--trainer.limit_val_batches", "0", "--trainer.max_steps", str(max_steps)),
            *("--trainer.default_root_dir", str(root), *extra),
        ]
    )


def test_ckpt_path_last_falls_back_through_the_step_checkpoints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fit_every_step(tmp_path, 3)
    first = tmp_path / "lightning_logs" / "version_0" / "checkpoints"
    assert sorted(p.name for p in first.iterdir()) == [f"epoch=0-step={n}.ckpt" for n in (1, 2, 3)] + ["last.ckpt"]
    for name in ("last.ckpt", "epoch=0-step=3.ckpt"):  # killed while writing, disk full: both cut short
        data = (first / name).read_bytes()
        (first / name).write_bytes(data[: len(data) // 2])
    capsys.readouterr()
    fit_every_step(tmp_path, 4, "--ckpt_path", "last")
    printed = capsys.readouterr().err
    assert f"zoo: resuming from {first / 'epoch=0-step=2.ckpt'} (newest readable; skipped damaged " in printed
    assert str(first / "last.ckpt") in printed and str(first / "epoch=0-step=3.ckpt") in printed
    resumed = tmp_path / "lightning_logs" / "version_1" / "checkpoints"
    # continued from step 2 (a run from scratch would have written steps 1 and 2 again)
    assert sorted(p.name for p in resumed.iterdir()) == ["epoch=0-step=3.ckpt", "epoch=0-step=4.ckpt", "last.ckpt"]


def test_among_checkpoints_of_the_same_time_the_larger_step_is_newest(tmp_path: Path) -> None:
    """Coarse file times (seconds, or an archive restored) tie: the step stored in the file decides, not the
    name ('step=9' sorts after 'step=10') nor the order the folder lists them in."""
    from tests.helpers import build, write_checkpoint

    folder = tmp_path / "lightning_logs" / "version_0" / "checkpoints"
    state = torch.load(write_checkpoint(build("recursive"), folder / "last.ckpt"), weights_only=True)
    for step in (9, 10):
        torch.save({**state, "global_step": step}, folder / f"epoch=0-step={step}.ckpt")
    (folder / "last.ckpt").write_bytes(b"PK\x03\x04 cut short")
    for path in folder.iterdir():
        os.utime(path, ns=(1_700_000_000 * 10**9, 1_700_000_000 * 10**9))
    chosen, skipped = newest_readable(run_checkpoints(tmp_path, []))
    assert chosen == folder / "epoch=0-step=10.ckpt"
    assert len(skipped) == 1 and skipped[0].startswith(str(folder / "last.ckpt"))
