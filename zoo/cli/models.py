"""`zoo models [NAME]`: the catalog of pretrained models, or one model's card."""

from __future__ import annotations

import json

from zoo.cli.report import ArgumentParser
from zoo.evaluation.flops import INFERENCE_FLOPS
from zoo.hub import catalog
from zoo.hub.card import describe_task
from zoo.hub.catalog import CatalogEntry
from zoo.hub.layout import CARD_NAME


def row(entry: CatalogEntry) -> list[str]:
    evaluation = entry.evaluation
    largest = entry.largest_budget()
    accuracy = " ".join(f"{budget}:{evaluation['exact_match'][budget]:.3f}" for budget in evaluation["budgets"])
    coverage = evaluation.get("coverage") or {}
    if largest in coverage:
        accuracy += f" (coverage@{largest} {coverage[largest]:.3f})"
    return [
        entry.name,
        entry.family,
        describe_task(entry.task),
        entry.regime,
        f"{entry.parameters:,}",
        accuracy,
        f"{evaluation['flops_per_puzzle'][largest]:.3g}",
        "bundled" if entry.bundled else f"Hub {entry.hub}",
    ]


def table(entries: list[CatalogEntry]) -> str:
    """The catalog as aligned text, one model a row, and a note naming the FLOPs column in full."""
    header = ["name", "family", "task", "regime", "params", "exact match per budget", "inference FLOPs", "from"]
    rows = [header, *(row(entry) for entry in entries)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines) + f"\n\ninference FLOPs = {INFERENCE_FLOPS}, at the largest budget"


def run(words: list[str]) -> None:
    parser = ArgumentParser(
        prog="zoo models",
        description="List the catalog of pretrained models (family, task, regime, parameters, exact match per "
        "budget on held-out puzzles, inference FLOPs per puzzle at the largest budget, bundled or on the Hub), or show "
        "one model's card. A catalog name works wherever a model is asked for: zoo eval NAME, zoo bench NAME, "
        "zoo solve NAME, --init_from NAME, zoo.load(NAME).",
    )
    parser.add_argument("name", nargs="?", help="a catalog name: show its card and where its files are")
    parser.add_argument("--json", action="store_true", help="print the catalog entries as JSON")
    args = parser.parse_args(words)
    if args.name is None:
        entries = list(catalog.entries().values())
        if args.json:
            print(json.dumps({entry.name: entry.__dict__ for entry in entries}, indent=2))
        else:
            print(table(entries) if entries else "the catalog is empty")
        return
    entry = catalog.get(args.name)
    if args.json:
        print(json.dumps(entry.__dict__, indent=2))
        return
    folder = catalog.bundled_folder(entry) if entry.bundled else None
    if folder is not None and (folder / CARD_NAME).is_file():
        print((folder / CARD_NAME).read_text())
    print(f"trained with: {entry.trained_with}")
    print(f"evaluated with: {entry.evaluation['command']}")
    print(f"files: {folder}" if folder else f"files: the Hub repository {entry.hub} (`zoo download {entry.hub}`)")
