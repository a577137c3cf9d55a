"""Compiled (numba) LUT-multiplier GEMM and convolution.

Kernel (weight-stationary, two products per addition): the activations are given
transposed, ``aT`` (K x M, one row per reduction index), the weights as table rows
``w`` (K x N) and the table transposed, ``t[b, a]`` (int64). For four output
channels ``n..n+3`` at a time and each reduction index ``k``, the kernel builds two
256-entry columns holding two channels each in the two 32-bit halves of an int64,

    col[x] = t[w[k, n], x] + 2**32 · t[w[k, n+1], x],

and adds ``col[aT[k, m]]`` to one int64 accumulator per output pixel ``m``: one
table load and one addition yield two products (the columns, 2 KB each, stay in
L1 while ``m`` runs over a block of pixels; a layer with more output channels than
pixels runs transposed, the table's transpose packing two pixels per column, so the
longer dimension amortises the column builds). Each half holds a 32-bit two's
complement sum: with ``|t| <= 65,535`` and at most ``K_CHUNK`` terms the true sums
stay below 2**31, so ``lo = int32(v mod 2**32)`` and ``hi = (v − lo) >> 32`` recover them
exactly; the reduction is processed in chunks of ``K_CHUNK`` and flushed to int64.
The result equals :func:`simulator.approx.lut.lut_gemm_reference` exactly.

The kernel releases the GIL and runs on one thread; GEMMs and convolutions are cut
into row blocks run on :mod:`simulator.approx.threads` (blocks of pixels, or of output
channels when there are too few pixels for two blocks).
"""
from __future__ import annotations

import numpy as np
from numba import njit
from numpy.lib.stride_tricks import sliding_window_view

from simulator.approx.conv import check_conv_shapes, padded_windows
from simulator.approx.lut import LutMultiplier, check_uint8
from simulator.approx.threads import run_blocks, workers
from simulator.errors import AxsimError

K_CHUNK = 32768  # 65535 * 32768 < 2**31
#: output pixels per accumulator block of the kernel (two int64 arrays of this length: 32 KB)
M_BLOCK = 2048
#: pixels per row block given to one worker
ROWS_PER_BLOCK = 4096
MIN_BLOCK = 1024


@njit(cache=True, nogil=True)
def _lut_ws_kernel(at, w, t, out):  # pragma: no cover - compiled
    """out[n, m] += sum_k t[w[k, n], at[k, m]]  (at: K x M uint8, w: K x N uint8, t: 256 x 256 int64)."""
    k_dim, m_dim = at.shape
    n_dim = w.shape[1]
    acc0 = np.zeros(M_BLOCK, np.int64)
    acc1 = np.zeros(M_BLOCK, np.int64)
    c0 = np.empty(256, np.int64)
    c1 = np.empty(256, np.int64)
    for m0 in range(0, m_dim, M_BLOCK):
        m1 = min(m0 + M_BLOCK, m_dim)
        size = m1 - m0
        for n in range(0, n_dim, 4):
            na = n
            nb = min(n + 1, n_dim - 1)
            nc = min(n + 2, n_dim - 1)
            nd = min(n + 3, n_dim - 1)
            for k0 in range(0, k_dim, K_CHUNK):
                acc0[:size] = 0
                acc1[:size] = 0
                for k in range(k0, min(k0 + K_CHUNK, k_dim)):
                    ta = t[w[k, na]]
                    tb = t[w[k, nb]]
                    tc = t[w[k, nc]]
                    td = t[w[k, nd]]
                    for x in range(256):
                        c0[x] = ta[x] + (tb[x] << 32)
                        c1[x] = tc[x] + (td[x] << 32)
                    row = at[k, m0:m1]
                    for i in range(size):
                        x = row[i]
                        acc0[i] += c0[x]
                        acc1[i] += c1[x]
                for i in range(size):
                    v = acc0[i]
                    lo = np.int64(np.int32(v & 0xFFFFFFFF))
                    out[na, m0 + i] += lo
                    if nb != na:
                        out[nb, m0 + i] += (v - lo) >> 32
                    v = acc1[i]
                    lo = np.int64(np.int32(v & 0xFFFFFFFF))
                    if nc != nb:
                        out[nc, m0 + i] += lo
                    if nd != nc:
                        out[nd, m0 + i] += (v - lo) >> 32


