"""TaskDataModule: seeded, cached, and no puzzle (nor an augmented copy) in two splits."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from zoo import tasks
from zoo.data import TaskDataModule, split_of

TASK = {"name": "sudoku", "size": 6, "givens": 10}


def make(**options) -> TaskDataModule:
    data = TaskDataModule(TASK, **{"train_count": 120, "val_count": 30, "test_count": 40, **options})
    data.prepare_data()
    data.setup()
    return data


def test_split_sizes_and_disjointness_under_augmentation() -> None:
    data = make(augment_copies=4)
    task = data.task
    sizes = {split: len(data.splits[split][0]) for split in ("train", "val", "test")}
    assert sizes == {"train": 120, "val": 30, "test": 40}
    keys = {split: {task.invariant(p) for p in data.splits[split][0]} for split in sizes}
    assert not keys["train"] & keys["val"] and not keys["train"] & keys["test"] and not keys["val"] & keys["test"]
    # Augmented training examples are still training puzzles, and none equals a held-out puzzle.
    held_out = {p.tobytes() for split in ("val", "test") for p in data.splits[split][0]}
    for item in data.dataset("train"):
        puzzle = task.decode(item["inputs"])
        assert split_of(task, puzzle) == "train"
        assert puzzle.tobytes() not in held_out
        assert task.verify(puzzle, task.decode(item["targets"]))


def test_held_out_puzzles_stay_held_out_across_seeds_and_difficulty() -> None:
    train = make(seed=0).splits["train"][0]
    harder = TaskDataModule({**TASK, "givens": 9}, train_count=0, val_count=0, test_count=40, seed=7)
    harder.prepare_data()
    harder.setup()
    task = tasks.get(**TASK)
    train_keys = {task.invariant(p) for p in train}
    assert not train_keys & {task.invariant(p) for p in harder.splits["test"][0]}


def test_generation_is_seeded_and_cached(isolated_cache: Path) -> None:
    first, second, other = make(seed=3), make(seed=3), make(seed=4)
    assert np.array_equal(first.splits["test"][0], second.splits["test"][0])
    assert not np.array_equal(first.splits["test"][0], other.splits["test"][0])
    assert first.cache_path.exists() and first.cache_path.parent == isolated_cache / "data"


def test_two_writers_of_one_cache_file_do_not_collide(isolated_cache: Path, monkeypatch) -> None:
    """Nodes on a shared filesystem each prepare the same split: a second writer that finishes inside the first
    one's write must not pull the first one's file away (regression: both used one partial file name)."""
    options = {"train_count": 20, "val_count": 5, "test_count": 5, "seed": 11}
    first, second = TaskDataModule(TASK, **options), TaskDataModule(TASK, **options)
    rename = os.replace
    interleaved = []

    def replace_after_the_other_writer(source: Path, target: Path) -> None:
        if not interleaved:
            interleaved.append(True)
            second.prepare_data()
        rename(source, target)

    monkeypatch.setattr(os, "replace", replace_after_the_other_writer)
    first.prepare_data()
    first.setup()
    assert interleaved and len(first.splits["train"][0]) == 20
    assert [path.name for path in first.cache_path.parent.iterdir() if "partial" in path.name] == []


def test_augmented_copies_differ_and_are_reproducible() -> None:
    data = make(augment_copies=3)
    dataset = data.dataset("train")
    assert len(dataset) == 360
    copies = [dataset[i]["inputs"] for i in (0, 120, 240)]
    assert not torch.equal(copies[0], copies[1]) or not torch.equal(copies[1], copies[2])
    assert torch.equal(dataset[5]["inputs"], data.dataset("train")[5]["inputs"])
    assert len(data.dataset("test")) == 40  # held-out splits are never augmented


def test_a_task_with_too_few_distinct_puzzles_is_a_clear_error() -> None:
    """6x6 N-Queens with every queen placed has 4 distinct puzzles: asking for 10 ends with the counts found."""
    import pytest

    from zoo.errors import ZooError

    data = TaskDataModule({"name": "nqueens", "size": 6, "placed": 6}, train_count=10, val_count=0, test_count=0)
    with pytest.raises(
        ZooError, match=r"could not generate .* \(have \{'train': 4, 'val': 0, 'test': 0\}\).*lower data.train_count"
    ):
        data.prepare_data()


def test_a_data_worker_serves_the_same_batches_as_the_training_process() -> None:
    """Recipes may augment in a worker process (data.num_workers) without changing a seeded run's numbers."""
    from zoo.data import TaskDataModule

    batches = []
    for workers in (0, 1):
        torch.manual_seed(0)
        data = TaskDataModule(
            TASK, train_count=40, val_count=0, test_count=0, augment_copies=3, batch_size=8, num_workers=workers
        )
        batches.append([batch["inputs"] for batch, _ in zip(data.train_dataloader(), range(4))])
    assert all(torch.equal(a, b) for a, b in zip(*batches))


def test_splits_made_piece_by_piece_are_the_whole_chunks_puzzles(monkeypatch: pytest.MonkeyPatch) -> None:
    """A task that generates prefixes is asked for pieces of a chunk until the splits are full; the splits are
    the ones whole chunks give, and no more of a chunk is made than the piece that fills them."""
    from zoo.data import splits
    from zoo.tasks import get

    task = get(name="sudoku", size=6, givens=12)
    counts = {"train": 20, "val": 4, "test": 9}
    pieces = splits.generate_splits(task, counts, seed=3)
    made: list[int] = []
    original = type(task).generate_range
    monkeypatch.setattr(
        type(task), "generate_range", lambda self, a, b, seed: made.append(b - a) or original(self, a, b, seed)
    )
    monkeypatch.setattr(type(task), "generates_prefixes", False)
    whole = splits.generate_splits(task, counts, seed=3)
    assert made == [256]
    for split in splits.SPLITS:
        assert all(np.array_equal(a, b) for a, b in zip(pieces[split], whole[split]))
    monkeypatch.setattr(type(task), "generates_prefixes", True)
    made.clear()
    splits.generate_splits(task, counts, seed=3)
    assert sum(made) < 256 and set(made) == {32}
