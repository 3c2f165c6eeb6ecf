"""Memory this process may really use: free RAM under its cgroup's limit and its address-space limit
(`ulimit -v`), or the free memory of a GPU.

Free RAM alone overstates it in a container or under a ulimit, where an allocation fails (or the process is
killed) long before the machine runs out.
"""

from __future__ import annotations

import resource
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import torch

# Where /proc and /sys are read from; tests point it at a fake tree.
ROOT = Path("/")
# A cgroup v1 memory limit at or above this means none was set (the kernel writes about 2**63 there).
_NO_V1_LIMIT = 2**60


class Available(NamedTuple):
    """Bytes that may be allocated now, and what bounds them ("free RAM", "the cgroup limit", ...)."""

    bytes: int
    bound: str


def available_memory(device: torch.device) -> Available | None:
    """What may be allocated now on `device`: free GPU memory on CUDA, else `process_memory()`."""
    if device.type == "cuda":
        import torch

        return Available(torch.cuda.mem_get_info(device)[0], "free GPU memory")
    return process_memory()


def process_memory(root: Path | None = None) -> Available | None:
    """The least of: MemAvailable, each enclosing cgroup's limit less its usage (v2 memory.max, v1
    memory.limit_in_bytes; reclaimable file cache counted as free), and RLIMIT_AS less the address space in
    use. None when none of them can be read (not Linux)."""
    root = root or ROOT
    candidates = [
        Available(value, bound)
        for value, bound in (
            (_meminfo(root, "MemAvailable"), "free RAM"),
            (_cgroup_room(root), "the cgroup memory limit"),
            (_address_space_room(root), "the address-space limit (ulimit -v)"),
        )
        if value is not None
    ]
    return min(candidates, default=None)


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError):
        return None


def _number(text: str | None) -> int | None:
    return int(text) if text is not None and text.strip().isascii() and text.strip().isdigit() else None


def _meminfo(root: Path, field: str) -> int | None:
    """A `kB` field of /proc/meminfo, in bytes."""
    return _kilobytes(_read(root / "proc" / "meminfo"), field)


def _kilobytes(text: str | None, field: str) -> int | None:
    for line in (text or "").splitlines():
        name, _, value = line.partition(":")
        words = value.split()
        if name == field and words and _number(words[0]) is not None:
            return int(words[0]) * 1024
    return None


def _stat(text: str | None, field: str) -> int:
    """A field of a cgroup memory.stat file (0 when absent)."""
    for line in (text or "").splitlines():
        name, _, value = line.partition(" ")
        if name == field:
            return _number(value) or 0
    return 0


def _enclosing(mount: Path, inner: str) -> list[Path]:
    """The cgroup folder `inner` under `mount` and every folder above it up to `mount`, innermost first."""
    folder = mount / inner.strip("/")
    return [folder, *(parent for parent in folder.parents if parent.is_relative_to(mount))]


def _cgroup_room(root: Path) -> int | None:
    """The least room (limit - usage + inactive file cache) of the cgroups enclosing this process."""
    rooms = []
    for line in (_read(root / "proc" / "self" / "cgroup") or "").splitlines():
        number, controllers, inner = (line.split(":", 2) + ["", ""])[:3]
        if number == "0" and controllers == "":  # cgroup v2
            mount, files = root / "sys" / "fs" / "cgroup", ("memory.max", "memory.current", "inactive_file")
        elif "memory" in controllers.split(","):  # cgroup v1
            mount = root / "sys" / "fs" / "cgroup" / "memory"
            files = ("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file")
        else:
            continue
        limit_name, usage_name, cache_field = files
        for folder in _enclosing(mount, inner):
            limit, usage = _number(_read(folder / limit_name)), _number(_read(folder / usage_name))
            if limit is None or usage is None or limit >= _NO_V1_LIMIT:  # "max" reads as None: no limit
                continue
            cache = _stat(_read(folder / "memory.stat"), cache_field)
            rooms.append(max(limit - usage + cache, 0))
    return min(rooms, default=None)


def _address_space_room(root: Path) -> int | None:
    """RLIMIT_AS (soft) less the address space this process already maps (VmSize), when a limit is set."""
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    if limit == resource.RLIM_INFINITY:
        return None
    in_use = _kilobytes(_read(root / "proc" / "self" / "status"), "VmSize")
    return max(limit - (in_use or 0), 0)
