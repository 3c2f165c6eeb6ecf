"""langevin_step: Triton path against the reference, noise, gradients."""

from __future__ import annotations

import warnings

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triton_kernels import _launch, langevin_step
from triton_kernels.reference.langevin import langevin_step_reference

SHAPES = [(1,), (7,), (3, 5), (2, 3, 33), (4, 1), (2, 1030)]


def _inputs(shape, dev, dtype=torch.float32, seed=0):
    gen = torch.Generator().manual_seed(seed)
    y = torch.randn(shape, generator=gen).to(dev, dtype)
    g = (2 * torch.randn(shape, generator=gen)).to(dev, dtype)
    return y, g


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("alpha_kind", ["float", "scalar", "rows", "rows1"])
@pytest.mark.parametrize("clip", [None, 0.7])
def test_parity_without_noise(forced, kt, shape, alpha_kind, clip):
    y, g = _inputs(shape, forced)
    lead = shape[:-1]
    alpha = {
        "float": 0.37,
        "scalar": torch.tensor(0.37, device=forced),
        "rows": torch.rand(lead, device=forced) if lead else torch.tensor(0.5, device=forced),
        "rows1": torch.rand(lead + (1,), device=forced),
    }[alpha_kind]
    out = langevin_step(y, g, alpha, clip=clip)
    ref = langevin_step_reference(y, g, alpha, clip=clip)
    assert out.dtype == y.dtype and out.shape == y.shape
    kt.assert_close(out, ref, atol=1e-6, rtol=1e-6)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    shape=st.lists(st.integers(1, 70), min_size=1, max_size=3).map(tuple),
    alpha=st.floats(0.0, 10.0),
    clip=st.one_of(st.none(), st.floats(0.01, 5.0)),
)
def test_parity_property(forced, kt, shape, alpha, clip):
    y, g = _inputs(shape, forced)
    kt.assert_close(
        langevin_step(y, g, alpha, clip=clip), langevin_step_reference(y, g, alpha, clip=clip), atol=1e-5, rtol=1e-6
    )


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_parity_half_precision(forced, kt, dtype):
    y, g = _inputs((3, 37), forced, dtype)
    out = langevin_step(y, g, 0.25, clip=1.5)
    assert out.dtype == dtype
    kt.assert_close(out, langevin_step_reference(y, g, 0.25, clip=1.5), atol=2e-2, rtol=2e-2)


def test_non_contiguous_inputs(forced, kt):
    y, g = _inputs((4, 9), forced)
    alpha = torch.rand(4, 9, device=forced)[:, 0]  # a strided per-row step size of shape [4]
    out = langevin_step(kt.strided(y), kt.strided(g), alpha, noise_scale=0.3, seed=5)
    assert out.is_contiguous()
    kt.assert_close(out, langevin_step(y, g, alpha.contiguous(), noise_scale=0.3, seed=5), atol=0, rtol=0)


def test_broadcast_step_size_shapes(forced, kt):
    y, g = _inputs((2, 3, 6), forced)
    alpha = torch.rand(3, 1, device=forced)  # broadcasts to [2, 3, 1]
    kt.assert_close(langevin_step(y, g, alpha), y - alpha * g, atol=1e-6, rtol=1e-6)


def test_noise_is_seeded_and_standard_normal(forced):
    y = torch.zeros(64, 1027, device=forced)
    g = torch.zeros_like(y)
    a = langevin_step(y, g, 0.1, noise_scale=2.0, seed=11)
    b = langevin_step(y, g, 0.1, noise_scale=2.0, seed=11)
    c = langevin_step(y, g, 0.1, noise_scale=2.0, seed=12)
    assert torch.equal(a, b)
    assert (a != c).float().mean() > 0.99
    eps = (a / 2.0).double().flatten().cpu()
    assert abs(eps.mean()) < 0.02
    assert abs(eps.std() - 1) < 0.02
    assert abs(((eps - eps.mean()) ** 4).mean() / eps.var() ** 2 - 3) < 0.1  # kurtosis of a normal
    # neighbours share one Philox draw (four normals per call): they must still be uncorrelated
    for lag in (1, 2, 3, 4):
        assert abs(torch.corrcoef(torch.stack([eps[:-lag], eps[lag:]]))[0, 1]) < 0.02


def test_noise_does_not_depend_on_the_tiles(forced, monkeypatch):
    y, g = _inputs((3, 70), forced)
    big = langevin_step(y, g, 0.2, noise_scale=1.0, seed=9)
    for prefix in ("GPU", "INTERP"):
        monkeypatch.setattr(_launch, f"{prefix}_TILE_ELEMS", 16)
    assert _launch.elementwise_tile(3, 70) == (1, 16)
    assert torch.equal(langevin_step(y, g, 0.2, noise_scale=1.0, seed=9), big)


