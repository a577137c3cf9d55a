"""The weight-stationary mapper on a 2x2-chiplet package with two DRAM channels, checked exactly.

The layer is an fc layer with K = 4 outputs and C = 48 inputs on tests/quad.py
(4 chiplets x 6 PEs, 4 vector MACs x 2 lanes). Derivation by hand from the
partitioning rules in ``simulator/mapping/tiling.py`` and the emission rules in
``simulator/mapping/weight_stationary.py``:

- K split: at least ``vector_macs`` = 4 channels per PE -> k_parts = 1, k_pe = 4;
  P = 1 -> p_parts = 1; C >= 2·lanes -> c_parts = min(24 PEs, 48 / 2) = 24, c_pe = 2.
- PE i (0..23) holds c part i; chiplet i // 6 at (ci // 2, ci % 2); PE router
  (li // 3, li % 3) for li = i % 6. Only PE 0 (chiplet (0,0)) holds c = 0; every
  partial sum is owned by chiplet (0,0).
- Weights (p_parts = 1, every PE different): per chiplet one DRAM read of
  6 PEs x 4·2 B = 48 B from the nearest channel ((0,0),(0,1) -> channel 0 at (0,0);
  (1,0),(1,1) -> channel 1 at (1,0)), a NoP transfer to the chiplet, a NoC
  scatter of 8 B per PE.
- Inputs (shared by the K parts): one load of 2 B per (p, c) group, 24 groups,
  spread round-robin over the channels (channel 1 first).
- Partial sums: 4 outputs x 3 B (24-bit entries) = 12 B per PE, gathered
  into the chiplet's GB; chiplets (0,1), (1,0), (1,1) send 6 x 12 = 72 B over
  the NoP to (0,0); (0,0) accumulates 5 + 3 x 6 PEs' partial sums in its GB.
- Output: 4 B from chiplet (0,0) to channel 0.
"""
from __future__ import annotations

from collections import Counter

import pytest

from quad import ATTACH, GB, PE_NODES, quad_arch
from simulator.engine.replay import Replayer
from simulator.hw.package import Package
from simulator.mapping.weight_stationary import map_layer
from simulator.stats.counters import Counters
from simulator.workload import Layer

CHIPS = ((0, 0), (0, 1), (1, 0), (1, 1))


@pytest.fixture(scope="module")
def quad(tmp_path_factory):
    return quad_arch(tmp_path_factory.mktemp("quad"))


@pytest.fixture  # per test: mutmut maps a test to the functions its own setup calls
def fc_trace(quad):
    return map_layer(Layer.fc("fc", 48, 4), quad)


def of(trace, op, ds=None):
    return [t for t in trace.txns if t.op == op and (ds is None or t.ds == ds)]


def test_partition_and_tiling(fc_trace):
    meta = fc_trace.meta
    assert meta["partition"] == {"k_parts": 1, "p_parts": 1, "c_parts": 24, "k_pe": 4, "p_pe": 1, "c_pe": 2}
    assert (meta["tiling"]["k_tile"], meta["tiling"]["c_tile"]) == (4, 2)
    assert meta["used_pes"] == 24 and meta["chiplets"] == 4


def test_weights_come_from_the_nearest_channel_and_are_scattered(fc_trace):
    nearest = {(0, 0): 0, (0, 1): 0, (1, 0): 1, (1, 1): 1}
    reads = of(fc_trace, "dram_read", "weights")
    assert [(t.channel, t.bytes) for t in reads] == [(nearest[c], 48) for c in CHIPS]
    nops = of(fc_trace, "nop", "weights")
    assert [(t.src, t.dsts, t.bytes, t.mode) for t in nops] == \
        [(ATTACH[nearest[c]], (c,), 48, "multicast") for c in CHIPS]
    nocs = of(fc_trace, "noc", "weights")
    assert [(t.chiplet, t.src, t.dsts, t.bytes, t.mode) for t in nocs] == \
        [(c, GB, PE_NODES, 8, "scatter") for c in CHIPS]


