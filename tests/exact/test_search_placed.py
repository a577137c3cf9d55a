"""``placed`` (one candidate under each placement option), ``reprice`` and ``candidates_fixed`` of
``simulator/mapping/search.py``, with the lower-level functions they combine replaced by hand-made
stand-ins that check their arguments.

``placed``: the flows of the candidate (``traffic``) are computed from its loop nest (``nest``):
input reloads = input bytes loaded / input window (1 when the window is empty), weight and
partial-sum bytes per PE. Each placement option gets the link loads of the flows at its positions
(``with_links``). When the outputs are to stay on the package (``outputs_resident`` with the room
each chiplet has left), an option under which some chiplet's outputs exceed its room spills: it is
priced as if the outputs went to DRAM (``cost`` with ``outputs_resident=False`` and the flows
without resident outputs) plus ``spill`` = output bytes / DRAM bytes per cycle. The options come
back cheapest first (rank, then NoP byte-hops; ties keep the option order).
"""
from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

import simulator.mapping.search as search
from simulator.mapping.candidates import Candidate
from simulator.mapping.cost import Cost, Nest
from simulator.mapping.tiling import Partition, Shape
from simulator.workload import Layer

SHAPE = SimpleNamespace(name="shape")
ARCH = SimpleNamespace(
    total_pes=24,
    chiplet=SimpleNamespace(pes=6, pe=SimpleNamespace(lanes=2, vector_macs=4),
                            global_buffer=SimpleNamespace(bytes_per_cycle=8)),
    package=SimpleNamespace(dram=SimpleNamespace(channels=2, channel_bandwidth_bytes_per_cycle=4),   # 8 B/cycle
                            mesh=SimpleNamespace(rows=2, cols=3),
                            nop=SimpleNamespace(router_latency_cycles=3, link_latency_cycles=2)))
PART = Partition(2, 2, 1, 3, 4, 5)     # 4 PEs
CAND = Candidate(PART, SimpleNamespace(steps=1, loop_order="ks"), "k2p2c1")
POS = {"id": (0, 1, 2, 3), "swap": (1, 0, 3, 2), "rot": (3, 2, 1, 0)}
# link loads of the flows at each position list; the flows without resident outputs carry 10 times more
LOADS = {(0, 1, 2, 3): [4.0, 4.0], (1, 0, 3, 2): [2.0, 6.0], (3, 2, 1, 0): [6.0, 0.0], (1, 3): [5.0, 1.0]}
OUTS = np.array([5.0, 6.0, 7.0, 8.0])   # output bytes per logical chiplet (26 in all)


def base(cycles):
    return Cost(compute=float(cycles), dram=0.0, nop=float(cycles), gb=0.0, noc=0.0, fill=0.0)


class Flows:
    def __init__(self, resident):
        self.resident = resident
        self.received = 7.0 if resident else 9.0

    def link_loads(self, pos):
        loads = np.array(LOADS[tuple(pos)])
        return loads if self.resident else 10 * loads


class Rig:
    def __init__(self, monkeypatch, nest=Nest(w_loads=11.0, i_loads=30.0, i_window=10.0, psum_pe=7.0),
                 cand=CAND, kw=None, outs=OUTS):
        self.traffic_calls, self.cost_calls = [], []
        kw = kw or {}

        def nest_(shape, c, arch, wword, word):
            assert shape is SHAPE and c is cand and arch is ARCH
            assert (wword, word) == (kw.get("wword", 1.0), kw.get("word", 1.0))
            return nest

        def traffic(shape, part, arch, layer, batch, sources, word, *, input_reloads, w_bytes_pe, psum_bytes_pe,
                    outputs_resident, slots):
            assert shape is SHAPE and part is cand.part and arch is ARCH and slots is cand.slots
            self.traffic_calls.append((layer, batch, sources, word, input_reloads, w_bytes_pe, psum_bytes_pe,
                                       outputs_resident))
            return Flows(outputs_resident)

        def options(tr):
            assert tr.resident is bool(kw.get("outputs_resident", False))
            return dict(POS)

        def output_bytes(shape, part, ppc, word, slots):
            assert shape is SHAPE and part is cand.part and slots is cand.slots
            assert (ppc, word) == (6, kw.get("word", 1.0))
            return outs

        def with_links(c, loads, received, arch):
            assert arch is ARCH
            return replace(c, nop=c.nop + float(loads.max()), byte_hops=float(loads.sum()), received=received)

        def cost(shape, c, arch, **k):
            assert shape is SHAPE and c is cand and arch is ARCH
            self.cost_calls.append(k)
            return base(500)

        for name, f in [("nest", nest_), ("traffic", traffic), ("options", options), ("output_bytes", output_bytes),
                        ("with_links", with_links), ("cost", cost)]:
            monkeypatch.setattr(search, name, f)


