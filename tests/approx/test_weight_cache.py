"""Encoded weights kept between calls: same results, keyed by content (weights changed in place
are not served stale), bounded size."""
from __future__ import annotations

import numpy as np

from simulator.approx import blocked as B
from simulator.approx import weight_cache
from simulator.approx.encoded import encoded_conv2d, encoded_gemm
from simulator.macs import MacConfig

from _approx_ref import brute_gemm


def test_cached_weights_give_the_same_results_and_changes_are_seen(monkeypatch):
    monkeypatch.setattr(weight_cache, "MIN_BYTES", 0)
    cfg = MacConfig("top10_k2", "axbxp", block=B.presets()["top10_k2"])
    enc = cfg.encoding
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (1, 6, 7, 7), dtype=np.uint8)
    w = rng.integers(-127, 128, (5, 6, 3, 3)).astype(np.int8)
    weight_cache.clear()
    first = encoded_conv2d(enc, x, w, 1, 1)
    again = encoded_conv2d(enc, x, w, 1, 1)
    assert weight_cache.stats()["hits"] == 1 and weight_cache.stats()["misses"] == 1
    np.testing.assert_array_equal(first, again)
    w[2, 3, 1, 1] = -w[2, 3, 1, 1] - 1  # changed in place: a new key, a new result
    changed = encoded_conv2d(enc, x, w, 1, 1)
    assert weight_cache.stats()["misses"] == 2
    weight_cache.clear()
    np.testing.assert_array_equal(changed, encoded_conv2d(enc, x, w, 1, 1))
    assert not np.array_equal(changed, first)
    a = rng.integers(0, 256, (4, 11), dtype=np.uint8)
    wg = rng.integers(-128, 128, (11, 3)).astype(np.int8)
    mul = lambda p, q: int(cfg.multiply(np.array(p), np.array(q)))  # noqa: E731
    for _ in range(2):
        np.testing.assert_array_equal(encoded_gemm(enc, a, wg), brute_gemm(a, wg, mul))


def test_cache_stays_within_its_capacity(monkeypatch):
    monkeypatch.setattr(weight_cache, "CAPACITY_BYTES", 4096)
    monkeypatch.setattr(weight_cache, "MIN_BYTES", 0)
    weight_cache.clear()
    owner = object()
    for i in range(20):
        w = np.full(10, i, np.int8)
        assert weight_cache.cached(owner, ("t",), w, lambda: np.zeros(64, np.float64))[0] == 0  # 512 bytes each
        assert weight_cache.stats()["bytes"] <= 4096
    big = weight_cache.cached(owner, ("t",), np.zeros(3, np.int8), lambda: np.zeros(1024, np.float64))
    assert big.nbytes == 8192 and weight_cache.stats()["bytes"] <= 4096  # larger than a quarter: not kept
    weight_cache.clear()


def test_small_weights_are_not_kept():
    weight_cache.clear()
    calls = []
    for _ in range(2):
        weight_cache.cached(object(), ("t",), np.zeros(100, np.int8), lambda: calls.append(1) or np.zeros(4))
    assert len(calls) == 2 and weight_cache.stats() == {"hits": 0, "misses": 0, "bytes": 0}
