"""TaskDataModule: seeded, disjoint train/val/test splits of generated puzzles, cached on disk.

Split assignment is a pure function of a puzzle's augmentation invariant (`Task.invariant`): a puzzle and
every augmented copy of it share the invariant, hence the split. So no puzzle, nor an augmented copy of
one, is ever in two splits — across seeds, counts and difficulty settings too, which keeps `zoo eval` on
fresh held-out puzzles honest. Training examples are augmented on the fly, seeded by their index.

The training loader is resumable: its state (epoch, the epoch's order seed, batches done) goes into
Lightning checkpoints, and a resumed run continues from the next unseen batch of the same order.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from zoo import tasks
from zoo.errors import DamagedFileError, ZooError
from zoo.io import progress
from zoo.io.files import partial_path
from zoo.tasks import Task

SPLITS = ("train", "val", "test")
# Fractions of the invariant-hash space owned by each split. Fixed forever: changing them would let a
# puzzle change split between runs.
_TEST_BELOW, _VAL_BELOW = 0.2, 0.3
_GENERATION_CHUNK = 256
# Generation gives up when this many chunks in a row add no new puzzle (the task has too few distinct ones).
_STALLED_CHUNKS = 200
# Puzzles from which generation shows a progress bar even without a terminal.
_PROGRESS_FROM = 20_000
# Version of the cache file's layout (arrays and checksum); part of the cache key.
_CACHE_FORMAT = 2


def split_of(task: Task, puzzle: np.ndarray) -> str:
    """The split a puzzle belongs to, from a hash of its augmentation invariant."""
    digest = hashlib.blake2b(task.invariant(puzzle), digest_size=8).digest()
    position = int.from_bytes(digest, "little") / 2**64
    return "test" if position < _TEST_BELOW else "val" if position < _VAL_BELOW else "train"


def generate_splits(task: Task, counts: dict[str, int], seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Generate puzzles chunk by chunk until each split holds its count.

    Returns split -> (puzzles [N, n, n], solutions [N, n, n]). Exact duplicates are kept once.
    """
    found: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {split: [] for split in SPLITS}
    seen: set[bytes] = set()
    chunk = stalled = 0
    total = sum(counts.values())
    with progress.bar(work=total, large=_PROGRESS_FROM, total=total, desc="generating puzzles", unit="puzzle") as shown:
        while any(len(found[s]) < counts[s] for s in SPLITS):
            puzzles, solutions = task.generate(_GENERATION_CHUNK, seed=seed * 1_000_003 + chunk)
            before = sum(len(pairs) for pairs in found.values())
            for puzzle, solution in zip(puzzles, solutions):
                key = puzzle.tobytes()
                split = split_of(task, puzzle)
                if key in seen or len(found[split]) >= counts[split]:
                    continue
                seen.add(key)
                found[split].append((puzzle, solution))
            added = sum(len(pairs) for pairs in found.values()) - before
            shown.update(added)
            chunk += 1
            stalled = 0 if added else stalled + 1
            if stalled >= _STALLED_CHUNKS:
                have = {split: len(pairs) for split, pairs in found.items()}
                raise ZooError(
                    f"could not generate {counts} distinct puzzles of {task.spec()}: the last "
                    f"{_STALLED_CHUNKS * _GENERATION_CHUNK} generated added none (have {have}); the task has too few "
                    "distinct puzzles for these counts: "
                    "lower data.train_count, val_count or test_count",
                    key="train_count",
                )
    return {
        split: (np.stack([p for p, _ in pairs]), np.stack([s for _, s in pairs]))
        if pairs
        else (np.zeros((0, task.size, task.size), np.int64), np.zeros((0, task.size, task.size), np.int64))
        for split, pairs in found.items()
    }


