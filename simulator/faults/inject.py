"""Injecting bit errors into integer tensors (pure numpy), by skip sampling.

Bit positions are positions within a byte (:mod:`simulator.faults.rates`); every
byte of a wider element (int32 partial sums) gets the same per-position
probabilities.

Skip sampling: the gaps between successive flipped bytes at bit position ``b``
are independent geometric variables with parameter ``p_b``, so the cost is
one draw per *flip*, not one per bit. Per-element
probabilities (shape ``(n, 8)``) are sampled by thinning: candidates at the
largest probability of the position, each kept with ``p / p_max``.

- :func:`flip_bits`: transient flips (a new draw on every call);
- :func:`stuck_cells` and :func:`apply_stuck`: a persistent map of stuck-at-0/1
  cells of one buffer instance, drawn once and applied to every read.
"""
from __future__ import annotations

import math

import numpy as np

from simulator.faults.rates import BYTE_BITS

DENSE_ABOVE = 0.1  # above this probability one uniform per byte is cheaper than geometric gaps


def skip_positions(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    """Sorted distinct positions in [0, n), each present independently with probability ``p``."""
    if n <= 0 or p <= 0.0:
        return np.empty(0, dtype=np.int64)
    if p >= 1.0:
        return np.arange(n, dtype=np.int64)
    if p > DENSE_ABOVE:
        return np.flatnonzero(rng.random(n) < p)
    mean = n * p
    chunks = []
    last = -1
    while True:
        m = int(mean + 6.0 * math.sqrt(mean) + 16)
        # gaps past the end are clipped to n + 1: the positions below n are unchanged, and the sum
        # cannot overflow when p is so small that numpy's geometric draws saturate near 2^63
        pos = np.cumsum(np.minimum(rng.geometric(p, size=m), n + 1)) + last  # first position = gap - 1
        chunks.append(pos)
        last = int(pos[-1])
        if last >= n:
            break
    out = np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
    return out[: np.searchsorted(out, n)]


def _as_bytes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = np.array(values, copy=True, order="C")
    if out.dtype.kind not in "iub":
        raise ValueError(f"values must be an integer array, got {out.dtype}")
    return out, out.reshape(-1).view(np.uint8)


def _column_max(p: np.ndarray) -> np.ndarray:
    """max over rows of an (n, 8) array; numpy reduces an 8-wide axis 0 slowly, so rows are
    folded into blocks of 64 first."""
    rows = p.shape[0]
    if rows == 0:
        return np.zeros(BYTE_BITS)
    k = rows - rows % 64
    parts = [p[k:].max(axis=0)] if k < rows else []
    if k:
        parts.append(np.ascontiguousarray(p[:k]).reshape(-1, 64 * BYTE_BITS).max(axis=0)
                     .reshape(64, BYTE_BITS).max(axis=0))
    return np.max(parts, axis=0)


def flip_bits(values: np.ndarray, p_bit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A copy of the integer array ``values`` in which bit ``b`` of every byte flips independently.

    ``p_bit``: shape ``(BYTE_BITS,)`` (the same for every element) or ``(values.size, BYTE_BITS)``
    (per element, in C order). Skip-sampled: no uniform draw per bit."""
    p_bit = np.asarray(p_bit, dtype=float)
    out, raw = _as_bytes(values)
    n = raw.size
    width = out.dtype.itemsize
    per_element = p_bit.ndim == 2
    if p_bit.shape != (BYTE_BITS,) and p_bit.shape != (out.size, BYTE_BITS):
        raise ValueError(f"p_bit must have shape ({BYTE_BITS},) or ({out.size}, {BYTE_BITS}), got {p_bit.shape}")
    highest = _column_max(p_bit) if per_element else p_bit
    lowest = p_bit.min(initial=0.0)
    if lowest < 0 or np.any(highest > 1) or np.any(np.isnan(highest)):
        raise ValueError("p_bit must hold probabilities in [0, 1]")
    for b in range(BYTE_BITS):
        p_max = float(highest[b])
        where = skip_positions(rng, n, p_max)
        if per_element and where.size:
            keep = rng.random(where.size) * p_max < p_bit[where // width, b]
            where = where[keep]
        if where.size:
            raw[where] ^= np.uint8(1 << b)
    return out


def stuck_cells(rng: np.random.Generator, n_bytes: int, p_stuck: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A persistent stuck-at map of a buffer of ``n_bytes`` bytes: ``(byte_index, bit, value)``.

    Cell (byte ``i``, bit ``b``) is stuck with probability ``p_stuck[b]``, at 0 or 1 with equal
    probability. Sorted by byte, then bit. Skip-sampled."""
    p_stuck = np.asarray(p_stuck, dtype=float)
    if p_stuck.shape != (BYTE_BITS,):
        raise ValueError(f"p_stuck must have shape ({BYTE_BITS},), got {p_stuck.shape}")
    if np.any(p_stuck < 0) or np.any(p_stuck > 1) or np.any(np.isnan(p_stuck)):
        raise ValueError("p_stuck must hold probabilities in [0, 1]")
    index, bits = [], []
    for b in range(BYTE_BITS):
        where = skip_positions(rng, int(n_bytes), float(p_stuck[b]))
        index.append(where)
        bits.append(np.full(where.size, b, dtype=np.uint8))
    byte_index = np.concatenate(index)
    bit = np.concatenate(bits)
    order = np.lexsort((bit, byte_index))
    value = rng.integers(0, 2, size=byte_index.size, dtype=np.uint8)
    return byte_index[order], bit[order], value


def apply_stuck(values: np.ndarray, byte_index: np.ndarray, bit: np.ndarray, value: np.ndarray,
                offset_bytes: int = 0) -> np.ndarray:
    """A copy of ``values`` read from stuck cells: the array's bytes occupy buffer bytes
    ``offset_bytes ...``; every stuck cell among them forces its bit to its value."""
    out, raw = _as_bytes(values)
    lo = np.searchsorted(byte_index, offset_bytes)
    hi = np.searchsorted(byte_index, offset_bytes + raw.size)
    idx = byte_index[lo:hi] - offset_bytes
    bt, val = bit[lo:hi], value[lo:hi]
    for b in range(BYTE_BITS):  # one pass per position: indices within a pass are distinct
        sel = bt == b
        if not sel.any():
            continue
        i, v = idx[sel], val[sel]
        mask = np.uint8(1 << b)
        raw[i] = (raw[i] & np.uint8(~mask & 0xFF)) | (v << b).astype(np.uint8)
    return out
