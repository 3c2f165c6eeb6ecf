"""The device a benchmark runs on, named: for the machine record of a result, and for its file name under
benchmarks/results/ (`compare-cpu.json`, `nvidia-h200.json`)."""

from __future__ import annotations

import re

import torch


def default_device() -> torch.device:
    """The device the benchmarks run on, as `zoo fit` picks it: the first GPU where there is one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def device_name(device: torch.device) -> str:
    """The hardware of `device` as its driver names it (`NVIDIA H200`), or `cpu`."""
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"


def device_slug(device: torch.device | None = None) -> str:
    """`device_name` as a word for file names: lower case, runs of other characters as one hyphen (`nvidia-h200`,
    `cpu`). `device` defaults to `default_device()`."""
    name = device_name(default_device() if device is None else device)
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
