"""Producer-aligned partitions and the alternative loop order (``aligned``, ``loop_orders`` and their
place in ``candidates``, simulator/mapping/candidates.py), by hand.

``aligned``: the consumer's rows follow the producer's rows per part (divided by the consumer's
stride, at least one), its parts of channels follow the producer's K parts (C parts for a dense
layer, keeping ``lanes`` channels per part; K parts for grouped and weightless layers), and a dense
layer splits K over the PEs left (at most ceil(K / vector MACs) parts). Splits are even:
size = ceil(total / n), parts = ceil(total / size). None when more PEs than the package has.
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from quad import quad_arch
from simulator.mapping.candidates import aligned, candidates, loop_orders
from simulator.mapping.tiling import Partition, Shape, Tiling, partition
from simulator.workload import Layer

LANES, VM = 2, 4
DENSE = Shape.of(Layer("d", "conv", 20, 8, 8, 12, 3, 3, 1, 1, 1, 1))            # C 20, K 12, P = Q = 8
STRIDED = Shape.of(Layer("s", "conv", 20, 16, 16, 12, 3, 3, 2, 2, 1, 1))        # P = (16 + 2 - 3) // 2 + 1 = 8
DEPTHWISE = Shape.of(Layer("g", "conv", 12, 8, 8, 12, 3, 3, 1, 1, 1, 1, groups=12))
POOL = Shape.of(Layer("p", "pool", 12, 8, 8, 12, 2, 2, 2, 2, 0, 0, pool_mode="max"))   # P = 4


def prod(k_parts, p_pe):
    return Partition(k_parts, 2, 1, 2, p_pe, 1)


@pytest.mark.parametrize("shape, producer, pes, want", [
    # rows 4 // 1 = 4 -> P: n = min(8, ceil(8 / 4)) = 2 -> parts of 4, 2 of them;
    # C: n = min(8, 20 // 2 = 10) = 8 -> size ceil(20 / 8) = 3, ceil(20 / 3) = 7 parts;
    # K: free 96 // (2 x 7) = 6, n = min(ceil(12 / 4) = 3, 6) = 3 -> 3 parts of 4
    (DENSE, prod(8, 4), 96, Partition(3, 2, 7, 4, 4, 3)),
    # stride 2: rows 4 // 2 = 2 -> P: n = min(8, 4) = 4 parts of 2; C as above; K: free 96 // 28 = 3 -> 3 of 4
    (STRIDED, prod(8, 4), 96, Partition(3, 4, 7, 4, 2, 3)),
    # a producer with one row per part and stride 2: rows max(1, 0) = 1 -> 8 parts of 1 row;
    # K: free 96 // (8 x 7) = 1 -> one part of 12
    (STRIDED, prod(8, 1), 96, Partition(1, 8, 7, 12, 1, 3)),
    # rows 3 // 2 = 1 (whole rows only) -> 8 parts of 1 row
    (STRIDED, prod(8, 3), 96, Partition(1, 8, 7, 12, 1, 3)),
    # a producer with one K part: C stays whole (n = max(1, min(1, 10)) = 1); K: free 96 // 2 = 48 -> 3 of 4
    (DENSE, prod(1, 4), 96, Partition(3, 2, 1, 4, 4, 20)),
    # C = 7: n = min(8, 7 // 2 = 3) = 3 -> parts of 3, 3 of them; K: free 96 // 6 = 16 -> 3 of 4
    (Shape.of(Layer("c7", "conv", 7, 8, 8, 12, 3, 3, 1, 1, 1, 1)), prod(8, 4), 96, Partition(3, 2, 3, 4, 4, 3)),
    # grouped (2 groups, 4 channels each): K follows the producer's 5 K parts (3 each, 4 parts), C whole (4)
    (Shape.of(Layer("g2", "conv", 8, 8, 8, 12, 3, 3, 1, 1, 1, 1, groups=2)), prod(5, 4), 96,
     Partition(4, 2, 1, 3, 4, 4)),
    # few PEs: K: free max(1, 14 // 14) = 1 -> 1 part; 1 x 2 x 7 = 14 <= 14 PEs: kept
    (DENSE, prod(8, 4), 14, Partition(1, 2, 7, 12, 4, 3)),
    # ... and 14 > 13 PEs: no aligned partition
    (DENSE, prod(8, 4), 13, None),
    # depthwise (grouped): rows 3 -> P: n = min(8, ceil(8 / 3) = 3) -> parts of 3, 3 of them;
    # K follows the producer's 5 K parts: size ceil(12 / 5) = 3, 4 parts; C (1 per group) whole
    (DEPTHWISE, prod(5, 3), 24, Partition(4, 3, 1, 3, 3, 1)),
    # pooling (no weights): rows 4 // 2 = 2 -> P = 4: n = min(4, 2) = 2 parts of 2; K: 5 parts -> 4 of 3
    (POOL, prod(5, 4), 24, Partition(4, 2, 1, 3, 2, 1)),
])
def test_aligned_by_hand(shape, producer, pes, want):
    assert aligned(shape, producer, pes, LANES, VM) == want


def test_aligned_keeps_a_full_vector_per_c_part():
    """C = 20 with 4 lanes: at most 20 // 4 = 5 C parts (of 4), although the producer has 8 K parts;
    K: free 96 // (2 x 5) = 9, n = min(ceil(12 / 2) = 6, 9) = 6 parts of 2 (2 vector MACs)."""
    assert aligned(DENSE, prod(8, 4), 96, 4, 2) == Partition(6, 2, 5, 2, 4, 4)


