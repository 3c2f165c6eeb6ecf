"""noisy_softmax: Triton path against the reference (tile and chunked rows), noise, gradients."""

from __future__ import annotations

import warnings

import pytest
import torch

from triton_kernels import _launch, _split, noisy_softmax
from triton_kernels.reference.noisy_softmax import noisy_softmax_reference

# the package re-exports the function under the module's name, so fetch the module itself

SHAPES = [(1,), (5,), (3, 7), (2, 3, 50), (4, 1), (2, 130)]


def _logits(shape, dev, dtype=torch.float32, seed=0, scale=3.0):
    gen = torch.Generator().manual_seed(seed)
    return (scale * torch.randn(shape, generator=gen)).to(dev, dtype)


@pytest.mark.parametrize("shape", SHAPES)
def test_parity_without_noise(forced, kt, tiling, shape):
    x = _logits(shape, forced)
    p = noisy_softmax(x)
    assert p.shape == x.shape and p.dtype == x.dtype
    kt.assert_close(p, torch.softmax(x, -1), atol=1e-6, rtol=1e-5)
    kt.assert_close(p, noisy_softmax_reference(x), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_parity_half_precision(forced, kt, tiling, dtype):
    x = _logits((3, 45), forced, dtype)
    p = noisy_softmax(x)
    assert p.dtype == dtype
    kt.assert_close(p, noisy_softmax_reference(x), atol=1e-2, rtol=2e-2)


def test_masked_logits_and_extremes(forced, kt, tiling):
    x = _logits((3, 40), forced)
    x[0, :20] = float("-inf")  # a chunked row whose first chunks are all −inf
    x[1, 5] = 1e4
    x[2] = -1e4
    kt.assert_close(noisy_softmax(x), torch.softmax(x, -1), atol=1e-6, rtol=1e-5)


def test_vocabulary_width_row(forced, kt):
    x = _logits((2, 50277), forced, seed=1)
    kt.assert_close(noisy_softmax(x), torch.softmax(x, -1), atol=1e-7, rtol=1e-4)
    p = noisy_softmax(x, noise_scale=0.5, seed=4)
    kt.assert_close(p.sum(-1), torch.ones(2), atol=1e-4, rtol=0)


def test_non_contiguous_input(forced, kt):
    x = _logits((4, 11), forced)
    kt.assert_close(noisy_softmax(kt.strided(x), 0.5, seed=2), noisy_softmax(x, 0.5, seed=2), atol=0, rtol=0)


def _recovered_noise(p, x, sigma):
    """log p = x + σε − logsumexp: ε up to a per-row constant, which the row mean removes."""
    r = (p.double().log() - x.double()) / sigma
    return r - r.mean(-1, keepdim=True)


def test_noise_seeded_and_standard_normal(forced):
    x = _logits((48, 61), forced, scale=0.5)
    a = noisy_softmax(x, noise_scale=0.7, seed=21)
    assert torch.equal(a, noisy_softmax(x, noise_scale=0.7, seed=21))
    assert not torch.equal(a, noisy_softmax(x, noise_scale=0.7, seed=22))
    eps = _recovered_noise(a, x, 0.7).cpu()
    n = eps.shape[-1]
    centred_var = (n - 1) / n  # variance of ε − mean(ε) over a row of n independent N(0, 1)
    assert abs(eps.var() - centred_var) < 0.04
    # rows draw different noise (a per-row counter offset), including rows whose width is not a multiple of 4
    assert abs(torch.corrcoef(torch.stack([eps[0], eps[1]]))[0, 1]) < 0.35
    assert (eps[0] - eps[1]).abs().max() > 0.1


def test_split_rows_draw_the_same_noise_as_tiles(forced, kt, monkeypatch):
    x = _logits((3, 45), forced)
    tile = noisy_softmax(x, 0.8, seed=6)
    monkeypatch.setattr(_launch, "INTERP_TILE_MAX", 16)
    monkeypatch.setattr(_launch, "GPU_TILE_MAX", 16)
    monkeypatch.setattr(_split, "INTERP_SPLIT_BLOCK", 16)
    kt.assert_close(noisy_softmax(x, 0.8, seed=6), tile, atol=1e-7, rtol=1e-5)


def test_seed_none_follows_torch_manual_seed(forced):
    x = _logits((2, 9), forced)
    torch.manual_seed(3)
    a = noisy_softmax(x, 1.0)
    torch.manual_seed(3)
    assert torch.equal(a, noisy_softmax(x, 1.0))


@pytest.mark.parametrize("sigma", [0.0, 0.4])
def test_gradients_match_softmax_vjp(forced, kt, tiling, sigma):
    x = _logits((3, 2, 37), forced)
    (p,), (dx,) = kt.grads_of(lambda x: noisy_softmax(x, sigma, seed=8), [x])
    # with the noise held fixed the VJP is that of a plain softmax at the output p
    gen = torch.Generator().manual_seed(1234)
    w = torch.randn(p.shape, generator=gen).to(forced)
    want = p * (w - (p * w).sum(-1, keepdim=True))
    kt.assert_close(dx, want, atol=1e-6, rtol=1e-5)
    if sigma == 0.0:
        _, (ref,) = kt.grads_of(lambda x: noisy_softmax_reference(x), [x])
        kt.assert_close(dx, ref, atol=1e-6, rtol=1e-5)


def test_gradcheck_triton_path(forced, tiling):
    x = _logits((2, 19), forced, scale=1.0).requires_grad_()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert torch.autograd.gradcheck(
            lambda x: noisy_softmax(x, 0.3, seed=5), [x], eps=1e-3, atol=1e-3, rtol=1e-2, fast_mode=True
        )


def test_gradcheck_reference_float64():
    x = torch.randn(2, 3, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: noisy_softmax_reference(x, 0.5, seed=1), (x,))


def test_empty_and_bad_inputs(forced):
    assert noisy_softmax(torch.empty(0, 3, device=forced), 1.0, seed=0).shape == (0, 3)
    with pytest.raises(ValueError, match="at least one dimension"):
        noisy_softmax(torch.tensor(1.0, device=forced))
    with pytest.raises(TypeError, match="floating-point"):
        noisy_softmax(torch.ones(3, dtype=torch.int64, device=forced))
    with pytest.raises(TypeError, match="float32, bfloat16 or float16"):
        noisy_softmax(torch.ones(3, dtype=torch.float64, device=forced))
    with pytest.raises(TypeError, match="noise_scale"):
        noisy_softmax(torch.ones(3, device=forced), noise_scale="0.1")
