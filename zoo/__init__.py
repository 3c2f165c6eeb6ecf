"""belief-zoo: reasoning models that hold and revise beliefs, as Lightning modules.

import zoo
model = zoo.load("org/name")            # or a folder made by `zoo export`, or a .ckpt of `zoo fit`
answers = model.solve(puzzles, budget=16)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zoo.models import ReasoningFamily

__all__ = ["load"]


def load(source: str | Path, revision: str | None = None, **options: Any) -> ReasoningFamily:
    """A model in eval mode, loaded strictly, from a folder made by `zoo export`, a Hub repo id ("org/name",
    at `revision`), or a .ckpt written by `zoo fit`. Options: see `zoo.hub.load`."""
    from zoo.hub import (
        load as load_model,  # imported on use: `import zoo.tasks` stays free of Lightning
    )

    return load_model(source, revision, **options)
