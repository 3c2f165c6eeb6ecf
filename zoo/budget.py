"""Inference compute as one explicit object, so every family is measured on the same axes."""

from __future__ import annotations

from dataclasses import dataclass

from zoo.errors import ZooError


@dataclass(frozen=True, order=True)
class Budget:
    """How much a family may think about one puzzle.

    Attributes:
        steps: revision steps (supervision steps of a recursive reasoner, descent steps of an EBT).
        samples: independent attempts (initialisations or latent samples) to choose among.
    """

    steps: int = 1
    samples: int = 1

    def __post_init__(self) -> None:
        if self.steps < 1 or self.samples < 1:
            raise ZooError(f"a budget needs steps >= 1 and samples >= 1, got {self}", key="budgets")

    @classmethod
    def of(cls, value: Budget | int) -> Budget:
        """Accept a bare step count where a Budget is expected."""
        return value if isinstance(value, Budget) else cls(steps=int(value))

    @property
    def label(self) -> str:
        """Short text form: '8' for steps only, '8x4' for 8 steps and 4 samples."""
        return str(self.steps) if self.samples == 1 else f"{self.steps}x{self.samples}"


def parse_budgets(text: str) -> list[Budget]:
    """Parse '1,2,4' (steps) or '8x1,8x4' (steps x samples) into budgets, in the given order."""
    budgets = []
    for part in text.split(","):
        part = part.strip()
        steps, _, samples = part.partition("x")
        try:
            numbers = int(steps), int(samples or 1)
        except ValueError:
            raise ZooError(
                f"bad budget {part!r} in {text!r}: write steps, or steps x samples, e.g. '1,2,4,8' or '8x1,8x4'",
                key="budgets",
            ) from None
        budgets.append(Budget(*numbers))
    return budgets
