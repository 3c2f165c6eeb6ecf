"""Compiled kernels on a GPU at the benchmark sizes (REFERENCES.md: 64M elements, 2048×50277 logits)."""

from __future__ import annotations

import pytest
import torch

import triton_kernels as tk
from triton_kernels import _dispatch
from triton_kernels.reference.gaussian_latent import gaussian_latent_reference
from triton_kernels.reference.langevin import langevin_step_reference
from triton_kernels.reference.noisy_softmax import noisy_softmax_reference
from triton_kernels.reference.simplex_descent import simplex_descent_reference
from triton_kernels.reference.token_entropy import token_entropy_reference

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
    pytest.mark.skipif(_dispatch.INTERPRETER, reason="TRITON_INTERPRET=1 is set; these test the compiled kernels"),
]

N_ELEMS = 1 << 26  # 64M
ELEM_SHAPE = (16384, 4096)  # langevin_step
LATENT_SHAPE = (131072, 512)  # gaussian_latent, 64M elements
LOGITS_SHAPE = (2048, 50277)  # noisy_softmax, simplex_descent, token_entropy
DTYPES = [torch.float32, torch.bfloat16]
TOL = {torch.float32: dict(atol=1e-5, rtol=1e-5), torch.bfloat16: dict(atol=2e-2, rtol=2e-2)}


def _close(a, b, **tol):
    torch.testing.assert_close(a.float(), b.float(), **tol)


@pytest.fixture(autouse=True)
def _free_memory():
    yield
    torch.cuda.empty_cache()


@pytest.mark.parametrize("dtype", DTYPES)
def test_langevin_step(dtype):
    gen = torch.Generator(device="cuda").manual_seed(0)
    y = torch.randn(ELEM_SHAPE, generator=gen, device="cuda").to(dtype)
    g = torch.randn(ELEM_SHAPE, generator=gen, device="cuda").to(dtype)
    alpha = torch.rand(ELEM_SHAPE[0], device="cuda")
    out = tk.langevin_step(y, g, alpha, clip=1.0)
    _close(out, langevin_step_reference(y, g, alpha, clip=1.0), **TOL[dtype])
    noisy = tk.langevin_step(y, g, alpha, noise_scale=0.5, clip=1.0, seed=3)
    eps = ((noisy.float() - out.float()) / 0.5).flatten()
    if dtype == torch.float32:
        assert abs(eps.mean().item()) < 1e-3 and abs(eps.std().item() - 1) < 1e-3
    assert torch.equal(noisy, tk.langevin_step(y, g, alpha, noise_scale=0.5, clip=1.0, seed=3))


