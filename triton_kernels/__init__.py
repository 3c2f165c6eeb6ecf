"""Fused Triton kernels for belief revision, each with a pure-PyTorch reference. No dependency on `zoo`."""
