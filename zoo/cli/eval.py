"""`zoo eval MODEL`: verified exact match at each inference budget on held-out puzzles, table + plot.

MODEL is a .ckpt written by `zoo fit`, a folder made by `zoo export`, or a Hub repo id (org/name).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from zoo import hub, known
from zoo.cli import options
from zoo.cli.report import ArgumentParser
from zoo.errors import ZooError
from zoo.evaluation import sizing
from zoo.evaluation.evaluate import evaluate, evaluation_task, parse_task_overrides
from zoo.evaluation.results import PLOT_FILE, RESULTS_FILE, claimed_results, describe_machine, write_results
from zoo.hub import catalog
from zoo.io import outputs


def default_out(model: str) -> Path:
    """Where results go by default: beside a .ckpt, in MODEL/eval for a folder, in ./eval/NAME for a catalog name
    (`catalog:NAME` too) and ./eval/ORG--NAME for a repo id (never inside the Hugging Face cache or the package)."""
    path = Path(os.path.expanduser(model))
    if path.is_file():
        return path.parent
    if path.is_dir():
        return path / "eval"
    return Path("eval") / model.removeprefix(catalog.CATALOG_PREFIX).replace("/", "--")


def selection_choices() -> list[str]:
    """Every way a registered family can choose among samples."""
    return sorted({name for family in known.families() for name in family.selections})


def run(words: list[str]) -> None:
    parser = ArgumentParser(
        prog="zoo eval",
        description="Exact match at each inference budget on held-out puzzles; writes results.json and a plot.",
        epilog="Task difficulty can be changed with --task.NAME VALUE, e.g. --task.givens 9.",
    )
    parser.add_argument(
        "model", help="a .ckpt written by `zoo fit`, a folder made by `zoo export`, or a Hub repo id (org/name)"
    )
    parser.add_argument("--revision", default=None, help="branch, tag or commit when MODEL is a Hub repo id")
    parser.add_argument(
        "--budgets",
        default=None,
        help="comma list: steps ('1,2,4') or steps x samples ('8x1,8x4'); default: the model's eval_budgets",
    )
    parser.add_argument("--count", default="500", help="held-out puzzles to evaluate (default 500)")
    parser.add_argument(
        "--split",
        choices=("test", "validation"),
        default="test",
        help="held-out puzzles to read: test (the figures you report) or validation (to choose settings on, "
        "so that no choice sees the test puzzles); default test",
    )
    parser.add_argument(
        "--seed", default="0", help="seed of the held-out puzzles and of sampling, 0 to 2**63 - 1 (default 0)"
    )
    parser.add_argument("--batch-size", default="256", help="puzzles thought about at once (default 256)")
    parser.add_argument(
        "--out",
        default=None,
        help="directory for results.json and the plot (default: beside a .ckpt, "
        "MODEL/eval for a folder, ./eval/ORG--NAME for a repo id)",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace results of another model (or a model's own) in the --out folder"
    )
    parser.add_argument(
        "--selection",
        choices=selection_choices(),
        default=None,
        help="how a sampling family picks one answer among samples: "
        + "; ".join(f"{f.__name__}: {', '.join(f.selections)}" for f in known.families() if f.selections)
        + " (oracle = the task's verifier)",
    )
    parser.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda when present)")
    args, extra = parser.parse_known_args(words)
    out = outputs.check_folder(
        args.out or default_out(args.model),
        force=args.force,
        names=(RESULTS_FILE, PLOT_FILE),
        claimed=claimed_results(args.model, args.revision),
    )
    count, seed = options.count(args.count), options.seed(args.seed)
    batch_size, device = options.positive(args.batch_size, "--batch-size"), options.device(args.device)
    given = options.budgets(args.budgets) if args.budgets is not None else None
    overrides = parse_task_overrides(extra)
    model = hub.load(args.model, args.revision).to(device)
    budgets = given or sizing.default_budgets(model)
    task = evaluation_task(model, overrides)
    if args.selection is not None:
        if args.selection not in model.selections:
            choices = ", ".join(model.selections) or "none: it does not sample"
            raise ZooError(
                f"{type(model).__name__} cannot select by {args.selection!r} (it selects by {choices})", key="selection"
            )
        model.hparams.selection = args.selection
    sizing.check_thinking(model, budgets, batch_size, count)
    started = time.monotonic()
    try:
        measured = evaluate(model, task, budgets, count, seed, batch_size, args.split)
    except KeyboardInterrupt:
        print("zoo eval: interrupted before the last batch; no results were written", file=sys.stderr)
        raise SystemExit(130) from None
    results = {
        "family": type(model).__name__,
        "task": task.spec(),
        "model": str(args.model),
        **({"revision": args.revision} if args.revision else {}),
        "selection": model.hparams.get("selection"),
        **measured,
        "split": args.split,
        "puzzles": count,
        "seed": seed,
        "eval_seconds": round(time.monotonic() - started, 1),
        "machine": describe_machine(),
    }
    print(f"{count} {args.split} puzzles of {task.spec()}, seed {seed}")
    write_results(results, out)
