"""Injecting bit errors into integer tensors (pure numpy).

:func:`flip_bits` flips every bit of an integer array independently, with a
probability per bit position within each byte (see :mod:`simulator.faults.rates`).
"""
from __future__ import annotations

import numpy as np

from simulator.faults.rates import BYTE_BITS


def flip_bits(values: np.ndarray, p_bit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A copy of the integer array ``values`` in which bit ``b`` of every byte of every
    element flips independently with probability ``p_bit[b]`` (shape ``(BYTE_BITS,)``).

    Flip positions are drawn by count and position (a binomial number of flips, then
    that many distinct positions), never one uniform draw per bit."""
    p_bit = np.asarray(p_bit, dtype=float)
    if p_bit.shape != (BYTE_BITS,):
        raise ValueError(f"p_bit must have shape ({BYTE_BITS},), got {p_bit.shape}")
    out = np.array(values, copy=True)
    if not out.flags.c_contiguous:
        out = np.ascontiguousarray(out)
    raw = out.view(np.uint8).reshape(-1)
    n = raw.size
    for b in range(BYTE_BITS):
        p = float(p_bit[b])
        if p <= 0.0 or n == 0:
            continue
        k = int(rng.binomial(n, min(p, 1.0)))
        if k:
            where = rng.choice(n, size=k, replace=False)
            raw[where] ^= np.uint8(1 << b)
    return out
