"""Every kernel compiles for a Hopper GPU (sm_90) without one: Triton lowers to PTX and cubin on the CPU.

The interpreter accepts code that the compiler rejects (types of loop-carried values, constexpr
branches, layouts), so this compiles each kernel ahead of time in a fresh process without
``TRITON_INTERPRET`` — the only check of the compiled path on a machine without a GPU. Where Triton ships
``cuobjdump``, it also checks that no build spills registers to memory (more than a small stack frame): the
row ops are meant to hold their tiles and segments on chip.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from triton_kernels import _dispatch

SCRIPT = textwrap.dedent(
    """
    import importlib
    import os
    import re
    import subprocess
    import tempfile

    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    from triton_kernels import _dispatch, _split
    assert not _dispatch.INTERPRETER

    FP32_PTRS = {"alpha_ptr", "s_ptr", "dalpha_ptr", "part_ptr", "h_ptr", "lp_ptr", "lse_ptr", "gh_ptr", "glp_ptr"}
    OTHER_PTRS = {"sync_ptr": "*i32", "t_ptr": "*i64"}
    INTS = {"N": "i32", "D": "i32", "G": "i32", "seed": "i64"}

    def signature(jf, dtype, consts):
        sig = {}
        for name in jf.arg_names:
            if name in consts:
                sig[name] = "constexpr"
            elif name in OTHER_PTRS:
                sig[name] = OTHER_PTRS[name]
            elif name.endswith("_ptr"):
                sig[name] = "*fp32" if name in FP32_PTRS else "*" + dtype
            else:
                sig[name] = INTS.get(name, "fp32")
        return sig

    def mod(name):
        return importlib.import_module("triton_kernels." + name)

    lang, soft, simp = mod("langevin"), mod("noisy_softmax"), mod("simplex_descent")
    gauss, ent = mod("gaussian_latent"), mod("token_entropy")
    SPLIT = dict(SEG_CAP=32, BLOCK_D=4096)  # a 50,277-wide row in 4,096-wide segments, 16 per thread at 8 warps
    CASES = [
        (lang._langevin_fwd_kernel, dict(ALPHA_MODE=2, HAS_NOISE=True, HAS_CLIP=True, ROWS=1, BLOCK_D=4096), 16),
        (lang._langevin_bwd_kernel, dict(ALPHA_MODE=1, HAS_CLIP=True, NEED_DG=True, NEED_DALPHA=True, ROWS=2,
                                          BLOCK_D=2048), 8),
        (soft._softmax_fwd_tile_kernel, dict(HAS_NOISE=True, ROWS=1, BLOCK_D=8192), 16),
        (soft._softmax_fwd_split_kernel, dict(HAS_NOISE=True, STAGE=0, **SPLIT), 8),
        (soft._softmax_bwd_tile_kernel, dict(ROWS=4, BLOCK_D=1024), 8),
        (soft._softmax_bwd_split_kernel, dict(STAGE=0, **SPLIT), 8),
        (simp._simplex_fwd_tile_kernel, dict(ALPHA_MODE=0, HAS_CLIP=True, HAS_NOISE=True, ROWS=2, BLOCK_D=2048), 8),
        (simp._simplex_fwd_split_kernel, dict(ALPHA_MODE=2, HAS_CLIP=True, HAS_NOISE=True, STAGE=0, **SPLIT), 8),
        (simp._simplex_bwd_tile_kernel, dict(ALPHA_MODE=2, HAS_CLIP=True, NEED_DPG=True, NEED_DALPHA=True,
                                              ROWS=2, BLOCK_D=2048), 8),
        (simp._simplex_bwd_split_kernel, dict(ALPHA_MODE=1, HAS_CLIP=True, NEED_DPG=True, NEED_DALPHA=True,
                                               STAGE=0, **SPLIT), 8),
        (gauss._gaussian_fwd_kernel, dict(HAS_P=True, ROWS=4, BLOCK_D=512), 16),
        (gauss._gaussian_bwd_kernel, dict(HAS_P=True, HAS_DZ=True, HAS_DK=True, NEED_Q=True, NEED_P=True,
                                           ROWS=4, BLOCK_D=512), 16),
        (ent._entropy_fwd_tile_kernel, dict(ROWS=1, BLOCK_D=8192), 16),
        (ent._entropy_fwd_split_kernel, SPLIT, 8),
        (ent._entropy_bwd_tile_kernel, dict(ROWS=1, BLOCK_D=4096), 8),
    ]
    # every autotune configuration of the split-row kernels (rows wider than a tile), float32
    split = _split.configs()
    CASES += [(fn, dict(consts, BLOCK_D=c.kwargs["BLOCK_D"]), c.num_warps, ("fp32",))
              for fn, consts, _ in CASES if "SEG_CAP" in consts for c in split]
    # Triton's lowering of the noise draw (interleaved Philox outputs) can leave a small local array (28
    # bytes seen); a held tile or segment that spills takes kilobytes.
    SMALL_FRAME = 32
    target = GPUTarget("cuda", 90, 32)
    cuobjdump = os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin", "cuobjdump")
    spills = []
    done = 0
    for fn, consts, warps, *dtypes in CASES:
        for dtype in dtypes[0] if dtypes else ("fp32", "bf16"):
            jf = triton.jit(fn)
            kernel = triton.compile(ASTSource(jf, signature(jf, dtype, consts), consts), target=target,
                                    options={"num_warps": warps})
            assert kernel.asm["cubin"], fn.__name__
            done += 1
            if os.path.exists(cuobjdump):  # STACK or LOCAL memory of a build: spilled registers, among others
                with tempfile.NamedTemporaryFile(suffix=".cubin", delete=False) as f:
                    f.write(kernel.asm["cubin"])
                usage = subprocess.run([cuobjdump, "-res-usage", f.name], capture_output=True, text=True).stdout
                os.unlink(f.name)
                frames = [int(n) for n in re.findall(r"(?:STACK|LOCAL):([0-9]+)", usage)]
                if not frames or max(frames) > SMALL_FRAME:
                    spills.append((fn.__name__, dtype, consts.get("BLOCK_D"), warps, usage.strip()[-160:]))
    assert not spills, spills
    print("compiled", done)
    """
)


@pytest.mark.skipif(not _dispatch.HAS_TRITON, reason="triton is not importable")
def test_every_kernel_compiles_for_sm90(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("TRITON_INTERPRET", _dispatch.ENV_VAR)}
    env["TRITON_CACHE_DIR"] = str(tmp_path / "triton-cache")  # compile for real, not from a warm cache
    env.setdefault("TRITON_DEFAULT_FP_FUSION", "1")
    res = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=600)
    if res.returncode != 0 and "ImportError" in res.stderr and "ASTSource" in res.stderr:
        pytest.skip("this triton has no triton.compiler.ASTSource (ahead-of-time compile API moved)")
    assert res.returncode == 0, res.stderr[-6000:]
    assert res.stdout.strip() == "compiled 50"
