"""Arithmetic of Ax-BxP block-wise approximate multiplication (numpy oracles).

All functions take integer arrays whose magnitudes fit in ``cfg.bits`` bits
(non-negative unless ``cfg.signed``) and return int64 results.

* :func:`blocked_multiply`: elementwise, ``sign * sum_{(i,j) in P} a_i w_j 2**(K(i+j))``.
* :func:`blocked_gemm`: ``A (M x K) @ W (K x N)`` with every product replaced by
  its blocked approximation. Two exact methods:

  - ``'operands'`` (fast path, when ``cfg.keeps_whole_blocks()``): the product
    equals the exact product of transformed operands (static: operands masked to
    their used blocks; dynamic: each value reduced to its window of kept
    blocks; mixed: each operand by its own policy), so the result is one exact
    integer GEMM on float32 BLAS.
  - ``'planes'``: a sum of GEMMs on signed block planes. Pairs are grouped by
    activation block ``i`` (or weight block ``j`` if that gives fewer groups):
    ``sum_i (A_i @ sum_{j:(i,j) in P} W_j 2**(Kj)) * 2**(Ki)``.

  Both run on :func:`simulator.approx.intgemm.gemm_operands`, which splits the
  reduction dimension so that float32 partial sums stay at most 2**24 (exact).
  For ``bits <= 16`` every operand transform (mask, dynamic window, block
  plane, sign) is tabulated over the value domain and applied with one gather,
  which also yields the float operand directly.
* :func:`blocked_conv2d`: the same through im2col (NCHW input, KCRS weights).
"""
from __future__ import annotations

import numpy as np

from simulator.approx.blocked import BlockConfig
from simulator.approx.conv import conv2d_via_gemm
from simulator.approx.intgemm import IntOperand, gemm_operands
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


def kept_magnitude(mag: np.ndarray, cfg: BlockConfig, which: str) -> np.ndarray:
    """Magnitude reduced to the blocks operand ``which`` keeps under its own policy
    (static: its block mask; dynamic: its window); needs ``cfg.keeps_whole_blocks()``."""
    if cfg.operand_policy(which) == "static":
        return mag & cfg.operand_mask(which)
    return dynamic_window(mag, cfg.operand_keep(which), cfg)[0]


def transform_operand(x, cfg: BlockConfig, which: str) -> np.ndarray:
    """Signed operand reduced to the blocks the configuration keeps (``which``: 'a'/'w').

    Only meaningful when ``cfg.keeps_whole_blocks()``; then
    ``blocked_multiply(a, w) == transform_operand(a,'a') * transform_operand(w,'w')``.
    """
    if not cfg.keeps_whole_blocks():
        raise AxsimError(f"{cfg.name}: the pair set is not a product of block sets; "
                         "operands cannot be transformed independently")
    sign, mag = split_sign(x, cfg, "activation" if which == "a" else "weight")
    mag = kept_magnitude(mag, cfg, which)
    return mag if sign is None else sign * mag


def block_planes(mag: np.ndarray, cfg: BlockConfig) -> list[np.ndarray]:
    k, m = cfg.block_bits, (1 << cfg.block_bits) - 1
    return [(mag >> (k * i)) & m for i in range(cfg.n_blocks)]


def blocked_multiply(a, w, cfg: BlockConfig) -> np.ndarray:
    """Elementwise blocked product of activations ``a`` and weights ``w`` (broadcasting)."""
    sa, ma = split_sign(a, cfg, "activation")
    sw, mw = split_sign(w, cfg, "weight")
    if cfg.policy != "static":  # dynamic or mixed: each operand keeps whole blocks
        out = kept_magnitude(ma, cfg, "a") * kept_magnitude(mw, cfg, "w")
    else:
        pa, pw = block_planes(ma, cfg), block_planes(mw, cfg)
        out = np.zeros(np.broadcast_shapes(ma.shape, mw.shape), dtype=np.int64)
        for i, j in sorted(cfg.pairs):
            out += (pa[i] * pw[j]) << (cfg.block_bits * (i + j))
    if sa is not None:
        out = out * sa * sw
    return out


TABLE_MAX_BITS = 16