def test_inputs_are_spread_over_the_channels(fc_trace):
    reads = of(fc_trace, "dram_read", "inputs")
    assert len(reads) == 24 and {t.bytes for t in reads} == {2}
    assert [t.channel for t in reads] == [1, 0] * 12
    nops = of(fc_trace, "nop", "inputs")
    assert [t.src for t in nops] == [ATTACH[1], ATTACH[0]] * 12
    assert [t.dsts for t in nops] == [(CHIPS[g // 6],) for g in range(24)]
    nocs = of(fc_trace, "noc", "inputs")
    assert [(t.chiplet, t.dsts, t.mode) for t in nocs] == \
        [(CHIPS[g // 6], (PE_NODES[g % 6],), "multicast") for g in range(24)]


def test_compute_per_chiplet(fc_trace):
    comp = of(fc_trace, "compute")
    assert [(t.chiplet, t.pes, t.k, t.c, t.rs, t.pixels) for t in comp] == [(c, 6, 4, 2, 1, 1) for c in CHIPS]


def test_partial_sums_travel_to_the_owner(fc_trace):
    gathers = of(fc_trace, "noc", "psums")
    assert [(t.chiplet, t.src, t.dsts, t.bytes, t.mode) for t in gathers] == \
        [(c, GB, PE_NODES, 12, "gather") for c in CHIPS]
    nops = of(fc_trace, "nop", "psums")
    assert [(t.src, t.dsts, t.bytes, t.src_buf, t.dst_buf) for t in nops] == \
        [(c, ((0, 0),), 72, "gb", "gb") for c in CHIPS[1:]]
    srams = of(fc_trace, "sram", "psums")
    assert [(t.chiplet, t.read_bytes, t.write_bytes, t.vector_ops) for t in srams] == \
        [((0, 0), 60, 60, 20)] + [((0, 0), 72, 72, 24)] * 3
    # the accumulation waits for the partial sums it adds and for the owner's own gather
    owner_gather = gathers[0].id
    for sram, source in zip(srams[1:], nops):
        assert set(sram.after) == {source.id, owner_gather}
    assert set(srams[0].after) == {owner_gather}


def test_only_the_owner_writes_the_outputs(fc_trace):
    nops = of(fc_trace, "nop", "outputs")
    assert [(t.src, t.dsts, t.bytes, t.dst_buf) for t in nops] == [((0, 0), (ATTACH[0],), 4, "dram")]
    writes = of(fc_trace, "dram_write")
    assert [(t.channel, t.bytes) for t in writes] == [(0, 4)]
    srams = of(fc_trace, "sram", "psums")
    assert set(nops[0].after) >= {t.id for t in srams}


def test_replayed_counts_per_channel_and_chiplet(fc_trace, quad):
    counters = Counters()
    pkg = Package(quad, counters)
    Replayer(pkg, quad.max_cycles).run_layer(fc_trace)
    c = counters.take()
    # DRAM: weights 2 x 48 B per channel, inputs 12 x 2 B per channel; the 4-B output on channel 0
    assert c[("dram.ch0", "dram.read_bit")] == (96 + 24) * 8
    assert c[("dram.ch1", "dram.read_bit")] == (96 + 24) * 8
    assert c[("dram.ch0", "dram.write_bit")] == 4 * 8 and ("dram.ch1", "dram.write_bit") not in c
    # GB of the owner (0,0): reads = weight scatter 48 + input multicasts 6 x 2 + accumulations
    # 60 + 3 x 72 + the output 4; writes = weights 48 + inputs 12 + gather 6 x 12
    # + 3 incoming partial sums x 72 + accumulations 276
    gb = lambda chip, rw: c[(f"chiplet[{chip[0]},{chip[1]}].gb", f"global_buffer.{rw}_bit")] / 8
    assert gb((0, 0), "read") == 48 + 12 + 276 + 4
    assert gb((0, 0), "write") == 48 + 12 + 72 + 216 + 276
    for chip in CHIPS[1:]:  # reads: scatter 48, inputs 12, partial sums out 72; writes: 48 + 12 + gather 72
        assert gb(chip, "read") == 132 and gb(chip, "write") == 132
    assert c[("chiplet[0,0].gb", "vector.op")] == 20 + 3 * 24
    # NoP link bits: weights 2 transfers of 1 hop; inputs 3 per chiplet from each channel
    # (hops from (0,0) + from (1,0): 1, 3, 1, 3); partial sums 1 + 1 + 2 hops
    assert c[("nop", "nop_link.bit")] == 2 * 48 * 8 + 3 * (1 + 3 + 1 + 3) * 16 + (1 + 1 + 2) * 72 * 8
    # routers: hops + 1 per single-destination transfer
    assert c[("nop", "nop_router.bit")] == (48 * 8 * (1 + 2 + 1 + 2) + 16 * (24 + 24)
                                            + 72 * 8 * (2 + 2 + 3) + 4 * 8 * 1)
    # PE side on every chiplet: 8 B of weights and 2 B of inputs into each of 6 PEs, 12 B of partial
    # sums out of each; MACs 6 PEs x 4 x 2
    for chip in CHIPS:
        pe = f"chiplet[{chip[0]},{chip[1]}].pes"
        assert c[(pe, "weight_buffer.write_bit")] == 6 * 8 * 8
        assert c[(pe, "input_buffer.write_bit")] == 6 * 2 * 8
        assert c[(pe, "accumulation_buffer.read_bit")] == 6 * 12 * 8 + 6 * 4 * 1 * 24  # gather + one chunk
        assert c[(pe, "mac.op")] == 48


def test_nop_route_of_each_partial_sum(fc_trace, quad):
    counters = Counters()
    pkg = Package(quad, counters)
    for t in of(fc_trace, "nop", "psums"):
        pkg.execute(t, 0)
    bits = {pkg.nop.links[i]: b for i, b in enumerate(pkg.nop.link_bits) if b}
    assert bits == {((0, 1), (0, 0)): 576, ((1, 0), (0, 0)): 2 * 576, ((1, 1), (1, 0)): 576}


def test_channel_ties_and_order():
    """Counter of nearest channels on simba's default west-edge attachment: row r -> channel r."""
    from conftest import ARCH_DIR
    from simulator.config import load_arch
    from simulator.mapping.weight_stationary import WeightStationaryMapper

    m = WeightStationaryMapper(load_arch(ARCH_DIR / "simba.yaml"))
    assert [m._channel_for((r, c)) for r in range(6) for c in (0, 5)] == [r for r in range(6) for _ in (0, 5)]
    assert Counter(m._channel_for(None) for _ in range(12)) == Counter({i: 2 for i in range(6)})


# --------------------------------------------------------------------------- loop order on arch/tiny.yaml
def _first_c_flags(meta, n_computes):
    """first-C-tile flag of each compute step, from the loop nest of docs (independent of _steps)."""
    t = meta["tiling"]
    spatial = t["row_tiles"] * t["col_tiles"]
    if t["c_tiles"] == 1 or t["c_outer"]:
        return [(s // spatial) % t["c_tiles"] == 0 for s in range(n_computes)]
    return [s % t["c_tiles"] == 0 for s in range(n_computes)]


@pytest.mark.parametrize("h, w, c_outer", [(16, 16, False), (8, 8, True), (16, 8, True)])
def test_weights_reload_and_gather_slots_follow_the_loop_order(tiny_arch, h, w, c_outer):
    """conv 256 -> 16 channels, 3x3, on tiny (hand derivation): k_pe = 4, c_pe = 256; tiles
    k 2 x c 64 (weights 2·64·9 = 1152 B <= 2048), cols 2, rows 2 (inputs 64·4·4 = 1024 B).
    16x16 outputs: 2·16·16 = 512 partial sums > 256 entries -> C loop innermost, weights reload
    every step; 8x8: 2·8·8 = 128 fit -> C tiles outside the spatial tiles, weights once per (k, c);
    16x8: 2·16·8 = 256, exactly the 256 entries, still fits."""
    layer = Layer("c", "conv", 256, h, w, 16, 3, 3, pad_h=1, pad_w=1)
    tr = map_layer(layer, tiny_arch)
    t = tr.meta["tiling"]
    assert (t["k_tile"], t["c_tile"], t["rows"], t["cols"], t["c_tiles"], t["c_outer"]) == (2, 64, 2, 2, 4, c_outer)
    tiles = (h // 2) * (w // 2)
    steps = 2 * 4 * tiles
    computes = [x for x in tr.txns if x.op == "compute"]
    assert len(computes) == steps
    weight_reads = [x for x in tr.txns if x.op == "dram_read" and x.ds == "weights"]
    loads = steps if not c_outer else 2 * 4                      # per step, or per (k tile, c tile)
    assert len(weight_reads) == loads and {x.bytes for x in weight_reads} == {4 * 2 * 64 * 9}
    # a compute step that starts an output tile (first C tile) waits for the gather two output
    # tiles back (double buffering); no other step waits for a gather
    gathers = [x.id for x in tr.txns if x.op == "noc" and x.mode == "gather"]
    assert len(gathers) == 2 * tiles
    for x, first in zip(computes, _first_c_flags(tr.meta, steps)):
        before = [g for g in gathers if g < x.id]
        waits = [g for g in x.after if g in gathers]
        assert waits == ([before[-2]] if first and len(before) >= 2 else []), x.id
        # and every step still waits for its own input tile
        assert any(tr.txns[d].op == "noc" and tr.txns[d].ds == "inputs" for d in x.after), x.id


def test_default_mac_is_exact(tiny_arch):
    tr = map_layer(Layer.fc("fc", 32, 8), tiny_arch)
    assert tr.meta["mac"] == "exact" and {x.mac for x in tr.txns if x.op == "compute"} == {"exact"}
    tr = map_layer(Layer.fc("fc", 32, 8), tiny_arch, mac="half")
    assert tr.meta["mac"] == "half" and {x.mac for x in tr.txns if x.op == "compute"} == {"half"}


@pytest.mark.parametrize("layer, expected", [
    # C = 2·lanes exactly: the reduction may be split (in 2 parts of 2 channels)
    (Layer.fc("c4", 4, 4), (1, 1, 2, 4, 1, 2)),
    # C < 2·lanes: not split
    (Layer.fc("c3", 3, 4), (1, 1, 1, 4, 1, 3)),
    # K = 9: ceil(9 / 4) = 3 parts of 3 channels; then C = 8 in min(24 // 3, 8 // 2) = 4 parts
    (Layer.fc("k9", 8, 9), (3, 1, 4, 3, 1, 2)),
    # K = 200: 24 PEs -> parts of ceil(200 / 24) = 9 channels, only ceil(200 / 9) = 23 parts non-empty
    (Layer.fc("k200", 2, 200), (23, 1, 1, 9, 1, 2)),
    # 10 output rows, K = 8: 2 K parts, then min(10, 24 // 2) = 10 row parts; C not split (24 // 20 = 1)
    (Layer("p10", "conv", 8, 10, 10, 8, 3, 3, pad_h=1, pad_w=1), (2, 10, 1, 4, 1, 8)),
])
def test_partition_on_the_quad_package(quad, layer, expected):
    from simulator.mapping.tiling import Shape, partition

    part = partition(Shape.of(layer), quad.total_pes, quad.chiplet.pe.lanes, quad.chiplet.pe.vector_macs)
    assert (part.k_parts, part.p_parts, part.c_parts, part.k_pe, part.p_pe, part.c_pe) == expected
    assert part.used_pes == expected[0] * expected[1] * expected[2]


def test_stored_weight_bytes_scale_the_weight_traffic(quad):
    """4-bit stored weights (0.5 B each): 6 PEs x 4 x 2 x 0.5 = 24 B per chiplet instead of 48."""
    tr = map_layer(Layer.fc("fc", 48, 4), quad, weight_bytes=0.5)
    assert [t.bytes for t in of(tr, "dram_read", "weights")] == [24] * 4
    assert {t.bytes for t in of(tr, "noc", "weights")} == {4}


def test_nearest_channel_with_ports_off_the_west_edge(quad):
    from simulator.mapping.weight_stationary import WeightStationaryMapper

    dram = quad.package.dram.model_copy(update={"attach": ((0, 1), (1, 0))})
    arch = quad.model_copy(update={"package": quad.package.model_copy(update={"dram": dram})})
    m = WeightStationaryMapper(arch)
    # distances to (0,1) and (1,0): (0,0) 1/1 -> first; (0,1) 0/2; (1,0) 2/0; (1,1) 1/1 -> first
    assert [m._channel_for(c) for c in CHIPS] == [0, 0, 1, 0]


@pytest.mark.parametrize("double_buffering, back", [(True, 2), (False, 1)])
def test_a_load_waits_for_the_step_that_frees_its_buffer(tiny_arch, write_arch, double_buffering, back):
    """fc 512 -> 64, batch 8 on tiny: 16 steps on the single chiplet. An input load may overwrite
    the slot used `back` steps earlier, so it waits for that step's compute."""
    from simulator.config import load_arch

    arch = tiny_arch if double_buffering else load_arch(
        write_arch({"chiplet.pe.double_buffering": False}, base="tiny"))
    tr = map_layer(Layer.fc("fc", 512, 64), arch, batch=8)
    computes = [t.id for t in of(tr, "compute")]
    reads = of(tr, "dram_read", "inputs")
    assert len(reads) == len(computes)
    for s, rd in enumerate(reads):
        assert list(rd.after) == ([computes[s - back]] if s >= back else []), s


@pytest.mark.parametrize("layer, batch, tiles", [
    # 1x1 reduction of exactly 1024 B = the input share: fits, C is not halved
    (Layer.fc("c1024", 1024, 64), 1, {"c_tile": 1024, "k_tile": 2, "rows": 1}),
    # 3x3 conv, C = 96 on 2 output rows per PE: one output needs 96·3·3 = 864 B <= 1024, two output
    # rows 96·4·3 = 1152 B do not: C stays 96, K tile 2 (weights 4·96·9 = 3456 > 2048), 1 row, 1 column
    (Layer("c96", "conv", 96, 8, 8, 4, 3, 3, pad_h=1, pad_w=1), 1, {"c_tile": 96, "k_tile": 2, "rows": 1, "cols": 1}),
    # fc 96 -> 4 at batch 48: 12 rows per PE need 1152 B; above 8 rows the search halves: 12 -> 6
    (Layer.fc("b48", 96, 4), 48, {"c_tile": 96, "k_tile": 4, "rows": 6}),
])
def test_tile_search_on_tiny(tiny_arch, layer, batch, tiles):
    t = map_layer(layer, tiny_arch, batch=batch).meta["tiling"]
    assert {k: t[k] for k in tiles} == tiles


def test_shape_of_padding_adds_and_groups():
    from simulator.mapping.tiling import Shape

    conv = Shape.of(Layer("c", "conv", 8, 8, 6, 16, 3, 3, pad_h=1, pad_w=2))
    assert (conv.h, conv.w, conv.p, conv.q) == (10, 10, 8, 8)
    assert conv.in_rows(8) == 10 and conv.in_cols(6) == 8 and conv.in_rows(2) == 4
    add = Shape.of(Layer("a", "add", 16, 4, 4, 16))
    assert (add.in_tensors, add.vector_ops_per_output, add.has_weights) == (2, 1, False)
    # 4 groups of 2 output channels: 3 consecutive channels touch at most 2 groups
    grouped = Shape.of(Layer("g", "conv", 8, 6, 6, 8, 3, 3, groups=4))
    assert (grouped.groups, grouped.k_per_group, grouped.c_red) == (4, 2, 2)
    assert [grouped.in_channels_for(k, 2) for k in (1, 2, 3, 5, 8)] == [2, 4, 4, 6, 8]
    # 2 groups of 2: a range of 3 channels touches both
    two = Shape.of(Layer("t", "conv", 4, 6, 6, 4, 3, 3, groups=2))
    assert [two.in_channels_for(k, 2) for k in (1, 2, 3)] == [2, 4, 4]