def _blocks(total: int) -> list[tuple[int, int]]:
    """Pixel blocks: at most ROWS_PER_BLOCK each, two per worker while each keeps MIN_BLOCK pixels
    (a block rebuilds the packed columns, 512 entries per reduction index and 4 channels)."""
    n = max(-(-total // ROWS_PER_BLOCK), min(2 * workers(), total // MIN_BLOCK), 1)
    step = -(-total // n)
    return [(r0, min(r0 + step, total)) for r0 in range(0, total, step)]


def table_gemm_t(at: np.ndarray, w: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(N x M) int64 ``out[n, m] = sum_k t[w[k, n], at[k, m]]`` (uint8 ``at``: K x M, ``w``: K x N;
    ``t``: 256 x 256 int64 with |t| <= 65,535), in column blocks of ``at`` on the worker threads."""
    k, m = at.shape
    n = w.shape[1]
    out = np.zeros((n, m), dtype=np.int64)
    if out.size == 0 or k == 0:
        return out
    if n > m:  # more channels than pixels: swap the roles (fewer column builds)
        return np.ascontiguousarray(table_gemm_t(np.ascontiguousarray(w), at, _transposed(t)).T)
    w = np.ascontiguousarray(w)
    if m >= 2 * MIN_BLOCK or n < 8 or workers() == 1:
        def block(b: tuple[int, int]) -> None:
            m0, m1 = b
            _lut_ws_kernel(np.ascontiguousarray(at[:, m0:m1]), w, t, out[:, m0:m1])

        run_blocks(block, _blocks(m))
        return out
    # few pixels (a small layer): every worker takes output channels, in multiples of 4 (the
    # kernel's packed columns), over all pixels
    at = np.ascontiguousarray(at)
    step = 4 * -(-n // (4 * 2 * workers()))

    def channels(b: tuple[int, int]) -> None:
        n0, n1 = b
        _lut_ws_kernel(at, np.ascontiguousarray(w[:, n0:n1]), t, out[n0:n1])

    run_blocks(channels, [(n0, min(n0 + step, n)) for n0 in range(0, n, step)])
    return out


_TRANSPOSED: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _transposed(t: np.ndarray) -> np.ndarray:
    """``t.T`` contiguous, kept per table (a few tables per run)."""
    hit = _TRANSPOSED.get(id(t))
    if hit is None or hit[0] is not t:
        if len(_TRANSPOSED) > 16:
            _TRANSPOSED.clear()
        hit = _TRANSPOSED[id(t)] = (t, np.ascontiguousarray(t.T))
    return hit[1]


def transposed_table(lut: LutMultiplier) -> np.ndarray:
    """``table.T`` as int64: row ``b`` is the column of weight ``b``."""
    return np.ascontiguousarray(lut.table.T.astype(np.int64))


def lut_gemm(a, w, lut: LutMultiplier) -> np.ndarray:
    """``out[m, n] = sum_k table[A[m, k], W[k, n]]`` as int64 (A: M x K, W: K x N, uint8)."""
    a = check_uint8(a, "activation")
    w = check_uint8(w, "weight")
    if a.ndim != 2 or w.ndim != 2 or a.shape[1] != w.shape[0]:
        raise AxsimError(f"lut_gemm shapes {a.shape} and {w.shape} do not match (need M x K and K x N)")
    return table_gemm_t(np.ascontiguousarray(a.T), w, transposed_table(lut)).T


def table_conv2d(x: np.ndarray, w: np.ndarray, t: np.ndarray, stride=1, padding=0, dilation=1,
                 groups: int = 1, pad_value: int = 0) -> np.ndarray:
    """Grouped convolution (uint8 NCHW input, uint8 KCRS table rows) with products ``t[w, x]``
    (int64, 256 x 256), as int64 N x K x OH x OW; im2col is built transposed (K x pixels)."""
    x, w = np.asarray(x), np.asarray(w)
    n, c, k, cg, r, s = check_conv_shapes(x, w, groups)
    x, (sh, sw, dh, dw, eh, ew) = padded_windows(x, r, s, stride, padding, dilation, pad_value)
    kg = k // groups
    outs = []
    for g in range(groups):
        win = sliding_window_view(x[:, g * cg:(g + 1) * cg], (eh, ew), axis=(2, 3))[:, :, ::sh, ::sw, ::dh, ::dw]
        oh, ow = win.shape[2], win.shape[3]
        at = win.transpose(1, 4, 5, 0, 2, 3).reshape(cg * r * s, n * oh * ow)
        wg = w[g * kg:(g + 1) * kg].reshape(kg, cg * r * s).T
        outs.append(table_gemm_t(at, wg, t).reshape(kg, n, oh, ow).transpose(1, 0, 2, 3))
    out = outs[0] if groups == 1 else np.concatenate(outs, axis=1)
    return np.ascontiguousarray(out)


def lut_conv2d(x, w, lut: LutMultiplier, stride=1, padding=0, dilation=1, groups: int = 1,
               pad_value: int = 0) -> np.ndarray:
    """Grouped 2-D convolution (uint8 NCHW input, uint8 KCRS weights) through the table.

    Padded positions take ``pad_value`` (the activation zero point for affine
    quantization) and are multiplied through the table like any other value.
    """
    x = check_uint8(x, "activation")
    w = check_uint8(w, "weight")
    if not 0 <= pad_value <= 255:
        raise AxsimError(f"pad_value {pad_value}: must be in 0..255")
    return table_conv2d(x, w, transposed_table(lut), stride, padding, dilation, groups, pad_value)
