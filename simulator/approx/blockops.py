"""Arithmetic of Ax-BxP block-wise approximate multiplication (numpy oracles).

All functions take integer arrays whose magnitudes fit in ``cfg.bits`` bits
(non-negative unless ``cfg.signed``) and return int64 results.

* :func:`blocked_multiply`: elementwise, ``sign * sum_{(i,j) in P} a_i w_j 2**(K(i+j))``.
* :func:`blocked_gemm`: ``A (M x K) @ W (K x N)`` with every product replaced by
  its blocked approximation. Two exact methods:

  - ``'operands'`` (fast path, when ``cfg.keeps_whole_blocks()``): the product
    equals the exact product of transformed operands (static: operands masked to
    their used blocks; dynamic: each value reduced to its window of kept
    blocks), so the result is one exact integer GEMM on float32 BLAS.
  - ``'planes'``: a sum of GEMMs on signed block planes. Pairs are grouped by
    activation block ``i`` (or weight block ``j`` if that gives fewer groups):
    ``sum_i (A_i @ sum_{j:(i,j) in P} W_j 2**(Kj)) * 2**(Ki)``.

  Both run on :func:`simulator.approx.intgemm.exact_int_gemm`, which splits the
  reduction dimension so that float32 partial sums stay at most 2**24 (exact).
* :func:`blocked_conv2d`: the same through im2col (NCHW input, KCRS weights).
"""
from __future__ import annotations

import numpy as np

from simulator.approx.blocked import BlockConfig
from simulator.approx.conv import conv2d_via_gemm
from simulator.approx.intgemm import exact_int_gemm
from simulator.errors import AxsimError

METHODS = ("auto", "operands", "planes")


def split_sign(x, cfg: BlockConfig, what: str = "operand") -> tuple[np.ndarray | None, np.ndarray]:
    """(sign or None, magnitude as int64), after checking the value range."""
    x = np.asarray(x)
    if not (np.issubdtype(x.dtype, np.integer) or x.dtype == np.bool_):
        raise AxsimError(f"{what}: dtype {x.dtype}: must be an integer array")
    x = x.astype(np.int64, copy=False)
    hi = cfg.max_magnitude
    lo = -hi if cfg.signed else 0
    if x.size:
        mn, mx = int(x.min()), int(x.max())
        if mn < lo or mx > hi:
            bad = mn if mn < lo else mx
            raise AxsimError(f"{what}: value {bad} out of range: {cfg.name} "
                             f"({'signed' if cfg.signed else 'unsigned'} {cfg.bits}-bit magnitude) "
                             f"allows {lo}..{hi}")
    if cfg.signed:
        return np.where(x < 0, -1, 1).astype(np.int64), np.abs(x)
    return None, x


def leading_block(mag: np.ndarray, cfg: BlockConfig) -> np.ndarray:
    """Index of the most significant non-zero block (0 for zero values)."""
    k, m = cfg.block_bits, (1 << cfg.block_bits) - 1
    lead = np.zeros(mag.shape, dtype=np.int64)
    for i in range(1, cfg.n_blocks):
        lead[((mag >> (k * i)) & m) != 0] = i
    return lead


def dynamic_window(mag: np.ndarray, keep: int, cfg: BlockConfig) -> tuple[np.ndarray, np.ndarray]:
    """(kept magnitude, stored block index) for dynamic selection of ``keep`` blocks."""
    start = np.maximum(leading_block(mag, cfg) - (keep - 1), 0)
    mask = ((1 << (cfg.block_bits * keep)) - 1) << (cfg.block_bits * start)
    return mag & mask, start


def transform_operand(x, cfg: BlockConfig, which: str) -> np.ndarray:
    """Signed operand reduced to the blocks the configuration keeps (``which``: 'a'/'w').

    Only meaningful when ``cfg.keeps_whole_blocks()``; then
    ``blocked_multiply(a, w) == transform_operand(a,'a') * transform_operand(w,'w')``.
    """
    if not cfg.keeps_whole_blocks():
        raise AxsimError(f"{cfg.name}: the pair set is not a product of block sets; "
                         "operands cannot be transformed independently")
    sign, mag = split_sign(x, cfg, "activation" if which == "a" else "weight")
    if cfg.policy == "static":
        mag = mag & cfg.operand_mask(which)
    else:
        mag, _ = dynamic_window(mag, cfg.keep_a if which == "a" else cfg.keep_w, cfg)
    return mag if sign is None else sign * mag


