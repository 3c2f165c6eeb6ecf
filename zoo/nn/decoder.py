"""A causal decoder (RoPE, RMSNorm, SwiGLU, `scaled_dot_product_attention`) with batched KV-cache generation.

Prompts of different lengths share a batch left-padded with `pad_id`: padding is masked out of attention and
does not count in a token's position, so a padded row generates exactly what it generates alone. Blocks are
pre-norm (`x = x + f(norm(x))`), as usual for decoders; the recursive families' post-norm blocks are in
`zoo.nn.blocks`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from zoo.nn.blocks import RMSNorm, SwiGLU


def rotary(positions: Tensor, dim: int, base: float = 10000.0) -> tuple[Tensor, Tensor]:
    """cos, sin [B, 1, T, dim] of rotary embeddings at integer `positions` [B, T] (dim even)."""
    inverse = base ** (-torch.arange(0, dim, 2, device=positions.device, dtype=torch.float32) / dim)
    angles = positions.float()[..., None] * inverse  # [B, T, dim / 2]
    angles = torch.cat([angles, angles], dim=-1)[:, None]
    return angles.cos(), angles.sin()


def rotate(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """x [B, H, T, dim] turned by the rotary angles (the rotate-half form)."""
    first, second = x.chunk(2, dim=-1)
    return x * cos + torch.cat([-second, first], dim=-1) * sin


@dataclass
class Generation:
    """What `CausalDecoder.generate` wrote.

    Attributes:
        tokens: [B, T] the new tokens (`pad_id` after a row's stop token).
        log_probs: [B, T] each new token's log-probability under the model (temperature 1, no top-k: the
            model's own likelihood, whatever drew the token); 0 at padding.
    """

    tokens: Tensor
    log_probs: Tensor


@dataclass
class KVCache:
    """Keys and values [B, H, T_max, dim] of one block for the tokens seen so far (the first `length`)."""

    keys: Tensor
    values: Tensor
    length: int = 0


class DecoderBlock(nn.Module):
    """Causal self-attention then SwiGLU, each pre-normed."""

    def __init__(self, width: int, heads: int, expansion: float) -> None:
        super().__init__()
        if width % heads or (width // heads) % 2:
            raise ValueError(f"width {width} must split into {heads} heads of an even size (rotary embeddings)")
        self.heads = heads
        self.norm_attention = RMSNorm(width)
        self.qkv = nn.Linear(width, 3 * width, bias=False)
        self.out = nn.Linear(width, width, bias=False)
        self.norm_mlp = RMSNorm(width)
        self.mlp = SwiGLU(width, int(width * expansion))

    def forward(self, x: Tensor, cos: Tensor, sin: Tensor, mask: Tensor | None, cache: KVCache | None) -> Tensor:
        """x [B, T, D] of the new tokens; mask [B, 1, T, T_keys] (True: may attend), over the cache's tokens
        and these, or None for plain causal attention; the cache, when given, gains these tokens' keys and
        values -> [B, T, D]."""
        batch, length, width = x.shape
        q, k, v = self.qkv(self.norm_attention(x)).view(batch, length, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        if cache is not None:
            end = cache.length + length
            cache.keys[:, :, cache.length : end], cache.values[:, :, cache.length : end] = k, v
            k, v, cache.length = cache.keys[:, :, :end], cache.values[:, :, :end], end
        attended = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=mask is None)
        x = x + self.out(attended.transpose(1, 2).reshape(batch, length, width))
        return x + self.mlp(self.norm_mlp(x))


class CausalDecoder(nn.Module):
    """Token ids -> next-token logits, with KV-cache generation (`generate`).

    Args:
        vocab_size: V; id `pad_id` is padding (never attended to, never generated).
        width, depth, heads, expansion: the blocks' width D, their number, attention heads and SwiGLU expansion.
        pad_id: the padding id.
    """

    def __init__(
        self, vocab_size: int, width: int = 128, depth: int = 4, heads: int = 4, expansion: float = 4.0, pad_id: int = 0
    ) -> None:
        super().__init__()
        self.pad_id = pad_id
        self.embed = nn.Embedding(vocab_size, width)
        self.blocks = nn.ModuleList(DecoderBlock(width, heads, expansion) for _ in range(depth))
        self.norm = RMSNorm(width)
        self.head = nn.Linear(width, vocab_size, bias=False)

    def forward(self, ids: Tensor, valid: Tensor | None = None, caches: list[KVCache] | None = None) -> Tensor:
        """ids [B, T] -> logits [B, T, V]. `valid` [B, T_cache + T] marks the real (non-pad) tokens of the cache and
        these ids (default: `ids != pad_id`, without a cache); `caches` (one per block) hold the tokens before."""
        seen = caches[0].length if caches else 0
        if valid is None:
            valid = ids != self.pad_id
        positions = (valid.long().cumsum(-1) - 1).clamp(min=0)[:, seen:]  # padding does not count
        cos, sin = rotary(positions, self.blocks[0].qkv.in_features // self.blocks[0].heads)
        length, keys = ids.shape[1], valid.shape[1]
        causal = torch.ones(length, keys, dtype=torch.bool, device=ids.device).tril(keys - length)
        mask = (causal & valid[:, None, :])[:, None]  # [B, 1, T, T_keys]
        mask = mask | ~mask.any(-1, keepdim=True)  # a query with nothing to attend to (a pad) attends to all
        x = self.embed(ids)
        for at, block in enumerate(self.blocks):
            x = block(x, cos, sin, mask, caches[at] if caches else None)
        return self.head(self.norm(x))

    def forward_right_padded(self, ids: Tensor) -> Tensor:
        """ids [B, T] whose padding, if any, comes after each row's tokens -> logits [B, T, V], as `forward` gives
        at every real token (the logits at padding are not meaningful). Plain causal attention, no mask: the
        fused attention kernels apply, which is what makes training fast."""
        positions = torch.arange(ids.shape[1], device=ids.device)[None]
        cos, sin = rotary(positions, self.blocks[0].qkv.in_features // self.blocks[0].heads)
        x = self.embed(ids)
        for block in self.blocks:
            x = block(x, cos, sin, None, None)
        return self.head(self.norm(x))

    def new_caches(self, batch: int, length: int) -> list[KVCache]:
        """Empty caches for `batch` sequences of up to `length` tokens, one per block."""
        first = self.blocks[0]
        shape = (batch, first.heads, length, first.qkv.in_features // first.heads)
        weight = first.qkv.weight
        return [KVCache(weight.new_zeros(shape), weight.new_zeros(shape)) for _ in range(len(self.blocks))]

    @torch.no_grad()
    def generate(
        self,
        prompts: Tensor,
        max_new_tokens: int,
        temperature: float = 0.0,
        top_k: int | None = None,
        eos_id: int | None = None,
        generator: torch.Generator | None = None,
    ) -> Generation:
        """Continue left-padded `prompts` [B, T0] by up to `max_new_tokens` tokens (`pad_id` after a row's
        `eos_id`, which is kept). temperature 0 is greedy; otherwise sample from the softmax at that temperature,
        among the `top_k` most likely tokens when given."""
        batch = prompts.shape[0]
        caches = self.new_caches(batch, prompts.shape[1] + max_new_tokens)
        valid = prompts != self.pad_id
        logits = self.forward(prompts, valid, caches)[:, -1]
        finished = torch.zeros(batch, dtype=torch.bool, device=prompts.device)
        new, log_probs = [], []
        for _ in range(max_new_tokens):
            token = pick(logits, temperature, top_k, generator, exclude=self.pad_id)
            token = torch.where(finished, self.pad_id, token)
            chosen = logits.float().log_softmax(-1).gather(-1, token[:, None]).squeeze(-1)
            new.append(token)
            log_probs.append(torch.where(finished, 0.0, chosen))
            if eos_id is not None:
                finished |= token == eos_id
            if bool(finished.all()):
                break
            valid = torch.cat([valid, token[:, None] != self.pad_id], dim=1)
            logits = self.forward(token[:, None], valid, caches)[:, -1]
        if not new:
            return Generation(prompts.new_zeros(batch, 0), torch.zeros(batch, 0, device=prompts.device))
        return Generation(torch.stack(new, dim=1), torch.stack(log_probs, dim=1))


def pick(
    logits: Tensor, temperature: float, top_k: int | None, generator: torch.Generator | None, exclude: int
) -> Tensor:
    """Next tokens [B] from logits [B, V]: the most likely at temperature 0, else a sample at that temperature
    among the `top_k` most likely; token `exclude` (padding) is never picked."""
    logits = logits.float().clone()
    logits[:, exclude] = float("-inf")
    if temperature == 0:
        return logits.argmax(-1)
    if top_k is not None:
        kth = logits.topk(min(top_k, logits.shape[-1]), dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = (logits / temperature).softmax(-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