class PuzzleDataset(Dataset):
    """Puzzles as tokens; with `copies > 1` each base puzzle appears `copies` times, each copy augmented.

    Item: {"inputs": LongTensor [L], "targets": LongTensor [L]}.
    """

    def __init__(self, task: Task, puzzles: np.ndarray, solutions: np.ndarray, copies: int = 1, seed: int = 0) -> None:
        self.task, self.puzzles, self.solutions = task, puzzles, solutions
        self.copies, self.seed = copies, seed

    def __len__(self) -> int:
        return len(self.puzzles) * self.copies

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} examples")
        base = index % len(self.puzzles)
        puzzle, solution = self.puzzles[base], self.solutions[base]
        if self.copies > 1:
            puzzle, solution = self.task.augment(puzzle, solution, np.random.default_rng([self.seed, index]))
        return {"inputs": self.task.encode(puzzle), "targets": self.task.encode(solution)}


class ResumableSampler(DistributedSampler):
    """A shuffled training order that can start part-way through an epoch.

    One process: each epoch's permutation comes from a seed drawn from torch's global generator at the epoch's
    first batch, so the order follows `seed_everything` (and matches the `RandomSampler` runs of earlier zoo
    versions). Several processes: `DistributedSampler`'s order (training seed + epoch, one slice per rank).
    Being a DistributedSampler, Lightning keeps it instead of wrapping it in one of its own.

    `resume_at(epoch, seed, examples)` makes the next iteration replay that epoch's order from `examples` on.
    """

    def __init__(self, dataset: Dataset, num_replicas: int = 1, rank: int = 0, seed: int = 0) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=True, seed=seed)
        self.epoch_seed: int | None = None
        self._resume: tuple[int | None, int] | None = None

    def resume_at(self, epoch: int, seed: int | None, examples: int) -> None:
        self.set_epoch(epoch)
        self._resume = (seed, examples)

    @property
    def examples_to_skip(self) -> int:
        """Examples the next iteration skips (those already trained on, after `resume_at`)."""
        return self._resume[1] if self._resume else 0

    def __iter__(self) -> Iterator[int]:
        seed, skip = self._resume or (None, 0)
        self._resume = None
        if self.num_replicas > 1:
            yield from list(super().__iter__())[skip:]
            return
        if seed is None:
            # Two draws, as torch's DataLoader (worker base seed) and RandomSampler (order) made them.
            torch.empty((), dtype=torch.int64).random_()
            seed = int(torch.empty((), dtype=torch.int64).random_().item())
        self.epoch_seed = seed
        generator = torch.Generator().manual_seed(seed)
        yield from torch.randperm(len(self.dataset), generator=generator).tolist()[skip:]


class ResumableLoader(DataLoader):
    """The training DataLoader, with the `state_dict`/`load_state_dict` that Lightning saves in checkpoints.

    Counts the batches it has handed out in the current epoch; a loaded state skips the batches already trained
    on (or starts the next epoch when the saved one was complete).
    """

    sampler: ResumableSampler

    def __init__(self, dataset: Dataset, sampler: ResumableSampler, **kwargs: Any) -> None:
        super().__init__(dataset, sampler=sampler, **kwargs)
        self.batches_done = 0

    def __iter__(self) -> Iterator[Any]:
        self.batches_done = self.sampler.examples_to_skip // self.batch_size
        for batch in super().__iter__():
            self.batches_done += 1
            yield batch

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.sampler.epoch, "seed": self.sampler.epoch_seed, "batches": self.batches_done}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["batches"] >= len(self):
            self.sampler.set_epoch(state["epoch"] + 1)
        else:
            self.sampler.resume_at(state["epoch"], state["seed"], state["batches"] * self.batch_size)


class ShardSampler(DistributedSampler):
    """Evaluation order split across processes without padding, so every puzzle is scored exactly once.

    (Lightning's own DistributedSampler repeats puzzles to even out the ranks, which would count some twice.)
    Ranks may get one puzzle more than others; evaluation runs no collective per batch, so that is safe.
    """

    def __init__(self, dataset: Dataset, num_replicas: int = 1, rank: int = 0) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=False)
        self.num_samples = len(range(rank, len(dataset), num_replicas))
        self.total_size = len(dataset)

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.rank, len(self.dataset), self.num_replicas))


