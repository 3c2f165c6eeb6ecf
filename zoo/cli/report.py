"""One clear message for every mistake: what was wrong, where it came from, what to do — no traceback.

A `ZooError` (or a known user error of the libraries underneath: a Lightning misconfiguration, an interrupt,
running out of memory) becomes `zoo VERB: message` on stderr, plus where the bad value was set when that is
known, and exit status 2 (130 for an interrupt). Anything else is a bug and keeps its traceback.
`ZOO_DEBUG=1` or `--debug` shows the full traceback of every error, for bug reports.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

import torch

from zoo.errors import ZooError

Locate = Callable[[str], "str | None"]
# Errors of the storage underneath that a user can fix, and how.
_STORAGE_ERRORS = {
    errno.ENOSPC: "free some disk space, or write elsewhere",
    errno.EDQUOT: "free some of your disk quota, or write elsewhere",
    errno.EROFS: "write to a folder on a writable file system",
    errno.EACCES: "write to a folder you may write to, or change its permissions",
    errno.EPERM: "write to a folder you may write to, or change its permissions",
}


def debug_requested(words: list[str]) -> tuple[bool, list[str]]:
    """(debug on?, the words without `--debug`)."""
    debug = os.environ.get("ZOO_DEBUG", "").strip().lower() not in ("", "0", "false", "no")
    return debug or "--debug" in words, [word for word in words if word != "--debug"]


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def user_error(error: BaseException) -> ZooError | None:
    """The `ZooError` behind `error` (the libraries that call zoo code wrap its errors), if any."""
    return next((item for item in _chain(error) if isinstance(item, ZooError)), None)


def flag_locator(words: list[str]) -> Locate:
    """Where a setting of an argparse verb came from: `batch_size` -> 'given as --batch-size' when it was given."""

    def locate(key: str) -> str | None:
        for flag in (f"--{key}", f"--{key.replace('_', '-')}"):
            if any(word == flag or word.startswith(flag + "=") for word in words):
                return f"given as {flag}"
        return None

    return locate


def fail(verb: str, message: str, where: str | None = None, status: int = 2) -> NoReturn:
    print(f"{' '.join(('zoo', verb)).strip()}: {message}" + (f"\n  ({where})" if where else ""), file=sys.stderr)
    raise SystemExit(status)


@contextmanager
def reporting(verb: str, debug: bool, locate: Locate | None = None) -> Iterator[None]:
    """Run a command, turning user errors into one or two lines on stderr and exit status 2."""
    try:
        yield
    except SystemExit:
        raise
    except KeyboardInterrupt:
        if debug:
            raise
        fail(verb, "interrupted; files already written are complete, nothing was left half-written", status=130)
    except OSError as error:
        if debug or error.errno not in _STORAGE_ERRORS:
            raise
        where = f" ({error.filename})" if error.filename else ""
        fail(
            verb,
            f"{error.strerror or error}{where}: {_STORAGE_ERRORS[error.errno]}; files are written whole or not "
            "at all, so what was there before is unchanged",
        )
    except torch.OutOfMemoryError as error:
        if debug:
            raise
        fail(verb, f"out of memory ({str(error).splitlines()[0][:160]}): lower the batch size or the budget")
    except Exception as error:  # noqa: BLE001 - sorted below: user errors are reported, bugs re-raised
        found = user_error(error)
        if debug or (found is None and not _is_misconfiguration(error)):
            raise
        if found is None:
            fail(verb, " ".join(str(error).split()))
        where = locate(found.key) if locate is not None and found.key else None
        fail(verb, str(found), where)


def _is_misconfiguration(error: BaseException) -> bool:
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    return isinstance(error, MisconfigurationException)


class ArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors: `zoo eval: --count must be ...` and a pointer to --help, no usage dump."""

    def error(self, message: str) -> NoReturn:
        raise ZooError(f"{message}; see `{self.prog} --help`")
