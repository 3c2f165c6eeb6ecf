"""Every figure in README.md and docs/ comes from a committed file: the generated tables match their files, and
no figure in prose lacks one (`python -m tools.figures --check`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO
from tools import figure_tables
from tools.figures import regenerated, stale_blocks, stray_figures


def test_every_generated_table_matches_its_file() -> None:
    assert stale_blocks(REPO) == [], "run `python -m tools.figures` and commit the pages"


def test_every_figure_in_prose_is_in_a_file_the_page_cites() -> None:
    assert stray_figures(REPO) == []


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A copy of the repository's pages, results and recipes to damage."""
    for part in ("README.md", "docs", "benchmarks/results", "recipes", "zoo/hub/catalog.json"):
        source, target = REPO / part, tmp_path / part
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    return tmp_path


def test_a_table_edited_by_hand_is_named(scratch: Path) -> None:
    readme = scratch / "README.md"
    text = readme.read_text()
    assert "<!-- figures: quickstart -->" in text
    start = text.index("<!-- figures: quickstart -->")
    edited = text[:start] + text[start:].replace("0.582", "0.625", 1)
    readme.write_text(edited)
    assert stale_blocks(scratch) == ["README.md: quickstart"]
    readme.write_text(regenerated(edited, scratch))
    assert stale_blocks(scratch) == []


def test_a_changed_file_makes_its_table_stale(scratch: Path) -> None:
    path = scratch / "benchmarks/results/quickstart-cpu.json"
    data = json.loads(path.read_text())
    data["results"]["exact_match"]["1"] = 0.5
    path.write_text(json.dumps(data))
    assert "README.md: quickstart" in stale_blocks(scratch)


def test_figures_in_prose_must_be_in_a_cited_file(scratch: Path) -> None:
    page = scratch / "docs" / "claims.md"
    cited = "`benchmarks/results/quickstart-cpu.json`"
    page.write_text(
        f"Per {cited}: 0.58 at one step (rounded), 0.941 at two; training took 325 s.\n"
        "The target is ≥ 0.97 in ≤ 300 s.\n"
        "```text\n0.123 inside code is not prose\n```\n"
    )
    assert stray_figures(scratch) == []
    page.write_text(f"Per {cited}: 0.947 at two steps, and 288 s of training.\n")
    assert stray_figures(scratch) == ["docs/claims.md:1: 0.947", "docs/claims.md:1: 288"]
    page.write_text("Uncited: 0.941 at two steps.\n")  # right number, but the page names no file that holds it
    assert stray_figures(scratch) == ["docs/claims.md:1: 0.941"]


def test_a_difference_inside_the_spread_is_no_measurable_difference() -> None:
    def stat(low: float, high: float) -> dict:
        return {"mean": (low + high) / 2, "min": low, "max": high, "runs": [low, high]}

    assert figure_tables.verdict(stat(0.8, 0.9), stat(0.85, 0.95)).startswith("no measurable difference")
    assert figure_tables.verdict(stat(0.8, 0.9), stat(0.1, 0.2)) == "A higher by 0.700"
    assert figure_tables.verdict(stat(0.1, 0.2), stat(0.8, 0.9)) == "B higher by 0.700"
    assert figure_tables.shown(stat(0.8, 0.9)) == "0.850 (0.800–0.900)"


def test_the_comparison_summarises_every_seed_and_draw() -> None:
    from benchmarks.compare import summarise

    def run(seed: int, draw: int, exact: float) -> dict:
        row = {"exact_match": exact, "coverage": exact / 2, "flops_per_puzzle": 10.0}
        model = {"model": "a", "family": "F", "regime": "R", "parameters": 3, "training_flops": 100.0 + seed}
        return {"seed": seed, "draw": draw, "models": [{**model, "budgets": {"8x5": row}}]}

    runs = [run(seed, draw, 0.1 * (1 + seed) + 0.01 * draw) for seed in (0, 1, 2) for draw in (0, 1)]
    arm = summarise(runs)["a"]
    slot = arm["budgets"]["8x5"]
    assert len(slot["exact_match"]["runs"]) == 6
    assert slot["exact_match"]["min"] == pytest.approx(0.1) and slot["exact_match"]["max"] == pytest.approx(0.31)
    coverages = [r["models"][0]["budgets"]["8x5"]["coverage"] for r in runs]
    assert slot["coverage"]["mean"] == pytest.approx(sum(coverages) / 6)
    assert arm["training_flops"] == pytest.approx(101.0)  # one value per seed, not per draw


def test_two_comparison_processes_keep_each_others_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One `benchmarks.compare` per core, each measuring other settings into the same file: the one that writes
    last must not drop what the other wrote after it started."""
    from benchmarks import compare

    out = tmp_path / "compare.json"
    out.write_text(json.dumps({"settings": {"old": {"kept": True}}}))

    def measured_while_another_writes(name: str, *args: object, **kwargs: object) -> dict:
        if name == "nqueens8":  # the other process finishes sudoku6 while this one measures
            compare.main(["--settings", "sudoku6", "--out", str(out)])
        return {"measured": name}

    monkeypatch.setattr(compare, "measure_setting", measured_while_another_writes)
    compare.main(["--settings", "nqueens8", "--out", str(out)])
    settings = json.loads(out.read_text())["settings"]
    assert settings == {"old": {"kept": True}, "sudoku6": {"measured": "sudoku6"}, "nqueens8": {"measured": "nqueens8"}}
