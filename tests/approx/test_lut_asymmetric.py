"""LUT multipliers with an asymmetric table T[a, b] = 256·a + b, so that a transposed layout,
swapped operands or a swapped activation/weight role changes every result.

Expectations are brute-force loops over the definition ``sum_k T[A[m, k], W[k, n]]``."""
from __future__ import annotations

import numpy as np

from simulator.approx.kernels import lut_conv2d, lut_gemm
from simulator.approx.lut import LutMultiplier, load_binary, load_npy, lut_gemm_reference, save_binary, save_npy

A_IDX, B_IDX = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
ASYM = LutMultiplier((A_IDX * 256 + B_IDX).astype(np.uint16), "asym")


def test_table_is_indexed_activation_first():
    assert ASYM.multiply(1, 0) == 256 and ASYM.multiply(0, 1) == 1
    assert ASYM.multiply(np.array([2, 3]), np.array([5, 7])).tolist() == [2 * 256 + 5, 3 * 256 + 7]
    ws = ASYM.weight_stationary()
    assert ws[5, 2] == 2 * 256 + 5 and ws.flags.c_contiguous


def test_binary_layout_is_a_times_256_plus_b(tmp_path):
    raw = save_binary(ASYM, tmp_path / "asym.bin").read_bytes()
    words = np.frombuffer(raw, dtype="<u2")
    assert words[1 * 256 + 0] == 256 and words[0 * 256 + 1] == 1 and words[3 * 256 + 200] == 3 * 256 + 200
    assert np.array_equal(words, np.arange(65536))
    assert load_binary(tmp_path / "asym.bin").same_table(ASYM)
    assert not load_binary(tmp_path / "asym.bin").same_table(LutMultiplier(ASYM.table.T.copy()))


def test_npy_round_trip_keeps_the_orientation(tmp_path):
    back = load_npy(save_npy(ASYM, tmp_path / "asym.npy"))
    assert back.table[1, 0] == 256 and back.table[0, 1] == 1


def brute_gemm(a, w, table):
    m, k = a.shape
    n = w.shape[1]
    out = np.zeros((m, n), dtype=np.int64)
    for i in range(m):
        for j in range(n):
            for x in range(k):
                out[i, j] += int(table[a[i, x], w[x, j]])
    return out


def test_gemm_kernels_against_brute_force():
    rng = np.random.default_rng(5)
    a = rng.integers(0, 256, size=(3, 7), dtype=np.uint8)
    w = rng.integers(0, 256, size=(7, 4), dtype=np.uint8)
    want = brute_gemm(a, w, ASYM.table)
    assert np.array_equal(lut_gemm_reference(a, w, ASYM), want)
    assert np.array_equal(lut_gemm(a, w, ASYM), want)


def test_conv_against_brute_force():
    rng = np.random.default_rng(6)
    x = rng.integers(0, 256, size=(1, 2, 4, 5), dtype=np.uint8)     # N, C, H, W
    w = rng.integers(0, 256, size=(3, 2, 2, 3), dtype=np.uint8)     # K, C, R, S
    out = lut_conv2d(x, w, ASYM)
    assert out.shape == (1, 3, 3, 3)
    for k in range(3):
        for p in range(3):
            for q in range(3):
                want = sum(int(ASYM.table[x[0, c, p + r, q + s], w[k, c, r, s]])
                           for c in range(2) for r in range(2) for s in range(3))
                assert out[0, k, p, q] == want, (k, p, q)
