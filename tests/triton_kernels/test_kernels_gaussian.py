"""gaussian_latent: sample and KL against the reference, ε regenerated in backward, KL balancing."""

from __future__ import annotations

import warnings

import pytest
import torch

from triton_kernels import gaussian_latent
from triton_kernels.reference.gaussian_latent import gaussian_latent_reference

SHAPES = [(1,), (6,), (3, 7), (2, 3, 50), (4, 1), (2, 130)]


def _params(shape, dev, dtype=torch.float32, seed=0):
    gen = torch.Generator().manual_seed(seed)
    mq = torch.randn(shape, generator=gen)
    lq = 0.5 * torch.randn(shape, generator=gen)
    mp = torch.randn(shape, generator=gen)
    lp = 0.5 * torch.randn(shape, generator=gen)
    return [t.to(dev, dtype) for t in (mq, lq, mp, lp)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("prior", ["standard", "given"])
def test_kl_parity_and_sample_shape(forced, kt, tiling, shape, prior):
    mq, lq, mp, lp = _params(shape, forced)
    if prior == "standard":
        mp = lp = None
    z, kl = gaussian_latent(mq, lq, mp, lp, seed=3)
    z_ref, kl_ref = gaussian_latent_reference(mq, lq, mp, lp, seed=3)
    assert z.shape == mq.shape and kl.shape == mq.shape[:-1]
    assert z.dtype == kl.dtype == mq.dtype
    kt.assert_close(kl, kl_ref, atol=1e-5, rtol=1e-5)
    assert torch.isfinite(z).all()


def test_kl_against_torch_distributions(forced, kt):
    mq, lq, mp, lp = _params((4, 9), forced)
    _, kl = gaussian_latent(mq, lq, mp, lp, seed=0)
    q = torch.distributions.Normal(mq.cpu(), (0.5 * lq).exp().cpu())
    p = torch.distributions.Normal(mp.cpu(), (0.5 * lp).exp().cpu())
    kt.assert_close(kl, torch.distributions.kl_divergence(q, p).sum(-1), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision(forced, kt, dtype):
    mq, lq, mp, lp = _params((3, 40), forced, dtype)
    z, kl = gaussian_latent(mq, lq, mp, lp, seed=1)
    assert z.dtype == kl.dtype == dtype
    _, kl_ref = gaussian_latent_reference(mq, lq, mp, lp, seed=1)
    kt.assert_close(kl, kl_ref, atol=0.1, rtol=2e-2)
    z32, _ = gaussian_latent(*(t.float() for t in (mq, lq, mp, lp)), seed=1)
    kt.assert_close(z, z32, atol=3e-2, rtol=2e-2)  # same Philox ε in every dtype


def test_sample_is_seeded_and_standard_normal(forced, tiling):
    mq = torch.full((40, 77), 2.0, device=forced)
    lq = torch.full((40, 77), 2 * torch.tensor(0.5).log().item(), device=forced)  # σ = 0.5
    z, _ = gaussian_latent(mq, lq, seed=17)
    assert torch.equal(z, gaussian_latent(mq, lq, seed=17)[0])
    assert (z != gaussian_latent(mq, lq, seed=18)[0]).float().mean() > 0.99
    eps = ((z - 2.0) / 0.5).double().cpu()
    assert abs(eps.mean()) < 0.03 and abs(eps.std() - 1) < 0.03
    assert abs(torch.corrcoef(torch.stack([eps[0], eps[1]]))[0, 1]) < 0.35
    flat = eps.flatten()
    for lag in (1, 2, 3):
        assert abs(torch.corrcoef(torch.stack([flat[:-lag], flat[lag:]]))[0, 1]) < 0.03


def test_seed_none_follows_torch_manual_seed(forced):
    mq, lq, _, _ = _params((2, 5), forced)
    torch.manual_seed(1)
    a, _ = gaussian_latent(mq, lq)
    torch.manual_seed(1)
    b, _ = gaussian_latent(mq, lq)
    assert torch.equal(a, b)


def test_backward_regenerates_the_forward_noise(forced, kt, tiling):
    mq, lq, _, _ = _params((3, 45), forced)
    mq.requires_grad_()
    lq.requires_grad_()
    z, _ = gaussian_latent(mq, lq, seed=23)
    w = torch.randn(z.shape).to(forced)
    dm, dl = torch.autograd.grad((z * w).sum(), [mq, lq])
    kt.assert_close(dm, w, atol=0, rtol=0)
    kt.assert_close(dl, 0.5 * w * (z - mq).detach(), atol=1e-6, rtol=1e-5)  # ½·σ·ε from the same ε


@pytest.mark.parametrize("prior", ["standard", "given"])
@pytest.mark.parametrize("balance", [None, 0.8])
def test_kl_gradients_match_reference(forced, kt, tiling, prior, balance):
    params = _params((3, 2, 37), forced)
    if prior == "standard":
        params = params[:2]

    def run(fn):
        return kt.grads_of(lambda *t: fn(*t, seed=4, balance=balance)[1], params)

    (kl,), got = run(lambda mq, lq, *p, **kw: gaussian_latent(mq, lq, *p, **kw))
    (ref,), want = run(lambda mq, lq, *p, **kw: gaussian_latent_reference(mq, lq, *p, **kw))
    kt.assert_close(kl, ref, atol=1e-5, rtol=1e-5)
    for a, b in zip(got, want):
        kt.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_balance_changes_gradients_not_value(forced, kt):
    mq, lq, mp, lp = (t.requires_grad_() for t in _params((2, 11), forced))
    _, kl_plain = gaussian_latent(mq, lq, mp, lp, seed=0)
    _, kl_bal = gaussian_latent(mq, lq, mp, lp, seed=0, balance=0.8)
    kt.assert_close(kl_bal, kl_plain, atol=0, rtol=0)
    plain = torch.autograd.grad(kl_plain.sum(), [mq, lq, mp, lp])
    bal = torch.autograd.grad(kl_bal.sum(), [mq, lq, mp, lp])
    for i, scale in enumerate((0.2, 0.2, 0.8, 0.8)):  # q gets 1−β, p gets β
        kt.assert_close(bal[i], scale * plain[i], atol=1e-6, rtol=1e-5)


def test_prior_gradient_when_only_the_sample_is_used(forced):
    mq, lq, mp, lp = (t.requires_grad_() for t in _params((2, 6), forced))
    z, _ = gaussian_latent(mq, lq, mp, lp, seed=0)
    gm, gl = torch.autograd.grad(z.sum(), [mp, lp])
    assert torch.equal(gm, torch.zeros_like(gm)) and torch.equal(gl, torch.zeros_like(gl))


def test_gradcheck_triton_path(forced, tiling):
    # no balance here: balancing changes the gradient but not the value, which finite differences see
    params = [t.requires_grad_() for t in _params((2, 21), forced, seed=5)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert torch.autograd.gradcheck(
            lambda *t: gaussian_latent(*t, seed=31),
            params,
            eps=1e-3,
            atol=3e-3,
            rtol=1e-2,
            fast_mode=True,
        )


def test_gradcheck_triton_path_standard_prior(forced):
    mq, lq = (t.requires_grad_() for t in _params((3, 10), forced, seed=6)[:2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert torch.autograd.gradcheck(
            lambda mq, lq: gaussian_latent(mq, lq, seed=2), [mq, lq], eps=1e-3, atol=3e-3, rtol=1e-2, fast_mode=True
        )


def test_gradcheck_reference_float64():
    params = [t.double().requires_grad_() for t in _params((2, 3, 4), "cpu", seed=7)]
    assert torch.autograd.gradcheck(lambda *t: gaussian_latent_reference(*t, seed=2), params)
    assert torch.autograd.gradcheck(lambda mq, lq: gaussian_latent_reference(mq, lq, seed=2), params[:2])


def test_non_contiguous_inputs(forced, kt):
    params = _params((4, 9), forced)
    z, kl = gaussian_latent(*(kt.strided(t) for t in params), seed=6)
    z2, kl2 = gaussian_latent(*params, seed=6)
    kt.assert_close(z, z2, atol=0, rtol=0)
    kt.assert_close(kl, kl2, atol=0, rtol=0)


def test_empty_and_bad_inputs(forced):
    e = torch.empty(0, 4, device=forced)
    z, kl = gaussian_latent(e, e, seed=0)
    assert z.shape == (0, 4) and kl.shape == (0,)
    mq, lq, mp, lp = _params((3, 4), forced)
    with pytest.raises(ValueError, match="both mu_p and logvar_p"):
        gaussian_latent(mq, lq, mp, None)
    with pytest.raises(ValueError, match="balance"):
        gaussian_latent(mq, lq, mp, lp, balance=1.5)
    with pytest.raises(ValueError, match="shape"):
        gaussian_latent(mq, lq, mp[:, :2], lp[:, :2])
    with pytest.raises(ValueError, match="seed"):
        gaussian_latent(mq, lq, seed=-1)
    with pytest.raises(TypeError, match="float32, bfloat16 or float16"):
        gaussian_latent(mq.double(), lq.double())
