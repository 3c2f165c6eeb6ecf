"""The on-disk cache of generated splits: where a split's file lives, and writing and reading it checksummed."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from zoo.data.splits import SPLITS
from zoo.errors import DamagedFileError
from zoo.io.files import partial_path
from zoo.tasks import Task

# Version of the cache file's layout (arrays and checksum); part of the cache key.
_CACHE_FORMAT = 2


def default_cache_dir() -> Path:
    """`$ZOO_CACHE/data`, or `~/.cache/belief-zoo/data` when ZOO_CACHE is unset."""
    return Path(os.environ.get("ZOO_CACHE", Path.home() / ".cache" / "belief-zoo")) / "data"


def cache_path_for(cache_dir: Path, task: Task, counts: dict[str, int], seed: int) -> Path:
    """The file in `cache_dir` holding the splits of `task` with these per-split counts and generation seed.

    Its name hashes everything the puzzles depend on (task spec, generator version, cache format, counts,
    seed), so a change to any of them reads another file instead of stale puzzles.
    """
    key = json.dumps(
        {
            "task": task.spec(),
            "generator": task.generator_version,
            "format": _CACHE_FORMAT,
            "counts": counts,
            "seed": seed,
        },
        sort_keys=True,
    )
    digest = hashlib.sha1(key.encode()).hexdigest()[:16]
    return cache_dir / f"{task.name}-{digest}.npz"


def write_cache(path: Path, splits: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """Write generated splits to `path` with a checksum of their contents, atomically."""
    arrays = {f"{s}_{part}": splits[s][i] for s in SPLITS for i, part in enumerate(("puzzles", "solutions"))}
    arrays["checksum"] = np.frombuffer(_checksum(arrays), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Each writer has its own partial file: nodes sharing a filesystem may all generate the same split at once
    # (Lightning prepares data once per node), and the atomic rename lets the last one win with equal bytes.
    with partial_path(path) as partial:
        np.savez_compressed(partial, **arrays)


def read_cache(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Splits from a cache file, verified against its checksum; `DamagedFileError` when it does not load or match."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except Exception as error:  # zipfile, zlib, OSError, ValueError...: any failure to read is damage
        raise DamagedFileError(f"the data cache file {path} is damaged ({type(error).__name__}: {error})") from None
    names = [f"{s}_{part}" for s in SPLITS for part in ("puzzles", "solutions")]
    if any(name not in arrays for name in [*names, "checksum"]):
        raise DamagedFileError(f"the data cache file {path} is damaged (arrays are missing)")
    if arrays["checksum"].tobytes() != _checksum({name: arrays[name] for name in names}):
        raise DamagedFileError(f"the data cache file {path} is damaged (its contents fail their checksum)")
    return {s: (arrays[f"{s}_puzzles"], arrays[f"{s}_solutions"]) for s in SPLITS}


def _checksum(arrays: dict[str, np.ndarray]) -> bytes:
    """SHA-256 over every array but "checksum", by name, with each one's dtype and shape."""
    digest = hashlib.sha256()
    for name in sorted(name for name in arrays if name != "checksum"):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}:{array.dtype.str}:{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.digest()
