"""Blocks shared by the families: RMSNorm, SwiGLU, MLP-mixer and attention blocks.

Blocks are *post-norm* (`x = norm(x + f(x))`): recursive reasoners apply the same block dozens of times,
and a post-norm keeps the state's scale fixed from one application to the next, where pre-norm recursion
diverged in our calibration runs.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from zoo.errors import ZooError


class RMSNorm(nn.Module):
    """Root-mean-square norm over the last dim, with a learned gain."""

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: Tensor) -> Tensor:
        """[..., D] -> [..., D]"""
        variance = x.float().pow(2).mean(-1, keepdim=True)
        return (x.float() * torch.rsqrt(variance + self.eps)).to(x.dtype) * self.weight


class SwiGLU(nn.Module):
    """Gated feed-forward `W_down(silu(W_gate x) * W_up x)`."""

    def __init__(self, dim: int, hidden: int, out_dim: int | None = None) -> None:
        super().__init__()
        self.gate_up = nn.Linear(dim, 2 * hidden, bias=False)
        self.down = nn.Linear(hidden, out_dim or dim, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        """[..., D] -> [..., out_dim]"""
        gate, up = self.gate_up(x).chunk(2, dim=-1)
        return self.down(F.silu(gate) * up)


class MixerBlock(nn.Module):
    """MLP-mixer block: an MLP across positions, then a SwiGLU across channels, each post-normed.

    Mixing across positions with a fixed-size MLP ties the block to one sequence length, which suits
    fixed-size grids (a 6×6 Sudoku is always 36 cells).
    """

    def __init__(self, dim: int, seq_len: int, expansion: float = 4.0) -> None:
        super().__init__()
        self.token_mlp = SwiGLU(seq_len, max(seq_len, int(seq_len * expansion)))
        self.channel_mlp = SwiGLU(dim, int(dim * expansion))
        self.norm_tokens = RMSNorm(dim)
        self.norm_channels = RMSNorm(dim)

    def forward(self, x: Tensor) -> Tensor:
        """[B, L, D] -> [B, L, D]"""
        x = self.norm_tokens(x + self.token_mlp(x.transpose(1, 2)).transpose(1, 2))
        return self.norm_channels(x + self.channel_mlp(x))


class AttentionBlock(nn.Module):
    """Bidirectional self-attention (`scaled_dot_product_attention`) then SwiGLU, each post-normed."""

    def __init__(self, dim: int, heads: int, expansion: float = 4.0) -> None:
        super().__init__()
        if dim % heads:
            raise ZooError(
                f"width {dim} is not divisible by heads {heads}; pick heads that divide the width", key="heads"
            )
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.out = nn.Linear(dim, dim, bias=False)
        self.mlp = SwiGLU(dim, int(dim * expansion))
        self.norm_attn = RMSNorm(dim)
        self.norm_mlp = RMSNorm(dim)

    def forward(self, x: Tensor) -> Tensor:
        """[B, L, D] -> [B, L, D]"""
        batch, length, dim = x.shape
        q, k, v = self.qkv(x).view(batch, length, 3, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(batch, length, dim)
        x = self.norm_attn(x + self.out(attended))
        return self.norm_mlp(x + self.mlp(x))


class ReasoningNet(nn.Module):
    """A small stack of blocks applied repeatedly by the recursive families.

    Args:
        dim: width D.
        seq_len: sequence length L (needed by the MLP mixer).
        depth: number of blocks.
        mixer: "mlp" (MLP-mixer over positions) or "attention".
        heads: attention heads (attention mixer only).
        expansion: hidden width of the feed-forward parts, as a multiple of the input width.
    """

    def __init__(
        self,
        dim: int,
        seq_len: int,
        depth: int = 2,
        mixer: Literal["mlp", "attention"] = "mlp",
        heads: int = 4,
        expansion: float = 4.0,
    ) -> None:
        super().__init__()
        if mixer == "mlp":
            blocks = [MixerBlock(dim, seq_len, expansion) for _ in range(depth)]
        elif mixer == "attention":
            blocks = [AttentionBlock(dim, heads, expansion) for _ in range(depth)]
        else:
            raise ZooError(f"unknown mixer {mixer!r}: use 'mlp' or 'attention'", key="mixer")
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x: Tensor) -> Tensor:
        """[B, L, D] -> [B, L, D]"""
        for block in self.blocks:
            x = block(x)
        return x