def placed_at(cycles, loads, received, spill=0.0):
    """What ``with_links`` (the stand-in) makes of ``base(cycles)`` at ``loads``, plus a spill."""
    return replace(base(cycles), nop=cycles + max(loads), byte_hops=sum(loads), received=received, spill=spill)


def test_options_sorted_by_rank_then_byte_hops_without_a_consumer(monkeypatch):
    """No ``where``: the flows of layer None, batch 1, no sources, outputs to DRAM; input reloads
    30 / 10 = 3. id: 100 + 40 = 140 (80 byte-hops); swap: 160 (80); rot: 160 (60) -> id, rot, swap."""
    kw = {"wword": 2.0, "word": 3.0}
    rig = Rig(monkeypatch, kw=kw)
    got = search.placed(SHAPE, CAND, ARCH, base(100), None, **kw)
    assert rig.traffic_calls == [(None, 1, (), 3.0, 3.0, 11.0, 7.0, False)]
    assert got == [(placed_at(100, [40, 40], 9.0), "id", POS["id"]),
                   (placed_at(100, [60, 0], 9.0), "rot", POS["rot"]),
                   (placed_at(100, [20, 60], 9.0), "swap", POS["swap"])]
    assert rig.cost_calls == []
    only = search.placed(SHAPE, CAND, ARCH, base(100), None, only_id=True, **kw)
    assert only == [(placed_at(100, [40, 40], 9.0), "id", POS["id"])]


def test_an_empty_input_window_counts_one_load(monkeypatch):
    rig = Rig(monkeypatch, nest=Nest(w_loads=0.0, i_loads=0.0, i_window=0.0, psum_pe=0.0))
    search.placed(SHAPE, CAND, ARCH, base(100), None)
    assert rig.traffic_calls == [(None, 1, (), 1.0, 1.0, 0.0, 0.0, False)]


def test_room_is_ignored_unless_the_outputs_stay(monkeypatch):
    """A consumer reads the outputs (``where``) and rooms are known, but the outputs go to DRAM:
    nothing spills (under id, chiplet 1 would hold 6 > 5 bytes)."""
    kw = {"word": 2.0}
    rig = Rig(monkeypatch, kw=kw)
    where = search.Where(layer="L", batch=3, sources=("src",), room=(20.0, 5.0, 30.0, 8.0))
    got = search.placed(SHAPE, CAND, ARCH, base(100), where, **kw)
    assert rig.traffic_calls == [("L", 3, ("src",), 2.0, 3.0, 11.0, 7.0, False)]
    assert [name for _, name, _ in got] == ["id", "rot", "swap"] and all(c.spill == 0 for c, _, _ in got)


