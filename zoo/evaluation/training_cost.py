"""Training compute on the zoo's compute axis: the FLOPs of one optimiser step (forward and backward of the
regime's training loss, counted like inference FLOPs: `zoo.evaluation.flops`) times the optimiser steps taken.

A `TrainingRecord` says how a model was trained: `zoo fit` makes one from its trainer for results.json
(`run_record`); a loaded model keeps its file's as `training_record` (None for a model built in memory), from
the checkpoint when it is a .ckpt
(`checkpoint_record`: global_step, the datamodule's batch size, one resume record per process), loading a model
folder from config.json's "training" entry (`TrainingRecord.from_entry`). `TrainingRecord.entry` (for a model:
`training_entry`) turns a record into the "training" entry of results.json and config.json, counting the FLOPs
of a step the first time it is asked:

    {"steps": optimiser steps, "batch_size": examples per step (every process together),
     "flops_per_step": FLOPs of one optimiser step, "flops": steps x flops_per_step}
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict

import torch
from torch import Tensor
from torch.utils.data import default_collate

from zoo import tasks
from zoo.data import TaskDataModule
from zoo.evaluation.flops import count_flops

if TYPE_CHECKING:
    import lightning as L

    from zoo.models.base import ReasoningFamily

# Training steps whose FLOPs are averaged where a regime's steps differ in cost (EBT draws its descent steps per
# batch); elsewhere every step costs the same, and two (the first from a fresh state, one carried) are counted.
COUNTED_STEPS = 8
COUNTED_STEPS_WHEN_CONSTANT = 2
# Seeded puzzles a counted batch is made of, repeated to fill it: a step's FLOPs do not depend on which puzzles.
DISTINCT_PUZZLES = 64
# Data settings that size or place a run's data rather than shape its batches: the count sets its own.
_SIZING = ("train_count", "val_count", "test_count", "augment_copies", "batch_size", "eval_batch_size", "seed")
_PLACING = ("cache_dir", "num_workers")


class TrainingEntry(TypedDict):
    """The "training" entry of results.json and config.json (see the module docstring)."""

    steps: int
    batch_size: int
    flops_per_step: float
    flops: float


@dataclasses.dataclass
class TrainingRecord:
    """How a model was trained, as far as its file says.

    Attributes:
        steps: optimiser steps taken.
        batch_size: examples in one batch of one process.
        batches_per_step: batches one optimiser step runs (processes x gradient accumulation).
        data: the run's data settings (its datamodule's hyper-parameters): the counted batches carry what they
            add (e.g. every solution of a puzzle).
        flops_per_step: FLOPs of one optimiser step; None until counted (`entry`).
    """

    steps: int
    batch_size: int
    batches_per_step: int = 1
    data: dict[str, Any] = dataclasses.field(default_factory=dict)
    flops_per_step: float | None = None

    @classmethod
    def from_entry(cls, entry: TrainingEntry) -> TrainingRecord:
        """The record a "training" entry (results.json, config.json) describes, its FLOPs already counted."""
        return cls(steps=entry["steps"], batch_size=entry["batch_size"], flops_per_step=entry["flops_per_step"])

    def entry(self, model: ReasoningFamily) -> TrainingEntry:
        """This record as a "training" entry, the FLOPs of a step counted on `model` the first time (on a batch of
        `batch_size`, times the batches a step runs) and kept."""
        if self.flops_per_step is None:
            per_batch = training_flops_per_step(model, model.task, self.batch_size, data=self.data)
            self.flops_per_step = per_batch * self.batches_per_step
        return {
            "steps": self.steps,
            "batch_size": self.batch_size * self.batches_per_step,
            "flops_per_step": self.flops_per_step,
            "flops": self.steps * self.flops_per_step,
        }


def training_batch(
    task: tasks.Task, batch_size: int, seed: int = 0, data: Mapping[str, Any] | None = None
) -> dict[str, Tensor]:
    """A training batch of `batch_size` examples of `task` as `zoo fit` serves it ({"inputs", "targets"}: [B, L],
    and what the run's other data settings `data` add, e.g. "solutions" [B, K, L]): up to DISTINCT_PUZZLES
    puzzles generated from `seed`, repeated to fill the batch."""
    accepted = inspect.signature(TaskDataModule).parameters
    kept = {key: value for key, value in (data or {}).items() if key in accepted and key not in _SIZING + _PLACING}
    count = min(batch_size, DISTINCT_PUZZLES)
    sizes = {"train_count": count, "val_count": 0, "test_count": 0, "seed": seed}
    module = TaskDataModule(**{**kept, **sizes, "task": task.spec()})
    examples = module.dataset("train")
    return default_collate([examples[index % len(examples)] for index in range(batch_size)])


def training_flops_per_step(
    model: ReasoningFamily,
    task: tasks.Task | dict[str, Any],
    batch_size: int,
    steps: int | None = None,
    seed: int = 0,
    data: Mapping[str, Any] | None = None,
) -> float:
    """FLOPs of one training step of `model` on a batch of `batch_size` examples of `task` (`training_batch`,
    with the run's data settings `data`): the regime's training loss and its backward, counted by
    `torch.utils.flop_counter` as inference FLOPs are (`ReasoningFamily.budget_cost`).

    The mean over `steps` steps on that batch (by default COUNTED_STEPS where the regime's step cost varies,
    COUNTED_STEPS_WHEN_CONSTANT where it does not): the regime's state starts afresh and carries from step to
    step as in training (a recursive regime's carry, a replay buffer), and a regime that draws, as EBT draws its
    number of descent steps per batch, costs differently each step. The steps run on a copy of the model, in
    training mode, drawing from torch's generators seeded with `seed` inside a fork: the model's weights, grads
    and regime state and torch's random state stay as they were. Runs with gradients on, even where the caller
    turned them off (a test loop's inference mode).
    """
    task = tasks.get(**task) if isinstance(task, dict) else task
    if steps is None:
        steps = COUNTED_STEPS if model.regime.step_cost_varies else COUNTED_STEPS_WHEN_CONSTANT
    devices = [model.device] if model.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), torch.inference_mode(False), torch.enable_grad():
        torch.manual_seed(seed)
        trainee = copy.deepcopy(model).train()
        batch = {key: value.to(trainee.device) for key, value in training_batch(task, batch_size, seed, data).items()}
        state: Any = None

        def step() -> None:
            nonlocal state
            loss, _, state = trainee.regime.training_loss(trainee, batch, state)
            loss.backward()

        total = 0
        for _ in range(steps):
            trainee.zero_grad(set_to_none=True)
            total += count_flops(step)
    return total / steps


def training_entry(model: ReasoningFamily) -> TrainingEntry | None:
    """The "training" entry of `model`'s `training_record` (`TrainingRecord.entry`); None without one."""
    return None if model.training_record is None else model.training_record.entry(model)


def run_record(trainer: L.Trainer) -> TrainingRecord | None:
    """What a `zoo fit` run's trainer says of the training it did: its optimiser steps, of batches of its
    datamodule's batch size on each process, times gradient accumulation; None without a datamodule."""
    data = getattr(trainer.datamodule, "hparams", None)
    if data is None or "batch_size" not in data:
        return None
    return TrainingRecord(
        steps=trainer.global_step,
        batch_size=data["batch_size"],
        batches_per_step=trainer.world_size * trainer.accumulate_grad_batches,
        data=dict(data),
    )


def checkpoint_record(checkpoint: Mapping[str, Any]) -> TrainingRecord | None:
    """What a .ckpt of `zoo fit` says of the training that led to it: `global_step` optimiser steps of its
    datamodule's batch size on each process that wrote it (one resume record each). None where it does not say
    (no datamodule hyper-parameters, or values that are no counts). Checkpoints do not record gradient
    accumulation: a step counts one batch per process."""
    data, steps = checkpoint.get("datamodule_hyper_parameters"), checkpoint.get("global_step")
    batch_size = data.get("batch_size") if isinstance(data, Mapping) else None
    if not (_count(steps) and _count(batch_size) and batch_size > 0):
        return None
    resume = checkpoint.get("zoo_resume")
    processes = len(resume) if isinstance(resume, list) and resume else 1
    return TrainingRecord(steps=steps, batch_size=batch_size, batches_per_step=processes, data=dict(data))


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
