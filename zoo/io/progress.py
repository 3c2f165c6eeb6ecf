"""Progress bars for long work (generating many puzzles, evaluating large budgets), on stderr.

Shown on a terminal, and without one when the work is large enough that silence would look like a hang;
`ZOO_PROGRESS=1` always shows them, `ZOO_PROGRESS=0` never.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from tqdm import tqdm


def bar(*, work: int, large: int, **options: Any) -> tqdm:
    """A tqdm bar over `options` (iterable, total, desc, unit), shown when `work` counts as long (>= `large`)."""
    setting = os.environ.get("ZOO_PROGRESS", "").strip()
    if setting in ("0", "1"):
        show = setting == "1"
    else:
        show = work >= large or (sys.stderr.isatty() and work >= large // 100)
    return tqdm(disable=not show, file=sys.stderr, mininterval=0.5, **options)
