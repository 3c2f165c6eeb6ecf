"""What every family shares: the thinking contract, evaluation per budget, and training through a regime.

A family supplies its network and two thinking primitives:

    explore(inputs, budget) -> Exploration    # one run: every sample's answer after every step, rated
    choose(inputs, candidates, scores) -> index # which sample to answer with, per puzzle [B] or per cell [B, L]

and the capabilities its regimes need (protocols of `zoo.contract`). Every setting that changes how it thinks is
a constructor argument of the family, saved with it: a model thinks the same whatever trained it. Only this base
class touches the regime, to hand it the training step. The base class holds every answer to
the puzzle's givens (`explore_keeping_givens`) and turns those into `think`, into answers at every budget read
from a run that covers it (`evaluate_budgets`), into validation and test, and into the training step, whose
loss the regime computes.
"""

from __future__ import annotations

import copy
import inspect
from abc import abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from zoo import registry, tasks
from zoo.contract import Exploration, Thought, pick
from zoo.errors import ZooError
from zoo.evaluation import sizing
from zoo.evaluation.budget import Budget, budgets_setting
from zoo.evaluation.flops import count_flops
from zoo.evaluation.metrics import CellAccuracy, ExactMatchPerBudget
from zoo.models.training import TrainingMixin, TrainingSettings
from zoo.nn import ReasoningNet
from zoo.regimes.base import Regime, check_pairing, instantiate_regime
from zoo.tasks.base import BLANK_TOKEN

if TYPE_CHECKING:
    from zoo.evaluation.training_cost import TrainingRecord

# How a family's saved settings are laid out (saved as the hyper-parameter `_settings_version`; files without it
# are version 1). 2: the settings that change thinking moved from the regime to the family (EBT's step_size,
# learn_step_size, clip, init_scale), and a GRAM samples whenever its `noise` says so, whatever trained it.
SETTINGS_VERSION = 2


