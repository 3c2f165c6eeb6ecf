"""simplex_descent: Triton path against the reference (tile and chunked rows) and every gradient."""

from __future__ import annotations

import warnings

import pytest
import torch

from triton_kernels import noisy_softmax, simplex_descent
from triton_kernels.reference.noisy_softmax import noisy_softmax_reference
from triton_kernels.reference.simplex_descent import simplex_descent_reference

SHAPES = [(1,), (6,), (3, 7), (2, 3, 50), (4, 1), (2, 130)]


def _inputs(shape, dev, dtype=torch.float32, seed=0):
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(shape, generator=gen)
    probs = torch.softmax(torch.randn(shape, generator=gen), -1)
    grad = torch.randn(shape, generator=gen)
    return [t.to(dev, dtype) for t in (logits, probs, grad)]


def _alpha(kind, lead, dev):
    gen = torch.Generator().manual_seed(5)
    return {
        "float": 2.5,
        "scalar": torch.tensor(2.5, device=dev),
        "rows": (torch.rand(lead, generator=gen) * 3).to(dev) if lead else torch.tensor(1.5, device=dev),
        "rows1": (torch.rand(lead + (1,), generator=gen) * 3).to(dev),
    }[kind]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("alpha_kind", ["float", "rows"])
@pytest.mark.parametrize("clip", [None, 0.03])
def test_parity(forced, kt, tiling, shape, alpha_kind, clip):
    logits, probs, grad = _inputs(shape, forced)
    alpha = _alpha(alpha_kind, shape[:-1], forced)
    out = simplex_descent(logits, probs, grad, alpha, clip=clip)
    assert out.shape == logits.shape and out.dtype == logits.dtype
    kt.assert_close(out, simplex_descent_reference(logits, probs, grad, alpha, clip=clip), atol=1e-6, rtol=1e-5)


