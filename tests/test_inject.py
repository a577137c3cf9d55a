"""Injection primitives against binomial statistics: transient flips per bit position (uniform and
per element), persistent stuck-at maps (identical across reads, deterministic per seed), seeds."""
from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.faults.inject import apply_stuck, flip_bits, skip_positions, stuck_cells
from simulator.faults.seeding import rng_for


def within_binomial(k: int, n: int, p: float, z: float = 6.0) -> bool:
    """|k - np| <= z sigma + 3: fails with probability far below 1e-8 for these n, p."""
    mean = n * p
    return abs(k - mean) <= z * math.sqrt(mean * (1 - p)) + 3


def flips_per_position(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    diff = (before.reshape(-1).view(np.uint8) ^ after.reshape(-1).view(np.uint8))
    return np.array([int(((diff >> b) & 1).sum()) for b in range(8)])


@settings(max_examples=40, deadline=None)
@given(log_p=st.floats(-9.0, -1.0), n=st.integers(1, 200_000), seed=st.integers(0, 2**32 - 1),
       dtype=st.sampled_from([np.int8, np.uint8, np.int32]))
def test_flip_counts_are_binomial_per_position(log_p, n, seed, dtype):
    p = 10.0 ** log_p
    probs = np.array([p, 0.0, p / 3, p, 0.0, p, p / 7, p])  # a group of positions at p, others lower or 0
    values = np.random.default_rng(seed ^ 1).integers(-100, 100, size=n).astype(dtype)
    out = flip_bits(values, probs, np.random.default_rng(seed))
    assert out.dtype == values.dtype and out.shape == values.shape
    counts = flips_per_position(values, out)
    n_bytes = n * values.dtype.itemsize
    for b in range(8):
        assert within_binomial(counts[b], n_bytes, probs[b]), (b, counts[b], n_bytes * probs[b])
    assert counts[1] == 0 and counts[4] == 0


@settings(max_examples=25, deadline=None)
@given(log_p=st.floats(-6.0, -1.0), seed=st.integers(0, 2**32 - 1))
def test_per_element_probabilities(log_p, seed):
    """Rows of per-element probabilities: the first half never flips, the second at p per position."""
    n, p = 50_000, 10.0 ** log_p
    probs = np.zeros((n, 8))
    probs[n // 2:, :4] = p
    probs[n // 2:, 4:] = p / 10
    values = np.zeros(n, dtype=np.int8)
    out = flip_bits(values, probs, np.random.default_rng(seed))
    assert not out[: n // 2].any()
    counts = flips_per_position(values[n // 2:], out[n // 2:])
    for b in range(8):
        assert within_binomial(counts[b], n - n // 2, probs[-1, b]), (b, counts[b])


def test_flip_positions_are_uniform_over_the_array():
    """Chi-square over 20 equal bins of the positions of 40,000 expected flips (p = 0.01)."""
    pos = skip_positions(np.random.default_rng(7), 4_000_000, 0.01)
    assert np.all(np.diff(pos) > 0) and pos[0] >= 0 and pos[-1] < 4_000_000
    hist = np.bincount(pos // 200_000, minlength=20)
    expected = pos.size / 20
    chi2 = float(((hist - expected) ** 2 / expected).sum())
    assert chi2 < 50.0  # 19 degrees of freedom: P(chi2 > 50) ~ 1e-4


def test_certain_and_impossible_flips():
    values = np.arange(-128, 128, dtype=np.int8)
    ones = flip_bits(values, np.ones(8), np.random.default_rng(0))
    np.testing.assert_array_equal(ones, ~values)
    assert np.array_equal(flip_bits(values, np.zeros(8), np.random.default_rng(0)), values)
    words = np.zeros(5, dtype=np.int32)
    only_bit0 = flip_bits(words, np.array([1.0] + [0.0] * 7), np.random.default_rng(0))
    np.testing.assert_array_equal(only_bit0, np.full(5, 0x01010101, dtype=np.int32))  # every byte's bit 0


def test_same_seed_same_flips_other_seed_other_flips():
    values = np.zeros(100_000, dtype=np.int8)
    p = np.full(8, 1e-3)
    a = flip_bits(values, p, rng_for(3, "chiplet[0,0].noc"))
    b = flip_bits(values, p, rng_for(3, "chiplet[0,0].noc"))
    c = flip_bits(values, p, rng_for(4, "chiplet[0,0].noc"))
    d = flip_bits(values, p, rng_for(3, "chiplet[0,1].noc"))
    assert a.tobytes() == b.tobytes()
    assert a.tobytes() != c.tobytes() and a.tobytes() != d.tobytes()


def test_rng_for_is_seed_plus_a_blake2b_hash_of_the_path():
    digest = hashlib.blake2b(b"chiplet[1,2].pe[3].weight_buffer", digest_size=16).digest()
    words = [int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4)]
    expected = np.random.Generator(np.random.PCG64(np.random.SeedSequence([11, *words]))).integers(0, 2**62, 4)
    np.testing.assert_array_equal(rng_for(11, "chiplet[1,2].pe[3].weight_buffer").integers(0, 2**62, 4), expected)
    with pytest.raises(ValueError):
        rng_for(-1, "x")


def test_bad_probabilities_are_rejected():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="shape"):
        flip_bits(np.zeros(4, np.int8), np.zeros(7), rng)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        flip_bits(np.zeros(4, np.int8), np.full(8, 1.5), rng)
    with pytest.raises(ValueError, match="integer"):
        flip_bits(np.zeros(4, np.float32), np.zeros(8), rng)
    with pytest.raises(ValueError, match="shape"):
        stuck_cells(rng, 10, np.zeros(3))


# ----------------------------------------------------------------------------- persistent faults
@settings(max_examples=30, deadline=None)
@given(log_p=st.floats(-7.0, -1.0), n_bytes=st.integers(1, 300_000), seed=st.integers(0, 2**32 - 1))
def test_stuck_cell_counts_and_values_are_binomial(log_p, n_bytes, seed):
    p = np.full(8, 10.0 ** log_p)
    p[7] = 0.0  # a protected most-significant bit
    idx, bit, val = stuck_cells(np.random.default_rng(seed), n_bytes, p)
    assert idx.dtype.kind == "i" and len(idx) == len(bit) == len(val)
    assert np.all((idx >= 0) & (idx < n_bytes))
    assert np.all(np.lexsort((bit, idx)) == np.arange(len(idx)))  # sorted by byte, then bit
    assert len(set(zip(idx.tolist(), bit.tolist()))) == len(idx)   # each cell at most once
    for b in range(8):
        assert within_binomial(int((bit == b).sum()), n_bytes, p[b])
    assert within_binomial(int(val.sum()), len(val), 0.5)


def test_stuck_cells_are_identical_across_reads_and_hit_later_data():
    idx, bit, val = stuck_cells(rng_for(5, "chiplet[0,0].pe[0].weight_buffer"), 4096, np.full(8, 0.01))
    assert len(idx) > 100
    first = np.random.default_rng(1).integers(-128, 128, 4096).astype(np.int8)
    later = np.random.default_rng(2).integers(-128, 128, 4096).astype(np.int8)
    reads = [apply_stuck(first, idx, bit, val) for _ in range(3)]
    assert all(r.tobytes() == reads[0].tobytes() for r in reads)
    for data in (first, later):  # different data occupying the same cells meets the same faults
        out = apply_stuck(data, idx, bit, val).view(np.uint8)
        np.testing.assert_array_equal((out[idx] >> bit) & 1, val)
        untouched = np.ones(4096 * 8, dtype=bool)
        untouched[idx * 8 + bit] = False
        bits_in = np.unpackbits(data.view(np.uint8), bitorder="little")
        bits_out = np.unpackbits(out, bitorder="little")
        np.testing.assert_array_equal(bits_in[untouched], bits_out[untouched])
    # a slice stored at byte offset 1000 meets exactly the cells of bytes 1000..1099
    part = apply_stuck(first[1000:1100], idx, bit, val, offset_bytes=1000)
    np.testing.assert_array_equal(part, reads[0][1000:1100])


def test_stuck_maps_are_deterministic_per_seed():
    p = np.full(8, 1e-3)
    a = stuck_cells(rng_for(9, "chiplet[0,0].gb"), 65536, p)
    b = stuck_cells(rng_for(9, "chiplet[0,0].gb"), 65536, p)
    c = stuck_cells(rng_for(10, "chiplet[0,0].gb"), 65536, p)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])


def test_per_element_maximum_over_blocks_matches_numpy():
    from simulator.faults.inject import _column_max
    rng = np.random.default_rng(3)
    for rows in (0, 1, 63, 64, 1037):
        p = rng.random((rows, 8))
        expected = p.max(axis=0) if rows else np.zeros(8)
        np.testing.assert_array_equal(_column_max(p), expected)
