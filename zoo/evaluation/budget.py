"""Inference compute as one explicit object, so every family is measured on the same axes.

Every budget, whatever gave it (a flag, a recipe, a config.json, `model.solve`), is held under one ceiling:
far above any real use, low enough that a mistyped number is refused rather than thought about for hours.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral

from zoo.errors import ZooError

# The largest real budgets of the revising families are 64 steps and 20 samples; a trace decoder's steps are
# tokens, and an A* trace of a 30x30 maze runs to about 4,400 of them.
MAX_STEPS = 16384
MAX_SAMPLES = 1024
# 'STEPS' or 'STEPSxSAMPLES' in ASCII digits only: Python's int() also reads other scripts' digits.
_BUDGET_TEXT = re.compile(r"([0-9]+)(?:x([0-9]+))?")
_MAX_DIGITS = len(str(max(MAX_STEPS, MAX_SAMPLES)))
_FORMS = "write steps, or steps x samples, e.g. '1,2,4,8' or '8x1,8x4'"


def _beyond_ceiling(shown: str) -> ZooError:
    return ZooError(
        f"budget {shown} is beyond the ceiling of {MAX_STEPS} steps and {MAX_SAMPLES} samples per puzzle: "
        "lower the budget",
        key="budgets",
    )


@dataclass(frozen=True, order=True)
class Budget:
    """How much a family may think about one puzzle.

    Attributes:
        steps: revision steps (supervision steps of a recursive reasoner, descent steps of an EBT, tokens written
            by a trace decoder), 1..MAX_STEPS.
        samples: independent attempts (initialisations or latent samples) to choose among, 1..MAX_SAMPLES.
    """

    steps: int = 1
    samples: int = 1

    def __post_init__(self) -> None:
        if not all(isinstance(n, Integral) and not isinstance(n, bool) for n in (self.steps, self.samples)):
            raise ZooError(
                f"a budget takes whole numbers of steps and samples, got steps={self.steps!r}, "
                f"samples={self.samples!r}",
                key="budgets",
            )
        if self.steps < 1 or self.samples < 1:
            raise ZooError(f"a budget needs steps >= 1 and samples >= 1, got {self.label}", key="budgets")
        if self.steps > MAX_STEPS or self.samples > MAX_SAMPLES:
            raise _beyond_ceiling(self.label)

    @classmethod
    def of(cls, value: Budget | int) -> Budget:
        """Accept a bare step count where a Budget is expected."""
        return value if isinstance(value, Budget) else cls(steps=value)

    @property
    def label(self) -> str:
        """Short text form: '8' for steps only, '8x4' for 8 steps and 4 samples."""
        return str(self.steps) if self.samples == 1 else f"{self.steps}x{self.samples}"


def parse_budgets(text: str) -> list[Budget]:
    """Parse '1,2,4' (steps) or '8x1,8x4' (steps x samples), ASCII digits only, into budgets in the given order."""
    budgets = []
    for part in text.split(","):
        part = part.strip()
        match = _BUDGET_TEXT.fullmatch(part)
        if match is None:
            what = "an empty budget" if not part else f"bad budget {part!r}"
            raise ZooError(f"{what} in {text!r}: {_FORMS}", key="budgets")
        numbers = [digits.lstrip("0") or "0" for digits in (match[1], match[2] or "1")]
        if any(len(digits) > _MAX_DIGITS for digits in numbers):  # beyond the ceiling, and never int() a huge text
            raise _beyond_ceiling(part)
        budgets.append(Budget(*(int(digits) for digits in numbers)))
    return budgets


def budgets_setting(values: object, key: str = "eval_budgets") -> list[Budget]:
    """The budgets a setting lists, as recipes and config.json write them: [1, 2, '8x4']; one line naming `key`
    and the value at fault otherwise."""
    if isinstance(values, str) or not isinstance(values, Sequence) or not values:
        raise ZooError(f"{key} must be a non-empty list of budgets, e.g. [1, 2, 4, '8x4'], got {values!r}", key=key)
    budgets = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ZooError(
                f"{key} holds {value!r}, which is not a budget: list whole numbers of steps or 'STEPSxSAMPLES' "
                "text, e.g. [1, 2, 4, '8x4']",
                key=key,
            )
        try:
            budgets.extend(parse_budgets(value) if isinstance(value, str) else [Budget(value)])
        except ZooError as error:
            raise ZooError(f"{key}: {error}", key=key) from None
    return budgets
