"""Encoded (separable-product) GEMM and convolution against brute-force definitions."""
import numpy as np
import pytest

from simulator.approx import blocked as B
from simulator.approx import threads
from simulator.approx.encoded import F32_EXACT, Encoding, encoded_conv2d, encoded_gemm
from simulator.errors import AxsimError
from simulator.macs import EXACT, MacConfig

from _approx_ref import brute_blocked, brute_conv2d, brute_gemm

PRESETS = B.presets()
CONFIGS = [EXACT] + [MacConfig(n, "axbxp", block=PRESETS[n])
                     for n in ("msb3x3_k2", "dyn2x2_k2", "top10_k2", "top6_k2", "top3_k4", "dyn2xmsb3_k2")]


def _brute_mul(cfg: MacConfig):
    if cfg.type == "exact":
        return lambda a, w: int(a) * int(w)
    signed = cfg.signed_block
    return lambda a, w: brute_blocked(int(a), int(w), signed)


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.name)
def test_encoding_reproduces_every_product(cfg):
    """All 65,536 (activation code, weight) pairs against the per-pair block loop."""
    enc = cfg.encoding
    mul = _brute_mul(cfg)
    got = enc.products()
    rng = np.random.default_rng(3)
    for a, w in zip(rng.integers(0, 256, 3000), rng.integers(-128, 128, 3000)):
        assert got[a, w + 128] == mul(a, w)
    for a, w in ((255, -128), (255, 127), (0, -128), (128, -1), (3, 3)):
        assert got[a, w + 128] == mul(a, w)
    # the terms of a static pair set that is not a product of block sets: one per block group
    expected_terms = {"top10_k2": 4, "top6_k2": 3, "top3_k4": 2}.get(cfg.name, 1)
    assert enc.terms == expected_terms


def test_exact_encoding_is_centred():
    """Activation codes centred at 127: |a - 127| <= 128, |w| <= 128 -> 1,024 terms per chunk."""
    enc = EXACT.encoding
    assert enc.centres.tolist() == [127]
    assert enc.plane_bounds.tolist() == [128 * 128]
    assert enc.cuts(3000) == [(0, 1024), (1024, 2048), (2048, 3000)]


