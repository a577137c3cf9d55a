"""Candidate partitions and the choice among them (``simulator/mapping/candidates.py``,
``search.py``), by hand on the asymmetric 2x2-chiplet package of ``tests/quad.py``: 24 PEs
(4 chiplets x 6), 4 vector MACs, 2 lanes.

The layer: a 1x1 convolution K = 16, C = 8, 2 x 2 outputs. The greedy split of one order of
(K, P, C) with caps: each dimension takes ``n = max(1, min(want, free // cap))`` parts (want:
ceil(K / 4) = 4 for K, P = 2 for P, C / lanes = 4 for C, since C >= 2 lanes), split evenly
(size ceil(total / n), then ceil(total / size) non-empty parts), and leaves
``free = max(1, free // parts)`` PEs to the next dimension.
"""
from __future__ import annotations

import pytest

from quad import quad_arch
from simulator.mapping.candidates import _greedy, candidates, label
from simulator.mapping.cost import cost, rank
from simulator.mapping.search import SWITCH_MARGIN, choose, reprice
from simulator.mapping.tiling import Partition, Shape
from simulator.workload import Layer

LAYER = Layer("x", "conv", 8, 2, 2, 16, 1, 1, 1, 1, 0, 0)
PES, LANES, VM = 24, 2, 4


@pytest.fixture
def quad(tmp_path):
    return quad_arch(tmp_path)


@pytest.mark.parametrize("order, caps, expected", [
    # K: 4 parts of 4 (free 6); P: 2 parts of 1 (free 3); C: min(4, 3) = 3 parts of 3
    ("kpc", {"k": 1, "p": 1, "c": 1}, Partition(4, 2, 3, 4, 1, 3)),
    # C first, capped at half the PEs: min(4, 12) = 4 parts of 2 (free 6); P: 2 (free 3);
    # K: min(4, 3) = 3 -> parts of ceil(16/3) = 6, 3 of them
    ("cpk", {"c": 2, "p": 1, "k": 1}, Partition(3, 2, 4, 6, 1, 2)),
    # P capped at a quarter: min(2, 6) = 2 (free 12); K capped at half: min(4, 6) = 4 (free 3); C: 3
    ("pkc", {"p": 4, "k": 2, "c": 1}, Partition(4, 2, 3, 4, 1, 3)),
    # K capped at 1/16: max(1, min(4, 1)) = 1 part of 16 (free 24); C capped at 1/4: min(4, 6) = 4
    # parts of 2 (free 6); P: 2 -> 8 PEs used
    ("kcp", {"k": 16, "c": 4, "p": 1}, Partition(1, 2, 4, 16, 1, 2)),
])
def test_greedy_split_by_hand(order, caps, expected):
    assert _greedy(Shape.of(LAYER), PES, LANES, VM, order, caps) == expected


def test_no_c_split_below_two_vectors_or_without_weights():
    """C = 3 < 2 lanes x 2: C stays whole; a pooling layer never splits C."""
    narrow = Shape.of(Layer("n", "conv", 3, 2, 2, 16, 1, 1, 1, 1, 0, 0))
    assert _greedy(narrow, PES, LANES, VM, "ckp", {"c": 1, "k": 1, "p": 1}) == Partition(4, 2, 1, 4, 1, 3)
    pool = Shape.of(Layer("p", "pool", 8, 4, 4, 8, 2, 2, 2, 2, 0, 0, pool_mode="max"))
    # pool: c_red = 1; K: ceil(8/4) = 2 parts of 4 (free 12); P: 2 parts of 1 row
    assert _greedy(pool, PES, LANES, VM, "ckp", {"c": 1, "k": 1, "p": 1}) == Partition(2, 2, 1, 4, 1, 1)


def test_candidates_list_the_fixed_partition_first_then_distinct_ones(quad):
    shape = Shape.of(LAYER)
    cands = candidates(shape, quad)
    assert cands[0].label == "k4p2c3*" and cands[0].is_fixed
    assert not any(c.is_fixed for c in cands[1:])
    labels = [c.label for c in cands]
    assert "k3p2c4" in labels and "k1p2c4" in labels and "k4p2c3" not in labels
    assert len(set(labels)) == len(labels)
    assert label(Partition(3, 2, 4, 6, 1, 2)) == "k3p2c4"


