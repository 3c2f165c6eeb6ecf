"""The errors a user can act on. Anything else that escapes the zoo is a bug and keeps its traceback."""

from __future__ import annotations


class ZooError(ValueError):
    """A mistake in what the user gave (a setting, a file, a flag): the message says what was wrong and what to do.

    `key` names the setting at fault relative to where it was checked (e.g. "batch_size", or "task.givens");
    callers that know more prefix it with `under`, so the command line can say where the value came from.
    `ZooError` is a `ValueError`, so code that catches bad values keeps working.
    """

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key

    def under(self, prefix: str) -> ZooError:
        """This error with its key moved under `prefix` ("task" + "givens" -> "task.givens")."""
        self.key = f"{prefix}.{self.key}" if self.key else prefix
        return self


class DamagedFileError(ZooError):
    """A file that should hold data the zoo wrote is truncated or corrupted (not unsafe: damaged)."""
