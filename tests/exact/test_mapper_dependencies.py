"""Dependencies of the weight-stationary mapper's transactions (``simulator/mapping/weight_stationary.py``)
on the 2x2 package of ``tests/quad.py`` (24 PEs, 6 per chiplet; PE buffers of ``arch/tiny.yaml``,
double-buffered: weight share 2048 B, input share 1024 B).

The layer: fully connected-like 1x1 convolution, C = 2048, K = 96, one output pixel. Partition:
K in 24 parts of 4 (every PE holds its own weights: P and C are not split). Tiles: C 2048 -> 1024
(a 2048-byte input tile exceeds the 1024-byte share), K 4 -> 2 (4 x 1024 weights exceed 2048 B):
2 K tiles x 2 C tiles = 4 steps, each loading new weights (one DRAM read per chiplet for its 6 PEs,
scattered to them).

Rules checked, from the mapper's description: a tile moves DRAM -> NoP -> NoC, each hop waiting
for the previous; with double buffering the load of step s waits for the computes that used the
slot two loads earlier; a compute waits for the tiles loaded for it and for the previous compute
of its chiplet.
"""
from __future__ import annotations

import pytest

from quad import ATTACH, GB, quad_arch
from simulator.mapping.weight_stationary import WeightStationaryMapper
from simulator.workload import Layer


@pytest.fixture
def trace(tmp_path):
    arch = quad_arch(tmp_path)
    return WeightStationaryMapper(arch).map(Layer("fc", "conv", 2048, 1, 1, 96, 1, 1))


def by_chiplet(tr, op, ds=None):
    out: dict = {}
    for t in tr.txns:
        if t.op == op and (ds is None or t.ds == ds):
            key = t.chiplet if op in ("noc", "compute") else t.dsts[0] if op == "nop" else None
            out.setdefault(key, []).append(t)
    return out


def test_partition_and_tiling(trace):
    p, t = trace.meta["partition"], trace.meta["tiling"]
    assert (p["k_parts"], p["p_parts"], p["c_parts"], p["k_pe"]) == (24, 1, 1, 4)
    assert (t["k_tile"], t["c_tile"], t["k_tiles"], t["c_tiles"]) == (2, 1024, 2, 2)


def test_weight_tiles_hop_by_hop(trace):
    txns = trace.txns
    nocs = by_chiplet(trace, "noc", "weights")
    assert sorted(nocs) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    for chip, loads in nocs.items():
        assert len(loads) == 4
        for noc in loads:
            (nop,) = [txns[d] for d in noc.after]
            assert (nop.op, nop.ds, nop.dsts, nop.src_buf, nop.dst_buf) == ("nop", "weights", (chip,), "dram", "gb")
            (rd,) = [txns[d] for d in nop.after]
            assert (rd.op, rd.ds) == ("dram_read", "weights") and nop.src == ATTACH[rd.channel]
            assert rd.bytes == nop.bytes == 6 * noc.bytes == 6 * 2 * 1024       # 6 PEs x k 2 x c 1024
            assert (noc.src, noc.mode, noc.src_buf, noc.dst_buf, len(noc.dsts)) == (GB, "scatter", "gb", "pe", 6)


def test_double_buffered_weight_slots(trace):
    """Per chiplet, loads 0 and 1 wait for nothing; load s >= 2 waits for the computes that used
    the weights of load s - 2 (on every chiplet: the step runs in lock step)."""
    txns = trace.txns
    reads = [t for t in txns if t.op == "dram_read" and t.ds == "weights"]
    computes = by_chiplet(trace, "compute")
    assert len(reads) == 4 * 4
    per_chip: dict = {}
    for rd in reads:
        (nop,) = [t for t in txns if t.op == "nop" and rd.id in t.after]
        per_chip.setdefault(nop.dsts[0], []).append(rd)
    for chip, rds in per_chip.items():
        assert [r.after for r in rds[:2]] == [(), ()]
        for s in (2, 3):
            used = {computes[c][s - 2].id for c in computes}
            assert set(rds[s].after) == used