def test_the_transaction_limit_counts_steps_times_chiplets(quad):
    """One tile step per PE here; a candidate on 24 PEs uses 4 chiplets (4 compute transactions),
    k1p2c4 uses 8 PEs = 2 chiplets (2). A limit of 2 keeps the fixed partition (always first) and
    drops every candidate needing more than 2."""
    shape = Shape.of(LAYER)
    kept = candidates(shape, quad, max_compute_txns=2)
    assert kept[0].label == "k4p2c3*"
    assert "k1p2c4" in [c.label for c in kept[1:]]
    for c in kept[1:]:
        assert c.tiling.steps * -(-c.part.used_pes // 6) <= 2
    assert all(c.part.used_pes <= 12 for c in kept[1:])
    assert len(kept) < len(candidates(shape, quad))


def test_choose_takes_the_cheapest_only_beyond_the_margin(quad):
    """Fixed mode: the fixed partition priced by the cost model. Search (which also places the
    candidates on the package): every candidate is considered, and a searched mapping replaces the
    fixed one only when predicted faster by more than the margin."""
    shape = Shape.of(LAYER)
    cands = candidates(shape, quad)
    fixed = choose(shape, quad, "fixed")
    assert fixed.candidate.label == "k4p2c3*" and fixed.considered == 1
    assert fixed.cost.cycles == fixed.fixed_cost.cycles == cost(shape, cands[0], quad).cycles
    found = choose(shape, quad, "search")
    assert found.considered == len(cands)
    if not found.candidate.is_fixed:
        assert found.cost.rank_cycles < found.fixed_cost.rank_cycles * (1 - SWITCH_MARGIN)
    meta = found.meta("search")
    assert meta["mapping_mode"] == "search" and meta["mapping"] == found.candidate.label.rstrip("*")
    assert meta["mapping_candidates"] == len(cands) and meta["predicted_cycles"] == round(found.cost.cycles)
    assert meta["predicted_fixed_cycles"] == round(found.fixed_cost.cycles)


def test_search_switches_when_the_fixed_partition_is_far_slower(quad):
    """A layer whose fixed partition is predicted far slower than another candidate: the search
    switches, beyond the margin."""
    shape = Shape.of(Layer("w", "conv", 32, 1, 1, 8, 1, 1, 1, 1, 0, 0))   # K = 8, C = 32, 1 output
    found = choose(shape, quad, "search")
    assert not found.candidate.is_fixed
    assert found.cost.rank_cycles < found.fixed_cost.rank_cycles * (1 - SWITCH_MARGIN)


def test_reprice_recomputes_the_predictions_under_residency(quad):
    shape = Shape.of(LAYER)
    fixed = choose(shape, quad, "fixed")
    again = reprice(fixed, shape, quad, inputs_resident=True, outputs_resident=True)
    want = cost(shape, fixed.candidate, quad, inputs_resident=True, outputs_resident=True)
    assert again.cost == want and again.fixed_cost == want and again.candidate is fixed.candidate
    other = Shape.of(Layer("w", "conv", 32, 1, 1, 8, 1, 1, 1, 1, 0, 0))   # the search switches
    found = choose(other, quad, "search")
    moved = reprice(found, other, quad, outputs_resident=True)
    assert not found.candidate.is_fixed and moved.candidate is found.candidate
    assert moved.fixed_cost == found.fixed_cost                # a searched choice keeps the fixed prediction
    assert moved.considered == found.considered


def test_c_is_split_from_exactly_two_vectors():
    """C = 4 = 2 lanes x 2: C first takes min(4 // 2, 24) = 2 parts of 2 (free 12); K: 4 parts of 4
    (free 3); P: 2 parts of 1 row."""
    shape = Shape.of(Layer("c4", "conv", 4, 2, 2, 16, 1, 1, 1, 1, 0, 0))
    assert _greedy(shape, PES, LANES, VM, "ckp", {"c": 1, "k": 1, "p": 1}) == Partition(4, 2, 2, 4, 1, 2)


def oracle_candidates(shape, arch, word, limit=None):
    """The candidate list from the description in candidates.py, written independently: for every
    order of (k, p, c) (itertools order), caps a in 1..16 for the first dimension and b in 1..4 for
    the second, split greedily; keep new partitions that fit the PEs, tile and respect the limit."""
    from itertools import permutations
    from math import ceil
    from simulator.mapping.tiling import MappingError, partition, tile

    def split(total, n):
        size = ceil(total / max(1, n))
        return size, ceil(total / size)

    pe = arch.chiplet.pe
    pes = arch.total_pes
    fixed = partition(shape, pes, pe.lanes, pe.vector_macs)
    out = [(fixed, tile(shape, fixed, arch, word))]
    seen = {fixed}
    for order in permutations("kpc"):
        for a in (1, 2, 4, 8, 16):
            for b in (1, 2, 4):
                caps = dict(zip(order, (a, b, 1)))
                size = {"k": shape.k, "p": shape.p, "c": shape.c_red}
                want = {"k": ceil(shape.k / pe.vector_macs), "p": shape.p,
                        "c": shape.c_red // pe.lanes if shape.has_weights and shape.c_red >= 2 * pe.lanes else 1}
                parts, free = {}, pes
                for d in order:
                    parts[d] = split(size[d], max(1, min(want[d], free // caps[d])))[1]
                    free = max(1, free // parts[d])
                (kp, kn), (pp, pn), (cp, cn) = (split(size[d], parts[d]) for d in "kpc")
                part = Partition(kn, pn, cn, kp, pp, cp)
                if part in seen or part.used_pes > pes:
                    continue
                seen.add(part)
                try:
                    t = tile(shape, part, arch, word)
                except MappingError:
                    continue
                if limit is not None and t.steps * ceil(part.used_pes / arch.chiplet.pes) > limit:
                    continue
                out.append((part, t))
    return out


@pytest.mark.parametrize("layer", [LAYER, Layer("big", "conv", 256, 6, 6, 256, 3, 3, 1, 1, 1, 1),
                                   Layer("dw", "conv", 32, 8, 8, 32, 3, 3, 1, 1, 1, 1, groups=32),
                                   Layer("p", "pool", 16, 8, 8, 16, 2, 2, 2, 2, 0, 0, pool_mode="max")])
@pytest.mark.parametrize("word", [1.0, 2.0])
def test_candidates_against_the_description(quad, layer, word):
    shape = Shape.of(layer)
    want = oracle_candidates(shape, quad, word)
    got = candidates(shape, quad, word)
    assert [(c.part, c.tiling) for c in got] == want
    limited = candidates(shape, quad, word, max_compute_txns=4)
    assert [(c.part, c.tiling) for c in limited] == oracle_candidates(shape, quad, word, 4)


def test_the_default_word_is_one_byte_and_tiles_follow_the_word(quad):
    """A 3x3 convolution with 256 x 256 channels: the quad PE's 2 KB weight share holds half as
    many 2-byte weights, so its fixed tile differs between 1- and 2-byte words."""
    from simulator.mapping.tiling import tile
    shape = Shape.of(Layer("big", "conv", 256, 6, 6, 256, 3, 3, 1, 1, 1, 1))
    one, two = candidates(shape, quad)[0], candidates(shape, quad, 2.0)[0]
    assert one.tiling == tile(shape, one.part, quad, 1.0) and two.tiling == tile(shape, two.part, quad, 2.0)
    assert one.tiling != two.tiling


def test_rank_uses_the_pricing_arguments(quad):
    shape = Shape.of(Layer("w", "conv", 32, 1, 1, 8, 1, 1, 1, 1, 0, 0))
    cands = candidates(shape, quad)
    for kw in ({"wword": 4.0}, {"inputs_resident": True, "outputs_resident": True}):
        ranked = rank(shape, cands, quad, **kw)
        assert [c for _, c in ranked] == sorted(cands, key=lambda c: cost(shape, c, quad, **kw).cycles)
        assert all(x == cost(shape, c, quad, **kw) for x, c in ranked)


def test_choose_sizes_tiles_for_the_larger_word(quad):
    """The 256 x 256 3x3 convolution: tiles for 1-byte words by default, for 2 bytes when either
    the weights or the activations take 2 bytes."""
    from simulator.mapping.tiling import tile
    shape = Shape.of(Layer("big", "conv", 256, 6, 6, 256, 3, 3, 1, 1, 1, 1))
    part = candidates(shape, quad)[0].part
    one, two = tile(shape, part, quad, 1.0), tile(shape, part, quad, 2.0)
    assert one != two
    assert choose(shape, quad, "fixed").candidate.tiling == one
    assert choose(shape, quad, "fixed", wword=2.0).candidate.tiling == two
    assert choose(shape, quad, "fixed", word=2.0).candidate.tiling == two


def test_choose_respects_the_limit_and_ranks_with_the_pricing(quad):
    shape = Shape.of(LAYER)
    assert choose(shape, quad, "search", 2).considered == len(candidates(shape, quad, 1.0, 2)) < len(candidates(shape, quad))
    other = Shape.of(Layer("w", "conv", 32, 1, 1, 8, 1, 1, 1, 1, 0, 0))
    kw = {"inputs_resident": True, "outputs_resident": True, "wword": 4.0}
    found = choose(other, quad, "search", **kw)
    assert found.considered == len(candidates(other, quad, 4.0))
    assert choose(other, quad, "fixed", **kw).cost == cost(other, candidates(other, quad, 4.0)[0], quad, **kw)