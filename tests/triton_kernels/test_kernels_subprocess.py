"""Rerun the kernel tests in a fresh interpreter-mode process when this process cannot run them.

That happens when the whole suite runs in one pytest process on a machine without CUDA and another test
package imported triton (Lightning does) before ``tests/triton_kernels/conftest.py`` could set
``TRITON_INTERPRET=1``: the in-process kernel tests then skip and this test covers them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from triton_kernels import _dispatch

HERE = Path(__file__).resolve().parent
NEEDED = _dispatch.HAS_TRITON and not _dispatch.INTERPRETER and not torch.cuda.is_available()


@pytest.mark.skipif(not NEEDED, reason="the kernel tests run in this process (interpreter active or CUDA present)")
def test_kernel_tests_pass_under_the_interpreter():
    env = {k: v for k, v in os.environ.items() if k != _dispatch.ENV_VAR}
    env["TRITON_INTERPRET"] = "1"
    cmd = [sys.executable, "-m", "pytest", str(HERE), "-q", "-p", "no:cacheprovider", "-m", "not gpu"]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, cwd=HERE.parents[1])
    assert res.returncode == 0, res.stdout[-6000:] + res.stderr[-3000:]
    assert "passed" in res.stdout.splitlines()[-1]