def test_options_whose_outputs_exceed_the_room_spill(monkeypatch):
    """Rooms 20, 5, 30, 8 bytes for outputs of 5, 6, 7, 8 bytes per logical chiplet:
    id (0, 1, 2, 3): chiplet 1 gets 6 > 5 -> spills; swap (1, 0, 3, 2): rooms 5, 20, 8, 30 hold
    5, 6, 7, 8 (5 fits in exactly 5) -> stays; rot (3, 2, 1, 0): rooms 8, 30, 5, 20, 7 > 5 -> spills.
    A spilled option is priced from the DRAM-output cost (500, priced once) and the flows without
    resident outputs (10 times the loads, 9 bytes received), plus spill = 26 B / 8 B per cycle = 3.25.
    swap: 100 + 6 = 106; id: 500 + 40 + 3.25; rot: 500 + 60 + 3.25."""
    kw = {"word": 2.0, "outputs_resident": True, "inputs_resident": True}
    rig = Rig(monkeypatch, kw=kw)
    where = search.Where(layer="L", batch=3, sources=("src",), room=(20.0, 5.0, 30.0, 8.0))
    got = search.placed(SHAPE, CAND, ARCH, base(100), where, **kw)
    assert rig.traffic_calls == [("L", 3, ("src",), 2.0, 3.0, 11.0, 7.0, True),
                                 ("L", 3, ("src",), 2.0, 3.0, 11.0, 7.0, False)]
    assert rig.cost_calls == [{"word": 2.0, "outputs_resident": False, "inputs_resident": True}]
    assert got == [(placed_at(100, [2, 6], 7.0), "swap", POS["swap"]),
                   (placed_at(500, [40, 40], 9.0, spill=3.25), "id", POS["id"]),
                   (placed_at(500, [60, 0], 9.0, spill=3.25), "rot", POS["rot"])]


def test_a_candidate_placed_pe_by_pe_has_one_option(monkeypatch):
    """Slots 6..8 and 18..20 (4 PEs used: 6, 7, 8, 18): chiplets 1 and 3, in increasing order."""
    cand = Candidate(PART, CAND.tiling, "k2p2c1", (6, 7, 8, 18, 19, 20))
    rig = Rig(monkeypatch, cand=cand)
    monkeypatch.setattr(search, "options", lambda tr: pytest.fail("a placed candidate has no options"))
    got = search.placed(SHAPE, cand, ARCH, base(100), None)
    assert got == [(placed_at(100, [50, 10], 9.0), "aligned", (1, 3))]
    assert rig.traffic_calls == [(None, 1, (), 1.0, 3.0, 11.0, 7.0, False)]


def test_a_candidate_placed_pe_by_pe_checks_the_room_of_its_own_chiplets(monkeypatch):
    """Resident outputs of 5 and 6 bytes on chiplets 1 and 3, whose rooms are 5 and 6: they fit
    (the output bytes are those of the candidate's own slots, for 1-byte words by default)."""
    cand = Candidate(PART, CAND.tiling, "k2p2c1", (6, 7, 8, 18, 19, 20))
    kw = {"outputs_resident": True}
    rig = Rig(monkeypatch, cand=cand, kw=kw, outs=np.array([5.0, 6.0]))
    monkeypatch.setattr(search, "options", lambda tr: pytest.fail("a placed candidate has no options"))
    where = search.Where(layer="L", room=(0.0, 5.0, 0.0, 6.0))
    got = search.placed(SHAPE, cand, ARCH, base(100), where, **kw)
    assert got == [(placed_at(100, [5, 1], 7.0), "aligned", (1, 3))]
    assert rig.cost_calls == [] and rig.traffic_calls == [("L", 1, (), 1.0, 3.0, 11.0, 7.0, True)]


# reprice: the cost of the chosen candidate recomputed under new pricing arguments; a placed cost
# (received >= 0) keeps its placement's link loads: nop = max(nop_dram, links), gb = gb_rest +
# received / 8 B per cycle, and the NoP crossing of the fill, (2 + 3) · (3 + 2) = 25 cycles, stays if
# a link carries bytes (byte_hops > 0) or the layer uses DRAM (nop_dram > 0).
OWN = Cost(compute=50.0, dram=10.0, nop=70.0, gb=40.0, noc=5.0, fill=30.0, nop_dram=12.0, gb_rest=20.0,
           fill_nop=25.0)


def choice(cost, fixed=True, placement="id"):
    c = Candidate(PART, CAND.tiling, "k2p2c1" + ("*" if fixed else ""))
    return search.Choice(c, cost, base(999), 7, placement, None if placement == "id" else (1, 0, 3, 2))


@pytest.fixture
def priced(monkeypatch):
    calls = []

    def cost(shape, c, arch, **k):
        assert shape is SHAPE and arch is ARCH
        calls.append((c.label, k))
        return own[0]
    own = [OWN]
    monkeypatch.setattr(search, "cost", cost)
    return calls, own


