"""The dispatch rule, its errors, seeds, and importing the package without triton."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import triton_kernels as tk
from triton_kernels import _checks, _dispatch, _launch


def _noisy_step(device="cpu"):
    y = torch.zeros(2, 8, device=device)
    return tk.langevin_step(y, y, 0.1, noise_scale=1.0, seed=5)


def _reference_step(device="cpu"):
    y = torch.zeros(2, 8, device=device)
    return tk.langevin_step_reference(y, y, 0.1, noise_scale=1.0, seed=5)


def test_auto_runs_the_reference_on_cpu(monkeypatch):
    monkeypatch.delenv(_dispatch.ENV_VAR, raising=False)
    assert tk.current_mode() == "auto"
    assert torch.equal(_noisy_step(), _reference_step())


def test_torch_mode_forces_the_reference(monkeypatch):
    monkeypatch.setenv(_dispatch.ENV_VAR, "torch")
    assert torch.equal(_noisy_step(), _reference_step())


def test_forced_triton_draws_philox_noise(forced):
    out = _noisy_step(forced)
    assert not torch.allclose(out.cpu(), _reference_step())
    assert torch.equal(out, _noisy_step(forced))


def test_env_is_read_per_call_and_use_backend_overrides_it(forced, monkeypatch):
    philox = _noisy_step(forced)
    with tk.use_backend("torch"):
        assert tk.current_mode() == "torch"
        assert torch.equal(_noisy_step(forced), _reference_step(forced))
    assert torch.equal(_noisy_step(forced), philox)
    monkeypatch.setenv(_dispatch.ENV_VAR, "torch")
    assert torch.equal(_noisy_step(forced), _reference_step(forced))
    with tk.use_backend("triton"):
        assert torch.equal(_noisy_step(forced), philox)


def test_bad_mode_names(monkeypatch):
    monkeypatch.setenv(_dispatch.ENV_VAR, "cuda")
    with pytest.raises(ValueError, match="ZOO_KERNELS='cuda'"):
        _noisy_step()
    with pytest.raises(ValueError, match="not one of"):
        with tk.use_backend("fast"):
            pass


def test_forced_on_cpu_without_interpreter(monkeypatch):
    monkeypatch.setattr(_dispatch, "HAS_TRITON", True)
    monkeypatch.setattr(_dispatch, "INTERPRETER", False)
    with tk.use_backend("triton"), pytest.raises(RuntimeError, match="TRITON_INTERPRET=1"):
        _noisy_step()


def test_forced_without_triton(monkeypatch):
    monkeypatch.setattr(_dispatch, "HAS_TRITON", False)
    monkeypatch.setattr(_dispatch, "TRITON_IMPORT_ERROR", "ImportError: no triton")
    with tk.use_backend("triton"), pytest.raises(RuntimeError, match="cannot be imported"):
        _noisy_step()
    monkeypatch.delenv(_dispatch.ENV_VAR, raising=False)
    assert torch.equal(_noisy_step(), _reference_step())  # auto on CPU needs no triton


@pytest.mark.skipif(not _dispatch.HAS_TRITON, reason="the device check follows the triton check")
def test_forced_on_an_unsupported_device():
    y = torch.zeros(2, 3, device="meta")
    with tk.use_backend("triton"), pytest.raises(RuntimeError, match="'meta'"):
        tk.noisy_softmax(y)


def test_unsupported_dtype_message_names_the_fix(forced):
    y = torch.zeros(2, 3, dtype=torch.float64, device=forced)
    with pytest.raises(TypeError, match="noisy_softmax_reference"):
        tk.noisy_softmax(y)
    with tk.use_backend("torch"):
        assert tk.noisy_softmax(y).dtype == torch.float64  # the reference takes float64


def test_mixed_devices_and_dtypes_are_rejected():
    y = torch.zeros(2, 3)
    with pytest.raises(TypeError, match="one dtype"):
        tk.langevin_step(y, y.half(), 0.1)
    with pytest.raises(ValueError, match="on meta"):
        tk.langevin_step(y, torch.zeros(2, 3, device="meta"), 0.1)
    with pytest.raises(TypeError, match="torch.Tensor"):
        tk.langevin_step(y, np.zeros((2, 3)), 0.1)


def test_step_size_forms():
    y = torch.zeros(2, 3, 4)
    lead = y.shape[:-1]
    for ok in (torch.tensor(1.0), torch.ones(2, 3), torch.ones(2, 3, 1), torch.ones(3, 1), torch.ones(1)):
        assert _checks.step_size_view("op", ok, lead).dim() <= 3
    for bad in (torch.ones(3), torch.ones(2, 3, 4), torch.ones(2, 1, 3, 1), torch.ones(4, 1)):
        with pytest.raises(ValueError, match="not per row"):
            _checks.step_size_view("op", bad, lead)
    with pytest.raises(TypeError, match="floating point"):
        tk.langevin_step(y, y, torch.ones(2, 3, dtype=torch.int64))


def test_seeds():
    assert _checks.resolve_seed("op", np.int64(5)) == 5
    assert _checks.resolve_seed("op", torch.tensor(6)) == 6
    assert _checks.resolve_seed("op", 2**63 - 1) == 2**63 - 1
    for bad, err in ((True, TypeError), (1.0, TypeError), ("1", TypeError), (-1, ValueError), (2**63, ValueError)):
        with pytest.raises(err):
            _checks.resolve_seed("op", bad)
    torch.manual_seed(0)
    a = _checks.resolve_seed("op", None)
    torch.manual_seed(0)
    assert a == _checks.resolve_seed("op", None)


def test_noise_free_calls_leave_the_global_generator_alone():
    torch.manual_seed(0)
    tk.langevin_step(torch.zeros(3), torch.zeros(3), 0.1)
    tk.noisy_softmax(torch.zeros(3))
    after = torch.rand(1)
    torch.manual_seed(0)
    assert torch.equal(after, torch.rand(1))


def test_row_plan_covers_every_row():
    for n, d in ((1, 1), (3, 5), (1000, 7), (2, 50277), (5, 70000)):
        plan = _launch.row_plan(n, d)
        assert plan.grid * plan.rows >= n and plan.block_d % 4 == 0
        assert plan.single == (plan.block_d >= d)


def test_status_line():
    assert isinstance(tk.triton_status(), str) and tk.triton_status()


def test_imports_without_triton_and_without_zoo():
    code = textwrap.dedent(
        """
        import sys
        sys.modules["triton"] = None  # make `import triton` fail
        import torch
        import triton_kernels as tk
        assert not tk._dispatch.HAS_TRITON and "zoo" not in sys.modules
        x = torch.randn(2, 5)
        assert torch.allclose(tk.noisy_softmax(x), torch.softmax(x, -1))
        z, kl = tk.gaussian_latent(x, x, seed=0)
        with tk.use_backend("triton"):
            try:
                tk.noisy_softmax(x)
            except RuntimeError as e:
                assert "cannot be imported" in str(e)
            else:
                raise AssertionError("forcing Triton without triton must fail")
        print("ok", tk.triton_status())
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in (_dispatch.ENV_VAR,)}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("ok unavailable")


def test_benchmark_smoke(tmp_path, monkeypatch):
    import importlib
    import json
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))  # benchmarks/ is not installed
    bench = importlib.import_module("benchmarks.kernels")

    out = tmp_path / "bench.json"
    report = bench.main(["--quick", "--no-compile", "--ops", "langevin_step", "--out", str(out)])
    assert json.loads(out.read_text()) == report
    # A figure, not a timing target: on a loaded CPU the quick sizes can round to 0.0 GB/s.
    assert report["copy_gbps"] >= 0 and report["machine"]["torch"] == torch.__version__
    variants = {r["variant"] for r in report["results"] if "error" not in r}
    assert "eager" in variants
    if _dispatch.INTERPRETER:
        assert "triton" in variants
    assert {r["pass"] for r in report["results"]} == {"fwd", "fwd+bwd"}
