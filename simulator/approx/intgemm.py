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


class IntOperand:
    """An integer GEMM operand given as ``values`` or as ``table[index]``.

    A table (a function of the operand value tabulated over its domain) lets the
    conversion to floating point cost one gather pass; the shift and bound are
    then taken over the whole table (a safe over-estimate of the data's).
    """

    def __init__(self, values: np.ndarray | None = None, table: np.ndarray | None = None,
                 index: np.ndarray | None = None):
        if (values is None) == (table is None) or (table is not None and index is None):
            raise ValueError("give values, or table and index")
        self.values, self.table, self.index = values, table, index
        base = np.asarray(table if table is not None else values)
        if not np.issubdtype(base.dtype, np.integer):
            raise AxsimError(f"exact GEMM needs integer arrays, got {base.dtype}")
        self.shift = _common_shift(base)
        self.bound = _max_abs(base.astype(np.int64, copy=False) >> self.shift)
        self.shape = (np.shape(index) if table is not None else base.shape)
        self.mask = None  # table[i] == i & mask: apply with a bitwise AND instead of a gather
        if table is not None and np.issubdtype(np.asarray(index).dtype, np.unsignedinteger):
            ored = int(np.bitwise_or.reduce(base.astype(np.int64), axis=None)) if base.size else 0
            if ored <= np.iinfo(index.dtype).max and np.array_equal(base, np.arange(base.size) & ored):
                self.mask = ored

    def as_float(self, dtype) -> np.ndarray:
        if self.mask is not None:
            idx = self.index
            vals = idx if self.mask == np.iinfo(idx.dtype).max else np.bitwise_and(idx, idx.dtype.type(self.mask))
            return (vals >> idx.dtype.type(self.shift) if self.shift else vals).astype(dtype)
        if self.table is not None:
            return (self.table.astype(np.int64) >> self.shift).astype(dtype)[self.index]
        vals = self.values.astype(np.int64, copy=False) >> self.shift if self.shift else self.values
        return vals.astype(dtype)


def gemm_operands(a: IntOperand, w: IntOperand) -> np.ndarray:
    """Exact ``a @ w`` (M x K, K x N) as int64 on float BLAS, chunking the K dimension."""
    if len(a.shape) != 2 or len(w.shape) != 2 or a.shape[1] != w.shape[0]:
        raise AxsimError(f"GEMM shapes {a.shape} and {w.shape} do not match (need M x K and K x N)")
    (m, k), n = a.shape, w.shape[1]
    out = np.zeros((m, n), dtype=np.int64)
    if a.bound == 0 or w.bound == 0 or m == 0 or n == 0 or k == 0:
        return out
    dtype, chunk = chunk_plan(k, a.bound, w.bound)
    af, wf = a.as_float(dtype), w.as_float(dtype)
    if chunk >= k:
        out[...] = af @ wf
    else:
        for k0 in range(0, k, chunk):
            out += (af[:, k0:k0 + chunk] @ wf[k0:k0 + chunk]).astype(np.int64)
    shift = a.shift + w.shift
    return out << shift if shift else out


def exact_int_gemm(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``a @ w`` for integer matrices (M x K, K x N), exact, as int64."""
    a, w = np.asarray(a), np.asarray(w)
    if a.ndim != 2 or w.ndim != 2:
        raise AxsimError(f"GEMM shapes {a.shape} and {w.shape} do not match (need M x K and K x N)")
    return gemm_operands(IntOperand(values=a), IntOperand(values=w))
