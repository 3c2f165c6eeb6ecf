"""Training plumbing every family shares: optimiser, schedule and EMA settings, and resumable training state.

`TrainingSettings` is declared once. A family's constructor passes `**training` through to
`ReasoningFamily`, so recipes set `lr: 1e-3` beside the family's own settings; what a recipe leaves out is
the family's `training_defaults`, and the checkpoint records the values used.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import lightning as L
import torch
from lightning.pytorch.strategies import FSDPStrategy
from lightning.pytorch.utilities import rank_zero_warn
from torch import nn

from zoo import rng
from zoo.compat import require_resumable
from zoo.errors import ZooError


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    """Optimiser, schedule and EMA settings.

    Attributes:
        lr, weight_decay, betas: AdamW settings; weight decay applies to matrices only.
        warmup_steps: linear learning-rate warm-up.
        lr_min_ratio: cosine decay to this fraction of lr over the run (1.0 keeps lr constant).
        ema_decay: decay of the evaluation weights' moving average (0 disables EMA).
    """

    lr: float = 1e-4
    weight_decay: float = 0.1
    betas: tuple[float, float] = (0.9, 0.95)
    warmup_steps: int = 100
    lr_min_ratio: float = 1.0
    ema_decay: float = 0.999

    def resolved(self, **given: Any) -> TrainingSettings:
        """These defaults with the settings a recipe gave (None: not given)."""
        return dataclasses.replace(self, **{key: value for key, value in given.items() if value is not None})


class TrainingMixin(L.LightningModule):
    """AdamW with warm-up and cosine decay, EMA evaluation weights updated with each optimiser step, and the
    state a resumed run needs beyond the weights: random generators and the regime's state, per process."""

    model: nn.Module
    ema_model: nn.Module | None
    regime: Any  # the Regime it trains with
    regime_state: Any
    _resume_states: list[dict[str, Any]] | None

    # ---- EMA -------------------------------------------------------------------------------------------

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

    # ---- optimiser and schedule ------------------------------------------------------------------------

    def parameter_groups(self) -> list[dict[str, Any]]:
        """AdamW groups: weight decay on matrices only. Families add groups (e.g. a learning-rate multiplier)."""
        trained = [p for p in self.model.parameters() if p.requires_grad]
        return [
            {"params": [p for p in trained if p.ndim >= 2], "weight_decay": self.hparams.weight_decay},
            {"params": [p for p in trained if p.ndim < 2], "weight_decay": 0.0},
        ]

    def optimizer_groups(self) -> list[dict[str, Any]]:
        """The AdamW parameter groups: the family's (`parameter_groups`), as its regime regroups them."""
        return self.regime.parameter_groups(self, self.parameter_groups(), self.hparams.lr)

    def configure_optimizers(self) -> Any:
        optimizer = torch.optim.AdamW(self.optimizer_groups(), lr=self.hparams.lr, betas=tuple(self.hparams.betas))
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

    # ---- resumable state ---------------------------------------------------------------------------

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["zoo"] = {"family": type(self).__name__, "task": self.task.spec()}
        state = _to_cpu(self.regime.saved_state(self.regime_state))
        checkpoint["zoo_resume"] = _gather_from_ranks({"rng": rng.capture(), "state": state})

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        require_resumable(checkpoint, self, "the checkpoint")
        self._resume_states = checkpoint.get("zoo_resume")

    def on_train_start(self) -> None:
        """Restore a resumed run's generators and regime state, now that data loading has begun.

        Not at load time: starting the data loader would otherwise move the generators past their saved state.
        """
        saved, self._resume_states = self._resume_states, None
        if saved is None:
            return
        if len(saved) != self.trainer.world_size:
            rank_zero_warn(
                f"the checkpoint was written by {len(saved)} processes and this run has {self.trainer.world_size}: "
                "weights, optimiser, schedule and data position are restored; random generators and per-process "
                f"training state ({self.regime.state_name or 'none'}) start afresh"
            )
            return
        mine = saved[self.global_rank]
        rng.restore(mine["rng"])
        self.regime_state = self.regime.restored_state(_to_device(mine["state"], self.device))


def _to_cpu(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _to_cpu(item) for key, item in value.items()}
    return value.detach().cpu() if isinstance(value, torch.Tensor) else value


def _to_device(value: Any, device: torch.device) -> Any:
    if isinstance(value, dict):
        return {key: _to_device(item, device) for key, item in value.items()}
    return value.to(device) if isinstance(value, torch.Tensor) else value


def _gather_from_ranks(local: dict[str, Any]) -> list[dict[str, Any]]:
    """Every process's `local` (CPU values), indexed by global rank; just `[local]` without distribution."""
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return [local]
    gathered: list[Any] = [None] * torch.distributed.get_world_size()
    torch.distributed.all_gather_object(gathered, local)
    return gathered