def test_is_a_descent_step_through_the_softmax(forced, kt):
    """Without a clamp the step is logits − α·∂E/∂logits for E(softmax(logits))."""
    logits, _, _ = _inputs((3, 10), forced)
    target = torch.softmax(torch.randn(3, 10), -1).to(forced)
    x = logits.clone().requires_grad_()
    p = torch.softmax(x, -1)
    energy = ((p - target) ** 2).sum()
    (dE_dp,) = torch.autograd.grad(energy, p, retain_graph=True)
    (dE_dx,) = torch.autograd.grad(energy, x)
    out = simplex_descent(logits, p.detach(), dE_dp, 0.5)
    kt.assert_close(out, logits - 0.5 * dE_dx, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_parity_half_precision(forced, kt, dtype):
    logits, probs, grad = _inputs((3, 41), forced, dtype)
    out = simplex_descent(logits, probs, grad, 3.0, clip=0.05)
    assert out.dtype == dtype
    kt.assert_close(out, simplex_descent_reference(logits, probs, grad, 3.0, clip=0.05), atol=2e-2, rtol=2e-2)


def test_non_contiguous_inputs(forced, kt):
    logits, probs, grad = _inputs((4, 9), forced)
    out = simplex_descent(*(kt.strided(t) for t in (logits, probs, grad)), 1.5, clip=0.1)
    kt.assert_close(out, simplex_descent(logits, probs, grad, 1.5, clip=0.1), atol=0, rtol=0)


@pytest.mark.parametrize("alpha_kind", ["float", "scalar", "rows", "rows1"])
@pytest.mark.parametrize("clip", [None, 0.03])
def test_gradients_match_reference(forced, kt, tiling, alpha_kind, clip):
    logits, probs, grad = _inputs((3, 2, 45), forced)
    alpha = _alpha(alpha_kind, (3, 2), forced)
    inputs = [logits, probs, grad] + ([alpha] if isinstance(alpha, torch.Tensor) else [])

    def run(fn):
        return kt.grads_of(lambda l, p, g, *a: fn(l, p, g, a[0] if a else alpha, clip=clip), inputs)

    (out,), got = run(simplex_descent)
    (ref,), want = run(simplex_descent_reference)
    kt.assert_close(out, ref, atol=1e-6, rtol=1e-5)
    assert len(got) == len(want) == len(inputs)
    for a, b in zip(got, want):
        assert a.shape == b.shape
        kt.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_gradients_of_a_subset_of_inputs(forced, kt):
    logits, probs, grad = _inputs((2, 13), forced)
    alpha = torch.rand(2, device=forced).requires_grad_()
    out = simplex_descent(logits, probs, grad, alpha)
    (da,) = torch.autograd.grad(out.sum(), [alpha])
    ref = simplex_descent_reference(logits, probs, grad, alpha)
    (want,) = torch.autograd.grad(ref.sum(), [alpha])
    kt.assert_close(da, want, atol=1e-5, rtol=1e-5)


def _clip_between(v: torch.Tensor) -> float:
    """A clamp level in the widest gap between |v| values, so finite differences never cross it."""
    a = v.abs().flatten().sort().values
    gaps = a[1:] - a[:-1]
    i = int(gaps[len(a) // 4 :].argmax()) + len(a) // 4
    return float((a[i] + a[i + 1]) / 2)


def test_gradcheck_triton_path(forced, tiling):
    logits, probs, grad = _inputs((2, 19), forced, seed=3)
    v = probs * (grad - (probs * grad).sum(-1, keepdim=True))
    clip = _clip_between(v)
    alpha = torch.tensor([1.5, 2.0], device=forced)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert torch.autograd.gradcheck(
            lambda l, p, g, a: simplex_descent(l, p, g, a, clip=clip),
            [t.requires_grad_() for t in (logits, probs, grad, alpha)],
            eps=1e-3,
            atol=2e-3,
            rtol=1e-2,
            fast_mode=True,
        )


def test_gradcheck_reference_float64():
    logits, probs, grad = (t.double().requires_grad_() for t in _inputs((2, 3, 5), "cpu", seed=6))
    alpha = torch.rand(2, 3, 1, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda l, p, g, a: simplex_descent_reference(l, p, g, a), (logits, probs, grad, alpha)
    )


def test_empty_and_bad_inputs(forced):
    e = torch.empty(2, 0, device=forced)
    assert simplex_descent(e, e, e, 1.0).shape == (2, 0)
    logits, probs, grad = _inputs((3, 4), forced)
    with pytest.raises(ValueError, match="shape"):
        simplex_descent(logits, probs[:2], grad, 1.0)
    with pytest.raises(TypeError, match="dtype"):
        simplex_descent(logits, probs.half(), grad, 1.0)
    with pytest.raises(TypeError, match="step_size"):
        simplex_descent(logits, probs, grad, "fast")
    with pytest.raises(TypeError, match="float32, bfloat16 or float16"):
        simplex_descent(logits.double(), probs.double(), grad.double(), 1.0)


# ---- the Langevin form: noise on the moved state, shared with noisy_softmax -------------------------


@pytest.mark.parametrize("shape", [(64, 6), (3, 130)])
def test_noise_is_seeded_standard_normal_and_shared_with_noisy_softmax(forced, tiling, shape):
    logits, probs, grad = _inputs(shape, forced)
    plain = simplex_descent(logits, probs, grad, 0.5)
    noisy = simplex_descent(logits, probs, grad, 0.5, noise_scale=2.0, seed=11)
    assert torch.equal(noisy, simplex_descent(logits, probs, grad, 0.5, noise_scale=2.0, seed=11))
    assert (noisy != simplex_descent(logits, probs, grad, 0.5, noise_scale=2.0, seed=12)).float().mean() > 0.95
    eps = (noisy - plain) / 2.0
    if eps.numel() > 300:
        assert abs(eps.mean()) < 0.2 and abs(eps.std() - 1) < 0.2
    # the same seed draws the same ε as noisy_softmax: p = softmax(y + σε) was taken at the state that moves
    torch.testing.assert_close(
        noisy_softmax(logits, 2.0, seed=11), torch.softmax(logits + 2.0 * eps, -1), atol=1e-5, rtol=1e-4
    )


def test_reference_noise_is_shared_with_noisy_softmax_reference():
    logits, probs, grad = _inputs((5, 9), "cpu")
    eps = (
        simplex_descent_reference(logits, probs, grad, 0.3, noise_scale=0.7, seed=4)
        - simplex_descent_reference(logits, probs, grad, 0.3)
    ) / 0.7
    torch.testing.assert_close(noisy_softmax_reference(logits, 0.7, seed=4), torch.softmax(logits + 0.7 * eps, -1))


def test_noise_carries_no_gradient(forced, kt):
    logits, probs, grad = _inputs((5, 21), forced)
    alpha = torch.rand(5, device=forced)
    _, with_noise = kt.grads_of(
        lambda l, p, g, a: simplex_descent(l, p, g, a, noise_scale=0.5, seed=3), [logits, probs, grad, alpha]
    )
    _, without = kt.grads_of(lambda l, p, g, a: simplex_descent(l, p, g, a), [logits, probs, grad, alpha])
    for got, want in zip(with_noise, without):
        kt.assert_close(got, want, atol=1e-6, rtol=1e-6)
