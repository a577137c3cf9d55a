import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.approx import blocked as B
from simulator.approx.blockops import (blocked_conv2d, blocked_gemm, blocked_multiply,
                                       transform_operand)
from simulator.approx.intgemm import F32_EXACT, chunk_plan, exact_int_gemm
from simulator.errors import AxsimError

from _approx_ref import brute_blocked, brute_conv2d, brute_gemm

ALL = np.arange(256, dtype=np.int64)
A_ALL, W_ALL = ALL[:, None], ALL[None, :]

CONFIGS = list(B.presets().values()) + [
    B.BlockConfig(8, 2, pairs=[(0, 1), (3, 1), (0, 2), (3, 2)]),
    B.BlockConfig(8, 1, pairs=B.top_pairs(8, 20)),
    B.dynamic(2, 3, 8, 2),
    B.dynamic(3, 1, 8, 1),
]


def vectorised_reference(a, w, cfg):
    """All-pairs reference written with division/modulo instead of shifts and masks."""
    n, base = cfg.n_blocks, 2 ** cfg.block_bits
    sa, sw = np.sign(a) + (a == 0), np.sign(w) + (w == 0)
    ma, mw = np.abs(a), np.abs(w)
    xa = [(ma // base ** i) % base for i in range(n)]
    xw = [(mw // base ** j) % base for j in range(n)]
    if cfg.policy == "static":
        keep = lambda i, j: (i, j) in cfg.pairs  # noqa: E731
        return sa * sw * sum(xa[i] * xw[j] * base ** (i + j) for i in range(n) for j in range(n) if keep(i, j))

    def window(x, keep):
        lead = np.zeros(np.shape(x[0]), dtype=np.int64)
        for i in range(n):
            lead = np.where(x[i] > 0, i, lead)
        start = np.maximum(lead - keep + 1, 0)
        return [np.where((i >= start) & (i < start + keep), x[i], 0) for i in range(n)]

    def kept(x, which):  # per-operand policy: a dynamic window or a static block set
        if cfg.operand_policy(which) == "dynamic":
            return window(x, cfg.operand_keep(which))
        chosen = cfg.static_blocks_a if which == "a" else cfg.static_blocks_w
        return [x[i] if chosen is None or i in chosen else 0 * x[i] for i in range(n)]
    ya, yw = kept(xa, "a"), kept(xw, "w")
    return sa * sw * sum(ya[i] * yw[j] * base ** (i + j) for i in range(n) for j in range(n))


def test_exact_configs_equal_product_on_all_pairs():
    for k in (1, 2, 4, 8):
        out = blocked_multiply(A_ALL, W_ALL, B.exact(8, k))
        assert out.shape == (256, 256)
        assert np.array_equal(out, A_ALL * W_ALL)


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.name)
def test_all_pairs_against_vectorised_reference(cfg):
    out = blocked_multiply(A_ALL, W_ALL, cfg)
    assert np.array_equal(out, vectorised_reference(A_ALL, W_ALL, cfg))
    if not cfg.is_exact:
        assert np.any(out != A_ALL * W_ALL)
    assert np.all(out <= A_ALL * W_ALL)  # dropping blocks never increases the magnitude


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.name)
def test_sample_against_python_double_loop(cfg):
    rng = np.random.default_rng(11)
    a = np.concatenate([rng.integers(0, 256, 400), [0, 255, 1, 16, 15, 128]])
    w = np.concatenate([rng.integers(0, 256, 400), [255, 0, 1, 15, 16, 128]])
    out = blocked_multiply(a, w, cfg)
    assert out.tolist() == [brute_blocked(int(x), int(y), cfg) for x, y in zip(a, w)]


def test_signed_sign_magnitude_all_pairs():
    v = np.arange(-255, 256, dtype=np.int64)
    for base in (B.presets()["top3_k4"], B.presets()["dyn2x2_k2"], B.presets()["msb3x3_k2"]):
        cfg = B.BlockConfig(base.bits, base.block_bits, True, base.policy, base.pairs, base.keep_a, base.keep_w)
        out = blocked_multiply(v[:, None], v[None, :], cfg)
        mag = blocked_multiply(np.abs(v)[:, None], np.abs(v)[None, :], base)
        assert np.array_equal(out, np.sign(v)[:, None] * np.sign(v)[None, :] * mag)
        assert np.array_equal(out, vectorised_reference(v[:, None], v[None, :], cfg))
        rng = np.random.default_rng(3)
        a, w = rng.integers(-255, 256, 300), rng.integers(-255, 256, 300)
        assert blocked_multiply(a, w, cfg).tolist() == [brute_blocked(int(x), int(y), cfg) for x, y in zip(a, w)]
    int8 = np.arange(-128, 128, dtype=np.int8)
    assert np.array_equal(blocked_multiply(int8[:, None], int8[None, :], B.exact(8, 4, signed=True)),
                          int8.astype(np.int64)[:, None] * int8.astype(np.int64)[None, :])


def test_out_of_range_and_bad_dtype_are_rejected():
    with pytest.raises(AxsimError, match="value 256 out of range.*0..255"):
        blocked_multiply(np.array([256]), np.array([1]), B.exact())
    with pytest.raises(AxsimError, match="value -1 out of range"):
        blocked_multiply(np.array([-1]), np.array([1]), B.exact())
    with pytest.raises(AxsimError, match="dtype float64"):
        blocked_multiply(np.array([1.0]), np.array([1]), B.exact())
    with pytest.raises(AxsimError, match="not a product of block sets"):
        transform_operand(np.array([1]), B.presets()["top3_k4"], "a")
    with pytest.raises(AxsimError, match="method 'fastest'"):
        blocked_gemm(np.ones((1, 1), int), np.ones((1, 1), int), B.exact(), "fastest")


def _signed(cfg):
    return dataclasses.replace(cfg, signed=True, name="")


CFG_STRATEGY = st.sampled_from(CONFIGS + [_signed(c) for c in CONFIGS[:6]])


@settings(max_examples=40, deadline=None)
@given(cfg=CFG_STRATEGY, m=st.integers(1, 5), k=st.integers(1, 7), n=st.integers(1, 5),
       seed=st.integers(0, 2 ** 32 - 1))
def test_gemm_equals_reference_loop(cfg, m, k, n, seed):
    rng = np.random.default_rng(seed)
    lo = -cfg.max_magnitude if cfg.signed else 0
    a = rng.integers(lo, cfg.max_magnitude + 1, (m, k))
    w = rng.integers(lo, cfg.max_magnitude + 1, (k, n))
    ref = brute_gemm(a, w, lambda x, y: brute_blocked(x, y, cfg))
    assert np.array_equal(blocked_gemm(a, w, cfg), ref)
    assert np.array_equal(blocked_gemm(a, w, cfg, "planes"), ref)
    if cfg.keeps_whole_blocks():
        assert np.array_equal(blocked_gemm(a, w, cfg, "operands"), ref)


@settings(max_examples=25, deadline=None)
@given(cfg=CFG_STRATEGY, n=st.integers(1, 2), groups=st.sampled_from([1, 2]),
       cpg=st.integers(1, 2), kpg=st.integers(1, 2), h=st.integers(3, 6), w=st.integers(3, 6),
       r=st.integers(1, 3), s=st.integers(1, 3), stride=st.integers(1, 2), pad=st.integers(0, 1),
       dil=st.integers(1, 2), seed=st.integers(0, 2 ** 32 - 1))
def test_conv2d_equals_reference_loop(cfg, n, groups, cpg, kpg, h, w, r, s, stride, pad, dil, seed):
    if (h + 2 * pad) < dil * (r - 1) + 1 or (w + 2 * pad) < dil * (s - 1) + 1:
        return
    rng = np.random.default_rng(seed)
    lo = -cfg.max_magnitude if cfg.signed else 0
    x = rng.integers(lo, cfg.max_magnitude + 1, (n, cpg * groups, h, w))
    wt = rng.integers(lo, cfg.max_magnitude + 1, (kpg * groups, cpg, r, s))
    pv = 3
    out = blocked_conv2d(x, wt, cfg, stride=stride, padding=pad, dilation=dil, groups=groups, pad_value=pv)
    ref = brute_conv2d(x, wt, lambda p, q: blocked_multiply(p, q, cfg), (stride, stride), (pad, pad),
                       (dil, dil), groups, pv)
    assert out.shape == ref.shape
    assert np.array_equal(out, ref)


def test_conv2d_shape_errors():
    x = np.zeros((1, 3, 4, 4), dtype=np.int64)
    with pytest.raises(AxsimError, match="groups 2 do not match"):
        blocked_conv2d(x, np.zeros((2, 3, 1, 1), dtype=np.int64), B.exact(), groups=2)
    with pytest.raises(AxsimError, match="larger than the padded input"):
        blocked_conv2d(x, np.zeros((2, 3, 5, 5), dtype=np.int64), B.exact())


def test_exact_int_gemm_chunks_stay_exact():
    rng = np.random.default_rng(5)
    a = rng.integers(200, 256, (7, 3000))
    w = rng.integers(200, 256, (3000, 5))
    dtype, chunk = chunk_plan(3000, 255, 255)
    assert dtype is np.float32 and chunk * 255 * 255 <= F32_EXACT and chunk < 3000
    assert np.array_equal(exact_int_gemm(a, w), a @ w)
    # magnitudes needing float64
    big_a = rng.integers(-(2 ** 20), 2 ** 20, (3, 500))
    big_w = rng.integers(-(2 ** 20), 2 ** 20, (500, 4))
    assert chunk_plan(500, 2 ** 20, 2 ** 20)[0] is np.float64
    assert np.array_equal(exact_int_gemm(big_a, big_w), big_a @ big_w)
    # shared power-of-two factors are shifted out, then restored
    sh_a, sh_w = (rng.integers(0, 16, (4, 50)) << 4), (rng.integers(-16, 16, (50, 3)) << 6)
    assert np.array_equal(exact_int_gemm(sh_a, sh_w), sh_a @ sh_w)
    assert np.array_equal(exact_int_gemm(np.zeros((2, 3), int), np.ones((3, 2), int)), np.zeros((2, 2)))


def test_uint8_and_int8_inputs_give_the_same_gemm_as_int64():
    rng = np.random.default_rng(9)
    a = rng.integers(0, 256, (33, 70), dtype=np.uint8)
    w = rng.integers(0, 256, (70, 9), dtype=np.uint8)
    for cfg in CONFIGS:
        ref = blocked_gemm(a.astype(np.int64), w.astype(np.int64), cfg, "planes")
        assert np.array_equal(blocked_gemm(a, w, cfg), ref), cfg.name
        if cfg.keeps_whole_blocks():
            assert np.array_equal(blocked_gemm(a, w, cfg, "operands"), ref), cfg.name
    s8 = rng.integers(-128, 128, (20, 40), dtype=np.int8)
    t8 = rng.integers(-128, 128, (40, 6), dtype=np.int8)
    cfg = _signed(B.presets()["msb3x3_k2"])
    assert np.array_equal(blocked_gemm(s8, t8, cfg),
                          brute_gemm(s8, t8, lambda x, y: brute_blocked(x, y, cfg)))
    assert np.array_equal(blocked_gemm(s8, t8, B.exact(8, 4, signed=True)),
                          s8.astype(np.int64) @ t8.astype(np.int64))
