"""The output rule of every verb that writes (`solve --out`, `eval`/`bench --out`, `predict`, `export`,
`download --dir`), checked before any work is done:

- `~` is expanded (a `~user` that names no user is refused, never made a literal folder);
- a path under /proc, /sys or /dev, a device, FIFO or socket is refused; so is a folder where a file goes,
  or a file where a folder goes;
- missing folders on the way are made when the output is written, after the work (none on a refusal); the
  nearest existing one must be a folder you may write in;
- an input is never an output (symlinks and hard links to it included);
- an existing file, or another run's results in a folder, is replaced only with `--force`;
- a symlink is written through to its target (the link stays), and a replaced file keeps its mode;
- a file is written whole or not at all (`zoo.io.files`).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

from zoo.errors import ZooError
from zoo.io import files

SYSTEM_FOLDERS = (Path("/proc"), Path("/sys"), Path("/dev"))


def expand(path: str | Path, flag: str = "--out") -> Path:
    """`path` with a leading `~` or `~user` expanded; refused when empty or when the user does not exist."""
    text = os.fspath(path)
    if not text.strip():
        raise ZooError(f"{flag} is empty: give a path")
    if "\0" in text:
        raise ZooError(f"{flag} {text!r} holds a NUL character, which no path can: give another path")
    expanded = os.path.expanduser(text)
    if expanded.startswith("~"):
        user = expanded[1:].split(os.sep, 1)[0]
        raise ZooError(
            f"{flag} {text}: ~{user} names no user of this machine: write the path in full"
            if user
            else f"{flag} {text}: no home folder to expand ~ to (HOME is not set): write the path in full"
        )
    return Path(expanded)


def _resolved(path: Path, shown: str, flag: str) -> Path:
    """`path` with every symlink followed; refused in the system's folders."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError) as error:  # a loop of symlinks
        raise ZooError(f"{flag} {shown} cannot be resolved ({error}): give another path") from None
    for system in SYSTEM_FOLDERS:
        if resolved == system or system in resolved.parents:
            raise ZooError(f"{flag} {shown} is in {system}, a folder of the system: write into a folder of yours")
    return resolved


def _check_kind(resolved: Path, shown: str, flag: str, *, folder: bool) -> bool:
    """Whether `resolved` exists; refused when it is not a regular file (`folder` False) or not a folder."""
    try:
        mode = os.stat(resolved).st_mode
    except (FileNotFoundError, NotADirectoryError):  # missing, or below a file: `_check_parent` says which
        return False
    except OSError as error:
        raise ZooError(f"{flag} {shown} cannot be read ({error.strerror}): give another path") from None
    if folder and not stat.S_ISDIR(mode):
        what = "a file, not a folder" if stat.S_ISREG(mode) else "not a folder (a device, FIFO or socket)"
        raise ZooError(f"{flag} {shown} is {what}: give a folder path")
    if not folder and stat.S_ISDIR(mode):
        raise ZooError(f"{flag} {shown} is a folder: give the path of a file (in it, for instance)")
    if not folder and not stat.S_ISREG(mode):
        raise ZooError(f"{flag} {shown} is not a regular file (a device, FIFO or socket): give a path to a file")
    return True


def _check_parent(resolved: Path, shown: str, flag: str) -> None:
    """The folder `resolved` goes into exists, or can be made, and may be written in."""
    parent = resolved.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ZooError(f"{flag} {shown}: {parent} is not a folder: choose another {flag}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ZooError(f"{flag} {shown}: you may not write in {parent}: choose a folder you may write to")


def _same_file(output: Path, given: str) -> bool:
    """Whether the resolved `output` is the file `given` (through links, hard links included)."""
    try:
        source = Path(os.path.expanduser(given))
        return not source.is_dir() and (output == source.resolve() or os.path.samefile(output, source))
    except (OSError, ValueError, RuntimeError):
        return False


def check_file(path: str | Path, *, force: bool, inputs: Sequence[str | Path] = (), flag: str = "--out") -> Path:
    """Check a file output under the module's rule before any work; the resolved path to write.

    `inputs`: files the verb reads (a folder or "-" among them is skipped), none of which may be the output.
    """
    shown = os.fspath(path)
    resolved = _resolved(expand(path, flag), shown, flag)
    exists = _check_kind(resolved, shown, flag, folder=False)
    _check_parent(resolved, shown, flag)
    for given in map(os.fspath, inputs):
        if given != "-" and _same_file(resolved, given):
            raise ZooError(f"{flag} {shown} is the input file {given}: write the output to another file")
    if exists and not force:
        raise ZooError(f"{flag} {shown} exists: choose another {flag}, or pass --force to replace it")
    return resolved


def write_file(path: str | Path, data: bytes | str) -> Path:
    """Write `data` (text as UTF-8) to `path` whole, through a symlink, keeping an existing file's mode; missing
    folders on the way are made. The kind of `path` is checked again, in case it changed since `check_file`.
    Returns `path`."""
    shown = os.fspath(path)
    resolved = _resolved(expand(path, "output"), shown, "output")
    _check_kind(resolved, shown, "output", folder=False)
    resolved.parent.mkdir(parents=True, exist_ok=True)
    files.write_bytes(resolved, data.encode() if isinstance(data, str) else data)
    return Path(path)


def check_folder(
    path: str | Path,
    *,
    force: bool = False,
    names: Collection[str] = (),
    claimed: Callable[[Path], str | None] | None = None,
    flag: str = "--out",
) -> Path:
    """Check a folder output (several files) under the module's rule before any work; the resolved folder.

    `names`: the files the verb writes into it, each checked as a file output. `claimed(folder)` describes
    another run whose results the verb would replace there (None where they are the same run's), which
    needs `force`. The folder and missing ones on its way are made by the writer (`write_file`, `zoo.io.files`).
    """
    shown = os.fspath(path)
    resolved = _resolved(expand(path, flag), shown, flag)
    if not _check_kind(resolved, shown, flag, folder=True):
        _check_parent(resolved, shown, flag)
        return resolved
    if not os.access(resolved, os.W_OK | os.X_OK):
        raise ZooError(f"{flag} {shown}: you may not write in it: choose a folder you may write to")
    for name in names:
        file = os.path.join(shown, name)
        _check_kind(_resolved(resolved / name, file, flag), file, flag, folder=False)
    other = claimed(resolved) if claimed is not None else None
    if other is not None and not force:
        raise ZooError(f"{flag} {shown} holds {other}: choose another {flag}, or pass --force to replace them")
    return resolved
