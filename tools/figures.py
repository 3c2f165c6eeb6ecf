"""Regenerate every results table in README.md and docs/ from the files that hold the figures.

    python -m tools.figures             # rewrite every generated block (and the pairings table, docs/models.md)
    python -m tools.figures --check     # exit 1, naming each block that differs from its file

A generated block sits between `<!-- figures: NAME -->` and `<!-- end figures: NAME -->`; NAME picks a
renderer of `tools.figure_tables` (or `tools.trace_tables` and `tools.forking_tables`, the trace and RL
studies'), which reads one JSON file under benchmarks/results/. The families x regimes table
(`tools.pairings`) and docs/models.md (`tools.catalog --docs-only`, from zoo/hub/catalog.json) are regenerated
by the same command.

`stray_figures` finds figures written in prose: every decimal number in README.md and docs/ outside code and
generated blocks must be the rounding of a number in one of the files (results, the catalog, the recipes), or
a figure quoted from the literature (`QUOTED`). tests/test_figures.py runs both checks in CI.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tools import figure_tables, forking_tables, trace_tables
from tools.figure_tables import RESULTS

RENDERERS = {**figure_tables.RENDERERS, **trace_tables.RENDERERS, **forking_tables.RENDERERS}

MODELS_PAGE = "docs/models.md"
BLOCK = re.compile(r"(<!-- figures: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- end figures: (?P=name) -->)", re.S)
# Figures from papers and public code (../shared/REFERENCES.md), which no file of ours measured.
QUOTED = {"99.7", "90.3", "66.8", "36.1"}
DECIMAL = re.compile(r"(?<![\w.\-/])(\d+\.\d+)(?:e([+-]?\d+))?(?![\w.]*\d)")


def pages(root: Path) -> list[Path]:
    """README.md and every Markdown page under docs/."""
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def render(name: str, root: Path) -> str:
    if name not in RENDERERS:
        raise SystemExit(f"unknown figures block {name!r}; the blocks are {', '.join(RENDERERS)}")
    file, renderer = RENDERERS[name]
    return renderer(json.loads((root / RESULTS / file).read_text())).rstrip() + "\n"


def regenerated(text: str, root: Path) -> str:
    """`text` with the body of every generated block rendered afresh."""
    return BLOCK.sub(lambda m: m.group(1) + render(m.group("name"), root) + m.group(4), text)


def models_page() -> str:
    """docs/models.md, which is generated whole from zoo/hub/catalog.json and the fine-tuning results."""
    from tools.catalog import models_page as page
    from zoo.hub import catalog

    return page(list(catalog.entries().values()))


def stale_blocks(root: Path) -> list[str]:
    """`page: block` for each generated block whose text differs from what its file renders."""
    stale = [] if (root / MODELS_PAGE).read_text() == models_page() else [f"{MODELS_PAGE}: the whole page"]
    for page in pages(root):
        text = page.read_text()
        for match in BLOCK.finditer(text):
            if match.group("body") != render(match.group("name"), root):
                stale.append(f"{page.relative_to(root)}: {match.group('name')}")
    return stale


def _numbers(value: Any) -> Iterator[float]:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield float(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item)
    elif isinstance(value, str):
        for match in DECIMAL.finditer(value):
            yield float(match.group(0))


CITED = re.compile(r"benchmarks/results/[\w.-]+\.json|zoo/hub/catalog\.json")


def known_figures(root: Path, sources: list[Path]) -> set[str]:
    """Every number `sources` (JSON files) and the recipes hold, written the ways prose may round it: 0 to 4
    decimals (also as a percentage), 2 or 3 significant digits in e-notation."""
    values: set[float] = set()
    for source in sources:
        values.update(_numbers(json.loads(source.read_text())))
    for recipe in sorted((root / "recipes").rglob("*.yaml")):
        values.update(float(m.group(0)) for m in re.finditer(r"(?<![\w.])\d+\.\d+(?:e[+-]?\d+)?", recipe.read_text()))
    shown: set[str] = set(QUOTED)
    for value in values:
        for scale in (1, 100):  # a share may be written as a percentage
            for decimals in range(0, 5):
                shown.add(f"{value * scale:.{decimals}f}")
        for digits in (1, 2):
            shown.add(f"{value:.{digits}e}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-"))
    return shown


def prose(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) of `text` outside fenced code and generated blocks, inline code removed."""
    inside_code = inside_block = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("```"):
            inside_code = not inside_code
            continue
        if line.startswith("<!-- figures: "):
            inside_block = True
        if line.startswith("<!-- end figures: "):
            inside_block = False
            continue
        if not (inside_code or inside_block):
            yield number, re.sub(r"`[^`]*`", "", line)


SECONDS = re.compile(r"(?<![\w.,])(\d[\d,]*)(?:–\d[\d,]*)? s\b")


def is_target(line: str, start: int) -> bool:
    """Whether the figure at `start` is a target (`≥ 0.97`, `≤ 300 s`): a goal set, not a measurement."""
    return any(sign in line[max(0, start - 2) : start] for sign in "≥≤")


def recipe_comments(recipe: Path) -> str:
    """The comment lines of a recipe, as prose."""
    return "\n".join(line.lstrip("# ") for line in recipe.read_text().splitlines() if line.startswith("#"))


def stray_figures(root: Path) -> list[str]:
    """`page:line: figure` for each figure in a page's prose (or a recipe's comments) that none of the files it
    cites holds: decimal numbers, and times in seconds. A page cites a file by writing its path
    (`benchmarks/results/NAME.json`)."""
    stray = []
    texts = {page: page.read_text() for page in pages(root) if page != root / MODELS_PAGE}  # models.md: generated
    texts.update({recipe: recipe_comments(recipe) for recipe in sorted((root / "recipes").rglob("*.yaml"))})
    for page, text in texts.items():
        cited = sorted({root / path for path in CITED.findall(text) if (root / path).is_file()})
        known = known_figures(root, cited)
        for number, line in prose(text):
            figures = [
                m.group(1) + (f"e{int(m.group(2))}" if m.group(2) else "")
                for m in DECIMAL.finditer(line)
                if not is_target(line, m.start())
            ]
            figures += [m.group(1).replace(",", "") for m in SECONDS.finditer(line) if not is_target(line, m.start())]
            stray += [f"{page.relative_to(root)}:{number}: {figure}" for figure in figures if figure not in known]
    return stray


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a block or figure is off")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    root = Path.cwd()
    if args.check:
        problems = [f"stale block {item}" for item in stale_blocks(root)]
        problems += [f"figure without a file {item}" for item in stray_figures(root)]
        print("\n".join(problems) or "every figure matches its file")
        sys.exit(1 if problems else 0)
    from tools import catalog, pairings

    for page in pages(root):
        text = page.read_text()
        fresh = regenerated(text, root)
        if fresh != text:
            page.write_text(fresh)
            print(f"written: {page.relative_to(root)}")
    pairings.main(["--write", "README.md"])
    catalog.main(["--docs-only"])


if __name__ == "__main__":
    main()
