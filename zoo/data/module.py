"""TaskDataModule: the LightningDataModule that generates, caches and serves one task's puzzles.

It ties the other modules together: settings checked (`settings`), splits generated (`splits`) and kept on
disk (`cache`), and served through the resumable training loader and the evaluation shards (`loading`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.trainer.states import TrainerFn
from torch.utils.data import DataLoader

from zoo.data.cache import cache_path_for, default_cache_dir, read_cache, write_cache
from zoo.data.loading import PuzzleDataset, ResumableLoader, ResumableSampler, ShardSampler
from zoo.data.settings import check_settings, task_for_generation
from zoo.data.splits import generate_splits
from zoo.data.traces import swap_partners
from zoo.errors import DamagedFileError, ZooError


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
        solutions: with K > 0, each training example also carries up to K solutions of its puzzle
            (`batch["solutions"]` [B, K, L], the stored one first), enumerated by the task's exact solver, for
            regimes that train toward the nearest solution; 0 (the default) serves the stored solution only.
        partners: each training example also carries another training puzzle of the same size
            (`batch["partners"]` [B, L]; `zoo.data.traces.swap_partners`, fixed by `seed`, never itself), for the
            swapped arm of trace SFT.
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
        solutions: int = 0,
        partners: bool = False,
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
            solutions=solutions,
        )
        if not isinstance(partners, bool):
            raise ZooError(f"partners is true or false, got {partners!r}", key="partners")
        self.save_hyperparameters()
        self.task = task_for_generation(task)
        self.counts = {"train": train_count, "val": val_count, "test": test_count}
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.splits: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def cache_path(self) -> Path:
        return cache_path_for(self.cache_dir, self.task, self.counts, self.hparams.seed)

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
        puzzles, solutions = self.splits[split]
        sets = self.solution_sets(puzzles, solutions) if split == "train" and self.hparams.solutions else None
        partners = None
        if split == "train" and self.hparams.partners:
            partners = swap_partners(np.full(len(puzzles), self.task.size), self.hparams.seed)
        return PuzzleDataset(
            self.task, puzzles, solutions, copies=copies, seed=self.hparams.seed, solution_sets=sets, partners=partners
        )

    def solution_sets(self, puzzles: np.ndarray, solutions: np.ndarray) -> np.ndarray:
        """Up to `solutions` (K) solutions of each puzzle [N, n, n], the stored one first and the rest in the
        solver's order, padded by repeating the stored one: [N, K, n, n]."""
        limit = self.hparams.solutions
        sets = np.repeat(solutions[:, None], limit, axis=1)
        for index, (puzzle, stored) in enumerate(zip(puzzles, solutions)):
            others = [s for s in self.task.solutions(puzzle, limit=limit + 1) if not np.array_equal(s, stored)]
            for slot, other in enumerate(others[: limit - 1], start=1):
                sets[index, slot] = other
        return sets

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
            generator=torch.Generator().manual_seed(self.hparams.seed) if self._fitting() else None,
        )

    def _fitting(self) -> bool:
        """Whether a Trainer is fitting with this module. A loader without a generator draws its worker seed
        from the global one at every pass: in a fit, each validation would then move the draws a sampling
        family makes in training. Evaluation outside a fit (`zoo eval`, `zoo bench`, a test after the fit)
        keeps that draw from the stream its caller seeded, as the catalog's figures were measured."""
        return self.trainer is not None and self.trainer.state.fn == TrainerFn.FITTING

    def val_dataloader(self) -> DataLoader:
        return self._eval_loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._eval_loader("test")

    def predict_dataloader(self) -> DataLoader:
        return self._eval_loader("test")
