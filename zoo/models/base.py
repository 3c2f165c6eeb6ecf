"""What every family shares: the `think` contract, per-budget evaluation, EMA weights, optimiser, checks."""

from __future__ import annotations

import copy
import inspect
import math
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, Sequence

import lightning as L
import numpy as np
import torch
from lightning.pytorch.strategies import FSDPStrategy
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor, nn

from zoo import rng, tasks
from zoo.budget import Budget, parse_budgets
from zoo.errors import ZooError
from zoo.metrics import CellAccuracy, ExactMatchPerBudget
from zoo.regimes import Regime


@dataclass
class Thought:
    """What a family returns from `think`.

    Attributes:
        answer: [B, L] token ids of the final answer.
        logits: [B, L, V] logits of the final answer.
        trail: [S, B, L] the answer after each of the S steps (trail[-1] == answer).
        halt_logits: [S, B] halting head after each step, for families that halt.
        energies: [S, B] energy of the answer after each step, for energy-based families.
        candidates: [S, N, B, L] each of N samples' answer after each step, for families that sample.
        candidate_energies: [S, N, B] their energies (lower is better), where the family has an energy.
        candidate_scores: [S, N, B] the family's own score of each (higher is better), e.g. a value head.
    """

    answer: Tensor
    logits: Tensor
    trail: Tensor
    halt_logits: Tensor | None = None
    energies: Tensor | None = None
    candidates: Tensor | None = None
    candidate_energies: Tensor | None = None
    candidate_scores: Tensor | None = None