def test_the_aligned_partition_follows_the_fixed_one_among_the_candidates(tmp_path):
    """On the 2x2 package (24 PEs): DENSE aligned with prod(8, 4) is K 1 part (free 24 // 14 = 1),
    P 2, C 7: 14 PEs. It comes right after the fixed partition (and its other loop orders, none
    here), before the greedy splits, once; a producer without an aligned partition adds nothing."""
    quad = quad_arch(tmp_path)
    want = Partition(1, 2, 7, 12, 4, 3)
    assert aligned(DENSE, prod(8, 4), 24, LANES, VM) == want
    plain = candidates(DENSE, quad)
    hinted = candidates(DENSE, quad, producers=(prod(8, 4),))
    assert want not in [c.part for c in plain]
    assert hinted[1].part == want and hinted[1].label == "k1p2c7" and not hinted[1].is_fixed
    assert [c.part for c in hinted].count(want) == 1
    assert [(c.part, c.tiling) for c in hinted if c.part != want] == [(c.part, c.tiling) for c in plain]
    # STRIDED aligned with prod(8, 1) needs 1 x 8 x 7 = 56 > 24 PEs: no aligned candidate
    assert aligned(STRIDED, prod(8, 1), 24, LANES, VM) is None
    assert [c.part for c in candidates(STRIDED, quad, producers=(prod(8, 1),))] == \
        [c.part for c in candidates(STRIDED, quad)]
    assert hinted[0].part == partition(DENSE, 24, LANES, VM) and hinted[0].is_fixed


# loop_orders: a ksc tiling (several C tiles, C innermost) gets the kcs alternative with the K tile
# shrunk to entries // (P_pe x Q) (at most the rule's K tile), ceil(K_pe / k') K tiles, the other
# fields unchanged; nothing for one C tile, for a kcs tiling, or when not one output channel fits.
def acc(entries):
    return SimpleNamespace(chiplet=SimpleNamespace(pe=SimpleNamespace(accumulation_buffer=SimpleNamespace(
        entries=entries))))


RULE = Tiling(5, 7, 3, 11, k_tiles=2, c_tiles=6, row_tiles=4, col_tiles=9)
PART = Partition(2, 3, 1, 10, 8, 42)      # K_pe 10, P_pe 8
Q16 = SimpleNamespace(q=16)               # P_pe x Q = 128 partial sums per output channel


