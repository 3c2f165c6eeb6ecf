"""What the ops share: one Philox stream of ε (the same numbers from every op for a seed and shape), drawn
and α loaded by device functions written once (``_jit_helpers``), and the package layout around them."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

import triton_kernels as tk
from triton_kernels import gaussian_latent, langevin_step, noisy_softmax, simplex_descent
from triton_kernels.reference import gaussian_latent as gaussian_latent_ref
from triton_kernels.reference import langevin as langevin_ref
from triton_kernels.reference import noisy_softmax as noisy_softmax_ref
from triton_kernels.reference import simplex_descent as simplex_descent_ref
from triton_kernels.reference import token_entropy as token_entropy_ref

PACKAGE = Path(tk.__file__).resolve().parent
SEED = 21
SHAPES = [(1,), (3, 5), (2, 3, 33), (4, 130)]


@dataclass(frozen=True)
class Ops:
    """The four ops of one side: the public functions (Triton when forced) or the references."""

    langevin_step: Callable
    gaussian_latent: Callable
    simplex_descent: Callable
    noisy_softmax: Callable


KERNELS = Ops(langevin_step, gaussian_latent, simplex_descent, noisy_softmax)
REFERENCES = Ops(
    langevin_ref.langevin_step_reference,
    gaussian_latent_ref.gaussian_latent_reference,
    simplex_descent_ref.simplex_descent_reference,
    noisy_softmax_ref.noisy_softmax_reference,
)


def eps_of_langevin(shape: tuple, dev: str, seed: int = SEED, ops: Ops = KERNELS) -> torch.Tensor:
    """``0 − α·0 + 1·ε`` is ε exactly."""
    zeros = torch.zeros(shape, device=dev)
    return ops.langevin_step(zeros, zeros, 0.0, noise_scale=1.0, seed=seed)


def eps_of_gaussian(shape: tuple, dev: str, seed: int = SEED, ops: Ops = KERNELS) -> torch.Tensor:
    """``0 + exp(½·0)·ε`` is ε exactly."""
    zeros = torch.zeros(shape, device=dev)
    return ops.gaussian_latent(zeros, zeros, seed=seed)[0]


def eps_of_simplex(shape: tuple, dev: str, seed: int = SEED, ops: Ops = KERNELS) -> torch.Tensor:
    """With ``g = 0`` the change ``p ⊙ (g − ⟨p, g⟩)`` is 0, so ``0 − α·0 + 1·ε`` is ε exactly."""
    zeros = torch.zeros(shape, device=dev)
    uniform = torch.full(shape, 1.0 / shape[-1], device=dev)
    return ops.simplex_descent(zeros, uniform, zeros, 0.5, noise_scale=1.0, seed=seed)


def assert_one_stream(ops: Ops, shape: tuple, dev: str) -> None:
    eps = eps_of_langevin(shape, dev, ops=ops)
    assert eps.shape == shape and eps.ne(0).all()
    assert torch.equal(eps_of_gaussian(shape, dev, ops=ops), eps)
    assert torch.equal(eps_of_simplex(shape, dev, ops=ops), eps)
    # noisy_softmax(0, σ=1) = softmax(ε): log p is ε up to a per-row constant
    p = ops.noisy_softmax(torch.zeros(shape, device=dev), 1.0, seed=SEED)
    torch.testing.assert_close(p, torch.softmax(eps, -1), atol=1e-6, rtol=1e-5)
    log_p = p.log()
    torch.testing.assert_close(log_p - log_p.mean(-1, keepdim=True), eps - eps.mean(-1, keepdim=True))


@pytest.mark.parametrize("shape", SHAPES)
def test_every_kernel_draws_the_same_eps(forced, tiling, shape):
    assert_one_stream(KERNELS, shape, forced)


@pytest.mark.parametrize("shape", SHAPES)
def test_every_reference_draws_the_same_eps(shape):
    """The references share their own stream (``torch.randn``), a different one from the kernels'."""
    assert_one_stream(REFERENCES, shape, "cpu")


def test_another_seed_is_another_stream(forced):
    assert not torch.equal(eps_of_langevin((3, 40), forced, seed=1), eps_of_langevin((3, 40), forced, seed=2))


def test_eps_follows_the_element_rule(forced):
    """Element ``(r, c)`` of the ``[N, D]`` view takes component ``c % 4`` of Philox offset ``r·⌈D/4⌉ + c // 4``."""
    # leading dimensions only flatten into rows
    assert torch.equal(eps_of_gaussian((2, 3, 9), forced).reshape(6, 9), eps_of_gaussian((6, 9), forced))
    # D = 5 and D = 8 have the same ⌈D/4⌉ = 2 offsets per row: D = 5 is the first five columns of D = 8
    assert torch.equal(eps_of_simplex((3, 5), forced), eps_of_simplex((3, 8), forced)[:, :5])
    # D = 4 takes one offset per row, D = 8 two: two rows of four are one row of eight
    assert torch.equal(eps_of_langevin((2, 4), forced).reshape(1, 8), eps_of_langevin((1, 8), forced))


def _calls_of(tree: ast.AST, attribute: str) -> int:
    return sum(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == attribute
        for node in ast.walk(tree)
    )


def _package_trees() -> dict[str, ast.AST]:
    return {str(p.relative_to(PACKAGE)): ast.parse(p.read_text(), str(p)) for p in sorted(PACKAGE.rglob("*.py"))}


def test_philox_draw_and_step_size_load_are_written_once():
    trees = _package_trees()
    draws = {name: n for name, tree in trees.items() if (n := _calls_of(tree, "randn4x"))}
    assert draws == {"_jit_helpers.py": 1}
    # the kernels pass ALPHA_MODE through; only the helper branches on it
    branching = {
        name
        for name, tree in trees.items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Name) and node.left.id == "ALPHA_MODE"
    }
    assert branching == {"_jit_helpers.py"}


def test_public_api_and_reference_modules():
    assert sorted(tk.__all__) == [
        "INTERPRETER",
        "current_mode",
        "gaussian_latent",
        "gaussian_latent_reference",
        "langevin_step",
        "langevin_step_reference",
        "noisy_softmax",
        "noisy_softmax_reference",
        "simplex_descent",
        "simplex_descent_reference",
        "token_entropy",
        "token_entropy_reference",
        "triton_status",
        "use_backend",
    ]
    assert tk.langevin_step_reference is langevin_ref.langevin_step_reference
    assert tk.noisy_softmax_reference is noisy_softmax_ref.noisy_softmax_reference
    assert tk.simplex_descent_reference is simplex_descent_ref.simplex_descent_reference
    assert tk.gaussian_latent_reference is gaussian_latent_ref.gaussian_latent_reference
    assert tk.token_entropy_reference is token_entropy_ref.token_entropy_reference