def test_langevin_step_backward():
    y = torch.randn(ELEM_SHAPE, device="cuda", requires_grad=True)
    g = torch.randn(ELEM_SHAPE, device="cuda", requires_grad=True)
    alpha = torch.rand(ELEM_SHAPE[0], 1, device="cuda", requires_grad=True)
    w = torch.randn(ELEM_SHAPE, device="cuda")
    got = torch.autograd.grad((tk.langevin_step(y, g, alpha, clip=1.0) * w).sum(), [y, g, alpha])
    want = torch.autograd.grad((langevin_step_reference(y, g, alpha, clip=1.0) * w).sum(), [y, g, alpha])
    for a, b in zip(got, want):
        _close(a, b, atol=1e-3, rtol=1e-4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_noisy_softmax(dtype):
    x = (3 * torch.randn(LOGITS_SHAPE, device="cuda")).to(dtype)
    tol = dict(atol=1e-7, rtol=1e-4) if dtype == torch.float32 else dict(atol=1e-6, rtol=2e-2)
    _close(tk.noisy_softmax(x), noisy_softmax_reference(x), **tol)
    p = tk.noisy_softmax(x, noise_scale=1.0, seed=1)
    _close(p.float().sum(-1), torch.ones(LOGITS_SHAPE[0], device="cuda"), atol=1e-2, rtol=0)
    assert torch.equal(p, tk.noisy_softmax(x, noise_scale=1.0, seed=1))


def test_noisy_softmax_backward():
    x = (3 * torch.randn(LOGITS_SHAPE, device="cuda")).requires_grad_()
    w = torch.randn(LOGITS_SHAPE, device="cuda")
    (got,) = torch.autograd.grad((tk.noisy_softmax(x) * w).sum(), [x])
    (want,) = torch.autograd.grad((noisy_softmax_reference(x) * w).sum(), [x])
    _close(got, want, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_simplex_descent(dtype):
    logits = torch.randn(LOGITS_SHAPE, device="cuda")
    probs = torch.softmax(logits, -1).to(dtype)
    grad = torch.randn(LOGITS_SHAPE, device="cuda").to(dtype)
    logits = logits.to(dtype)
    alpha = 500 * torch.rand(LOGITS_SHAPE[0], device="cuda")
    out = tk.simplex_descent(logits, probs, grad, alpha, clip=1e-2)
    _close(out, simplex_descent_reference(logits, probs, grad, alpha, clip=1e-2), **TOL[dtype])


def test_simplex_descent_backward():
    logits = torch.randn(LOGITS_SHAPE, device="cuda")
    probs = torch.softmax(logits, -1).requires_grad_()
    grad = torch.randn(LOGITS_SHAPE, device="cuda", requires_grad=True)
    logits.requires_grad_()
    alpha = torch.full((LOGITS_SHAPE[0],), 3.0, device="cuda", requires_grad=True)
    w = torch.randn(LOGITS_SHAPE, device="cuda")
    ins = [logits, probs, grad, alpha]
    got = torch.autograd.grad((tk.simplex_descent(*ins, clip=1e-3) * w).sum(), ins)
    want = torch.autograd.grad((simplex_descent_reference(*ins, clip=1e-3) * w).sum(), ins)
    for a, b in zip(got, want):
        _close(a, b, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gaussian_latent(dtype):
    mq, lq, mp, lp = (torch.randn(LATENT_SHAPE, device="cuda").to(dtype) for _ in range(4))
    z, kl = tk.gaussian_latent(mq, lq, mp, lp, seed=5)
    _, kl_ref = gaussian_latent_reference(mq, lq, mp, lp, seed=5)
    tol = dict(atol=1e-3, rtol=1e-5) if dtype == torch.float32 else dict(atol=1.0, rtol=2e-2)
    _close(kl, kl_ref, **tol)
    eps = ((z.float() - mq.float()) / (0.5 * lq.float()).exp()).flatten()
    assert abs(eps.mean().item()) < 5e-3 and abs(eps.std().item() - 1) < 2e-2


def test_gaussian_latent_backward():
    mq, lq, mp, lp = (torch.randn(LATENT_SHAPE, device="cuda", requires_grad=True) for _ in range(4))
    z, kl = tk.gaussian_latent(mq, lq, mp, lp, seed=5, balance=0.8)
    wz = torch.randn(LATENT_SHAPE, device="cuda")
    wk = torch.randn(LATENT_SHAPE[0], device="cuda")
    got = torch.autograd.grad((z * wz).sum() + (kl * wk).sum(), [mq, lq, mp, lp])
    _, kl_ref = gaussian_latent_reference(mq, lq, mp, lp, seed=5, balance=0.8)
    want = list(torch.autograd.grad((kl_ref * wk).sum(), [mq, lq, mp, lp]))
    want[0] = want[0] + wz  # ∂z/∂μq = 1
    want[1] = want[1] + 0.5 * wz * (z - mq).detach()  # ∂z/∂logvar_q = ½·σ·ε from the forward's ε
    for a, b in zip(got, want):
        _close(a, b, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_token_entropy(dtype):
    x = (3 * torch.randn(LOGITS_SHAPE, device="cuda")).to(dtype).requires_grad_()
    tokens = torch.randint(0, LOGITS_SHAPE[1], LOGITS_SHAPE[:1], device="cuda")
    w_h, w_lp = torch.randn(2, LOGITS_SHAPE[0], device="cuda")
    h, lp = tk.token_entropy(x, tokens)
    h_ref, lp_ref = token_entropy_reference(x.float(), tokens)
    _close(h, h_ref, atol=1e-4, rtol=1e-5)
    _close(lp, lp_ref, atol=1e-4, rtol=1e-5)
    (got,) = torch.autograd.grad((h * w_h + lp * w_lp).sum(), [x])
    (want,) = torch.autograd.grad((h_ref * w_h + lp_ref * w_lp).sum(), [x])
    _close(got, want, **(dict(atol=1e-6, rtol=1e-4) if dtype == torch.float32 else dict(atol=1e-3, rtol=2e-2)))


def test_split_rows_with_hundreds_of_segments_are_exact_and_repeatable():
    # 489–977 segments a row (by the autotuner's width): the partials' second stage at its widest, and
    # every program of a row waiting for hundreds of others.
    x = 3 * torch.randn(8, 2_000_003, device="cuda")
    p = tk.noisy_softmax(x, noise_scale=0.5, seed=4)
    _close(p.sum(-1), torch.ones(8, device="cuda"), atol=1e-4, rtol=0)
    for _ in range(3):  # tickets hand segments to different programs each launch; the results do not move
        assert torch.equal(p, tk.noisy_softmax(x, noise_scale=0.5, seed=4))
    _close(tk.noisy_softmax(x), torch.softmax(x, -1), atol=1e-9, rtol=1e-4)
    tokens = torch.zeros(8, dtype=torch.long, device="cuda")
    h, lp = tk.token_entropy(x, tokens)
    h_ref, lp_ref = token_entropy_reference(x, tokens)
    _close(h, h_ref, atol=1e-4, rtol=1e-5)
    _close(lp, lp_ref, atol=1e-4, rtol=1e-5)
