"""Where the parts of a consumer's input window are resident (``simulator/mapping/residency.py``),
against a brute-force oracle that maps every element of the window, one by one, to the chiplet
holding it; and the merging of a resident tensor's boxes, cell by cell.

The producer's output (6 channels, 5 x 4 per sample, a batch of 2 stacked along the rows: 10
rows) is spread over four chiplets in boxes (k0, k1, y0, y1, q0, q1), one chiplet holding two
boxes that merge along k. A consumer window is given in the consumer's padded input coordinates
(rows of sample s start at s x (5 + 2 pad)); padding cells belong to no chiplet.
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from simulator.mapping.identity import size
from simulator.mapping.residency import Resident, _merge, pieces
from simulator.workload import Layer

C, H, W, BATCH = 6, 5, 4, 2
BOXES = [((0, 0), (0, 3, 0, 4, 0, 4)), ((0, 1), (3, 6, 0, 4, 0, 4)),
         ((1, 0), (0, 6, 4, 7, 0, 2)), ((1, 1), (0, 6, 4, 7, 2, 4)),
         ((0, 0), (0, 3, 7, 10, 0, 4)), ((0, 0), (3, 6, 7, 10, 0, 4))]
CONSUMERS = {
    "conv": Layer("c", "conv", C, H, W, 4, 3, 3, 1, 1, 1, 1),               # one group of 6 channels
    "grouped": Layer("g", "conv", C, H, W, 6, 3, 3, 1, 1, 1, 1, groups=3),  # 3 groups of 2
    "pool": Layer("p", "pool", C, H, W, C, 2, 2, 2, 2, 0, 0, pool_mode="max"),   # channel = group
}


def holder(k: int, y: int, x: int):
    found = [chip for chip, (k0, k1, y0, y1, q0, q1) in BOXES if k0 <= k < k1 and y0 <= y < y1 and q0 <= x < q1]
    assert len(found) == 1
    return found[0]


def oracle(layer: Layer, s: tuple) -> Counter:
    """(chiplet, g, c, padded row, padded col) of every element of slice ``s`` that a chiplet holds."""
    t0, t1, g0, g1, c0, c1, r0, r1, x0, x1 = s[:10]
    hp = layer.in_h + 2 * layer.pad_h
    cpg = layer.channels_per_group if layer.kind in ("conv", "fc") else 1
    out: Counter = Counter()
    for g in range(g0, g1):
        for c in range(c0, c1):
            channel = g if cpg == 1 else g * cpg + c
            for row in range(r0, r1):
                sample, y = divmod(row, hp)
                y -= layer.pad_h
                for col in range(x0, x1):
                    x = col - layer.pad_w
                    if 0 <= y < layer.in_h and 0 <= x < layer.in_w:
                        out[(holder(channel, sample * layer.in_h + y, x), g, c, row, col)] += 1
    return out


def cells(layer: Layer, found) -> Counter:
    out: Counter = Counter()
    for chip, p in found:
        t0, t1, ga, gb, ca, cb, ra, rb, xa, xb, hr, hc = p
        assert (t0, t1, hr, hc) == (0, 1, 0, 0)
        for g in range(ga, gb):
            for c in range(ca, cb):
                for row in range(ra, rb):
                    for col in range(xa, xb):
                        out[(chip, g, c, row, col)] += 1
    return out


def random_slices(layer: Layer, n: int, seed: int):
    rng = np.random.default_rng(seed)
    hp, wp = layer.in_h + 2 * layer.pad_h, layer.in_w + 2 * layer.pad_w
    if layer.kind == "pool":
        groups, cpg = C, 1
    else:
        groups, cpg = layer.groups, layer.channels_per_group
    for _ in range(n):
        g0 = int(rng.integers(0, groups))
        g1 = int(rng.integers(g0 + 1, groups + 1))
        c0 = int(rng.integers(0, cpg)) if cpg > 1 else 0
        c1 = int(rng.integers(c0 + 1, cpg + 1)) if cpg > 1 else 1
        if layer.groups == 1 and layer.kind == "conv":
            g0, g1 = 0, 1
        r0 = int(rng.integers(0, BATCH * hp))
        r1 = int(rng.integers(r0, BATCH * hp + 1))
        x0 = int(rng.integers(0, wp))
        x1 = int(rng.integers(x0, wp + 1))
        yield (0, 1, g0, g1, c0, c1, r0, r1, x0, x1, 0, 0)


@pytest.mark.parametrize("kind", sorted(CONSUMERS))
def test_pieces_cover_exactly_the_held_elements_of_the_window(kind):
    layer = CONSUMERS[kind]
    res = Resident("prod", list(BOXES), {}, 1)
    for s in random_slices(layer, 150, seed=len(kind)):
        found = pieces(res, layer, BATCH, s)
        got = cells(layer, found)
        want = oracle(layer, s)
        assert got == want, s
        assert max(got.values(), default=1) == 1          # no element twice
        assert all(size("inputs", p) > 0 for _, p in found), s   # no empty piece (it would move 0 bytes)


def test_a_window_inside_the_padding_has_no_pieces():
    layer = CONSUMERS["conv"]
    res = Resident("prod", list(BOXES), {}, 1)
    assert pieces(res, layer, BATCH, (0, 1, 0, 1, 0, 6, 0, 1, 0, 6, 0, 0)) == []   # the top padding row
    assert pieces(res, layer, BATCH, (0, 1, 0, 1, 0, 6, 0, 7, 5, 6, 0, 0)) == []   # the right padding column
    # the second sample's first real row: padded row 7 + 1 = 8 -> producer row 5 (sample 1, row 0)
    found = pieces(res, layer, BATCH, (0, 1, 0, 1, 0, 6, 8, 9, 1, 5, 0, 0))
    assert sorted(found) == [((1, 0), (0, 1, 0, 1, 0, 6, 8, 9, 1, 3, 0, 0)),
                             ((1, 1), (0, 1, 0, 1, 0, 6, 8, 9, 3, 5, 0, 0))]


def test_merge_joins_neighbours_and_keeps_every_cell():
    def grid(boxes):
        out = Counter()
        for k0, k1, y0, y1, q0, q1 in boxes:
            for k in range(k0, k1):
                for y in range(y0, y1):
                    for q in range(q0, q1):
                        out[(k, y, q)] += 1
        return out
    boxes = [(0, 3, 7, 10, 0, 4), (3, 6, 7, 10, 0, 4), (0, 6, 0, 2, 0, 4), (0, 6, 2, 7, 0, 4),
             (0, 6, 0, 7, 4, 6)]
    merged = _merge(boxes)
    assert grid(merged) == grid(boxes)
    # k neighbours (rows 7-10) join, then the three row bands of columns 0-4 join: 2 boxes left
    assert sorted(merged) == [(0, 6, 0, 7, 4, 6), (0, 6, 0, 10, 0, 4)]
    assert Resident("x", [((0, 0), b) for b in boxes], {}, 1).index[1].shape == (2, 6)


def test_budget_fraction_and_operand_rules(tmp_path):
    from conftest import ARCH_DIR
    from simulator.config import load_arch
    from simulator.mapping.residency import Residency, ResidencyError
    from simulator.workload import Workload
    arch = load_arch(ARCH_DIR / "tiny.yaml")
    a = Layer("a", "conv", 4, 4, 4, 8, 1, 1)
    s = Layer("s", "add", 8, 4, 4, 8)                       # one producer: the previous layer
    wl = Workload("w", (a, s), "test")
    for bad in (1.5, -0.1):
        with pytest.raises(ValueError) as info:
            Residency(arch, wl, fraction=bad)
        assert str(info.value) == f"resident fraction {bad} outside [0, 1]"
    assert Residency(arch, wl, fraction=0.0).budget_bytes == 0
    assert Residency(arch, wl, fraction=1.0).budget_bytes == arch.chiplet.global_buffer.size_bytes
    with pytest.raises(ResidencyError) as info:
        Residency(arch, wl).sources(s)
    assert str(info.value).startswith("layer 's' (add) names 1 producer(s) (a): the on-package dataflow must know")


def test_fully_connected_consumers_take_only_flat_tensors():
    """An fc layer reads a resident tensor only when it is 1 x 1 spatially."""
    from conftest import ARCH_DIR
    from simulator.config import load_arch
    from simulator.mapping.residency import Residency
    from simulator.workload import Workload
    arch = load_arch(ARCH_DIR / "tiny.yaml")
    spatial = Layer("a", "conv", 4, 4, 4, 8, 1, 1)
    flat = Layer("g", "pool", 8, 4, 4, 8, 4, 4, 4, 4, 0, 0, pool_mode="avg", inputs=("a",))
    fc = Layer("f", "fc", 8, 1, 1, 10, inputs=("g",))
    fc2 = Layer("f2", "fc", 128, 1, 1, 10, inputs=("a",))
    res = Residency(arch, Workload("w", (spatial, flat, fc, fc2), "test"))
    assert not res._compatible(spatial, fc2) and res._compatible(flat, fc) and res._compatible(spatial, flat)
    assert not res.admit(spatial, [((0, 0), (0, 8, 0, 4, 0, 4))], {(0, 0): 128})    # f2 cannot take it
    assert res.admit(flat, [((0, 0), (0, 8, 0, 1, 0, 1))], {(0, 0): 8}) and res.kept == {"g": 8}


def test_kept_bytes_of_parts_with_several_rows():
    """Conv K = 8 with 4 x 4 outputs on tiny (4 PEs): K in 2 parts of 4, P in 2 parts of 2 rows;
    every PE's part is 4 x 2 x 4 = 32 bytes: 128 bytes kept on chiplet (0, 0)."""
    from conftest import ARCH_DIR
    from simulator.config import load_arch
    from simulator.mapping.residency import Residency
    from simulator.mapping.weight_stationary import WeightStationaryMapper
    from simulator.workload import Workload
    arch = load_arch(ARCH_DIR / "tiny.yaml")
    a = Layer("a", "conv", 4, 4, 4, 8, 1, 1)
    b = Layer("b", "conv", 8, 4, 4, 8, 1, 1)
    res = Residency(arch, Workload("w", (a, b), "test"))
    tr = WeightStationaryMapper(arch).map(a, residency=res)
    p = tr.meta["partition"]
    assert (p["k_parts"], p["p_parts"], p["p_pe"]) == (2, 2, 2)
    assert res.kept == {"a": 128} and res.used == {(0, 0): 128}
    assert sorted(res.live["a"].pieces) == [((0, 0), (0, 4, 0, 2, 0, 4)), ((0, 0), (0, 4, 2, 4, 0, 4)),
                                            ((0, 0), (4, 8, 0, 2, 0, 4)), ((0, 0), (4, 8, 2, 4, 0, 4))]
    res.done(a)
    res.done(b)                                           # b was a's last consumer
    assert res.used == {(0, 0): 0} and res.live == {}


