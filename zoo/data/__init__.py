"""Puzzle data for training and evaluation: seeded, disjoint train/val/test splits of generated puzzles, cached.

    >>> from zoo.data import TaskDataModule
    >>> data = TaskDataModule({"name": "sudoku", "size": 6, "givens": 10}, train_count=100)

Modules, each importing only those listed before it:

- `splits`: which split a puzzle belongs to (by its augmentation invariant), and generating the splits;
- `cache`: the checksummed on-disk cache of generated splits;
- `loading`: the puzzle dataset, the samplers and the resumable training loader;
- `settings`: checks of data settings, shared with the CLI;
- `module`: `TaskDataModule`, the LightningDataModule built from the above.
"""

from zoo.data.cache import cache_path_for, default_cache_dir, read_cache, write_cache
from zoo.data.loading import PuzzleDataset, ResumableLoader, ResumableSampler, ShardSampler
from zoo.data.module import TaskDataModule
from zoo.data.settings import check_settings, check_training_batch, task_for_generation
from zoo.data.splits import SPLITS, generate_splits, split_of

__all__ = [
    "SPLITS",
    "PuzzleDataset",
    "ResumableLoader",
    "ResumableSampler",
    "ShardSampler",
    "TaskDataModule",
    "cache_path_for",
    "check_settings",
    "check_training_batch",
    "default_cache_dir",
    "generate_splits",
    "read_cache",
    "split_of",
    "task_for_generation",
    "write_cache",
]
