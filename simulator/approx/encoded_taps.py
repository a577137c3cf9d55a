"""The tap method of :func:`simulator.approx.encoded.encoded_conv2d`: a convolution as ``R·S``
GEMMs on strided views of the encoded input's phase images (no im2col matrix)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import as_strided

if TYPE_CHECKING:
    from simulator.approx.encoded import Encoding


def tap_gemms(slab, enc: Encoding, mats, plan, r: int, s: int, sh: int, sw: int, rows: int,
               ow: int) -> np.ndarray:
    """int64 (n, rows, ow, N) convolution of an input slab (n x C x H x W codes, or its
    :func:`tap_slab` encoding) by taps."""
    flat, n, hq, wq, size, nrows = slab if isinstance(slab, tuple) else tap_slab(slab, enc, r, s, sh, sw)
    return tap_multiply(flat, n, hq, wq, size, nrows, mats, plan, s, sh, sw, rows, ow)


def tap_slab(slab: np.ndarray, enc: Encoding, r: int, s: int, sh: int, sw: int):
    """The encoded input slab of the tap method: (flat buffer, n, hq, wq, columns, rows).

    Layout: one flat float32 buffer of ``sh·sw`` phases x ``P·C`` rows x ``n·hq·wq`` columns, then
    ``slack`` zeros. Tap ``(i, j)`` reads, for every row, ``n·hq·wq`` columns starting at its offset:
    outputs that are kept never cross into the next row (their input lies inside the phase image);
    dropped outputs may, and the slack keeps the last row's reads inside the buffer."""
    n, cg, hs, ws = slab.shape
    p_terms = enc.terms
    hq, wq = -(-hs // sh), -(-ws // sw)
    size = n * hq * wq
    nrows = p_terms * cg
    slack = ((r - 1) // sh + 1) * wq + (s - 1) // sw + 1
    flat = np.zeros(sh * sw * nrows * size + slack, dtype=np.float32)
    phases = flat[:sh * sw * nrows * size].reshape(sh * sw, p_terms, cg, n, hq, wq)
    table = enc.a_f32_t
    for a in range(sh):
        for b in range(sw):
            sub = slab[:, :, a::sh, b::sw].transpose(1, 0, 2, 3)     # C x n x ha x wb codes
            for p in range(p_terms):
                dst = phases[a * sw + b, p]
                if sub.shape[2:] == (hq, wq):
                    np.take(table[p], sub, out=dst, mode="wrap")
                else:
                    dst[:, :, :sub.shape[2], :sub.shape[3]] = np.take(table[p], sub, mode="wrap")
    return flat, n, hq, wq, size, nrows


def tap_multiply(flat, n, hq, wq, size, nrows, mats, plan, s, sh, sw, rows, ow):
    """The tap GEMMs of an encoded slab (:func:`tap_slab`), accumulated as :meth:`Encoding.tap_plan` says."""
    item = flat.itemsize
    n_out = mats[0][0].shape[1]
    # GEMM rows: every phase position of every sample, except that a single sample stops after its
    # last kept output row (the phase image's last rows only feed outputs that are dropped)
    m_rows = rows * wq if n == 1 else size
    acc = np.empty((m_rows, n_out), dtype=np.float32)
    tmp = np.empty_like(acc)
    total = None
    for group in plan:
        first = True
        for t, r0, r1 in group:
            i, j = divmod(t, s)
            off = (i // sh) * wq + j // sw
            start = ((i % sh) * sw + j % sw) * nrows * size + r0 * size + off
            a_op = as_strided(flat[start:], shape=(m_rows, r1 - r0), strides=(item, size * item))
            np.matmul(a_op, mats[t][0][r0:r1], out=acc if first else tmp)
            if not first:
                acc += tmp
            first = False
        if len(plan) == 1:
            total = acc.astype(np.int64)
        elif total is None:
            total = acc.astype(np.int64)
        else:
            np.add(total, acc, out=total, casting="unsafe")
    return total.reshape(n, m_rows // (n * wq), wq, n_out)[:, :rows, :ow]
