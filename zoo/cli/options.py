"""One parser for the flags the thinking verbs share (`zoo solve`, `zoo eval`, `zoo bench`): seeds, budgets,
devices and counts, each refused in one line with the flag it came from.

Numbers are ASCII digits only: Python's int() would also read '١٦' (Arabic-Indic) or '１６' (full-width).
"""

from __future__ import annotations

import re

import torch

from zoo.errors import ZooError
from zoo.evaluation.budget import Budget, parse_budgets

# One past the largest signed 64-bit integer. Seeds reach torch.manual_seed (up to 2**64 - 1), numpy's
# SeedSequence (any size) and results.json; below 2**63 every one of them, and any tool reading results, holds it.
INT64_END = 2**63
# Most held-out puzzles one `zoo eval` or `zoo bench` generates: a million 9x9 Sudoku take hours to generate,
# and a mistyped count must be refused rather than generated for days.
MAX_COUNT = 1_000_000
_DIGITS = re.compile(r"[0-9]+")
_ANY_SCRIPT_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")  # \d: the digits of every script
_DEVICE = re.compile(r"cpu|cuda(?::[0-9]+)?")


def _key(flag: str) -> str:
    """'--batch-size' -> 'batch_size', the key the command line finds the flag by."""
    return flag.lstrip("-").replace("-", "_")


def whole_number(text: str, flag: str, low: int, high: int, rule: str) -> int:
    """`text` as a whole number in low..high written in ASCII digits; refused saying `rule` otherwise."""
    digits = text.strip()
    significant = digits.lstrip("0") or "0"
    value = int(significant) if _DIGITS.fullmatch(digits) and len(significant) <= len(str(high)) else None
    if value is None or not low <= value <= high:
        raise ZooError(f"{flag} must be {rule} (digits 0-9), got {text!r}", key=_key(flag))
    return value


def seed(text: str) -> int:
    """A `--seed`: 0 <= seed < 2**63."""
    return whole_number(text, "--seed", 0, INT64_END - 1, "a whole number from 0 to 2**63 - 1")


def positive(text: str, flag: str) -> int:
    """A count such as `--batch-size` or `--count`: at least 1 (and below 2**63)."""
    return whole_number(text, flag, 1, INT64_END - 1, "a whole number of at least 1")


def count(text: str) -> int:
    """A `--count` of held-out puzzles: 1..MAX_COUNT."""
    return whole_number(text, "--count", 1, MAX_COUNT, f"a whole number from 1 to {MAX_COUNT:,}")


def budgets(text: str, flag: str = "--budgets") -> list[Budget]:
    """'8', '8x4' or a comma list of them, under the budget ceiling; refused with `flag`'s key otherwise."""
    try:
        return parse_budgets(text)
    except ZooError as error:
        raise ZooError(str(error), key=_key(flag)) from None


def device(text: str | None) -> torch.device:
    """cpu, cuda or cuda:N (None: cuda when this machine has a GPU, else cpu); refused when it is another kind
    of device or this machine lacks it."""
    if text is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if _DEVICE.fullmatch(text.strip()) is None:
        raise ZooError(f"--device {text!r} is not a device the zoo thinks on: use cpu, or cuda / cuda:N", key="device")
    chosen = torch.device(text.strip())
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise ZooError(
            f"--device {text} asks for a CUDA device, and this machine has none: use --device cpu", key="device"
        )
    if chosen.type == "cuda" and chosen.index is not None and chosen.index >= torch.cuda.device_count():
        raise ZooError(f"--device {text}: this machine has {torch.cuda.device_count()} CUDA device(s)", key="device")
    return chosen


def ascii_numbers(words: list[str]) -> None:
    """Refuse a number written in another script's digits anywhere on a command line (`--data.batch_size ٦٤`):
    the parsers underneath (argparse, jsonargparse) would read it as a number through int()."""
    for index, word in enumerate(words):
        flag, has_value, value = word.partition("=") if word.startswith("--") else ("", False, word)
        if word.startswith("--") and not has_value:
            continue
        if _ANY_SCRIPT_NUMBER.fullmatch(value.strip()) and not value.isascii():
            given = flag or (words[index - 1] if index and words[index - 1].startswith("--") else "")
            raise ZooError(
                f"{given + ' ' if given else ''}{value!r} is written with digits other than 0-9: write numbers in "
                "ASCII digits"
            )