class ReasoningFamily(TrainingMixin):
    """Base of all families. A subclass builds `self.model` (the trained network), implements `explore`
    (and `choose` when the highest score is not the rule), and declares its capabilities.

    Class attributes a family sets:
        capabilities: what it exposes to regimes (keys of `zoo.contract.CAPABILITIES`; it implements each one's
            protocol).
        default_regime_name: the registered name of the regime it trains with when a recipe names none.
        training_defaults: its optimiser, schedule and EMA defaults (`TrainingSettings`).
        selections: the ways it can choose among samples (`zoo eval --selection`), if it samples.
        draws_samples: whether its N samples differ (noise, initialisations) or are N copies of one answer.
        task_names: the tasks it reads (None: every task), e.g. a trace decoder reads mazes only.
        writes_traces: whether it answers by writing a search trace (`evaluate_traces` then judges what it wrote).

    Args:
        task: the task spec, e.g. `{"name": "sudoku", "size": 6}`; recipes link it from `data.task`.
        regime: how it is trained (default: `default_regime()`); checked against its capabilities.
        eval_budgets: budgets (step counts, or 'STEPSxSAMPLES') measured in test (and in validation unless
            `val_budgets` says otherwise).
        val_budgets: budgets measured by the validation runs inside `fit` (None: `eval_budgets`). Fewer or
            cheaper ones keep a long descent or many samples out of every validation pass.
        lr, weight_decay, betas, warmup_steps, lr_min_ratio, ema_decay: see `TrainingSettings`; None takes
            the family's default.
    """

    capabilities: ClassVar[frozenset[str]] = frozenset()
    default_regime_name: ClassVar[str] = ""
    # Settings added after models were saved, with the value those models were built with (applied on loading).
    legacy_defaults: ClassVar[dict[str, Any]] = {}
    # The smallest settings that still run every code path: what tests and the conformance suite build.
    tiny_settings: ClassVar[dict[str, Any]] = {}
    training_defaults: ClassVar[TrainingSettings] = TrainingSettings()
    selections: ClassVar[tuple[str, ...]] = ()
    draws_samples: bool = False
    task_names: ClassVar[tuple[str, ...] | None] = None
    writes_traces: ClassVar[bool] = False
    # Width-D float vectors per cell and sample alive at the peak of one thinking step, for `thinking_memory`.
    # Peak RSS growth per puzzle on 9x9 Sudoku, width 128, depth 2, CPU (`zoo eval`'s sizes): about 50 for the
    # recursive reasoner and 40 for GRAM; 64 leaves room. Energy descent keeps more (see EnergyTransformer).
    thinking_activations: ClassVar[int] = 64

    def __init__(
        self,
        task: dict[str, Any],
        regime: Regime | dict[str, Any] | None = None,
        eval_budgets: Sequence[int | str] = (1, 2, 4, 8, 16),
        val_budgets: Sequence[int | str] | None = None,
        lr: float | None = None,
        weight_decay: float | None = None,
        betas: tuple[float, float] | None = None,
        warmup_steps: int | None = None,
        lr_min_ratio: float | None = None,
        ema_decay: float | None = None,
    ) -> None:
        super().__init__()
        self.task = tasks.get(**task)
        if not self.reads(self.task):
            raise ZooError(
                f"{type(self).__name__} reads only {' and '.join(self.task_names)} puzzles, not {self.task.name}: "
                f"set data.task to a {self.task_names[0]} task, or train another family on {self.task.name}",
                key="task",
            )
        self.regime = instantiate_regime(regime) if regime is not None else self.default_regime()
        check_pairing(type(self), type(self.regime))
        self.training_settings = self.training_defaults.resolved(
            lr=lr,
            weight_decay=weight_decay,
            betas=betas,
            warmup_steps=warmup_steps,
            lr_min_ratio=lr_min_ratio,
            ema_decay=ema_decay,
        )
        self.eval_budgets = budgets_setting(eval_budgets, "eval_budgets")
        self.val_budgets = self.eval_budgets if val_budgets is None else budgets_setting(val_budgets, "val_budgets")
        self.val_exact = ExactMatchPerBudget(self.task, [b.label for b in self.val_budgets])
        self.test_exact = ExactMatchPerBudget(self.task, [b.label for b in self.eval_budgets])
        self.val_cells = CellAccuracy()
        self.test_cells = CellAccuracy()
        self.test_results: dict[str, Any] = {}
        self.model: nn.Module
        self.ema_model: nn.Module | None = None
        self.regime_state: Any = None  # what the regime keeps between batches (its `state_type`)
        self._resume_states: list[dict[str, Any]] | None = None
        # How it was trained, where the file it was loaded from says (set by the loaders of a .ckpt and of a model
        # folder; `zoo.evaluation.training_cost.training_entry` reads it); None for a model built in memory.
        self.training_record: TrainingRecord | None = None

    @classmethod
    def reads(cls, task: tasks.Task | dict[str, Any]) -> bool:
        """Whether this family reads puzzles of `task` (a task or its spec)."""
        name = task.name if isinstance(task, tasks.Task) else task.get("name")
        return cls.task_names is None or name in cls.task_names

    @classmethod
    def default_regime(cls) -> Regime:
        """The regime it trains with when a recipe names none (`default_regime_name`, with its defaults)."""
        if not cls.default_regime_name:
            raise NotImplementedError(f"{cls.__name__} names no default regime")
        return registry.REGIMES.get(cls.default_regime_name)()

    def _save_hparams(self) -> None:
        """Record the constructor arguments as plain JSON-able values: the regime as its spec, and every
        training setting as used (the family's defaults filled in)."""
        self.save_hyperparameters(ignore=["regime"], frame=inspect.currentframe().f_back)
        self.hparams["regime"] = self.regime.spec()
        self.hparams.update({key: value for key, value in vars(self.training_settings).items()})
        self.hparams["_settings_version"] = SETTINGS_VERSION

    @classmethod
    def upgrade_settings(cls, settings: dict[str, Any], version: int) -> dict[str, Any]:
        """Constructor arguments from `settings` saved at settings `version` (see SETTINGS_VERSION): settings
        added since take `legacy_defaults`, and what a version-1 regime held that is now the family's (the
        regime's `moved_to_family`) moves to the family."""
        settings = {**cls.legacy_defaults, **settings}
        regime = settings.get("regime")
        saved = cls.saved_regime(settings)
        if version < 2 and saved is not None and isinstance(regime.get("init_args"), dict):
            arguments = dict(regime["init_args"])
            for name in saved.moved_to_family:
                if name in arguments:
                    settings.setdefault(name, arguments.pop(name))
            settings["regime"] = {**regime, "init_args": arguments}
        return settings

    @staticmethod
    def saved_regime(settings: dict[str, Any]) -> type[Regime] | None:
        """The regime class saved `settings` name (None where they name none, or one this zoo does not know:
        loading reports that)."""
        regime = settings.get("regime")
        if not isinstance(regime, dict) or not isinstance(regime.get("class_path"), str):
            return None
        try:
            return registry.REGIMES.get(regime["class_path"]).upgrade(dict(regime.get("init_args") or {}))[0]
        except (ZooError, TypeError, AttributeError):
            return None

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
    def explore(self, inputs: Tensor, budget: Budget) -> Exploration:
        """Think about puzzles `inputs` ([B, L] token ids) for `budget.steps` steps with `budget.samples`
        samples (one, for a family that does not sample), keeping every step."""

    def choose(self, inputs: Tensor, candidates: Tensor, scores: Tensor) -> Tensor:
        """Which sample each puzzle answers with: candidates [N, B, L], scores [N, B] -> index [B] (the highest)."""
        return scores.argmax(0)

    def explore_keeping_givens(self, inputs: Tensor, budget: Budget) -> Exploration:
        """`explore`, with every candidate and its logits held to the givens of `inputs` [B, L]: whatever the
        family, an answer holds each given token and a symbol (never pad or blank) in every other cell."""
        return self.explore(inputs, budget).keeping_givens(inputs)

    def think(self, inputs: Tensor, budget: Budget | int) -> Thought:
        """Answer puzzles `inputs` ([B, L]) within `budget`; the Thought keeps the answer after every step."""
        budget = Budget.of(budget)
        run = self.explore_keeping_givens(inputs, budget)
        picks = [self.choose(inputs, run.candidates[s], run.scores[s]) for s in range(budget.steps)]
        trail = torch.stack([pick(run.candidates[s], index) for s, index in enumerate(picks)])
        # The halting head of the sample answered with at the end, after every step: [S, N, B] -> [S, B].
        halts = None if run.halt_logits is None else pick(run.halt_logits.permute(1, 2, 0), picks[-1]).T
        return Thought(
            answer=trail[-1],
            logits=pick(run.logits, picks[-1]),
            trail=trail,
            candidates=run.candidates,
            candidate_scores=run.scores,
            halt_logits=halts,
            energies=None if run.energies is None else run.energies.min(dim=1).values,
            candidate_energies=run.energies,
        )

    def evaluate_budgets(
        self, inputs: Tensor, budgets: Sequence[Budget]
    ) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """Every budget read from a run that covers it (`covering_runs`): the curve over steps, and a budget's
        answer and samples, come from one run.

        Returns (answers [B, L] per budget label, every sample's answer [N, B, L] per label with N > 1). A
        family that does not sample answers N copies of its one answer.
        """
        answers, samples = {}, {}
        for largest, covered in covering_runs(budgets, self.draws_samples):
            run = self.explore_keeping_givens(inputs, largest)
            for budget in covered:
                candidates = run.candidates[budget.steps - 1, : budget.samples]
                scores = run.scores[budget.steps - 1, : budget.samples]
                answers[budget.label] = pick(candidates, self.choose(inputs, candidates, scores))
                if budget.samples > 1:
                    samples[budget.label] = (
                        candidates if self.draws_samples else candidates[:1].expand(budget.samples, -1, -1)
                    )
        return answers, samples

    def answers_per_budget(self, inputs: Tensor, budgets: Sequence[Budget]) -> dict[str, Tensor]:
        """Answers [B, L] at each budget, from the runs that cover them (`covering_runs`)."""
        return self.evaluate_budgets(inputs, budgets)[0]

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

    def budget_cost(self, budget: Budget | int) -> dict[str, int]:
        """What thinking about one puzzle at `budget` costs: {"flops": floating-point operations (forward, and
        backward where thinking differentiates, counted by `torch.utils.flop_counter`), "calls": calls of the
        family's reasoning network}. Independent of the puzzle, so counted on a blank one."""
        budget = Budget.of(budget)
        budget = budget if self.draws_samples else Budget(budget.steps)  # its N samples are copies of one
        inputs = torch.full((1, self.task.num_cells), BLANK_TOKEN, dtype=torch.long, device=self.device)
        calls = [0]

        def count(*_: Any) -> None:
            calls[0] += 1

        hooks = [m.register_forward_hook(count) for m in self.inference_model.modules() if isinstance(m, ReasoningNet)]
        was_training = self.training
        try:
            self.eval()
            flops = count_flops(lambda: self.explore(inputs, budget))
        finally:
            for hook in hooks:
                hook.remove()
            self.train(was_training)
        return {"flops": flops, "calls": calls[0]}

    @torch.no_grad()
    def solve(self, boards: np.ndarray, budget: Budget | int = 16) -> np.ndarray:
        """Convenience for people: puzzles [B, n, n] (0 = blank) -> answers [B, n, n], all thought about at once;
        refused before thinking when the budget asks for samples it cannot draw or would not fit in memory."""
        budget = Budget.of(budget)
        sizing.check_thinking(
            self, [budget], len(boards), len(boards), budget_key="budget", batch_option="the number of boards per call"
        )
        inputs = self.task.encode(boards).to(self.device)
        return self.task.decode(self.think(inputs, budget).answer.cpu())

    # ---- training: the regime computes the loss ----------------------------------------------------

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        loss, stats, self.regime_state = self.regime.training_loss(self, batch, self.regime_state)
        self.log("train/loss", loss, prog_bar=True)
        for name, value in stats.items():
            self.log(f"train/{name}", value)
        return loss

    # ---- evaluation --------------------------------------------------------------------------------

    def _evaluate(
        self, batch: dict[str, Tensor], budgets: list[Budget], exact: ExactMatchPerBudget, cells: CellAccuracy
    ) -> None:
        answers = self.answers_per_budget(batch["inputs"], budgets)
        exact.update(batch["inputs"], answers)
        cells.update(batch["inputs"], answers[budgets[-1].label], batch["targets"])

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        # Sampling families draw noise when they think. Validation draws from its own seeded stream, so it gives
        # the same numbers every time and leaves training's draws (hence a resumed run) as they would have been.
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            torch.manual_seed(batch_idx)
            self._evaluate(batch, self.val_budgets, self.val_exact, self.val_cells)

    def test_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        self._evaluate(batch, self.eval_budgets, self.test_exact, self.test_cells)

    def predict_step(self, batch: dict[str, Tensor], batch_idx: int) -> dict[str, Tensor]:
        """{"inputs": the puzzles [B, L], "answers": answers [B, L] at the largest evaluation budget}."""
        return {"inputs": batch["inputs"], "answers": self.think(batch["inputs"], max(self.eval_budgets)).answer}

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
            "flops_per_puzzle": {budget.label: self.budget_cost(budget)["flops"] for budget in self.eval_budgets},
        }
        self.test_exact.reset()
        self.test_cells.reset()


