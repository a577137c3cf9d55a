import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.approx import blocked as B
from simulator.approx import generators as G
from simulator.approx.blockops import blocked_conv2d, blocked_gemm
from simulator.approx.kernels import K_CHUNK, lut_conv2d, lut_gemm
from simulator.approx.lut import LutMultiplier, lut_gemm_reference
from simulator.errors import AxsimError

from _approx_ref import brute_conv2d, brute_gemm

RANDOM_LUT = LutMultiplier(np.random.default_rng(0).integers(0, 65536, (256, 256)), "random")


@settings(max_examples=40, deadline=None)
@given(m=st.integers(1, 9), k=st.integers(1, 12), n=st.integers(1, 9), seed=st.integers(0, 2 ** 32 - 1))
def test_lut_gemm_equals_loop_and_fancy_indexing(m, k, n, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (m, k), dtype=np.uint8)
    w = rng.integers(0, 256, (k, n), dtype=np.uint8)
    out = lut_gemm(a, w, RANDOM_LUT)
    assert out.dtype == np.int64
    assert np.array_equal(out, lut_gemm_reference(a, w, RANDOM_LUT))
    assert np.array_equal(out, brute_gemm(a, w, lambda x, y: int(RANDOM_LUT.table[x, y])))


def test_lut_gemm_larger_and_non_contiguous():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (203, 300), dtype=np.uint8)
    w = rng.integers(0, 256, (40, 300), dtype=np.uint8).T     # non-contiguous view
    assert np.array_equal(lut_gemm(a, w, RANDOM_LUT), lut_gemm_reference(a, w, RANDOM_LUT))
    assert np.array_equal(lut_gemm(a.astype(np.int64), w, G.exact()), a.astype(np.int64) @ w.astype(np.int64))


def test_lut_gemm_long_reduction_does_not_overflow():
    k = K_CHUNK + 77
    a = np.full((5, k), 255, dtype=np.uint8)
    w = np.full((k, 3), 255, dtype=np.uint8)
    lut = LutMultiplier(np.full((256, 256), 65535, dtype=np.uint16), "max")
    assert np.all(lut_gemm(a, w, lut) == 65535 * k)


def test_lut_gemm_rejects_bad_operands():
    with pytest.raises(AxsimError, match="value 300 out of range"):
        lut_gemm(np.array([[300]]), np.array([[1]], dtype=np.uint8), G.exact())
    with pytest.raises(AxsimError, match="do not match"):
        lut_gemm(np.zeros((2, 3), np.uint8), np.zeros((2, 3), np.uint8), G.exact())


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 2), groups=st.sampled_from([1, 2]), cpg=st.integers(1, 3), kpg=st.integers(1, 2),
       h=st.integers(3, 6), w=st.integers(3, 6), r=st.integers(1, 3), stride=st.integers(1, 2),
       pad=st.integers(0, 2), pad_value=st.sampled_from([0, 128]), seed=st.integers(0, 2 ** 32 - 1))
def test_lut_conv2d_equals_reference_loop(n, groups, cpg, kpg, h, w, r, stride, pad, pad_value, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, cpg * groups, h, w), dtype=np.uint8)
    wt = rng.integers(0, 256, (kpg * groups, cpg, r, r), dtype=np.uint8)
    out = lut_conv2d(x, wt, RANDOM_LUT, stride=stride, padding=pad, groups=groups, pad_value=pad_value)
    ref = brute_conv2d(x, wt, lambda p, q: RANDOM_LUT.table[p, q].astype(np.int64),
                       (stride, stride), (pad, pad), (1, 1), groups, pad_value)
    assert np.array_equal(out, ref)


def test_table_of_block_config_agrees_with_blocked_gemm_and_conv():
    rng = np.random.default_rng(2)
    a = rng.integers(0, 256, (64, 75), dtype=np.uint8)
    w = rng.integers(0, 256, (75, 16), dtype=np.uint8)
    x = rng.integers(0, 256, (1, 4, 7, 7), dtype=np.uint8)
    wt = rng.integers(0, 256, (6, 4, 3, 3), dtype=np.uint8)
    for cfg in B.presets().values():
        lut = G.from_block_config(cfg)
        assert np.array_equal(lut_gemm(a, w, lut), blocked_gemm(a, w, cfg))
        assert np.array_equal(lut_conv2d(x, wt, lut, stride=2, padding=1),
                              blocked_conv2d(x, wt, cfg, stride=2, padding=1))


def test_fast_path_equals_planes_on_a_layer_slice():
    rng = np.random.default_rng(4)
    a = rng.integers(0, 256, (300, 576))
    w = rng.integers(0, 256, (576, 32))
    for name in ("msb3x3_k2", "msb1x1_k4", "dyn2x2_k2", "exact_k4"):
        cfg = B.presets()[name]
        assert cfg.keeps_whole_blocks()
        assert np.array_equal(blocked_gemm(a, w, cfg, "operands"), blocked_gemm(a, w, cfg, "planes"))
    assert np.array_equal(blocked_gemm(a, w, B.exact()), a @ w)


@pytest.mark.parametrize("m, k, n", [(5, 7, 1), (2500, 13, 6), (300, 40, 9)])
def test_packed_kernel_on_signed_tables_equals_fancy_indexing(m, k, n):
    """Two channels share an int64 (32-bit halves): negative products borrow across the halves;
    channel counts that are not a multiple of 4 and pixel counts above one accumulator block."""
    from simulator.approx.kernels import table_gemm_t
    rng = np.random.default_rng(m + k + n)
    t = rng.integers(-65535, 65536, (256, 256)).astype(np.int64)
    a = rng.integers(0, 256, (m, k), dtype=np.uint8)
    w = rng.integers(0, 256, (k, n), dtype=np.uint8)
    exp = t[w[None, :, :], a[:, :, None]].sum(axis=1)
    np.testing.assert_array_equal(table_gemm_t(np.ascontiguousarray(a.T), w, t).T, exp)


def test_packed_kernel_extreme_negative_sums_over_a_chunk_boundary():
    """Every product -65535 over K_CHUNK + 5 terms: each 32-bit half is as negative as allowed."""
    from simulator.approx.kernels import table_gemm_t
    k = K_CHUNK + 5
    t = np.full((256, 256), -65535, np.int64)
    t[7] = 65535
    a = np.full((k, 3), 200, np.uint8)
    w = np.zeros((k, 5), np.uint8)
    w[:, 1] = 7
    got = table_gemm_t(a, w, t)
    assert got[0].tolist() == [-65535 * k] * 3
    assert got[1].tolist() == [65535 * k] * 3
    assert got[2:].tolist() == [[-65535 * k] * 3] * 3


@pytest.mark.parametrize("m, n", [(5000, 7), (300, 20), (5, 300), (40, 2100)])
def test_lut_gemm_every_work_split_equals_the_reference(m, n):
    """Pixel blocks (many pixels), output-channel blocks (few pixels), and the transposed kernel
    (more channels than pixels), on one and on three worker threads."""
    from simulator.approx import threads
    rng = np.random.default_rng(m + n)
    a = rng.integers(0, 256, (m, 19), dtype=np.uint8)
    w = rng.integers(0, 256, (19, n), dtype=np.uint8)
    want = lut_gemm_reference(a, w, RANDOM_LUT)
    before = threads.workers()
    try:
        for count in (1, 3):
            threads.set_workers(count)
            assert np.array_equal(lut_gemm(a, w, RANDOM_LUT), want)
    finally:
        threads.set_workers(before)
