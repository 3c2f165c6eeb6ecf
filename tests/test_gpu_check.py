"""The GPU check's short runs (tools/gpu_check.py) are built on the CPU: every GPU-scale recipe is in it, and
every command it would run parses."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO
from tools import gpu_check
from zoo.cli import main


def test_every_gpu_scale_recipe_is_checked() -> None:
    gpu_recipes = {str(path.relative_to(REPO)) for path in (REPO / "recipes").rglob("*-gpu.yaml")}
    assert gpu_recipes <= set(gpu_check.RECIPES)


@pytest.mark.parametrize("recipe", sorted(gpu_check.RECIPES))
def test_each_short_run_parses(recipe: str, tmp_path: Path) -> None:
    words = [*gpu_check.short_run(recipe, tmp_path, 10, 30, 64), *gpu_check.EXTRA.get(recipe, []), "--print_config"]
    with pytest.raises(SystemExit) as exit_info:
        main(words)
    assert exit_info.value.code in (0, None)
