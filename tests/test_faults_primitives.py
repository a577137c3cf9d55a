"""The fault primitives: combining independent flip probabilities and injecting flips.

Expectations: the closed form 1 - prod (1 - p_i)^n_i computed directly, exact
results at p = 0 and p = 1, and binomial statistics (mean n·p, 6-sigma bounds)."""
from __future__ import annotations

import numpy as np
import pytest

from simulator.faults.inject import flip_bits
from simulator.faults.rates import BYTE_BITS, BUFFER_KINDS, combine, zero_rates


def test_zero_rates_never_flip():
    z = zero_rates()
    for p in (z.link("nop", (0, 0), (0, 1)), z.sram_read("global_buffer", "weights"),
              z.sram_stuck("weight_buffer", "weights")):
        assert p.shape == (BYTE_BITS,) and not p.any()
        with pytest.raises(ValueError):
            p[0] = 1.0  # shared read-only array
    assert BYTE_BITS == 8
    assert BUFFER_KINDS == ("global_buffer", "weight_buffer", "input_buffer", "accumulation_buffer")


def test_combine_closed_form():
    a = np.array([0.1, 0.0, 0.5, 1e-12, 0.2, 0.3, 0.0, 1.0])
    b = np.array([0.2, 0.3, 0.5, 1e-12, 0.0, 0.3, 0.0, 0.5])
    expected = a + b - a * b                         # = 1 - (1 - a)(1 - b), without cancellation
    assert combine(a, b) == pytest.approx(expected, rel=1e-12, abs=1e-300)
    # counts: event a three times, b once
    expected = 1 - (1 - a) ** 3 * (1 - b)
    assert combine(a, b, counts=np.array([3, 1])) == pytest.approx(expected, abs=1e-15)
    # tiny probabilities keep their precision: 2 x 1e-12 -> 2e-12 (1 - (1 - p)^2 in float loses it)
    assert combine(a, b)[3] == pytest.approx(2e-12, rel=1e-9)
    assert combine(a, b)[7] == 1.0
    assert combine().shape == (BYTE_BITS,) and not combine().any()


def test_flip_nothing_and_everything():
    rng = np.random.default_rng(1)
    x = np.arange(256, dtype=np.uint8)
    assert np.array_equal(flip_bits(x, np.zeros(8), rng), x)
    p = np.zeros(8)
    p[3] = 1.0                                       # bit 3 of every byte
    assert np.array_equal(flip_bits(x, p, rng), x ^ np.uint8(8))
    assert np.array_equal(flip_bits(x, np.ones(8), rng), ~x)
    y = np.array([0x0102, -1], dtype=np.int16)      # every byte of a wider word: bit 0 of both bytes
    p = np.zeros(8)
    p[0] = 1.0
    assert flip_bits(y, p, rng).tolist() == [0x0003, -1 ^ 0x0101]
    assert flip_bits(y, p, rng).dtype == np.int16


def test_input_is_not_modified_and_may_be_a_view():
    rng = np.random.default_rng(2)
    x = np.arange(64, dtype=np.uint8).reshape(8, 8)
    view = x[:, ::2]                                 # not contiguous
    out = flip_bits(view, np.full(8, 1.0), rng)
    assert np.array_equal(out, ~view) and np.array_equal(x, np.arange(64, dtype=np.uint8).reshape(8, 8))


def test_same_seed_same_flips():
    x = np.zeros(10_000, dtype=np.uint8)
    p = np.full(8, 1e-3)
    a = flip_bits(x, p, np.random.default_rng(7))
    b = flip_bits(x, p, np.random.default_rng(7))
    c = flip_bits(x, p, np.random.default_rng(8))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_flip_counts_are_binomial_per_position():
    n = 200_000
    x = np.zeros(n, dtype=np.uint8)
    p = np.array([0.0, 1e-3, 1e-2, 0.1, 0.5, 0.0, 0.25, 2e-2])
    out = flip_bits(x, p, np.random.default_rng(3))
    for b in range(8):
        k = int(((out >> b) & 1).sum())
        mean, sd = n * p[b], np.sqrt(n * p[b] * (1 - p[b]))
        assert abs(k - mean) <= 6 * sd + 1e-9, (b, k, mean)


def test_bad_probability_shape():
    with pytest.raises(ValueError, match=r"p_bit must have shape \(8,\)"):
        flip_bits(np.zeros(4, dtype=np.uint8), np.zeros(4), np.random.default_rng(0))


def test_a_single_byte_can_flip():
    p = np.zeros(8)
    p[7] = 1.0
    assert flip_bits(np.array([1], dtype=np.uint8), p, np.random.default_rng(0)).tolist() == [129]


def test_fortran_ordered_input_flips_in_place_of_the_copy():
    x = np.arange(12, dtype=np.uint8).reshape(3, 4)
    p = np.zeros(8)
    p[1] = 1.0
    out = flip_bits(x.T, p, np.random.default_rng(0))    # x.T is Fortran-ordered
    assert np.array_equal(out, x.T ^ np.uint8(2))


def test_skip_positions_with_a_vanishing_probability_finds_nothing():
    """p = 1e-26 (a link swinging at 1.2 V with sigma_N calibrated for 1e-12 at 0.8 V): numpy's geometric
    draws saturate near 2^63; the positions must stay inside [0, n) (none is expected: n p ~ 1e-20)."""
    from simulator.faults.inject import skip_positions
    rng = np.random.default_rng(5)
    for n in (1, 960, 10**6):
        out = skip_positions(rng, n, 1e-26)
        assert out.size == 0 and out.dtype == np.int64
