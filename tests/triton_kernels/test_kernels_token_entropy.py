"""token_entropy: the Triton path against the reference (tile and chunked rows), values and gradients."""

from __future__ import annotations

import pytest
import torch

from triton_kernels import token_entropy, token_entropy_reference

SHAPES = [(1,), (5,), (3, 7), (2, 3, 50), (4, 1), (2, 130)]


def _inputs(shape, dev, dtype=torch.float32, seed=0, scale=3.0):
    gen = torch.Generator().manual_seed(seed)
    logits = (scale * torch.randn(shape, generator=gen)).to(dev, dtype)
    tokens = torch.randint(0, shape[-1], shape[:-1], generator=gen).to(dev)
    return logits, tokens


@pytest.mark.parametrize("shape", SHAPES)
def test_values_match_the_reference(forced, kt, tiling, shape):
    logits, tokens = _inputs(shape, forced)
    entropy, log_prob = token_entropy(logits, tokens)
    expected = token_entropy_reference(logits, tokens)
    assert entropy.shape == log_prob.shape == tokens.shape and entropy.dtype == torch.float32
    kt.assert_close(entropy, expected[0], atol=2e-6, rtol=1e-5)
    kt.assert_close(log_prob, expected[1], atol=2e-6, rtol=1e-5)


@pytest.mark.parametrize("shape", [(3, 7), (2, 3, 50), (2, 130)])
def test_gradients_match_the_reference(forced, kt, tiling, shape):
    logits, tokens = _inputs(shape, forced, seed=1)
    gen = torch.Generator().manual_seed(2)
    g_h, g_lp = (torch.randn(shape[:-1], generator=gen).to(forced) for _ in range(2))
    grads = []
    for op in (token_entropy, token_entropy_reference):
        x = logits.clone().requires_grad_(True)
        entropy, log_prob = op(x, tokens)
        ((entropy * g_h).sum() + (log_prob * g_lp).sum()).backward()
        grads.append(x.grad)
    kt.assert_close(grads[0], grads[1], atol=1e-6, rtol=1e-5)


def test_a_gradient_through_one_output_only(forced, kt, tiling):
    logits, tokens = _inputs((4, 33), forced, seed=3)
    for pick in (0, 1):
        grads = []
        for op in (token_entropy, token_entropy_reference):
            x = logits.clone().requires_grad_(True)
            op(x, tokens)[pick].sum().backward()
            grads.append(x.grad)
        kt.assert_close(grads[0], grads[1], atol=1e-6, rtol=1e-5)


def test_masked_and_extreme_logits(forced, kt, tiling):
    logits, tokens = _inputs((4, 40), forced, seed=4)
    logits[0, :20] = float("-inf")  # a chunked row whose first chunks are all −inf
    tokens[0] = 25
    logits[1] += 1e4  # large logits: H must not come from log Z − E[z] in float32
    logits[2, 7] = 1e4  # one certain token: entropy 0
    for got, want in zip(token_entropy(logits, tokens), token_entropy_reference(logits, tokens)):
        kt.assert_close(got, want, atol=1e-5, rtol=1e-5)
    assert float(token_entropy(logits, tokens)[0][2]) == pytest.approx(0.0, abs=1e-6)


def test_vocabulary_width_rows(forced, kt):
    logits, tokens = _inputs((2, 50277), forced, seed=5)
    for got, want in zip(token_entropy(logits, tokens), token_entropy_reference(logits, tokens)):
        kt.assert_close(got, want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_logits_give_float32_figures(forced, kt, tiling, dtype):
    logits, tokens = _inputs((3, 45), forced, dtype)
    entropy, log_prob = token_entropy(logits, tokens)
    assert entropy.dtype == log_prob.dtype == torch.float32
    kt.assert_close(entropy, token_entropy_reference(logits, tokens)[0], atol=1e-5, rtol=1e-5)


def test_bad_tokens_are_refused_with_what_to_do():
    logits = torch.zeros(3, 5)
    with pytest.raises(ValueError, match="token ids must lie in 0..4"):
        token_entropy(logits, torch.tensor([0, 5, 1]))
    with pytest.raises(ValueError, match="tokens has shape \\[2\\] but logits \\[3, 5\\] needs \\[3\\]"):
        token_entropy(logits, torch.tensor([0, 1]))
    with pytest.raises(TypeError, match="tokens must hold integer ids"):
        token_entropy(logits, torch.zeros(3))
