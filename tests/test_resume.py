"""Resumable runs: the loader, sampler and generator states a resumed run restores (the end-to-end SIGKILL test
of every family is in tests/test_conformance.py)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import REPO, TINY
from zoo import rng
from zoo.cli import main
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
    assert "no last.ckpt" in capsys.readouterr().err
    assert list(tmp_path.rglob("last.ckpt"))
