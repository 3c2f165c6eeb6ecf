"""The one compatibility rule: whether a saved model is of a family, can read a task, and fits a network.

Loading with an expected family or task (`zoo.load`), fine-tuning (`init_from`), evaluating on other
puzzles (`zoo eval --task.*`) and resuming (`--ckpt_path`) all ask these questions, here and nowhere else.
A model *reads* a task when the task's name, number of cells and vocabulary are its own: difficulty options
(givens, placed queens, uniqueness) may differ. Resuming asks for more: the very same task, since the data
position it restores belongs to that task's data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from zoo import registry, tasks
from zoo.errors import ZooError

if TYPE_CHECKING:
    from zoo.models.base import ReasoningFamily

# Settings that change how a family trains or evaluates, not the shape of its network.
TRAINING_SETTINGS = frozenset(
    {
        "task",
        "regime",
        "eval_budgets",
        "val_budgets",
        "lr",
        "weight_decay",
        "betas",
        "warmup_steps",
        "lr_min_ratio",
        "ema_decay",
        "selection",
        "accept_only_lower",
        "inference_noise",
        "noise",
        "noise_std",
    }
)


def reads(saved: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Whether a model trained on task spec `saved` reads puzzles of task spec `wanted`."""
    a, b = tasks.get(**saved), tasks.get(**wanted)
    return a.name == b.name and (a.num_cells, a.vocab_size) == (b.num_cells, b.vocab_size)


def require_family(saved: object, expected: type | str, source: str) -> None:
    """Refuse a model whose family (registered name or old class path `saved`) is not `expected`."""
    found = registry.FAMILIES.get(saved, source)
    wanted = expected if isinstance(expected, type) else registry.FAMILIES.get(expected)
    if found is not wanted:
        raise ZooError(
            f"{source} holds {_a(found.__name__)} model, but {_a(wanted.__name__)} is expected here: "
            "use a model (and a recipe) of the same family"
        )


def require_readable(saved: Mapping[str, Any], wanted: Mapping[str, Any], source: str) -> None:
    """Refuse a model trained on `saved` that cannot read puzzles of `wanted` (another task or board size)."""
    if not reads(saved, wanted):
        raise ZooError(
            f"{source} was trained on task {dict(saved)} and cannot read {tasks.get(**wanted).spec()} (another task "
            "or board size); only difficulty options such as givens may differ"
        )


def require_resumable(checkpoint: Mapping[str, Any], family: ReasoningFamily, source: str) -> None:
    """Refuse a checkpoint that holds another family, task or network size than `family` builds.

    Checked before any weight is loaded, so a mismatch never ends in a wall of tensor-size errors.
    """
    saved = checkpoint.get("zoo")
    if not isinstance(saved, Mapping) or "family" not in saved:
        raise ZooError(f"{source} was not written by belief-zoo (no 'zoo' record): train it with `zoo fit`")
    require_family(saved["family"], type(family), source)
    if saved["task"] != family.task.spec():
        raise ZooError(
            f"{source} was trained on task {saved['task']}, but the recipe sets task {family.task.spec()}: to resume, "
            "set data.task to match; to train on other puzzles, start from its weights with --init_from"
        )
    state = checkpoint.get("state_dict")
    if not isinstance(state, Mapping):
        raise ZooError(f"{source} has no weights ('state_dict'): use a checkpoint written by `zoo fit`")
    mismatched = [key for key, value in family.state_dict().items() if key in state and state[key].shape != value.shape]
    if mismatched:
        differ = differing_settings(checkpoint.get("hyper_parameters"), family, source) or f"first at {mismatched[0]}"
        raise ZooError(
            f"{source} holds a network of other sizes than the recipe builds ({differ}): set the recipe's model "
            "sizes to the checkpoint's, or start from scratch"
        )


def differing_settings(saved: Any, family: ReasoningFamily, source: str) -> str:
    """'width: 16 in SOURCE, 24 in the recipe; ...' for the network settings that differ (empty when none)."""
    if not isinstance(saved, Mapping):
        return ""
    ours = dict(family.hparams)
    keys = sorted((set(saved) | set(ours)) - TRAINING_SETTINGS)
    return "; ".join(
        f"{key}: {saved.get(key)!r} in {source}, {ours.get(key)!r} in the recipe"
        for key in keys
        if not str(key).startswith("_") and saved.get(key) != ours.get(key)
    )


def _a(name: str) -> str:
    return f"{'an' if name[:1] in 'AEIOU' else 'a'} {name}"
