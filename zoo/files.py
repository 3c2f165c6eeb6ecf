"""Files written whole or not at all, and folders replaced without losing what the user keeps in them.

A file is written to a partial file beside it and renamed into place, so a reader never sees half of one.
A folder is built in full beside its target (`staged_folder`) and moved in by `commit_folder`, which only
renames: a full disk, a read-only target or an interrupt while the files are written leaves the target as
it was, and Ctrl-C during the short commit is held until the commit is done (or undone).
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path


def _partial_name(path: Path) -> Path:
    """A name beside `path` that no other writer uses (hidden, ending like `path` for writers that add suffixes)."""
    return path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial{path.suffix}")


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write `data` to `path` atomically (a partial file beside it, flushed, then renamed over it)."""
    path = Path(path)
    partial = _partial_name(path)
    try:
        with open(partial, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Write `text` (UTF-8) to `path` atomically."""
    return write_bytes(path, text.encode())


@contextmanager
def partial_path(path: str | Path) -> Iterator[Path]:
    """A partial path beside `path` for a writer that needs a file name (np.savez, torch.save, save_model);
    renamed over `path` when the block ends normally, removed otherwise."""
    path = Path(path)
    partial = _partial_name(path)
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def staged_folder(target: str | Path) -> Iterator[Path]:
    """A new, empty folder beside `target` to build its next content in; removed if the block fails.

    Commit it with `commit_folder` inside the block.
    """
    target = Path(target).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.parent / f".{target.name}.zoo-partial-{uuid.uuid4().hex[:8]}"
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
    Entries of `target` that are neither in `staged` nor in `remove` stay where they are.
    """
    target = Path(target).absolute()
    if not target.exists():
        os.rename(staged, target)
        staged.mkdir()  # staged_folder removes it again
        return
    incoming = sorted(entry.name for entry in staged.iterdir())
    outgoing = sorted({*remove, *incoming} & {entry.name for entry in target.iterdir()})
    aside = target / f".zoo-replaced-{uuid.uuid4().hex[:8]}"
    done: list[tuple[Path, Path]] = []
    with interrupts_held():
        try:
            aside.mkdir()
            for name in outgoing:
                os.rename(target / name, aside / name)
                done.append((target / name, aside / name))
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
