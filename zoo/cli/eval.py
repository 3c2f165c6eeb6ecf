"""`zoo eval MODEL`: verified exact match at each inference budget on held-out puzzles, table + plot.

MODEL is a .ckpt written by `zoo fit`, a folder made by `zoo export`, or a Hub repo id (org/name).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

from zoo import hub, registry
from zoo.budget import parse_budgets
from zoo.cli.report import ArgumentParser, at_least_one
from zoo.errors import ZooError
from zoo.evaluate import check_memory, evaluate, evaluation_task, parse_task_overrides
from zoo.results import describe_machine, write_results


def default_out(model: str) -> Path:
    """Where results go by default: beside a .ckpt, in MODEL/eval for a folder, in ./eval/ORG--NAME for a repo id
    (never inside the Hugging Face cache)."""
    path = Path(model).expanduser()
    if path.is_file():
        return path.parent
    if path.is_dir():
        return path / "eval"
    return Path("eval") / model.replace("/", "--")


def device_of(text: str) -> torch.device:
    """The device `--device` names, refused when this machine has none of it."""
    try:
        device = torch.device(text)
    except RuntimeError:
        raise ZooError(
            f"--device {text!r} is not a device: use cpu, or cuda / cuda:N on a machine with a GPU", key="device"
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ZooError(
            f"--device {text} asks for a CUDA device, and this machine has none: use --device cpu", key="device"
        )
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ZooError(f"--device {text}: this machine has {torch.cuda.device_count()} CUDA device(s)", key="device")
    return device


def selection_choices() -> list[str]:
    """Every way a registered family can choose among samples."""
    return sorted({name for family in registry.families() for name in family.selections})


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
    parser.add_argument("--count", type=at_least_one, default=500, help="held-out puzzles to evaluate (default 500)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out puzzles and of sampling (default 0)")
    parser.add_argument(
        "--batch-size", type=at_least_one, default=256, help="puzzles thought about at once (default 256)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="directory for results.json and the plot (default: beside a .ckpt, "
        "MODEL/eval for a folder, ./eval/ORG--NAME for a repo id)",
    )
    parser.add_argument(
        "--selection",
        choices=selection_choices(),
        default=None,
        help="how a sampling family picks one answer among samples: "
        + "; ".join(f"{f.__name__}: {', '.join(f.selections)}" for f in registry.families() if f.selections)
        + " (oracle = the task's verifier)",
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args, extra = parser.parse_known_args(words)
    if args.seed < 0:
        raise ZooError(f"--seed must be 0 or more, got {args.seed}", key="seed")
    device = device_of(args.device)
    overrides = parse_task_overrides(extra)
    model = hub.load(args.model, args.revision).to(device)
    budgets = parse_budgets(args.budgets) if args.budgets else model.eval_budgets
    task = evaluation_task(model, overrides)
    if args.selection is not None:
        if args.selection not in model.selections:
            choices = ", ".join(model.selections) or "none: it does not sample"
            raise ZooError(
                f"{type(model).__name__} cannot select by {args.selection!r} (it selects by {choices})", key="selection"
            )
        model.hparams.selection = args.selection
    check_memory(model, budgets, min(args.batch_size, args.count))
    started = time.monotonic()
    try:
        measured = evaluate(model, task, budgets, args.count, args.seed, args.batch_size)
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
        "puzzles": args.count,
        "seed": args.seed,
        "eval_seconds": round(time.monotonic() - started, 1),
        "machine": describe_machine(),
    }
    write_results(results, args.out or default_out(args.model))