def test_the_mapper_records_residency_and_the_prediction_of_a_spill(tmp_path):
    """On arch/tiny.yaml: a's 128-byte output kept with the default budget; with a 100-byte budget
    it spills and the recorded prediction is the one with the outputs written to DRAM (global-buffer
    bound 28 instead of 20 cycles)."""
    from conftest import ARCH_DIR
    from simulator.config import load_arch
    from simulator.mapping.residency import Residency
    from simulator.mapping.search import choose
    from simulator.mapping.tiling import Shape
    from simulator.mapping.weight_stationary import MAX_COMPUTE_TXNS, WeightStationaryMapper
    from simulator.workload import Workload
    arch = load_arch(ARCH_DIR / "tiny.yaml")
    a = Layer("a", "conv", 4, 4, 4, 8, 1, 1)
    b = Layer("b", "conv", 8, 4, 4, 8, 1, 1)
    wl = Workload("w", (a, b), "test")
    for budget, kept in ((None, True), (100, False)):
        res = Residency(arch, wl) if budget is None else Residency(arch, wl, fraction=budget / 16384)
        assert arch.chiplet.global_buffer.size_bytes == 16384
        tr = WeightStationaryMapper(arch).map(a, residency=res)
        assert tr.meta["dataflow"] == "resident" and tr.meta["outputs_resident"] is kept
        assert tr.meta["inputs_resident"] == [False] and tr.meta["spill_bytes"] == (0 if kept else 128)
        want = choose(Shape.of(a), arch, "fixed", MAX_COMPUTE_TXNS, outputs_resident=kept)
        assert tr.meta["predicted_cycles"] == round(want.cost.cycles)
    assert "dataflow" not in WeightStationaryMapper(arch).map(a).meta