def covering_runs(budgets: Sequence[Budget], draws_samples: bool) -> list[tuple[Budget, list[Budget]]]:
    """The runs that answer `budgets`, each with the budgets read from it, in the order first asked for.

    One run at the most steps and samples asked for covers every budget, but a long single-sample descent
    beside a wide short one (64 and 16x16) would then think 64 steps with 16 samples: 1,024 step-samples where
    64 + 256 do. So each budget no other one covers gets its own run when that costs fewer step-samples than
    the one run, and every budget is read from the cheapest run that covers it. A family that does not sample
    runs one sample.
    """
    runs = [Budget(b.steps, b.samples if draws_samples else 1) for b in budgets]
    largest = Budget(max(b.steps for b in runs), max(b.samples for b in runs))
    frontier = [
        run
        for run in dict.fromkeys(runs)
        if not any(o != run and o.steps >= run.steps and o.samples >= run.samples for o in runs)
    ]
    if sum(r.steps * r.samples for r in frontier) >= largest.steps * largest.samples:
        frontier = [largest]
    covered: dict[Budget, list[Budget]] = {run: [] for run in frontier}
    for budget, needed in zip(budgets, runs):
        cover = min(
            (r for r in frontier if r.steps >= needed.steps and r.samples >= needed.samples),
            key=lambda r: r.steps * r.samples,
        )
        covered[cover].append(budget)
    return list(covered.items())
