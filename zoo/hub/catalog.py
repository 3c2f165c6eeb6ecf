"""The catalog: the pretrained models the zoo names, shipped inside the package or published on the Hub.

    zoo models                          # the table: family, task, accuracy per budget, FLOPs, where it lives
    zoo models quickstart-sudoku6       # one model's card
    zoo.load("quickstart-sudoku6")      # a catalog name works wherever a folder, a .ckpt or a repo id does

`catalog.json` beside this module holds one entry per model (see `CatalogEntry`). A *bundled* model's
files live in `bundled/<name>/` beside it, in the Hub folder layout, so `pip install` brings them and they
load offline; the entry records the SHA-256 of each file, and a file that does not match is named and never
loaded. An entry that is not bundled is fetched from its Hub repository.

How a model source is read (`zoo.hub.locate`): an existing local file or folder first, then a catalog name,
then a Hub repo id. A folder in the working directory that happens to carry a catalog name therefore wins;
`zoo models NAME` prints where the catalog's own copy is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo.errors import DamagedFileError
from zoo.hub.layout import HubError, file_sha256

CATALOG_FILE = Path(__file__).resolve().parent / "catalog.json"
BUNDLED_DIR = CATALOG_FILE.parent / "bundled"


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
    evaluation: dict[str, Any]
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
        raw = json.loads(path.read_text())
        return {name: CatalogEntry(name=name, **fields) for name, fields in raw["models"].items()}
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise DamagedFileError(
            f"the catalog {path} is damaged ({type(error).__name__}: {error}): reinstall belief-zoo"
        ) from None


def entries() -> dict[str, CatalogEntry]:
    """Every catalog entry by name, in catalog order."""
    return _read(CATALOG_FILE) if CATALOG_FILE.exists() else {}


def find(name: str) -> CatalogEntry | None:
    """The entry called `name`, or None."""
    return entries().get(name)


def get(name: str) -> CatalogEntry:
    """The entry called `name`; an unknown name is an error that lists the catalog."""
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