def checked(x, cfg: BlockConfig, what: str) -> np.ndarray:
    """Integer array ``x`` after checking its values are in the configuration's range."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.integer):
        raise AxsimError(f"{what}: dtype {x.dtype}: must be an integer array")
    hi = cfg.max_magnitude
    lo = -hi if cfg.signed else 0
    info = np.iinfo(x.dtype)
    if info.min >= lo and info.max <= hi:
        return x
    split_sign(x, cfg, what)  # scans and raises on the first bad value
    return x


def _operand(x: np.ndarray, cfg: BlockConfig, fn) -> IntOperand:
    """``fn`` (elementwise on signed int64 values) applied to ``x``, tabulated if small."""
    if cfg.bits > TABLE_MAX_BITS:
        return IntOperand(values=fn(x.astype(np.int64)))
    hi = cfg.max_magnitude
    lo = -hi if cfg.signed else 0
    table = fn(np.arange(lo, hi + 1, dtype=np.int64))
    index = x if lo == 0 else x.astype(np.intp) - lo
    return IntOperand(table=table, index=index)


def _transform_fn(cfg: BlockConfig, which: str):
    def fn(v: np.ndarray) -> np.ndarray:
        sign, mag = np.where(v < 0, -1, 1), np.abs(v)
        return sign * kept_magnitude(mag, cfg, which)
    return fn


def _combined_fn(cfg: BlockConfig, keep: int | None, blocks: list[int]):
    """Signed value of the operand restricted to ``blocks`` (after a dynamic window)."""
    k, m = cfg.block_bits, (1 << cfg.block_bits) - 1

    def fn(v: np.ndarray) -> np.ndarray:
        sign, mag = np.where(v < 0, -1, 1), np.abs(v)
        if keep is not None:
            mag, _ = dynamic_window(mag, keep, cfg)
        return sign * sum(((mag >> (k * b)) & m) << (k * b) for b in blocks)
    return fn


def blocked_gemm(a, w, cfg: BlockConfig, method: str = "auto") -> np.ndarray:
    """``A (M x K) @ W (K x N)`` with blocked products, exact int64 result."""
    if method not in METHODS:
        raise AxsimError(f"method {method!r}: must be one of {', '.join(METHODS)}")
    a, w = checked(a, cfg, "activation"), checked(w, cfg, "weight")
    if a.ndim != 2 or w.ndim != 2 or a.shape[1] != w.shape[0]:
        raise AxsimError(f"blocked_gemm shapes {a.shape} and {w.shape} do not match (need M x K and K x N)")
    if method == "auto":
        method = "operands" if cfg.keeps_whole_blocks() else "planes"
    if method == "operands":
        if not cfg.keeps_whole_blocks():
            raise AxsimError(f"{cfg.name}: the pair set is not a product of block sets; "
                             "operands cannot be transformed independently")
        return gemm_operands(_operand(a, cfg, _transform_fn(cfg, "a")),
                             _operand(w, cfg, _transform_fn(cfg, "w")))
    if cfg.policy == "static":
        pairs = sorted(cfg.pairs)
    else:  # a dynamic operand may keep any block, a static one its fixed set
        n = cfg.n_blocks
        rows = range(n) if cfg.policy_a == "dynamic" else cfg.blocks_a
        cols = range(n) if cfg.policy_w == "dynamic" else cfg.blocks_w
        pairs = [(i, j) for i in rows for j in cols]
    keep_a, keep_w = cfg.operand_keep("a"), cfg.operand_keep("w")
    by_a = len({i for i, _ in pairs}) <= len({j for _, j in pairs})
    groups: dict[int, list[int]] = {}
    for i, j in pairs:
        groups.setdefault(i if by_a else j, []).append(j if by_a else i)
    out = np.zeros((a.shape[0], w.shape[1]), dtype=np.int64)
    for key, others in sorted(groups.items()):
        if by_a:
            opa = _operand(a, cfg, _combined_fn(cfg, keep_a, [key]))
            opw = _operand(w, cfg, _combined_fn(cfg, keep_w, others))
        else:
            opa = _operand(a, cfg, _combined_fn(cfg, keep_a, others))
            opw = _operand(w, cfg, _combined_fn(cfg, keep_w, [key]))
        out += gemm_operands(opa, opw)
    return out


def blocked_conv2d(x, w, cfg: BlockConfig, stride=1, padding=0, dilation=1, groups: int = 1,
                   pad_value: int = 0, method: str = "auto") -> np.ndarray:
    """Grouped 2-D convolution (NCHW input, KCRS weights) with blocked products."""
    return conv2d_via_gemm(np.asarray(x), np.asarray(w),
                           lambda cols, wm: blocked_gemm(cols, wm, cfg, method),
                           stride, padding, dilation, groups, pad_value)