def test_a_compute_waits_for_its_tiles_and_the_previous_compute(trace):
    txns = trace.txns
    for chip, comps in by_chiplet(trace, "compute").items():
        assert len(comps) == 4
        prev = None
        for c in comps:
            loaded = [t.id for t in txns if t.op == "noc" and t.chiplet == chip and t.ds in ("weights", "inputs")
                      and (prev is None or t.id > prev.id) and t.id < c.id]
            assert {txns[i].ds for i in loaded} == {"weights", "inputs"}
            assert set(loaded) <= set(c.after)
            if prev is not None:
                assert prev.id in c.after
            prev = c


@pytest.fixture
def reused(tmp_path):
    """C = 512, K = 288, outputs 1 x 4 (1x1 kernel): K in 24 parts of 12; weight tile k 12 -> 6 -> 3
    (3 x 512 B fit the 2048-byte share), 4 K tiles; columns 4 -> 2 (512 channels x 2 columns =
    1024 B of inputs), 2 spatial tiles per K tile, weights loaded at the first of them."""
    arch = quad_arch(tmp_path)
    layer = Layer("w", "conv", 512, 1, 4, 288, 1, 1)
    return arch, layer, WeightStationaryMapper(arch).map(layer)


def test_a_weight_slot_is_free_after_the_last_compute_that_used_it(reused):
    _, _, tr = reused
    t = tr.meta["tiling"]
    assert (t["k_tile"], t["k_tiles"], t["cols"], t["col_tiles"], t["c_tiles"]) == (3, 4, 2, 2, 1)
    assert tr.meta["output_tiles"] == 4 * 2
    txns = tr.txns
    computes = by_chiplet(tr, "compute")
    assert all(len(c) == 8 for c in computes.values())
    reads = [x for x in txns if x.op == "dram_read" and x.ds == "weights"]
    per_chip: dict = {}
    for rd in reads:
        (nop,) = [x for x in txns if x.op == "nop" and rd.id in x.after]
        per_chip.setdefault(nop.dsts[0], []).append(rd)
    for chip, rds in per_chip.items():
        assert len(rds) == 4 and [r.after for r in rds[:2]] == [(), ()]
        # load 2 reuses load 0's slot: it waits for the second compute of K tile 0 (step 1) on every
        # chiplet; load 3 for the second compute of K tile 1 (step 3)
        assert set(rds[2].after) == {computes[c][1].id for c in computes}
        assert set(rds[3].after) == {computes[c][3].id for c in computes}


def test_output_bytes_follow_the_word(tmp_path):
    """2-byte activations: tiles are sized for 2-byte words: k 12 -> 6 -> 3 -> 2 (2 x 512 x 2 B =
    2048), 6 K tiles; columns 4 -> 2 -> 1 (512 x 1 x 2 B = 1024), 4 column tiles. Each PE gathers
    k 2 x 1 pixel x 2 B = 4 B per output tile; a chiplet writes 6 x 4 = 24 B, 24 times."""
    arch = quad_arch(tmp_path)
    tr = WeightStationaryMapper(arch).map(Layer("w", "conv", 512, 1, 4, 288, 1, 1), input_bytes=2.0)
    t = tr.meta["tiling"]
    assert (t["k_tile"], t["k_tiles"], t["cols"], t["col_tiles"]) == (2, 6, 1, 4)
    gathers = [x for x in tr.txns if x.op == "noc" and x.ds == "outputs"]
    assert len(gathers) == 4 * 24 and all(g.bytes == 4 and g.mode == "gather" for g in gathers)
    writes = [x for x in tr.txns if x.op == "dram_write"]
    assert len(writes) == 4 * 24 and all(w.bytes == 24 for w in writes)


def test_pooling_steps_are_vector_operations(tmp_path):
    """3x3/2 max pooling of 8 channels, 5 x 5 -> 2 x 2: K in 2 parts of 4, P in 2 parts of 1 row;
    a step of k 4 x 1 row x 2 columns does 4 x 2 x 9 = 72 comparisons per PE, no MACs; the step
    names its 4 channels (k), which the per-PE count of vector operations is scaled by."""
    arch = quad_arch(tmp_path)
    tr = WeightStationaryMapper(arch).map(Layer("p", "pool", 8, 5, 5, 8, 3, 3, 2, 2, 0, 0, pool_mode="max"))
    comps = [x for x in tr.txns if x.op == "compute"]
    assert comps and all((c.k, c.c, c.rs, c.pixels, c.vector_ops, c.pes) == (4, 0, 0, 2, 72, 4) for c in comps)
