"""What the DataLoaders read, and in which order: the puzzle dataset, the samplers, and the resumable loader.

Training examples are augmented on the fly, seeded by their index. The training loader is resumable: its
state (epoch, the epoch's order seed, batches done) goes into Lightning checkpoints, and a resumed run
continues from the next unseen batch of the same order.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from zoo.errors import ZooError
from zoo.tasks import Task


class PuzzleDataset(Dataset):
    """Puzzles as tokens; with `copies > 1` each base puzzle appears `copies` times, each copy augmented.

    Item: {"inputs": LongTensor [L], "targets": LongTensor [L]}, and with `solution_sets` also
    "solutions": LongTensor [K, L], every solution of the puzzle (the stored one first, padded to K by repeating
    it), augmented by the same transform as the puzzle; with `partners` ([N] indices) also "partners":
    LongTensor [L], the puzzle `partners[i]` of base puzzle i, as generated.
    """

    def __init__(
        self,
        task: Task,
        puzzles: np.ndarray,
        solutions: np.ndarray,
        copies: int = 1,
        seed: int = 0,
        solution_sets: np.ndarray | None = None,
        partners: np.ndarray | None = None,
    ) -> None:
        self.task, self.puzzles, self.solutions = task, puzzles, solutions
        self.copies, self.seed = copies, seed
        self.solution_sets = solution_sets  # [N, K, n, n]
        self.partners = partners  # [N]

    def __len__(self) -> int:
        return len(self.puzzles) * self.copies

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} examples")
        base = index % len(self.puzzles)
        puzzle, solution = self.puzzles[base], self.solutions[base]
        if self.copies > 1:
            puzzle, solution = self.task.augment(puzzle, solution, np.random.default_rng([self.seed, index]))
        item = {"inputs": self.task.encode(puzzle), "targets": self.task.encode(solution)}
        if self.solution_sets is not None:
            item["solutions"] = self._all_solutions(base, index, puzzle)
        if self.partners is not None:
            item["partners"] = self.task.encode(self.puzzles[self.partners[base]])
        return item

    def _all_solutions(self, base: int, index: int, puzzle: np.ndarray) -> torch.Tensor:
        """Every stored solution of puzzle `base` [K, L], under the transform that made `puzzle` (item `index`).

        The same transform is the one `augment` draws from the same seed, which holds for tasks whose draws do
        not depend on the board's content; a task where they do is refused rather than given wrong targets.
        """
        boards: dict[bytes, torch.Tensor] = {}  # the padding repeats the stored solution: transform it once
        for solution in self.solution_sets[base]:
            key = solution.tobytes()
            if key in boards:
                continue
            if self.copies > 1:
                same, solution = self.task.augment(
                    self.puzzles[base], solution, np.random.default_rng([self.seed, index])
                )
                if not np.array_equal(same, puzzle):
                    raise ZooError(
                        f"task {self.task.name}'s augment draws its transform from the board's content, so the "
                        "other solutions of a puzzle cannot be transformed like the puzzle: train with "
                        "data.solutions: 0 or data.augment_copies: 1"
                    )
            boards[key] = self.task.encode(solution)
        return torch.stack([boards[solution.tobytes()] for solution in self.solution_sets[base]])


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
