"""Compiled (numba) LUT-multiplier GEMM and convolution.

Kernel: rows of the activation matrix are split over threads (``prange``), four
rows at a time; for each reduction index ``k`` the four table rows
``table[A[m, k]]`` (512 bytes each, cache resident) are gathered at the weight
row ``W[k, :]`` and accumulated into int32 (exact for up to 32,768 terms: the
reduction dimension is processed in chunks of that size and flushed to int64).
The result equals :func:`simulator.approx.lut.lut_gemm_reference` exactly.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from simulator.approx.conv import conv2d_via_gemm
from simulator.approx.lut import LutMultiplier, check_uint8
from simulator.errors import AxsimError

K_CHUNK = 32768  # 65535 * 32768 < 2**31


@njit(parallel=True, cache=True)
def _lut_gemm_kernel(a, w, table, out):  # pragma: no cover - compiled
    m_rows, k_dim = a.shape
    n_cols = w.shape[1]
    blocks = (m_rows + 3) // 4
    for blk in prange(blocks):
        m0 = 4 * blk
        m1 = min(m0 + 1, m_rows - 1)
        m2 = min(m0 + 2, m_rows - 1)
        m3 = min(m0 + 3, m_rows - 1)
        acc0 = np.zeros(n_cols, np.int32)
        acc1 = np.zeros(n_cols, np.int32)
        acc2 = np.zeros(n_cols, np.int32)
        acc3 = np.zeros(n_cols, np.int32)
        for k0 in range(0, k_dim, K_CHUNK):
            acc0[:] = 0
            acc1[:] = 0
            acc2[:] = 0
            acc3[:] = 0
            for k in range(k0, min(k0 + K_CHUNK, k_dim)):
                r0 = table[a[m0, k]]
                r1 = table[a[m1, k]]
                r2 = table[a[m2, k]]
                r3 = table[a[m3, k]]
                wk = w[k]
                for n in range(n_cols):
                    b = wk[n]
                    acc0[n] += r0[b]
                    acc1[n] += r1[b]
                    acc2[n] += r2[b]
                    acc3[n] += r3[b]
            for n in range(n_cols):
                out[m0, n] += acc0[n]
            if m1 != m0:
                for n in range(n_cols):
                    out[m1, n] += acc1[n]
            if m2 != m1:
                for n in range(n_cols):
                    out[m2, n] += acc2[n]
            if m3 != m2:
                for n in range(n_cols):
                    out[m3, n] += acc3[n]


def lut_gemm(a, w, lut: LutMultiplier) -> np.ndarray:
    """``out[m, n] = sum_k table[A[m, k], W[k, n]]`` as int64 (A: M x K, W: K x N, uint8)."""
    a = np.ascontiguousarray(check_uint8(a, "activation"))
    w = np.ascontiguousarray(check_uint8(w, "weight"))
    if a.ndim != 2 or w.ndim != 2 or a.shape[1] != w.shape[0]:
        raise AxsimError(f"lut_gemm shapes {a.shape} and {w.shape} do not match (need M x K and K x N)")
    out = np.zeros((a.shape[0], w.shape[1]), dtype=np.int64)
    if out.size and a.shape[1]:
        _lut_gemm_kernel(a, w, np.ascontiguousarray(lut.table), out)
    return out


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
    return conv2d_via_gemm(x, w, lambda cols, wm: lut_gemm(cols, wm, lut),
                           stride, padding, dilation, groups, pad_value)