def check_settings(**settings: int) -> None:
    """Refuse data settings no run can use, naming the setting (counts >= 0, batch sizes and copies >= 1)."""
    least = {"augment_copies": 1, "batch_size": 1, "eval_batch_size": 1}
    for name, value in settings.items():
        floor = least.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < floor:
            what = "a whole number" + (f" of at least {floor}" if floor else " (0 or more)")
            raise ZooError(f"data setting {name} must be {what}, got {value!r}", key=name)


def check_training_batch(train_count: int, augment_copies: int, batch_size: int) -> None:
    """Refuse, before a training run starts, a batch larger than the training examples asked for (the loader
    checks again against the puzzles actually generated, which a small task may fall short of)."""
    examples = train_count * augment_copies
    if batch_size > examples:
        raise ZooError(
            f"training needs at least one full batch, but train_count {train_count} x augment_copies "
            f"{augment_copies} gives {examples} examples for batch_size {batch_size}: lower data.batch_size or "
            "raise data.train_count",
            key="batch_size",
        )


def task_for_generation(spec: Any) -> Task:
    """The task of a spec, checked to be one whose puzzles `generate` can make; errors keyed "task.<option>"."""
    if not isinstance(spec, dict):
        raise ZooError(
            f"a task is written as {{name: ..., option: value}}, e.g. {{name: sudoku, size: 6}}; got {spec!r}",
            key="task",
        )
    try:
        task = tasks.get(**spec)
        task.check_generatable()
    except ZooError as error:
        raise error.under("task") from None
    return task