@pytest.mark.parametrize("t, part, shape, entries, want", [
    # 300 // 128 = 2 < 5: k' = 2, ceil(10 / 2) = 5 K tiles
    (RULE, PART, Q16, 300, Tiling(2, 7, 3, 11, k_tiles=5, c_tiles=6, row_tiles=4, col_tiles=9, c_outer=True)),
    # exactly one output channel fits: k' = 1, 10 K tiles
    (RULE, PART, Q16, 128, Tiling(1, 7, 3, 11, k_tiles=10, c_tiles=6, row_tiles=4, col_tiles=9, c_outer=True)),
    # plenty of room: k' = min(5, 4000 // 128 = 31) = 5, ceil(10 / 5) = 2 K tiles
    (RULE, PART, Q16, 4000, Tiling(5, 7, 3, 11, k_tiles=2, c_tiles=6, row_tiles=4, col_tiles=9, c_outer=True)),
    # one partial sum per channel (P_pe = Q = 1): k' = min(5, 3 // 1) = 3, ceil(10 / 3) = 4 K tiles
    (RULE, Partition(2, 3, 1, 10, 1, 42), SimpleNamespace(q=1), 3,
     Tiling(3, 7, 3, 11, k_tiles=4, c_tiles=6, row_tiles=4, col_tiles=9, c_outer=True)),
    (RULE, PART, Q16, 127, None),                                              # 127 // 128 = 0
    (Tiling(5, 7, 3, 11, k_tiles=2, c_tiles=1, row_tiles=4, col_tiles=9), PART, Q16, 300, None),   # one C tile
    (Tiling(5, 7, 3, 11, k_tiles=2, c_tiles=6, row_tiles=4, col_tiles=9, c_outer=True), PART, Q16, 300, None),
])
def test_loop_orders_by_hand(t, part, shape, entries, want):
    assert loop_orders(shape, part, t, acc(entries)) == (() if want is None else (want,))


def test_the_fixed_partitions_other_loop_order_comes_second(write_arch):
    """tiny with a 384 B accumulation buffer (128 partial sums), 3x3 convolution C = 256, K = 8,
    16 x 16 (the case of tests/exact/test_placement.py::test_loop_orders_by_hand): the fixed
    partition K 2 x 4, P 2 x 8 rows is tiled ksc (k_tile 2, c_tile 64, 2 x 2 outputs: 2 K tiles,
    4 C tiles, 8 / 2 = 4 row tiles, 16 / 2 = 8 column tiles: 256 steps on the one chiplet); its kcs
    alternative has k_tile 128 // (8 x 16) = 1, so 4 K tiles: 512 steps. It comes right after the
    fixed candidate, as a searched one, when the limit allows its 512 compute transactions."""
    from simulator.config import load_arch
    a = load_arch(write_arch({"chiplet.pe.accumulation_buffer.size_bytes": 384}, base="tiny", name="acc.yaml"))
    shape = Shape.of(Layer("c", "conv", 256, 16, 16, 8, 3, 3, 1, 1, 1, 1))
    fixed = Partition(2, 2, 1, 4, 8, 256)
    rule = Tiling(2, 64, 2, 2, k_tiles=2, c_tiles=4, row_tiles=4, col_tiles=8)
    alt = Tiling(1, 64, 2, 2, k_tiles=4, c_tiles=4, row_tiles=4, col_tiles=8, c_outer=True)
    for limit in (None, 512):
        cands = candidates(shape, a, max_compute_txns=limit)
        assert (cands[0].part, cands[0].tiling, cands[0].label) == (fixed, rule, "k2p2c1*")
        assert (cands[1].part, cands[1].tiling, cands[1].label) == (fixed, alt, "k2p2c1")
    limited = candidates(shape, a, max_compute_txns=511)
    assert limited[0].tiling == rule and all(c.tiling != alt or c.part != fixed for c in limited)


def test_greedy_c_parts_are_whole_vectors():
    """C = 5 >= 2 lanes x 2, C first on 24 PEs: want 5 // 2 = 2 parts (whole vectors) -> parts of 3,
    2 of them (not 2.5 -> parts of 2); K = 16: free 24 // 2 = 12, min(4, 12) = 4 parts of 4;
    P = 2: free 12 // 4 = 3, 2 parts of 1 row."""
    from simulator.mapping.candidates import _greedy
    shape = Shape.of(Layer("c5", "conv", 5, 2, 2, 16, 1, 1, 1, 1, 0, 0))
    assert _greedy(shape, 24, LANES, VM, "ckp", {"c": 1, "k": 1, "p": 1}) == Partition(4, 2, 2, 4, 1, 3)