@pytest.mark.parametrize("links, hops, nop_dram, want_nop, want_fill, want_fill_nop", [
    (33.0, 100.0, 12.0, 33.0, 30.0, 25.0),    # links above the DRAM bound; bytes cross
    (8.0, 100.0, 12.0, 12.0, 30.0, 25.0),     # the DRAM attach bound is larger
    (0.0, 0.0, 12.0, 12.0, 30.0, 25.0),       # nothing crosses, but DRAM traffic does
    (0.0, 0.0, 0.0, 0.0, 5.0, 0.0),           # nothing crosses at all: 30 - 25 cycles of fill
    (10.0, 1.0, 0.0, 10.0, 30.0, 25.0),       # no DRAM traffic, but one byte-hop crosses
])
def test_reprice_keeps_the_placement(priced, links, hops, nop_dram, want_nop, want_fill, want_fill_nop):
    calls, own = priced
    own[0] = replace(OWN, nop_dram=nop_dram)
    placed_ = replace(base(1), links=links, byte_hops=hops, received=16.0)
    ch = choice(placed_, fixed=False, placement="swap")
    got = search.reprice(ch, SHAPE, ARCH, outputs_resident=True)
    assert calls == [("k2p2c1", {"outputs_resident": True})]
    want = replace(own[0], nop=want_nop, links=links, byte_hops=hops, gb=20.0 + 16.0 / 8, received=16.0,
                   fill=want_fill, fill_nop=want_fill_nop)
    assert got.cost == want
    assert got.fixed_cost == base(999)          # a searched choice keeps the fixed mapping's prediction
    assert (got.candidate, got.considered, got.placement, got.positions) == (ch.candidate, 7, "swap", (1, 0, 3, 2))


def test_reprice_of_a_placed_cost_receiving_nothing(priced):
    """received = 0 is placed (>= 0): gb = gb_rest + 0 = 20, not the unplaced 40."""
    calls, own = priced
    got = search.reprice(choice(replace(base(1), received=0.0)), SHAPE, ARCH)
    assert got.cost.gb == 20.0 and got.cost.received == 0.0
    assert got.fixed_cost == got.cost            # the fixed mapping's prediction moves with it


def test_reprice_of_an_unplaced_cost_is_the_new_cost(priced):
    calls, own = priced
    ch = choice(base(1))                           # received = -1: not placed
    got = search.reprice(ch, SHAPE, ARCH, word=2.0)
    assert got.cost == OWN and got.fixed_cost == OWN and got.candidate is ch.candidate
    # the fixed partition under another placement is not the fixed mapping: its reference stays
    moved = search.reprice(choice(base(1), placement="rot"), SHAPE, ARCH)
    assert moved.cost == OWN and moved.fixed_cost == base(999) and moved.placement == "rot"
    assert calls == [("k2p2c1*", {"word": 2.0}), ("k2p2c1*", {})]


def test_candidates_fixed_is_the_partition_with_its_tiling(tmp_path):
    """K = 16, C = 8, 2 x 2 outputs on the 2x2 package (24 PEs, 4 vector MACs, 2 lanes):
    K: min(ceil(16 / 4), 24) = 4 parts of 4; P: min(2, 24 // 4) = 2 parts of 1 row;
    C: min(24 // 8, 8 // 2) = 3 parts of ceil(8 / 3) = 3 channels. The tiles follow the word size
    (a 256 x 256 3x3 convolution's differ between 1 and 2 bytes)."""
    from quad import quad_arch
    from simulator.mapping.tiling import tile
    quad = quad_arch(tmp_path)
    shape = Shape.of(Layer("x", "conv", 8, 2, 2, 16, 1, 1, 1, 1, 0, 0))
    want = Partition(4, 2, 3, 4, 1, 3)
    assert search.candidates_fixed(shape, quad, 1.0) == [Candidate(want, tile(shape, want, quad, 1.0), "k4p2c3*")]
    big = Shape.of(Layer("big", "conv", 256, 6, 6, 256, 3, 3, 1, 1, 1, 1))
    (one,), (two,) = search.candidates_fixed(big, quad, 1.0), search.candidates_fixed(big, quad, 2.0)
    assert one.part == two.part and two.tiling == tile(big, two.part, quad, 2.0) != one.tiling
    assert one.is_fixed and one.slots is None
