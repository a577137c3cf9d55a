"""Locality-aware placement (simulator/mapping/placement.py) and loop orders as candidates, by hand."""
from __future__ import annotations

import numpy as np
import pytest

from simulator.config import load_arch
from simulator.mapping.candidates import Candidate, candidates, label, loop_orders
from simulator.mapping.cost import cost, nest
from simulator.mapping.placement import Traffic, options, routes, symmetries
from simulator.mapping.residency import Resident, Residency
from simulator.mapping.tiling import Shape, partition, tile
from simulator.mapping.weight_stationary import WeightStationaryMapper
from simulator.workload import Layer, Workload


def test_routes_are_xy_on_a_2x3_mesh():
    R, H = routes(2, 3)
    # 12 directed links; [0,0] -> [1,2]: X first along row 0 (2 links), then down column 2 (1 link)
    assert R.shape == (6, 6, 14) and H[0, 5] == 3 and R[0, 5].sum() == 3 and H[5, 0] == 3
    assert np.array_equal(R[0, 5], R[0, 2] | R[2, 5])          # through [0, 2], not [1, 0]
    assert not (R[0, 5] & R[0, 3]).any()
    assert symmetries(2, 3)["flip-c"] == (2, 1, 0, 5, 4, 3)
    assert symmetries(2, 3)["rot180"] == (5, 4, 3, 2, 1, 0)
    assert "transpose" not in symmetries(2, 3) and symmetries(3, 3)["transpose"] == (0, 3, 6, 1, 4, 7, 2, 5, 8)


def test_link_loads_by_hand_on_a_line():
    """1 x 3 package, chiplets 0-1-2. One logical chiplet needs 300 B held by chiplet 2 and 100 B from
    DRAM (channel at chiplet 0); placed at 0 the resident bytes cross 2 links, at 2 none."""
    tr = Traffic(1, 3, 1, attach=(0,))
    tr.uni[2, 0] = 300
    tr.dram_uni[0] = 100
    at0, at2 = tr.link_loads((0,)), tr.link_loads((2,))
    assert at0.sum() == 300 * 2                 # byte-hops: 300 B x 2 hops, the DRAM bytes are local
    assert sorted(at0[at0 > 0]) == [300, 300]
    assert at2.sum() == 100 * 2                 # now the DRAM bytes cross 2 links
    assert tr.follow() == (2,)                  # next to the larger input
    assert options(tr)["flip-c"] == (2,) and options(tr)["id"] == (0,)
    # a multicast crosses each link of its tree once: 50 B from chiplet 0 to logical chiplets at 1 and 2
    m = Traffic(1, 3, 2, attach=(0,))
    by_src = np.zeros(3)
    by_src[0] = 50
    m.multi.append((by_src, (0, 1)))
    loads = m.link_loads((1, 2))
    assert loads.sum() == 100 and loads.max() == 50      # 0->1 and 1->2 once each
    assert m.received == 50                             # each destination receives 50 B, the source sends 50
    # partial sums from logical chiplet 1 to 0: one hop next to each other, two hops apart
    p = Traffic(1, 3, 2, attach=(0,))
    p.psum[1, 0] = 40
    assert p.link_loads((0, 1)).sum() == 40 and p.link_loads((0, 2)).sum() == 80


def test_a_shared_dram_entry_link_carries_the_channel_bytes():
    """The channel at chiplet 0 enters by the edge it shares with chiplet 1: its 100 B read to a chiplet
    at 2 cross 1->0, 0->1, 1->2 (300 byte-hops); 50 B written back from 2 cross 2->1, 1->0, then 0->1."""
    tr = Traffic(1, 3, 1, attach=(0,), entries={0: 1})
    tr.dram_uni[0] = 100
    assert tr.link_loads((2,)).sum() == 300
    assert tr.link_loads((0,)).sum() == 100           # on the attach chiplet: the shared link only
    tr.dram_out[0] = 50
    assert tr.link_loads((2,)).sum() == 300 + 3 * 50
    assert Traffic(1, 3, 1, attach=(0,), dram_uni=np.array([100.0])).link_loads((0,)).sum() == 0


@pytest.fixture
def line_arch(write_arch):
    """Three tiny chiplets in a row (4 PEs each), a larger global buffer, one DRAM channel at [0, 0]."""
    def edit(d):
        d["package"]["mesh"] = {"rows": 1, "cols": 3}
        d["chiplet"]["global_buffer"]["size_bytes"] = 65536
    return load_arch(write_arch(edit, base="tiny", name="line.yaml"))


def byte_hops(trace, ds: str) -> int:
    out = 0
    for t in trace.txns:
        if t.op == "nop" and t.ds == ds:
            assert len(t.dsts) == 1
            out += t.bytes * (abs(t.src[0] - t.dsts[0][0]) + abs(t.src[1] - t.dsts[0][1]))
    return out


