"""Files written whole or not at all, and folders replaced without losing what the user keeps in them.

A file is written to a partial file beside it and renamed into place, so a reader never sees half of one.
A folder is built in full beside its target (`staged_folder`) and moved in by `commit_folder`, which only
renames: a full disk, a read-only target or an interrupt while the files are written leaves the target as
it was, and Ctrl-C during the short commit is held until the commit is done (or undone).

A file is written through a symlink to its target (the link stays) and keeps the mode of the file it replaces.
Every partial file and staged folder is named `.NAME.zoo-partial-HOST-PID-XXXXXXXX` after the process that
writes it; the next write into the same folder removes those of this host whose process is gone (a writer
killed part-way), and never those of a live one.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import socket
import stat
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

_HOST = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]
# A leftover of a writer: its host, its process id (the rest of the name is the writer's own).
_LEFTOVER = re.compile(r"^\.(?:.*\.)?zoo-(?:partial|replaced)-(?P<host>[0-9a-f]{6})-(?P<pid>\d+)-[0-9a-f]{8}")


def _tag() -> str:
    """HOST-PID-RANDOM: whose a partial file or staged folder is, unique among writers."""
    return f"{_HOST}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _partial_name(path: Path) -> Path:
    """A name beside `path` that no other writer uses (hidden, ending like `path` for writers that add suffixes)."""
    return path.with_name(f".{path.name}.zoo-partial-{_tag()}{path.suffix}")


def _alive(pid: int) -> bool:
    """Whether process `pid` of this host still runs (or may: one of another user's counts as running)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def remove_leftovers(folder: str | Path) -> None:
    """Remove the partial files, staged folders and set-aside entries in `folder` of writers of this host that
    were killed part-way; those of running writers and of other hosts stay."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        found = _LEFTOVER.match(entry.name)
        if found is None or found["host"] != _HOST or _alive(int(found["pid"])):
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            Path(entry.path).unlink(missing_ok=True)


def _replace(partial: Path, target: Path) -> None:
    """Rename `partial` over `target`, giving it the mode of the file it replaces."""
    try:
        os.chmod(partial, stat.S_IMODE(os.stat(target).st_mode))
    except FileNotFoundError:
        pass
    os.replace(partial, target)


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write `data` to `path` atomically (a partial file beside it, flushed, then renamed over it); a symlink
    is written through to its target; an existing file keeps its mode. Returns `path`."""
    path = Path(path)
    target = path.resolve()
    remove_leftovers(target.parent)
    partial = _partial_name(target)
    mode = 0o600 if target.exists() else 0o666  # the old file's mode is set before the rename; never wider first
    try:
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        _replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Write `text` (UTF-8) to `path` atomically."""
    return write_bytes(path, text.encode())


@contextmanager
def partial_path(path: str | Path) -> Iterator[Path]:
    """A partial path beside `path` for a writer that needs a file name (np.savez, torch.save, save_model);
    renamed over `path` (through a symlink, keeping an existing file's mode) when the block ends normally,
    removed otherwise."""
    target = Path(path).resolve()
    remove_leftovers(target.parent)
    partial = _partial_name(target)
    try:
        yield partial
        _replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def staged_folder(target: str | Path) -> Iterator[Path]:
    """A new, empty folder beside `target` to build its next content in; removed if the block fails.

    Commit it with `commit_folder` inside the block.
    """
    target = Path(target).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target.parent)
    staged = target.parent / f".{target.name}.zoo-partial-{_tag()}"
    staged.mkdir()
    try:
        yield staged
    finally:
        shutil.rmtree(staged, ignore_errors=True)


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) until the block ends, then raise KeyboardInterrupt if one came."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: received.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


def commit_folder(staged: Path, target: Path, remove: Iterable[str] = ()) -> None:
    """Move every entry of `staged` into `target`, and take the entries named in `remove` out of it.

    A missing target is created by one rename. Otherwise entries are renamed one by one, old ones set aside
    first; if any rename fails, the ones done are undone and the error is raised, so `target` is as before.
    Entries of `target` that are neither in `staged` nor in `remove` stay where they are. `remove` may name
    entries of sub-folders ("eval/results.json").
    """
    target = Path(target).absolute()
    if not target.exists():
        os.rename(staged, target)
        staged.mkdir()  # staged_folder removes it again
        return
    remove_leftovers(target)
    incoming = sorted(entry.name for entry in staged.iterdir())
    outgoing = sorted(name for name in {*remove, *incoming} if os.path.lexists(target / name))
    aside = target / f".zoo-replaced-{_tag()}"
    done: list[tuple[Path, Path]] = []
    with interrupts_held():
        try:
            aside.mkdir()
            for number, name in enumerate(outgoing):
                os.rename(target / name, aside / str(number))  # flat: names of sub-folders are set aside too
                done.append((target / name, aside / str(number)))
            for name in incoming:
                os.rename(staged / name, target / name)
                done.append((staged / name, target / name))
        except OSError:
            for source, destination in reversed(done):
                os.rename(destination, source)
            if aside.exists():
                aside.rmdir()
            raise
    shutil.rmtree(aside, ignore_errors=True)