class ReasoningFamily(L.LightningModule):
    """Base of all families. A subclass builds `self.model` (the trained network) and implements `think`.

    Training state that lives outside the weights (a carry of half-solved puzzles, a replay buffer) is named in
    `training_state_attributes`; checkpoints keep it, with the random generators' states, for every process.

    Args:
        task: the task spec, e.g. `{"name": "sudoku", "size": 6}`; recipes link it from `data.task`.
        eval_budgets: budgets (step counts, or 'STEPSxSAMPLES') measured in validation and test.
        lr, weight_decay, betas: AdamW settings; weight decay applies to matrices only.
        warmup_steps: linear learning-rate warm-up.
        lr_min_ratio: cosine decay to this fraction of lr over the run (1.0 keeps lr constant).
        ema_decay: decay of the evaluation weights' moving average (0 disables EMA).
    """

    def __init__(
        self,
        task: dict[str, Any],
        eval_budgets: Sequence[int | str] = (1, 2, 4, 8, 16),
        lr: float = 1e-4,
        weight_decay: float = 0.1,
        betas: tuple[float, float] = (0.9, 0.95),
        warmup_steps: int = 100,
        lr_min_ratio: float = 1.0,
        ema_decay: float = 0.999,
    ) -> None:
        super().__init__()
        self.task = tasks.get(**task)
        self.eval_budgets = parse_budgets(",".join(str(b) for b in eval_budgets))
        labels = [b.label for b in self.eval_budgets]
        self.val_exact = ExactMatchPerBudget(self.task, labels)
        self.test_exact = ExactMatchPerBudget(self.task, labels)
        self.val_cells = CellAccuracy()
        self.test_cells = CellAccuracy()
        self.test_results: dict[str, Any] = {}
        self.model: nn.Module
        self.ema_model: nn.Module | None = None
        self._resume_states: list[dict[str, Any]] | None = None

    def _save_hparams(self, regime: Regime) -> None:
        """Record constructor arguments as plain JSON-able values (the regime as its spec)."""
        self.save_hyperparameters(ignore=["regime"], frame=inspect.currentframe().f_back)
        self.hparams["regime"] = regime.spec()

    def _init_ema(self) -> None:
        """Call at the end of a subclass's __init__, once `self.model` exists."""
        if self.hparams.ema_decay > 0:
            self.ema_model = copy.deepcopy(self.model).requires_grad_(False)

    @property
    def inference_model(self) -> nn.Module:
        """EMA weights outside training when kept, else the trained weights."""
        if self.ema_model is not None and not self.training:
            return self.ema_model
        return self.model

    # ---- thinking ----------------------------------------------------------------------------------

    @abstractmethod
    def think(self, inputs: Tensor, budget: Budget | int) -> Thought:
        """Answer puzzles `inputs` ([B, L] token ids) within `budget`."""

    def answers_per_budget(self, inputs: Tensor, budgets: Sequence[Budget]) -> dict[str, Tensor]:
        """Answers [B, L] at each budget. Default: one think at the largest step count, read along its trail.

        A deterministic family's N samples would all be the same answer, so samples do not change it.
        """
        trail = self.think(inputs, max(b.steps for b in budgets)).trail
        return {b.label: trail[b.steps - 1] for b in budgets}

    def samples_per_budget(self, inputs: Tensor, budgets: Sequence[Budget]) -> dict[str, Tensor]:
        """Every sample's answer [N, B, L] at each budget with N > 1, for coverage. A deterministic family's
        samples are N copies of its one answer; sampling families override this."""
        sampled = [b for b in budgets if b.samples > 1]
        if not sampled:
            return {}
        answers = self.answers_per_budget(inputs, sampled)
        return {b.label: answers[b.label].expand(b.samples, *answers[b.label].shape) for b in sampled}

    def thinking_memory(self, batch: int, budget: Budget) -> int:
        """Rough bytes that thinking about `batch` puzzles at `budget` holds at its peak, to size evaluations.

        Every sample's answer and score after every step is kept (the trail), and one step works on all
        samples at once: activations of width D per cell, their gradients where thinking descends an energy.
        """
        steps, samples = budget.steps, budget.samples if self.draws_samples else 1
        cells, vocab = self.task.num_cells, self.task.vocab_size
        width = int(self.hparams.get("width", 128))
        trail = steps * samples * batch * cells * (8 + 4)
        working = samples * batch * cells * 4 * (width * self.thinking_activations + vocab * 4)
        return trail + working

    @torch.no_grad()
    def solve(self, boards: np.ndarray, budget: Budget | int = 16) -> np.ndarray:
        """Convenience for people: puzzles [B, n, n] (0 = blank) -> answers [B, n, n]."""
        inputs = self.task.encode(boards).to(self.device)
        return self.task.decode(self.think(inputs, budget).answer.cpu())

    # ---- evaluation --------------------------------------------------------------------------------

    def _evaluate(self, batch: dict[str, Tensor], exact: ExactMatchPerBudget, cells: CellAccuracy) -> None:
        answers = self.answers_per_budget(batch["inputs"], self.eval_budgets)
        exact.update(batch["inputs"], answers)
        cells.update(batch["inputs"], answers[self.eval_budgets[-1].label], batch["targets"])

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        # Sampling families draw noise when they think. Validation draws from its own seeded stream, so it gives
        # the same numbers every time and leaves training's draws (hence a resumed run) as they would have been.
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            torch.manual_seed(batch_idx)
            self._evaluate(batch, self.val_exact, self.val_cells)

    def test_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        self._evaluate(batch, self.test_exact, self.test_cells)

    def predict_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        """Answers [B, L] at the largest evaluation budget."""
        return self.think(batch["inputs"], max(self.eval_budgets)).answer

    def on_validation_epoch_end(self) -> None:
        # The metrics are already reduced over processes; sync_dist only averages identical numbers.
        for label, rate in self.val_exact.compute().items():
            self.log(f"val/exact@{label}", rate, sync_dist=True)
        self.log("val/cell_accuracy", self.val_cells.compute(), sync_dist=True)
        self.val_exact.reset()
        self.val_cells.reset()

    def on_test_epoch_end(self) -> None:
        exact = {label: float(rate) for label, rate in self.test_exact.compute().items()}
        for label, rate in exact.items():
            self.log(f"test/exact@{label}", rate, sync_dist=True)
        cell_accuracy = float(self.test_cells.compute())
        self.log("test/cell_accuracy", cell_accuracy, sync_dist=True)
        with self.test_exact.sync_context():  # the count over every process, not this one's share
            puzzles = int(self.test_exact.total)
        self.test_results = {
            "exact_match": exact,
            "cell_accuracy_at_largest_budget": cell_accuracy,
            "puzzles": puzzles,
        }
        self.test_exact.reset()
        self.test_cells.reset()

    # ---- training plumbing -------------------------------------------------------------------------

    def setup(self, stage: str) -> None:
        if self.ema_model is not None and isinstance(self.trainer.strategy, FSDPStrategy):
            # FSDP shards the live and the EMA weights at different offsets of one flat buffer, so the
            # per-parameter moving average would pair mismatched shards.
            raise ZooError(
                "the EMA weights of this family are not shard-aware, so FSDP cannot train it as configured: use "
                "`--trainer.strategy ddp` (these models fit one device), or set `--model.init_args.ema_decay 0`",
                key="trainer.strategy",
            )

    def optimizer_step(self, *args: Any, **kwargs: Any) -> None:
        super().optimizer_step(*args, **kwargs)
        # Here rather than in on_train_batch_end, which runs after callbacks: a checkpoint saved at the end of
        # a batch then holds the average that includes the batch's step.
        self._update_ema()

    @torch.no_grad()
    def _update_ema(self) -> None:
        if self.ema_model is None:
            return
        # Warm-up of the decay lets short runs evaluate on a well-formed average.
        step = self.global_step + 1  # optimiser steps taken, this one included (the counter moves after the hook)
        decay = min(self.hparams.ema_decay, (1 + step) / (10 + step))
        for ema, live in zip(self.ema_model.parameters(), self.model.parameters()):
            ema.lerp_(live.detach(), 1 - decay)
        for ema, live in zip(self.ema_model.buffers(), self.model.buffers()):
            ema.copy_(live)

    def parameter_groups(self) -> list[dict[str, Any]]:
        """AdamW groups: weight decay on matrices only. Families add groups (e.g. a learning-rate multiplier)."""
        trained = [p for p in self.model.parameters() if p.requires_grad]
        return [
            {"params": [p for p in trained if p.ndim >= 2], "weight_decay": self.hparams.weight_decay},
            {"params": [p for p in trained if p.ndim < 2], "weight_decay": 0.0},
        ]

    def configure_optimizers(self) -> Any:
        optimizer = torch.optim.AdamW(self.parameter_groups(), lr=self.hparams.lr, betas=tuple(self.hparams.betas))
        total = self.trainer.estimated_stepping_batches if self._trainer is not None else math.inf
        warmup, floor = self.hparams.warmup_steps, self.hparams.lr_min_ratio

        def schedule(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            if not math.isfinite(total) or floor >= 1.0:
                return 1.0
            progress = min(1.0, (step - warmup) / max(1, total - warmup))
            return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    # ---- checkpoints -------------------------------------------------------------------------------

    training_state_attributes: tuple[str, ...] = ()
    # Width-D float vectors per cell and sample alive at the peak of one thinking step, for `thinking_memory`.
    # Peak RSS growth per puzzle on 9x9 Sudoku, width 128, depth 2, CPU (`zoo eval`'s sizes): about 50 for the
    # recursive reasoner and 40 for GRAM; 64 leaves room. Energy descent keeps more (see EnergyTransformer).
    thinking_activations: int = 64
    # Whether thinking draws N samples (noise, initialisations); a family that does not answers N copies of one.
    draws_samples: bool = False

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["zoo"] = {"family": type(self).__name__, "task": self.task.spec()}
        state = {name: _to_cpu(getattr(self, name)) for name in self.training_state_attributes}
        checkpoint["zoo_resume"] = _gather_from_ranks({"rng": rng.capture(), "state": state})

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        check_compatible(checkpoint, self)
        self._resume_states = checkpoint.get("zoo_resume")

    def on_train_start(self) -> None:
        """Restore a resumed run's generators and training state, now that data loading has begun.

        Not at load time: starting the data loader would otherwise move the generators past their saved state.
        """
        saved, self._resume_states = self._resume_states, None
        if saved is None:
            return
        if len(saved) != self.trainer.world_size:
            rank_zero_warn(
                f"the checkpoint was written by {len(saved)} processes and this run has {self.trainer.world_size}: "
                "weights, optimiser, schedule and data position are restored; random generators and per-process "
                f"training state ({', '.join(self.training_state_attributes) or 'none'}) start afresh"
            )
            return
        mine = saved[self.global_rank]
        rng.restore(mine["rng"])
        for name, value in mine["state"].items():
            setattr(self, name, _to_device(value, self.device))


def _to_cpu(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _to_cpu(item) for key, item in value.items()}
    return value.detach().cpu() if isinstance(value, Tensor) else value


def _to_device(value: Any, device: torch.device) -> Any:
    if isinstance(value, dict):
        return {key: _to_device(item, device) for key, item in value.items()}
    return value.to(device) if isinstance(value, Tensor) else value


def _gather_from_ranks(local: dict[str, Any]) -> list[dict[str, Any]]:
    """Every process's `local` (CPU values), indexed by global rank; just `[local]` without distribution."""
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return [local]
    gathered: list[Any] = [None] * torch.distributed.get_world_size()
    torch.distributed.all_gather_object(gathered, local)
    return gathered


def check_compatible(checkpoint: dict[str, Any], family: ReasoningFamily, source: str = "the checkpoint") -> None:
    """Raise a clear error when a checkpoint holds another family, task or network size than `family` builds.

    Checked before any weight is loaded, so a mismatch never ends in a wall of tensor-size errors.
    """
    from zoo import registry  # the registry imports zoo.models on use

    saved = checkpoint.get("zoo")
    if not isinstance(saved, dict) or "family" not in saved:
        raise ZooError(f"{source} was not written by belief-zoo (no 'zoo' record): train it with `zoo fit`")
    if registry.family(saved["family"], source) is not type(family):
        raise ZooError(
            f"{source} holds a {registry.name_of(registry.family(saved['family']))} model, but the recipe builds "
            f"{type(family).__name__}: use a recipe of the same family, or train a new model"
        )
    if saved["task"] != family.task.spec():
        raise ZooError(
            f"{source} was trained on task {saved['task']}, but the recipe sets task {family.task.spec()}: "
            "set data.task to match, or start from scratch"
        )
    state = checkpoint.get("state_dict")
    if not isinstance(state, dict):
        raise ZooError(f"{source} has no weights ('state_dict'): use a checkpoint written by `zoo fit`")
    mismatches = [
        key for key, value in family.state_dict().items()
        if key in state and tuple(state[key].shape) != tuple(value.shape)
    ]
    if mismatches:
        differ = differing_settings(checkpoint.get("hyper_parameters"), family, source) or f"first at {mismatches[0]}"
        raise ZooError(
            f"{source} holds a network of other sizes than the recipe builds ({differ}): set the recipe's model "
            "sizes to the checkpoint's, or start from scratch"
        )


# Settings that change how a family trains or evaluates, not the shape of its network.
TRAINING_SETTINGS = frozenset(
    {"task", "regime", "eval_budgets", "lr", "weight_decay", "betas", "warmup_steps", "lr_min_ratio", "ema_decay",
     "selection", "accept_only_lower", "inference_noise"}
)


def differing_settings(saved: Any, family: ReasoningFamily, source: str = "the checkpoint") -> str:
    """'width: 16 in SOURCE, 24 in the recipe; ...' for the network settings that differ (empty when none)."""
    if not isinstance(saved, dict):
        return ""
    ours = dict(family.hparams)
    keys = sorted((set(saved) | set(ours)) - TRAINING_SETTINGS)
    return "; ".join(
        f"{key}: {saved.get(key)!r} in {source}, {ours.get(key)!r} in the recipe"
        for key in keys
        if not str(key).startswith("_") and saved.get(key) != ours.get(key)
    )
