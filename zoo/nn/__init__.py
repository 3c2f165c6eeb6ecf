"""Shared network blocks."""

from zoo.nn.blocks import AttentionBlock, MixerBlock, ReasoningNet, RMSNorm, SwiGLU

__all__ = ["AttentionBlock", "MixerBlock", "ReasoningNet", "RMSNorm", "SwiGLU"]
