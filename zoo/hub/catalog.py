"""The catalog: the pretrained models the zoo names, shipped inside the package or published on the Hub.

    zoo models                          # the table: family, task, accuracy per budget, FLOPs, where it lives
    zoo models quickstart-sudoku6       # one model's card
    zoo.load("quickstart-sudoku6")      # a catalog name works wherever a folder, a .ckpt or a repo id does

`catalog.json` beside this module holds one entry per model (see `CatalogEntry`). A *bundled* model's
files live in `bundled/<name>/` beside it, in the Hub folder layout, so `pip install` brings them and they
load offline; the entry records the SHA-256 of each file, and a file that does not match is named and never
loaded. An entry that is not bundled is fetched from its Hub repository.

How a model source is read (`zoo.hub.locate`): an existing local file or folder first, then a catalog name,
then a Hub repo id. A folder in the working directory that happens to carry a catalog name therefore wins,
and a one-line notice on stderr says so; `catalog:NAME` always means the catalog's model (and `./NAME` always
the local folder, without a notice). `zoo models NAME` prints where the catalog's own copy is.

Every entry is checked when the catalog is read (the keys `CatalogEntry` needs, each of its type, the budgets
its evaluation names): a damaged entry is named, with the key at fault, instead of failing later.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from zoo import known, tasks
from zoo.errors import DamagedFileError, ZooError
from zoo.hub.layout import CONFIG_NAME, WEIGHTS_NAME, HubError, file_sha256, read_json
from zoo.io.typecheck import mismatch, type_hints

CATALOG_FILE = Path(__file__).resolve().parent / "catalog.json"
BUNDLED_DIR = CATALOG_FILE.parent / "bundled"
# Written before a name to mean the catalog's model even when a local folder has that name.
CATALOG_PREFIX = "catalog:"
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")
MAX_CATALOG_BYTES = 16 << 20


class _MeasuredEntries(TypedDict):
    command: str
    puzzles: int
    seed: int
    budgets: list[str]
    exact_match: dict[str, float]
    flops_per_puzzle: dict[str, float]


class Evaluation(_MeasuredEntries, total=False):
    """What `zoo eval NAME` printed (see `CatalogEntry.evaluation`); the keys below are optional."""

    coverage: dict[str, float]
    check: dict[str, Any]
    machine: str | None


@dataclass(frozen=True)
class CatalogEntry:
    """One pretrained model.

    name: the catalog name (lower-case letters, digits and '-').
    family, regime: registered names; task: the task spec it was trained on.
    parameters: parameters of the evaluation weights.
    hub: the Hub repo id it is published under.
    bundled: whether its files ship with the package (`bundled/<name>/`).
    files: file name -> SHA-256 of each bundled file.
    recipe, seed, trained_with: how it was trained (`trained_with` is the whole command).
    evaluation: what `zoo eval NAME` prints, seeded: {"command", "puzzles", "seed", "budgets",
        "exact_match", "coverage", "flops_per_puzzle"} (coverage only for families that sample).
    notes: one line a user should know (e.g. how it does on public puzzles).
    """

    name: str
    family: str
    regime: str
    task: dict[str, Any]
    parameters: int
    hub: str
    bundled: bool
    recipe: str
    seed: int
    trained_with: str
    evaluation: Evaluation
    files: dict[str, str] = field(default_factory=dict)
    notes: str = ""

    @property
    def folder(self) -> Path:
        """Where the bundled files are (whether or not they are there)."""
        return BUNDLED_DIR / self.name

    def largest_budget(self) -> str:
        return self.evaluation["budgets"][-1]


def _read(path: Path) -> dict[str, CatalogEntry]:
    try:
        raw = read_json(path, "reinstall belief-zoo", max_bytes=MAX_CATALOG_BYTES)
    except DamagedFileError as error:
        raise DamagedFileError(f"the catalog {error}") from None
    except OSError as error:
        raise DamagedFileError(f"the catalog {path} cannot be read ({error}): reinstall belief-zoo") from None
    models = raw.get("models") if isinstance(raw, dict) else None
    if not isinstance(models, dict):
        raise DamagedFileError(f"the catalog {path} is damaged (no 'models' mapping): reinstall belief-zoo")
    read = {}
    for name, fields in models.items():
        problem = entry_problem(name, fields)
        if problem is not None:
            raise DamagedFileError(f"the catalog {path} is damaged: entry {name!r}: {problem}; reinstall belief-zoo")
        read[name] = CatalogEntry(name=name, **fields)
    return read


def entry_problem(name: str, fields: object) -> str | None:
    """What is wrong with the catalog entry `name` ("no 'hub'", "parameters = '1', not an int"), or None."""
    if not NAME_PATTERN.fullmatch(name):
        return "its name is not lower-case letters, digits and '-'"
    if not isinstance(fields, dict):
        return "not a mapping"
    declared = {item.name: item for item in dataclasses.fields(CatalogEntry) if item.name != "name"}
    unknown = sorted(set(fields) - set(declared))
    if unknown:
        return f"unknown key {unknown[0]!r}"
    needed = [
        key
        for key, item in declared.items()
        if dataclasses.MISSING is item.default and dataclasses.MISSING is item.default_factory
    ]
    missing = [key for key in needed if key not in fields]
    if missing:
        return f"no {missing[0]!r}"
    hints = type_hints(CatalogEntry)
    for key, value in fields.items():
        problem = mismatch(value, hints[key], key)
        if problem is not None:
            return problem
    evaluation = fields["evaluation"]
    if not evaluation["budgets"]:
        return "evaluation.budgets is empty"
    for key in ("exact_match", "flops_per_puzzle"):
        absent = [budget for budget in evaluation["budgets"] if budget not in evaluation[key]]
        if absent:
            return f"evaluation.{key} has no budget {absent[0]!r} (evaluation.budgets names it)"
    if fields["bundled"] and not {CONFIG_NAME, WEIGHTS_NAME} <= set(fields.get("files", {})):
        return f"bundled, but files does not record both {CONFIG_NAME} and {WEIGHTS_NAME}"
    if fields["parameters"] < 0:
        return f"parameters = {fields['parameters']}, not a count"
    if fields["hub"].count("/") != 1:
        return f"hub = {fields['hub']!r}, not a Hub repo id (org/name)"
    try:
        known.family(fields["family"])
        known.regime(fields["regime"])
        tasks.get(**fields["task"])
    except ZooError as error:
        return str(error)
    except TypeError as error:  # a task without a name, or with options that are not text
        return f"task = {fields['task']}, not a task ({error})"
    return None


def entries() -> dict[str, CatalogEntry]:
    """Every catalog entry by name, in catalog order."""
    return _read(CATALOG_FILE) if CATALOG_FILE.exists() else {}


def find(name: str) -> CatalogEntry | None:
    """The entry called `name` (or `catalog:name`), or None."""
    return entries().get(name.removeprefix(CATALOG_PREFIX))


def get(name: str) -> CatalogEntry:
    """The entry called `name` (or `catalog:name`); an unknown name is an error that lists the catalog."""
    entry = find(name)
    if entry is None:
        raise HubError(f"{name!r} is not in the catalog; the catalog holds: {', '.join(entries()) or 'nothing'}")
    return entry


def bundled_folder(entry: CatalogEntry) -> Path:
    """The folder of a bundled entry, every file checked against the catalog's SHA-256 before use."""
    for name, expected in entry.files.items():
        path = entry.folder / name
        if not path.is_file():
            raise DamagedFileError(
                f"the catalog model {entry.name} is missing {path}: reinstall belief-zoo, or fetch it from the Hub "
                f"with `zoo download {entry.hub}`"
            )
        if file_sha256(path) != expected:
            raise DamagedFileError(
                f"{path} does not match the catalog's record (SHA-256): the file is damaged or was replaced, so "
                f"it is not loaded. Reinstall belief-zoo, or fetch the model with `zoo download {entry.hub}`"
            )
    return entry.folder