def test_noise_recovered_and_consistent_with_backward(forced, kt):
    y, g = _inputs((5, 21), forced)
    alpha = torch.rand(5, device=forced)
    sigma = 0.3
    out, (dy, dg, da) = kt.grads_of(lambda y, g, a: langevin_step(y, g, a, sigma, clip=1.0, seed=3), [y, g, alpha])
    eps = (out[0] - langevin_step_reference(y, g, alpha, clip=1.0)) / sigma
    assert eps.abs().max() < 6 and eps.std() > 0.5
    # the noise enters additively: the gradient is that of the noiseless step
    _, (ry, rg, ra) = kt.grads_of(lambda y, g, a: langevin_step_reference(y, g, a, clip=1.0), [y, g, alpha])
    for got, want in ((dy, ry), (dg, rg), (da, ra)):
        kt.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_large_seeds(forced):
    y, g = _inputs((2, 9), forced)
    a = langevin_step(y, g, 0.1, noise_scale=1.0, seed=2**40)
    assert torch.equal(a, langevin_step(y, g, 0.1, noise_scale=1.0, seed=2**40))
    assert not torch.equal(a, langevin_step(y, g, 0.1, noise_scale=1.0, seed=2**40 + 1))
    assert not torch.equal(a, langevin_step(y, g, 0.1, noise_scale=1.0, seed=0))


def test_seed_none_follows_torch_manual_seed(forced):
    y, g = _inputs((3, 8), forced)
    torch.manual_seed(7)
    a = langevin_step(y, g, 0.1, noise_scale=1.0)
    torch.manual_seed(7)
    b = langevin_step(y, g, 0.1, noise_scale=1.0)
    c = langevin_step(y, g, 0.1, noise_scale=1.0)
    assert torch.equal(a, b) and not torch.equal(b, c)


@pytest.mark.parametrize("alpha_kind", ["float", "scalar", "rows", "rows1"])
def test_gradients_match_reference(forced, kt, tiling, alpha_kind):
    y, g = _inputs((3, 4, 50), forced)
    alpha = {
        "float": 0.4,
        "scalar": torch.tensor(0.4, device=forced),
        "rows": torch.rand(3, 4, device=forced),
        "rows1": torch.rand(4, 1, device=forced),
    }[alpha_kind]
    inputs = [y, g] + ([alpha] if isinstance(alpha, torch.Tensor) else [])

    def run(fn):
        return kt.grads_of(lambda y, g, *a: fn(y, g, a[0] if a else alpha, clip=0.9), inputs)

    (out,), got = run(langevin_step)
    (ref,), want = run(langevin_step_reference)
    kt.assert_close(out, ref, atol=1e-6, rtol=1e-6)
    for a, b in zip(got, want):
        assert a.shape == b.shape
        kt.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_gradcheck_triton_path(forced):
    gen = torch.Generator().manual_seed(3)
    y = torch.randn(3, 6, generator=gen).to(forced)
    g = (torch.rand(3, 6, generator=gen) * 3 - 1.5).to(forced)
    g = torch.where((g.abs() - 0.8).abs() < 0.05, g * 0.5, g)  # keep finite differences off the clamp's kinks
    alpha = torch.rand(3, generator=gen).to(forced)
    fn = lambda y, g, a: langevin_step(y, g, a, noise_scale=0.2, clip=0.8, seed=9)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # float32 inputs (the kernels have no float64)
        assert torch.autograd.gradcheck(
            fn, [t.requires_grad_() for t in (y, g, alpha)], eps=1e-3, atol=2e-3, rtol=2e-3, fast_mode=True
        )


def test_gradcheck_reference_float64():
    gen = torch.Generator().manual_seed(4)
    y = torch.randn(2, 3, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    g = torch.randn(2, 3, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    alpha = torch.rand(2, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    fn = lambda y, g, a: langevin_step_reference(y, g, a, noise_scale=0.5, clip=3.0, seed=1)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (y, g, alpha))


def test_empty_and_bad_inputs(forced):
    e = torch.empty(0, 5, device=forced)
    assert langevin_step(e, e, 0.1, noise_scale=1.0, seed=0).shape == (0, 5)
    y, g = _inputs((3, 4), forced)
    with pytest.raises(ValueError, match="shape"):
        langevin_step(y, g[:, :3], 0.1)
    with pytest.raises(ValueError, match="per row"):
        langevin_step(y, g, torch.rand(3, 4, device=forced))
    with pytest.raises(ValueError, match="noise_scale"):
        langevin_step(y, g, 0.1, noise_scale=-1.0)
    with pytest.raises(ValueError, match="clip"):
        langevin_step(y, g, 0.1, clip=0.0)
    with pytest.raises(TypeError, match="float32, bfloat16 or float16"):
        langevin_step(y.double(), g.double(), 0.1)
    with pytest.raises(TypeError, match="seed"):
        langevin_step(y, g, 0.1, noise_scale=1.0, seed=1.5)
