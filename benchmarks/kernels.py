"""Time the fused kernels against eager PyTorch and torch.compile, as fractions of the copy bandwidth.

    python -m benchmarks.kernels            # full sizes on a GPU (64M elements, 2048×50277 logits)
    python -m benchmarks.kernels --quick    # small sizes: a smoke test, also on CPU

For every op, forward and forward+backward, three variants run in the same process:

* ``triton``  — the public op with ``ZOO_KERNELS=triton`` (on CPU only when the Triton interpreter is
  active, i.e. ``TRITON_INTERPRET=1`` was set before start; interpreter timings say nothing about GPUs);
* ``eager``   — the op's reference math (``triton_kernels.reference.<op>``), noise from ``torch.randn_like``;
* ``compile`` — ``torch.compile`` of that same function (``randn_like`` lets Inductor fuse its RNG).

GB/s counts the bytes an ideal fused kernel must move (each input read once, each output written once;
per-row scalars ignored). ``copy`` is ``dst.copy_(src)`` on the largest buffer, timed the same way. The
results go to ``benchmarks/results/<device>.json`` (``<device>-quick.json`` with ``--quick``) with the
machine and the command.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

import triton_kernels as tk
from benchmarks.machine import default_device, device_name, device_slug
from triton_kernels import _dispatch, _launch
from triton_kernels.reference.gaussian_latent import gaussian_latent_math
from triton_kernels.reference.langevin import langevin_step_math
from triton_kernels.reference.noisy_softmax import noisy_softmax_math
from triton_kernels.reference.simplex_descent import simplex_descent_math
from triton_kernels.reference.token_entropy import token_entropy_math

RESULTS = Path(__file__).resolve().parent / "results"


# ----------------------------------------------------------------------------------------------------
# baselines: the references' math (triton_kernels.reference) with torch.randn_like noise, which
# torch.compile can fuse (the references' seeded torch.Generator would not be)


def randn_like_f32(x: torch.Tensor, sigma: float) -> torch.Tensor | None:
    """Float32 ε shaped like ``x`` from ``torch.randn_like``, or ``None`` (no noise term) when ``sigma`` is 0."""
    return torch.randn_like(x, dtype=torch.float32) if sigma > 0 else None


# ----------------------------------------------------------------------------------------------------
# cases


@dataclass
class Case:
    op: str
    label: str
    shape: tuple
    make: Callable[[torch.device, torch.dtype], list]  # inputs; float tensors that get gradients first
    n_grad: int  # how many leading inputs receive gradients in forward+backward
    triton: Callable
    eager: Callable
    fwd_arrays: int  # ideal traffic, in units of one [*, D] array
    bwd_arrays: int
    deterministic: bool = False  # no noise: the Triton output is checked against eager before timing


def _randn(shape, device, dtype, scale=1.0):
    return (scale * torch.randn(shape, device=device)).to(dtype)


def cases(quick: bool, device: torch.device) -> list[Case]:
    gpu = device.type == "cuda"
    if gpu and not quick:
        elem, latent, logits = (16384, 4096), (131072, 512), (2048, 50277)
    elif gpu:
        elem, latent, logits = (2048, 4096), (16384, 512), (256, 50277)
    elif quick:
        elem, latent, logits = (64, 1024), (256, 256), (4, 50277)
    else:
        elem, latent, logits = (2048, 4096), (16384, 512), (64, 50277)

    def lang_inputs(d, t):
        return [_randn(elem, d, t), _randn(elem, d, t), torch.rand(elem[0], device=d) + 0.5]

    def soft_inputs(d, t):
        return [_randn(logits, d, t, 3.0)]

    def simplex_inputs(d, t):
        x = torch.randn(logits, device=d)
        return [x.to(t), torch.softmax(x, -1).to(t), _randn(logits, d, t), 500 * torch.rand(logits[0], device=d)]

    def entropy_inputs(d, t):
        return [_randn(logits, d, t, 3.0), torch.randint(0, logits[-1], logits[:-1], device=d)]

    def gauss_inputs(d, t):
        return [_randn(latent, d, t), _randn(latent, d, t, 0.5), _randn(latent, d, t), _randn(latent, d, t, 0.5)]

    sigma = 1.0
    return [
        Case(
            "langevin_step",
            "σ=1, α per row",
            elem,
            lang_inputs,
            3,
            triton=lambda y, g, a: tk.langevin_step(y, g, a, sigma),
            eager=lambda y, g, a: langevin_step_math(y, g, a, sigma, None, randn_like_f32(y, sigma)),
            fwd_arrays=3,
            bwd_arrays=3,  # bwd: read dout, g; write dg (dy is dout itself)
        ),
        Case(
            "noisy_softmax",
            "σ=0",
            logits,
            soft_inputs,
            1,
            triton=lambda x: tk.noisy_softmax(x, 0.0),
            eager=lambda x: noisy_softmax_math(x, 0.0, None),
            fwd_arrays=2,
            bwd_arrays=3,
            deterministic=True,
        ),
        Case(
            "noisy_softmax",
            "σ=1",
            logits,
            soft_inputs,
            1,
            triton=lambda x: tk.noisy_softmax(x, sigma),
            eager=lambda x: noisy_softmax_math(x, sigma, randn_like_f32(x, sigma)),
            fwd_arrays=2,
            bwd_arrays=3,
        ),
        Case(
            "simplex_descent",
            "clip=0.01, α per row",
            logits,
            simplex_inputs,
            4,
            triton=lambda l, p, g, a: tk.simplex_descent(l, p, g, a, clip=0.01),
            eager=lambda l, p, g, a: simplex_descent_math(l, p, g, a, 0.01, 0.0, None),
            fwd_arrays=4,
            bwd_arrays=5,
            deterministic=True,  # bwd: read dout, p, g; write dp, dg
        ),
        Case(
            "token_entropy",
            "entropy and log p(token)",
            logits,
            entropy_inputs,
            1,
            triton=lambda x, t: tk.token_entropy(x, t),
            eager=lambda x, t: token_entropy_math(x, t),
            fwd_arrays=1,  # the logits read once; the two outputs are one number per row
            bwd_arrays=2,  # the logits read again, their gradient written
            deterministic=True,
        ),
        Case(
            "gaussian_latent",
            "learned prior, balance=0.8",
            latent,
            gauss_inputs,
            4,
            triton=lambda mq, lq, mp, lp: tk.gaussian_latent(mq, lq, mp, lp, balance=0.8),
            eager=lambda mq, lq, mp, lp: gaussian_latent_math(
                mq, lq, mp, lp, 0.8, torch.randn_like(mq, dtype=torch.float32)
            ),
            fwd_arrays=5,
            bwd_arrays=9,  # fwd: 4 reads + z; bwd: dz, μq, lvq, μp, lvp in, 4 grads out
        ),
    ]


# ----------------------------------------------------------------------------------------------------
# timing


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_ms(fn: Callable[[], object], device: torch.device, budget_s: float, reps: int = 5) -> float:
    """Median milliseconds per call over ``reps`` batches sized to fill about ``budget_s`` in total."""
    fn()
    sync(device)
    t0 = time.perf_counter()
    fn()
    sync(device)
    once = max(time.perf_counter() - t0, 1e-6)
    iters = max(1, min(1000, int(budget_s / reps / once)))
    samples = []
    for _ in range(reps):
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(iters):
                fn()
            end.record()
            torch.cuda.synchronize()
            samples.append(start.elapsed_time(end) / iters)
        else:
            t0 = time.perf_counter()
            for _ in range(iters):
                fn()
            samples.append((time.perf_counter() - t0) * 1e3 / iters)
    return statistics.median(samples)


def copy_gbps(device: torch.device, numel: int, budget_s: float) -> float:
    src = torch.randn(numel, device=device)
    dst = torch.empty_like(src)
    ms = time_ms(lambda: dst.copy_(src), device, budget_s)
    return 2 * src.numel() * src.element_size() / ms / 1e6


def runner(fn: Callable, inputs: list, n_grad: int, backward: bool) -> Callable[[], object]:
    if not backward:
        return lambda: fn(*inputs)
    leaves = [x.detach().clone().requires_grad_(True) for x in inputs[:n_grad]] + inputs[n_grad:]

    def step():
        outs = fn(*leaves)
        outs = outs if isinstance(outs, tuple) else (outs,)
        grads = [torch.ones_like(o) for o in outs]
        return torch.autograd.grad(outs, leaves[:n_grad], grads)

    return step


def max_error(a, b) -> float:
    a = a if isinstance(a, tuple) else (a,)
    b = b if isinstance(b, tuple) else (b,)
    return max(float((x.float() - y.float()).abs().max()) for x, y in zip(a, b))


# ----------------------------------------------------------------------------------------------------
# main


def machine_info(device: torch.device) -> dict:
    info = {
        "device": device_name(device),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "triton": tk.triton_status(),
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info["gpu_memory_gib"] = round(props.total_memory / 2**30, 1)
        info["sm_count"] = props.multi_processor_count
    return info


def tuned_configs() -> dict[str, list[dict]]:
    """The configurations the autotuner chose in this run, per kernel (empty off the GPU)."""
    chosen = {}
    for module_name in ("langevin", "noisy_softmax", "simplex_descent", "gaussian_latent", "token_entropy"):
        module = importlib.import_module(f"triton_kernels.{module_name}")
        for name, kernel in vars(module).items():
            if isinstance(kernel, _launch.Kernel) and kernel.tuned():
                chosen[f"{module_name}.{name}"] = kernel.tuned()
    return chosen


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes and short timings (smoke test)")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    ap.add_argument("--ops", default="", help="comma-separated subset of op names")
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile baseline")
    ap.add_argument("--out", default="", help="JSON path (default benchmarks/results/<device>[-quick].json)")
    return ap


def main(argv: list[str] | None = None) -> dict:
    args = build_parser().parse_args(argv)

    device = default_device()
    dtype = getattr(torch, args.dtype)
    budget = 0.05 if args.quick else 0.5
    run_triton = _dispatch.HAS_TRITON and (
        (device.type == "cuda" and not _dispatch.INTERPRETER) or (device.type == "cpu" and _dispatch.INTERPRETER)
    )
    if device.type == "cpu" and _dispatch.INTERPRETER and not args.quick:
        print("note: the Triton interpreter is slow; use --quick with TRITON_INTERPRET=1", file=sys.stderr)
    torch.manual_seed(0)

    selected = [c for c in cases(args.quick, device) if not args.ops or c.op in args.ops.split(",")]
    copy_numel = max(torch.Size(c.shape).numel() for c in selected) if selected else 1 << 20
    copy = copy_gbps(device, copy_numel, budget)
    print(f"device: {machine_info(device)['device']}   triton: {tk.triton_status()}   dtype: {args.dtype}")
    print(f"copy bandwidth: {copy:,.0f} GB/s ({copy_numel:,} float32 elements)\n")
    header = f"{'op':<16} {'case':<28} {'pass':<8} {'variant':<8} {'ms':>9} {'GB/s':>9} {'×copy':>6} {'vs compile':>10}"
    print(header)
    print("-" * len(header))

    rows = []
    for case in selected:
        inputs = case.make(device, dtype)
        elem_bytes = torch.Size(case.shape).numel() * torch.empty((), dtype=dtype).element_size()
        variants: dict[str, Callable] = {"eager": case.eager}
        if not args.no_compile:
            variants["compile"] = torch.compile(case.eager, dynamic=False)
        if run_triton:

            def forced(*xs, _fn=case.triton):
                with tk.use_backend("triton"):
                    return _fn(*xs)

            variants["triton"] = forced
        err = max_error(variants["triton"](*inputs), case.eager(*inputs)) if run_triton and case.deterministic else None
        for backward in (False, True):
            arrays = case.fwd_arrays + (case.bwd_arrays if backward else 0)
            moved = arrays * elem_bytes
            timings = {}
            for name, fn in variants.items():
                try:
                    ms = time_ms(runner(fn, inputs, case.n_grad, backward), device, budget)
                except Exception as exc:  # e.g. no C++ compiler for torch.compile on CPU
                    print(
                        f"{case.op:<16} {case.label:<28} {'fwd+bwd' if backward else 'fwd':<8} {name:<8} failed: "
                        f"{type(exc).__name__}: {str(exc).splitlines()[0][:80]}"
                    )
                    rows.append(
                        {
                            "op": case.op,
                            "case": case.label,
                            "pass": "fwd+bwd" if backward else "fwd",
                            "variant": name,
                            "error": f"{type(exc).__name__}: {exc}"[:500],
                        }
                    )
                    continue
                timings[name] = ms
            for name, ms in timings.items():
                gbps = moved / ms / 1e6
                vs = timings["compile"] / ms if "compile" in timings else None
                row = {
                    "op": case.op,
                    "case": case.label,
                    "pass": "fwd+bwd" if backward else "fwd",
                    "variant": name,
                    "shape": list(case.shape),
                    "dtype": args.dtype,
                    "ms": round(ms, 4),
                    "ideal_bytes": moved,
                    "gbps": round(gbps, 1),
                    "fraction_of_copy": round(gbps / copy, 3),
                    "speedup_vs_compile": round(vs, 2) if vs is not None else None,
                }
                if name == "triton" and err is not None and not backward:
                    row["max_abs_error_vs_eager"] = err
                rows.append(row)
                print(
                    f"{case.op:<16} {case.label:<28} {row['pass']:<8} {name:<8} {ms:>9.3f} {gbps:>9,.1f} "
                    f"{gbps / copy:>6.2f} {f'{vs:.2f}×' if vs else '':>10}"
                )
        del inputs
        if device.type == "cuda":
            torch.cuda.empty_cache()

    command = " ".join(["python -m benchmarks.kernels", *(sys.argv[1:] if argv is None else argv)])
    report = {
        "command": ("TRITON_INTERPRET=1 " if _dispatch.INTERPRETER else "") + command,
        "machine": machine_info(device),
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "dtype": args.dtype,
        "quick": args.quick,
        "copy_gbps": round(copy, 1),
        "copy_numel": copy_numel,
        "bytes_note": "ideal bytes: every [*, D] input read once and output written once; per-row scalars ignored",
        "baselines_note": "eager/compile run the op's math in PyTorch with torch.randn_like noise",
        "results": rows,
        "autotuned": tuned_configs(),
    }
    out = Path(args.out) if args.out else RESULTS / f"{device_slug(device)}{'-quick' if args.quick else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {out}")
    return report


if __name__ == "__main__":
    main()