def block_planes(mag: np.ndarray, cfg: BlockConfig) -> list[np.ndarray]:
    k, m = cfg.block_bits, (1 << cfg.block_bits) - 1
    return [(mag >> (k * i)) & m for i in range(cfg.n_blocks)]


def blocked_multiply(a, w, cfg: BlockConfig) -> np.ndarray:
    """Elementwise blocked product of activations ``a`` and weights ``w`` (broadcasting)."""
    sa, ma = split_sign(a, cfg, "activation")
    sw, mw = split_sign(w, cfg, "weight")
    if cfg.policy == "dynamic":
        ma, _ = dynamic_window(ma, cfg.keep_a, cfg)
        mw, _ = dynamic_window(mw, cfg.keep_w, cfg)
        out = ma * mw
    else:
        pa, pw = block_planes(ma, cfg), block_planes(mw, cfg)
        out = np.zeros(np.broadcast_shapes(ma.shape, mw.shape), dtype=np.int64)
        for i, j in sorted(cfg.pairs):
            out += (pa[i] * pw[j]) << (cfg.block_bits * (i + j))
    if sa is not None:
        out = out * sa * sw
    return out


def blocked_gemm(a, w, cfg: BlockConfig, method: str = "auto") -> np.ndarray:
    """``A (M x K) @ W (K x N)`` with blocked products, exact int64 result."""
    if method not in METHODS:
        raise AxsimError(f"method {method!r}: must be one of {', '.join(METHODS)}")
    a, w = np.asarray(a), np.asarray(w)
    if a.ndim != 2 or w.ndim != 2 or a.shape[1] != w.shape[0]:
        raise AxsimError(f"blocked_gemm shapes {a.shape} and {w.shape} do not match (need M x K and K x N)")
    if method == "auto":
        method = "operands" if cfg.keeps_whole_blocks() else "planes"
    if method == "operands":
        return exact_int_gemm(transform_operand(a, cfg, "a"), transform_operand(w, cfg, "w"))
    sa, ma = split_sign(a, cfg, "activation")
    sw, mw = split_sign(w, cfg, "weight")
    if cfg.policy == "dynamic":
        ma, _ = dynamic_window(ma, cfg.keep_a, cfg)
        mw, _ = dynamic_window(mw, cfg.keep_w, cfg)
        pairs = [(i, j) for i in range(cfg.n_blocks) for j in range(cfg.n_blocks)]
    else:
        pairs = sorted(cfg.pairs)
    pa = [p if sa is None else sa * p for p in block_planes(ma, cfg)]
    pw = [p if sw is None else sw * p for p in block_planes(mw, cfg)]
    by_a = len({i for i, _ in pairs}) <= len({j for _, j in pairs})
    k = cfg.block_bits
    out = np.zeros((a.shape[0], w.shape[1]), dtype=np.int64)
    groups: dict[int, list[int]] = {}
    for i, j in pairs:
        if by_a:
            groups.setdefault(i, []).append(j)
        else:
            groups.setdefault(j, []).append(i)
    for key, others in sorted(groups.items()):
        if by_a:
            comb = sum(pw[j] << (k * j) for j in others)
            out += exact_int_gemm(pa[key], comb) << (k * key)
        else:
            comb = sum(pa[i] << (k * i) for i in others)
            out += exact_int_gemm(comb, pw[key]) << (k * key)
    return out


def blocked_conv2d(x, w, cfg: BlockConfig, stride=1, padding=0, dilation=1, groups: int = 1,
                   pad_value: int = 0, method: str = "auto") -> np.ndarray:
    """Grouped 2-D convolution (NCHW input, KCRS weights) with blocked products."""
    return conv2d_via_gemm(np.asarray(x), np.asarray(w),
                           lambda cols, wm: blocked_gemm(cols, wm, cfg, method),
                           stride, padding, dilation, groups, pad_value)