def write_cache(path: Path, splits: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """Write generated splits to `path` with a checksum of their contents, atomically."""
    arrays = {f"{s}_{part}": splits[s][i] for s in SPLITS for i, part in enumerate(("puzzles", "solutions"))}
    arrays["checksum"] = np.frombuffer(_checksum(arrays), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Each writer has its own partial file: nodes sharing a filesystem may all generate the same split at once
    # (Lightning prepares data once per node), and the atomic rename lets the last one win with equal bytes.
    with partial_path(path) as partial:
        np.savez_compressed(partial, **arrays)


def read_cache(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Splits from a cache file, verified against its checksum; `DamagedFileError` when it does not load or match."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except Exception as error:  # zipfile, zlib, OSError, ValueError...: any failure to read is damage
        raise DamagedFileError(f"the data cache file {path} is damaged ({type(error).__name__}: {error})") from None
    names = [f"{s}_{part}" for s in SPLITS for part in ("puzzles", "solutions")]
    if any(name not in arrays for name in [*names, "checksum"]):
        raise DamagedFileError(f"the data cache file {path} is damaged (arrays are missing)")
    if arrays["checksum"].tobytes() != _checksum({name: arrays[name] for name in names}):
        raise DamagedFileError(f"the data cache file {path} is damaged (its contents fail their checksum)")
    return {s: (arrays[f"{s}_puzzles"], arrays[f"{s}_solutions"]) for s in SPLITS}


def _checksum(arrays: dict[str, np.ndarray]) -> bytes:
    digest = hashlib.sha256()
    for name in sorted(name for name in arrays if name != "checksum"):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}:{array.dtype.str}:{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.digest()


def default_cache_dir() -> Path:
    return Path(os.environ.get("ZOO_CACHE", Path.home() / ".cache" / "belief-zoo")) / "data"


class TaskDataModule(L.LightningDataModule):
    """Generated puzzles of one task, split without leakage and cached.

    Args:
        task: task spec, e.g. `{"name": "sudoku", "size": 6, "givens": 10}` (see `zoo.tasks.get`).
        train_count, val_count, test_count: base puzzles per split.
        augment_copies: augmented copies of each training puzzle per epoch (1 = no augmentation).
        batch_size: training batch size (per device).
        eval_batch_size: validation/test batch size.
        seed: generation and augmentation seed (independent of the training seed).
        cache_dir: where generated splits are kept (default `$ZOO_CACHE/data` or `~/.cache/belief-zoo/data`).
        num_workers: DataLoader workers.
    """

    def __init__(
        self,
        task: dict[str, Any],
        train_count: int = 1000,
        val_count: int = 100,
        test_count: int = 200,
        augment_copies: int = 1,
        batch_size: int = 64,
        eval_batch_size: int = 256,
        seed: int = 0,
        cache_dir: str | None = None,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        check_settings(
            train_count=train_count,
            val_count=val_count,
            test_count=test_count,
            augment_copies=augment_copies,
            batch_size=batch_size,
            eval_batch_size=eval_batch_size,
            seed=seed,
            num_workers=num_workers,
        )
        self.save_hyperparameters()
        self.task = task_for_generation(task)
        self.counts = {"train": train_count, "val": val_count, "test": test_count}
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.splits: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def cache_path(self) -> Path:
        key = json.dumps(
            {
                "task": self.task.spec(),
                "generator": self.task.generator_version,
                "format": _CACHE_FORMAT,
                "counts": self.counts,
                "seed": self.hparams.seed,
            },
            sort_keys=True,
        )
        digest = hashlib.sha1(key.encode()).hexdigest()[:16]
        return self.cache_dir / f"{self.task.name}-{digest}.npz"

    def prepare_data(self) -> None:
        if not self.cache_path.exists():
            self._generate()

    def _generate(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        splits = generate_splits(self.task, self.counts, self.hparams.seed)
        write_cache(self.cache_path, splits)
        return splits

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        if not self.cache_path.exists():
            self.prepare_data()
        try:
            self.splits = read_cache(self.cache_path)
        except DamagedFileError as error:
            print(f"zoo: {error}; generating it again", file=sys.stderr)
            self.splits = self._generate()

    def dataset(self, split: str) -> PuzzleDataset:
        self.setup()
        copies = self.hparams.augment_copies if split == "train" else 1
        return PuzzleDataset(self.task, *self.splits[split], copies=copies, seed=self.hparams.seed)

    def _processes(self) -> tuple[int, int]:
        """(number of processes, this one's global rank) of the attached trainer; (1, 0) without one."""
        return (self.trainer.world_size, self.trainer.global_rank) if self.trainer is not None else (1, 0)

    def train_dataloader(self) -> ResumableLoader:
        dataset = self.dataset("train")
        if len(dataset) < self.hparams.batch_size:
            raise ZooError(
                f"training needs at least one full batch, but there are {len(dataset)} training examples "
                f"(train_count {self.counts['train']} x augment_copies {self.hparams.augment_copies}) for "
                f"batch_size {self.hparams.batch_size}: lower data.batch_size or raise data.train_count",
                key="batch_size",
            )
        replicas, rank = self._processes()
        # The order seed under several processes is the training seed, as Lightning's own sampler would use.
        sampler = ResumableSampler(dataset, replicas, rank, seed=int(os.environ.get("PL_GLOBAL_SEED", 0)))
        return ResumableLoader(
            dataset,
            sampler,
            batch_size=self.hparams.batch_size,
            drop_last=True,
            num_workers=self.hparams.num_workers,
            persistent_workers=self.hparams.num_workers > 0,
            # Worker seeds come from here, not from the global generator, whose draws the sampler makes.
            generator=torch.Generator().manual_seed(self.hparams.seed),
        )

    def _eval_loader(self, split: str) -> DataLoader:
        dataset = self.dataset(split)
        return DataLoader(
            dataset,
            sampler=ShardSampler(dataset, *self._processes()),
            batch_size=self.hparams.eval_batch_size,
            num_workers=self.hparams.num_workers,
        )

    def val_dataloader(self) -> DataLoader:
        return self._eval_loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._eval_loader("test")

    def predict_dataloader(self) -> DataLoader:
        return self._eval_loader("test")