def test_tap_plan_covers_rows_once_within_the_bound():
    enc = MacConfig("t", "axbxp", block=PRESETS["top10_k2"]).encoding
    cg, taps = 700, 9
    plan = enc.tap_plan(cg, taps)
    bounds = enc.plane_bounds
    seen = np.zeros((taps, enc.terms * cg), dtype=int)
    for group in plan:
        total = 0
        for t, r0, r1 in group:
            seen[t, r0:r1] += 1
            total += sum(int(bounds[row // cg]) for row in range(r0, r1))
        assert total <= F32_EXACT
    assert (seen == 1).all()
    assert len(plan) > 1


def test_encoding_rejects_bad_tables():
    with pytest.raises(AxsimError, match=r"\(256, P\)"):
        Encoding(np.zeros((255, 1), int), np.zeros((255, 1), int))
    with pytest.raises(AxsimError, match="exceed 2\\*\\*24"):
        Encoding(np.arange(256)[:, None] * 4096 + 1, np.full((256, 1), 4097))


@pytest.mark.parametrize("cfg", [CONFIGS[0], CONFIGS[3], CONFIGS[2]], ids=lambda c: c.name)
@pytest.mark.parametrize("shape", [
    # n, c, h, w, k, r, s, stride, pad, groups
    (1, 40, 7, 6, 3, 3, 3, 1, 1, 1),     # tap method, stride 1
    (2, 36, 9, 8, 2, 3, 2, 2, 1, 1),     # tap method, stride 2, non-square kernel, batch
    (1, 36, 9, 8, 2, 3, 2, 2, 1, 1),     # the same, one sample (GEMM rows stop at the last kept row)
    (5, 3, 6, 5, 4, 3, 3, (2, 1), 0, 1),  # im2col method (few channels), many samples
    (1, 8, 5, 5, 4, 3, 3, 1, 1, 2),      # groups
    (1, 64, 3, 3, 2, 1, 1, 1, 0, 1),     # 1 x 1
    (1, 40, 7, 9, 3, 3, 3, (1, 2), 1, 1),  # tap method, stride (1, 2): phases of unequal width
    (1, 64, 5, 5, 4, 3, 3, 1, 1, 2),     # tap method per group
])
def test_conv2d_equals_reference_loop(cfg, shape):
    n, c, h, w, k, r, s, stride, pad, groups = shape
    rng = np.random.default_rng(sum(shape[:7]))
    x = rng.integers(0, 256, (n, c, h, w), dtype=np.uint8)
    wt = rng.integers(-128, 128, (k, c // groups, r, s)).astype(np.int8)
    st = stride if isinstance(stride, tuple) else (stride, stride)
    mul = np.vectorize(_brute_mul(cfg), otypes=[np.int64])
    ref = brute_conv2d(x, wt, mul, st, (pad, pad), groups=groups, pad_value=37)
    np.testing.assert_array_equal(encoded_conv2d(cfg.encoding, x, wt, stride, pad, groups, 37), ref)
    np.testing.assert_array_equal(cfg.conv2d(x, wt, stride, pad, groups, 37), ref)


@pytest.mark.parametrize("c", [120, 1300])
def test_conv2d_at_extreme_operands_splits_exactly(c):
    """All activations 255 and weights -128 / 127: every partial sum as large as it can be; with
    1,300 channels x 9 taps the tap plan needs several float32 groups."""
    x = np.full((1, c, 4, 4), 255, np.uint8)
    w = np.full((2, c, 3, 3), -128, np.int8)
    w[1] = 127
    out = EXACT.conv2d(x, w, 1, 0)
    assert out[0, 0].tolist() == [[-255 * 128 * 9 * c] * 2] * 2
    assert out[0, 1].tolist() == [[255 * 127 * 9 * c] * 2] * 2


@pytest.mark.parametrize("cfg", CONFIGS[:4], ids=lambda c: c.name)
def test_gemm_equals_reference_loop(cfg):
    rng = np.random.default_rng(11)
    a = rng.integers(0, 256, (7, 33), dtype=np.uint8)
    w = rng.integers(-128, 128, (33, 5)).astype(np.int8)
    np.testing.assert_array_equal(encoded_gemm(cfg.encoding, a, w), brute_gemm(a, w, _brute_mul(cfg)))


def test_results_do_not_depend_on_the_number_of_workers():
    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, (1, 64, 40, 40), dtype=np.uint8)
    w = rng.integers(-128, 128, (16, 64, 3, 3)).astype(np.int8)
    cfg = CONFIGS[3]
    before = threads.workers()
    try:
        threads.set_workers(1)
        one = cfg.conv2d(x, w, 1, 1)
        threads.set_workers(3)
        three = cfg.conv2d(x, w, 1, 1)
    finally:
        threads.set_workers(before)
    np.testing.assert_array_equal(one, three)
    assert one.shape == (1, 16, 40, 40)


def test_worker_count_is_validated(monkeypatch):
    with pytest.raises(AxsimError, match="workers 0: must be an integer >= 1"):
        threads.set_workers(0)
    monkeypatch.setitem(threads._state, "workers", None)
    monkeypatch.setenv(threads.ENV, "two")
    with pytest.raises(AxsimError, match="AXSIM_THREADS='two': must be an integer >= 1"):
        threads.workers()
    monkeypatch.setenv(threads.ENV, "2")
    assert threads.workers() == 2


def test_run_blocks_raises_the_first_error_and_runs_nested_calls_inline():
    before = threads.workers()
    seen = []

    def inner(i):
        seen.append(("inner", i))

    def outer(i):
        threads.run_blocks(inner, [i, i + 10])  # from a worker thread: inline, no deadlock
        if i == 2:
            raise AxsimError("block 2 failed")

    try:
        threads.set_workers(2)
        with pytest.raises(AxsimError, match="block 2 failed"):
            threads.run_blocks(outer, [0, 1, 2, 3])
    finally:
        threads.set_workers(before)
    assert ("inner", 12) in seen and ("inner", 0) in seen


def test_a_forked_child_starts_its_own_pool():
    import multiprocessing as mp
    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, (1, 64, 30, 30), dtype=np.uint8)
    w = rng.integers(-128, 128, (8, 64, 3, 3)).astype(np.int8)
    before = threads.workers()
    threads.set_workers(2)
    try:
        exp = EXACT.conv2d(x, w, 1, 1)  # the parent's pool exists now
        ctx = mp.get_context("fork")
        with ctx.Pool(1) as pool:
            got = pool.apply_async(EXACT.conv2d, (x, w, 1, 1)).get(timeout=60)
    finally:
        threads.set_workers(before)
    np.testing.assert_array_equal(got, exp)


def test_conv2d_rejects_bad_arguments():
    x = np.zeros((1, 4, 5, 5), np.uint8)
    w = np.zeros((2, 4, 3, 3), np.int8)
    with pytest.raises(AxsimError, match="pad_value 300: must be an activation code in 0..255"):
        EXACT.conv2d(x, w, 1, 1, 1, 300)
    with pytest.raises(AxsimError, match="do not match"):
        EXACT.conv2d(x, w, 1, 1, 3)
    with pytest.raises(AxsimError, match="kernel 3x3 is larger than the padded input 2x2"):
        EXACT.conv2d(x[:, :, :2, :2], w)


@pytest.mark.parametrize("cfg", [CONFIGS[0], CONFIGS[3]], ids=lambda c: c.name)
@pytest.mark.parametrize("workers", [1, 2, 3])
def test_small_image_split_over_output_channels_equals_the_table_reference(cfg, workers):
    """One 3 x 3 sample with 96 output channels: too few row blocks for the workers, so output
    channel blocks share one encoded slab; the result must not depend on the split."""
    from numpy.lib.stride_tricks import sliding_window_view

    from simulator.approx import threads
    rng = np.random.default_rng(workers)
    x = rng.integers(0, 256, (1, 40, 3, 3), dtype=np.uint8)
    wt = rng.integers(-128, 128, (96, 40, 3, 3)).astype(np.int8)
    table = cfg.encoding.products()                       # [a, w + 128]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=5)
    win = sliding_window_view(xp, (3, 3), axis=(2, 3))      # 1 x C x 3 x 3 x R x S
    prods = table[win[:, None], (wt.astype(np.int64) + 128)[None, :, :, None, None]]
    ref = prods.sum(axis=(2, 5, 6))                         # N x K x OH x OW
    before = threads.workers()
    try:
        threads.set_workers(workers)
        np.testing.assert_array_equal(encoded_conv2d(cfg.encoding, x, wt, 1, 1, 1, 5), ref)
    finally:
        threads.set_workers(before)