def test_search_places_a_consumer_where_its_input_lives(line_arch):
    """A 2x2 max-pool over a 64 x 16 x 16 tensor resident on chiplet [0, 2]. Fixed mapping: K split
    in 11 parts of 6 channels over PEs 0-10, row-major: chiplet [0,0] holds channels 0-23 (4 PEs),
    [0,1] channels 24-47, [0,2] channels 48-63. Each channel's 16 x 16 window is 256 B and moves once,
    so the fixed mapping moves 24 x 256 B over 2 hops and 24 x 256 B over 1 hop: 18,432 byte-hops.
    The search keeps the partition and mirrors the placement (``flip-c``): channels 0-23 on [0,2]
    (nothing moves), 24-47 on [0,1] (1 hop), 48-63 on [0,0] (2 hops): 6,144 + 8,192 = 14,336."""
    a = line_arch
    prod = Layer("a", "conv", 64, 16, 16, 64, 1, 1, 1, 1, 0, 0)
    pool = Layer("b", "pool", 64, 16, 16, 64, 2, 2, 2, 2, 0, 0, pool_mode="max")
    wl = Workload("w", (prod, pool), "test")
    res = Residency(a, wl)
    res.live["a"] = Resident("a", [((0, 2), (0, 64, 0, 16, 0, 16))], {(0, 2): 16384}, 1)
    fixed = WeightStationaryMapper(a).map(pool, residency=res, mapping="fixed")
    assert fixed.meta["partition"]["k_parts"] == 11 and fixed.meta["partition"]["k_pe"] == 6
    assert byte_hops(fixed, "inputs") == 24 * 256 * 2 + 24 * 256 * 1 == 18432
    found = WeightStationaryMapper(a).map(pool, residency=res, mapping="search")
    assert found.meta["partition"] == fixed.meta["partition"] and found.meta["placement"] == "flip-c"
    assert found.meta["mapping_is_fixed"] is False
    assert byte_hops(found, "inputs") == 24 * 256 * 1 + 16 * 256 * 2 == 14336
    assert {t.chiplet for t in found.txns if t.op == "compute"} == {(0, 0), (0, 1), (0, 2)}
    assert found.meta["predicted_cycles"] < found.meta["predicted_fixed_cycles"]


@pytest.fixture
def small_acc(write_arch):
    """tiny with a 384 B accumulation buffer: 128 partial sums of 24 bits."""
    return load_arch(write_arch({"chiplet.pe.accumulation_buffer.size_bytes": 384}, base="tiny", name="acc.yaml"))


def test_loop_orders_by_hand(small_acc):
    """3x3 conv, C = 256, K = 8, 16 x 16, on 4 PEs (4 vector MACs x 4 lanes): K in 2 parts of 4, P in
    2 parts of 8 rows, C whole. Tiles (weight share 2,048 B, input share 1,024 B): c_tile 64 (4 C tiles),
    k_tile 2, 2 x 2 outputs (4 x 8 = 32 spatial tiles). Partial sums of the part, 2 x 8 x 16 = 256 > 128
    entries: the rule puts C innermost (ksc); the other order is kcs with k_tile 128 // (8 x 16) = 1."""
    a = small_acc
    shape = Shape.of(Layer("c", "conv", 256, 16, 16, 8, 3, 3, 1, 1, 1, 1))
    part = partition(shape, a.total_pes, a.chiplet.pe.lanes, a.chiplet.pe.vector_macs)
    assert (part.k_parts, part.p_parts, part.c_parts, part.k_pe, part.p_pe) == (2, 2, 1, 4, 8)
    rule = tile(shape, part, a)
    assert (rule.k_tile, rule.c_tile, rule.rows, rule.cols, rule.c_tiles) == (2, 64, 2, 2, 4)
    assert rule.loop_order == "ksc"
    (alt,) = loop_orders(shape, part, rule, a)
    assert (alt.k_tile, alt.k_tiles, alt.loop_order) == (1, 4, "kcs")
    ksc, kcs = Candidate(part, rule, label(part)), Candidate(part, alt, label(part))
    # weights per PE group: ksc reloads 2 x 4 tiles of 2 x 64 x 9 B for each of 32 spatial tiles;
    # kcs loads 4 x 4 tiles of 1 x 64 x 9 B once
    assert nest(shape, ksc, a).w_loads == 2 * 4 * (2 * 64 * 9) * 32 == 294912
    assert nest(shape, kcs, a).w_loads == 4 * 4 * (1 * 64 * 9) == 9216
    # inputs per PE group, once per step: each (k, c) tile reads 64 channels x (4 x 4 rows) x (8 x 4 cols)
    assert nest(shape, ksc, a).i_loads == 2 * 4 * 64 * 16 * 32 == 262144
    assert nest(shape, kcs, a).i_loads == 4 * 4 * 64 * 16 * 32 == 524288
    # the cost terms: DRAM (inputs and outputs on the package): 2 (k, c) groups of weights, 16 B/cycle
    kw = dict(inputs_resident=True, outputs_resident=True)
    assert cost(shape, ksc, a, **kw).dram == 2 * 294912 / 16
    assert cost(shape, kcs, a, **kw).dram == 2 * 9216 / 16
    # compute: ceil(k_tile / 4) x ceil(64 / 4) x 9 x 8 rows x 16 cols per (k, c) tile
    assert cost(shape, ksc, a, **kw).compute == 2 * 4 * 1 * 16 * 9 * 8 * 16
    assert cost(shape, kcs, a, **kw).compute == 4 * 4 * 1 * 16 * 9 * 8 * 16
    # both orders are candidates of the search, and the trace records the order
    orders = {c.tiling.loop_order for c in candidates(shape, a) if c.part == part}
    assert orders == {"ksc", "kcs"}
