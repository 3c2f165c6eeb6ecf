"""Fused Triton kernels for belief revision, each with a pure-PyTorch reference. No dependency on `zoo`.

Ops (shapes ``[..., D]``, reductions over the last dimension):

* :func:`langevin_step` — ``y − α·clamp(g, −c, c) + σ·ε``
* :func:`noisy_softmax` — ``softmax(x + σ·ε)``
* :func:`simplex_descent` — ``logits − α·clamp(p ⊙ (g − ⟨p, g⟩), −c, c)``
* :func:`gaussian_latent` — ``z = μ_q + exp(½·logvar_q)·ε`` and per-row ``KL(q‖p)``
* :func:`token_entropy` — per row, ``H(softmax(x))`` and ``log softmax(x)[token]``

Dispatch: CUDA tensors → Triton, anything else → the ``*_reference`` function (``triton_kernels.reference``);
``ZOO_KERNELS=triton`` / ``ZOO_KERNELS=torch`` (or :func:`use_backend`) force one side. See ``docs/kernels.md``.
"""

from ._dispatch import INTERPRETER, current_mode, triton_status, use_backend
from .gaussian_latent import gaussian_latent
from .langevin import langevin_step
from .noisy_softmax import noisy_softmax
from .reference.gaussian_latent import gaussian_latent_reference
from .reference.langevin import langevin_step_reference
from .reference.noisy_softmax import noisy_softmax_reference
from .reference.simplex_descent import simplex_descent_reference
from .reference.token_entropy import token_entropy_reference
from .simplex_descent import simplex_descent
from .token_entropy import token_entropy

__all__ = [
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
