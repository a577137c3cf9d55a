"""Weight-compression codecs: sizes by hand, round trips through a reference decoder, Huffman
against its cost identity and the entropy bounds, lossy schemes against their definitions."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from simulator.compress import codecs as C


def test_zrle_size_by_hand():
    w = np.array([5, 0, 0, 0, -3, 0] + [0] * 20, dtype=np.int8)
    # tokens: lit 5 | run 3 | lit -3 | runs of 21 zeros with run_bits=4 (cap 16): 16 + 5
    out = C.zrle(w, run_bits=4)
    assert out.bits == 9 + 5 + 9 + 5 + 5
    assert np.array_equal(C.zrle_decode(out.stream, out.bits, 4), w)
    assert out.ratio == pytest.approx(8 * 26 / 33)


def test_zrle_stream_bits_by_hand():
    out = C.zrle(np.array([1, 0, 0], dtype=np.int8), run_bits=2)
    # flag 0 + 00000001, then flag 1 + run length 2 -> 01 : 0000000011 01 -> 12 bits
    assert out.bits == 12
    assert out.stream == bytes([0b00000000, 0b11010000])


@settings(max_examples=120, deadline=None)
@given(arrays(np.int8, st.integers(0, 300), elements=st.sampled_from([0, 0, 0, 1, -1, 127, -128, 5])),
       st.integers(1, 9))
def test_zrle_round_trip_and_counted_size(w, run_bits):
    out = C.zrle(w, run_bits)
    assert np.array_equal(C.zrle_decode(out.stream, out.bits, run_bits), w)
    assert len(out.stream) == -(-out.bits // 8)
    assert C.zrle(w, run_bits, stream=False).bits == out.bits
    # independent count: 9 bits per non-zero, (1 + run_bits) per started block of 2**run_bits zeros
    runs, count = [], 0
    for v in list(w) + [1]:
        if v == 0:
            count += 1
        else:
            if count:
                runs.append(count)
            count = 0
    expected = 9 * int((w != 0).sum()) + sum(math.ceil(r / 2 ** run_bits) * (1 + run_bits) for r in runs)
    assert out.bits == expected


def _huffman_cost(counts):
    """Huffman's total cost = sum of the weights of the merged (internal) nodes."""
    import heapq
    heap = [c for c in counts if c]
    if len(heap) == 1:
        return heap[0]
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        a, b = heapq.heappop(heap), heapq.heappop(heap)
        cost += a + b
        heapq.heappush(heap, a + b)
    return cost


@settings(max_examples=120, deadline=None)
@given(arrays(np.int8, st.integers(1, 400), elements=st.integers(-128, 127) | st.integers(-3, 3)))
def test_huffman_is_optimal_and_within_entropy_bounds(w):
    out = C.huffman(w)
    counts = np.bincount(w.view(np.uint8), minlength=256)
    payload = out.bits - C.HEADER_BITS_HUFFMAN
    assert payload == _huffman_cost(list(counts))
    lengths = C.huffman_lengths(counts)
    assert sum(2.0 ** -lengths[s] for s in np.flatnonzero(counts)) <= 1 + 1e-12  # Kraft: a prefix code
    p = counts[counts > 0] / w.size
    entropy = float(-(p * np.log2(p)).sum()) * w.size
    assert entropy - 1e-9 <= payload < entropy + w.size + 1e-9 or len(p) == 1


def test_prune_zeroes_the_smallest_magnitudes():
    w = np.array([10, -1, 3, -2, 0, 7, -9, 1], dtype=np.int8)
    out = C.prune(w, sparsity=0.5)
    # the 4 smallest |w|: 0 (index 4), -1 (1), 1 (7), -2 (3)
    assert out.values.tolist() == [10, 0, 3, 0, 0, 7, -9, 0]
    assert out.bits == C.zrle(out.values).bits
    assert np.array_equal(C.zrle_decode(out.stream, out.bits), out.values)
    assert np.array_equal(C.prune(w, 0.0).values, w)


def test_lowbits_rounds_to_shared_low_bits():
    w = np.array([0, 1, 2, 3, -3, 127, -128, 6, -6], dtype=np.int8)
    out = C.lowbits(w, 2)  # multiples of 4, half away from zero, clipped to [-128, 124]
    assert out.values.tolist() == [0, 0, 4, 4, -4, 124, -128, 8, -8]
    assert out.bits == 9 * 6
    all_values = np.arange(-128, 128, dtype=np.int16).astype(np.int8)
    for k in range(8):
        shared = C.lowbits(all_values, k).values.astype(np.int16)
        assert np.all(shared % (1 << k) == 0)
        assert len(np.unique(shared)) <= 2 ** (8 - k)
        inside = (all_values >= -128) & (all_values <= 128 - (1 << k))
        assert np.all(np.abs(shared - all_values)[inside] <= (1 << k) // 2)


def test_bad_parameters():
    with pytest.raises(ValueError):
        C.zrle(np.zeros(3, np.int8), run_bits=0)
    with pytest.raises(ValueError):
        C.prune(np.zeros(3, np.int8), 1.5)
    with pytest.raises(ValueError):
        C.lowbits(np.zeros(3, np.int8), 8)
    with pytest.raises(ValueError):
        C.huffman(np.zeros(3, np.int32))
