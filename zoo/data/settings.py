"""Checks of data settings, made when a TaskDataModule is built and by the CLI before a run starts.

Each refusal is a `ZooError` keyed by the setting at fault, so the CLI can point at the recipe line.
"""

from __future__ import annotations

from typing import Any

from zoo import tasks
from zoo.errors import ZooError
from zoo.tasks import Task


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
