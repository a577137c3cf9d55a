"""Exact integer GEMM on floating-point BLAS.

``numpy.matmul`` on integer arrays does not use BLAS and runs at about 1 G MAC/s;
float32 BLAS runs 50x faster. A float32 (float64) sum of integer products is
exact as long as every partial sum is an integer of magnitude at most 2**24
(2**53). With ``|a| <= ma`` and ``|w| <= mw`` any partial sum over ``c`` terms is
bounded by ``c * ma * mw``, so the reduction dimension is split into chunks of
``c = floor(2**24 / (ma * mw))`` terms, each chunk is one float32 GEMM whose
result is exact, and chunk results are accumulated in int64. Common
power-of-two factors of each operand (e.g. truncated low bits) are shifted out
first, which makes the chunks larger. float64 is used only if a float32 chunk
would be shorter than ``MIN_F32_CHUNK`` terms.
"""
from __future__ import annotations

import numpy as np

from simulator.errors import AxsimError

F32_EXACT = 1 << 24
F64_EXACT = 1 << 53
MIN_F32_CHUNK = 64


def _max_abs(x: np.ndarray) -> int:
    if x.size == 0:
        return 0
    return max(int(x.max()), -int(x.min()))


def _common_shift(x: np.ndarray) -> int:
    """Number of trailing zero bits shared by all entries of integer array ``x``."""
    if x.size == 0:
        return 0
    ored = int(np.bitwise_or.reduce(np.abs(x.astype(np.int64, copy=False)), axis=None))
    if ored == 0:
        return 0
    return (ored & -ored).bit_length() - 1


def chunk_plan(k: int, max_a: int, max_w: int) -> tuple[type, int]:
    """(float dtype, chunk length) that keeps every partial sum exact."""
    prod = max(1, max_a * max_w)
    c32 = F32_EXACT // prod
    if c32 >= min(k, MIN_F32_CHUNK):
        return np.float32, max(1, min(k, c32))
    c64 = F64_EXACT // prod
    if c64 < 1:
        raise AxsimError(f"operand magnitudes {max_a} x {max_w} are too large for exact GEMM")
    return np.float64, max(1, min(k, c64))


def exact_int_gemm(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``a @ w`` for integer matrices (M x K, K x N), exact, as int64."""
    a = np.asarray(a)
    w = np.asarray(w)
    if a.ndim != 2 or w.ndim != 2 or a.shape[1] != w.shape[0]:
        raise AxsimError(f"GEMM shapes {a.shape} and {w.shape} do not match (need M x K and K x N)")
    for arr in (a, w):
        if not np.issubdtype(arr.dtype, np.integer):
            raise AxsimError(f"exact GEMM needs integer arrays, got {arr.dtype}")
    m, k = a.shape
    n = w.shape[1]
    out = np.zeros((m, n), dtype=np.int64)
    sa, sw = _common_shift(a), _common_shift(w)
    a = a.astype(np.int64) >> sa if sa else a
    w = w.astype(np.int64) >> sw if sw else w
    ma, mw = _max_abs(a), _max_abs(w)
    if ma == 0 or mw == 0 or m == 0 or n == 0:
        return out
    dtype, chunk = chunk_plan(k, ma, mw)
    af = a.astype(dtype)
    wf = w.astype(dtype)
    if chunk >= k:
        out[...] = af @ wf
    else:
        for k0 in range(0, k, chunk):
            out += (af[:, k0:k0 + chunk] @ wf[k0:k0 + chunk]).astype(np.int64)
    shift = sa + sw
    return out << shift if shift else out
