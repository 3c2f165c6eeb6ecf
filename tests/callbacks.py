"""Callbacks that tests add to `zoo fit` runs in subprocesses (`--trainer.callbacks+=tests.callbacks.X`)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import lightning as L
import torch


class KillAtStep(L.Callback):
    """SIGKILL this process once `step` optimiser steps are done, as a crash or a pre-empted node would."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer: L.Trainer, *args: object) -> None:
        if trainer.global_step >= self.step:
            os.kill(os.getpid(), signal.SIGKILL)


class SaveWeightsPerRank(L.Callback):
    """At the end of training each process writes its weights to `folder/rank<global rank>.pt`."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        torch.save(pl_module.state_dict(), self.folder / f"rank{trainer.global_rank}.pt")
