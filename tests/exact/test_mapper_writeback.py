"""Write-back of a split reduction and the mapper's recorded choice (``simulator/mapping/weight_stationary.py``),
by hand on the 2x2 package of ``tests/quad.py`` (chiplets numbered row-major (0,0), (0,1), (1,0),
(1,1); DRAM channels attached at (0,0) and (1,0); 24-bit = 3-byte partial sums).

The layer of ``test_mapping_cost.py``: 1x1 convolution, K = 16, C = 8, 2 x 2 outputs; K in 4 parts,
P in 2 parts of 1 row, C in 3 parts. PE i (k = i % 4, c = (i // 4) % 3, p = i // 12) sits on
chiplet i // 6:

- (0,0): PEs 0-3 (c 0, row 0: the finals of row 0), 4-5 (c 1, row 0);
- (0,1): PEs 6-7 (c 1, row 0), 8-11 (c 2, row 0);
- (1,0): PEs 12-15 (c 0, row 1: the finals of row 1), 16-17 (c 1, row 1);
- (1,1): PEs 18-19 (c 1, row 1), 20-23 (c 2, row 1).

Partial sums of (row, k) go to the chiplet of its c = 0 PE: row 0 to (0,0), row 1 to (1,0).
One output tile of k 4 x 1 row x 2 columns = 8 entries per PE: 24 bytes of partial sums, 8 bytes
of outputs.
"""
from __future__ import annotations

import pytest

from quad import ATTACH, quad_arch
from simulator.mapping.cost import cost
from simulator.mapping.search import choose
from simulator.mapping.tiling import Shape
from simulator.mapping.weight_stationary import MAX_COMPUTE_TXNS, WeightStationaryMapper
from simulator.workload import Layer

LAYER = Layer("x", "conv", 8, 2, 2, 16, 1, 1, 1, 1, 0, 0)


@pytest.fixture
def arch(tmp_path):
    return quad_arch(tmp_path)


def test_partial_sums_reach_their_owner(arch):
    tr = WeightStationaryMapper(arch).map(LAYER)
    txns = tr.txns
    last_compute = {}
    for t in txns:
        if t.op == "compute":
            last_compute[t.chiplet] = t.id
    gathers = {t.chiplet: t for t in txns if t.op == "noc" and t.mode == "gather"}
    assert sorted(gathers) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    for chip, g in gathers.items():
        assert g.ds == "psums" and g.bytes == 24 and g.after == (last_compute[chip],) and len(g.dsts) == 6
    # partial sums over the NoP: (0,1) -> (0,0) and (1,1) -> (1,0), 6 PEs x 24 B each
    nops = [t for t in txns if t.op == "nop" and t.ds == "psums"]
    assert sorted((t.src, t.dsts) for t in nops) == [((0, 1), ((0, 0),)), ((1, 1), ((1, 0),))]
    for t in nops:
        assert t.bytes == 6 * 24 and t.after == (gathers[t.src].id,) and (t.src_buf, t.dst_buf) == ("gb", "gb")
    # accumulations on the owners: local ones (2 PEs) after the local gather, remote ones (6 PEs) after the NoP
    srams = [t for t in txns if t.op == "sram" and t.ds == "psums"]
    got = sorted((t.chiplet, t.read_bytes, t.write_bytes, t.vector_ops) for t in srams)
    assert got == [((0, 0), 48, 48, 16), ((0, 0), 144, 144, 48), ((1, 0), 48, 48, 16), ((1, 0), 144, 144, 48)]
    nop_to = {t.dsts[0]: t.id for t in nops}
    for t in srams:
        own = gathers[t.chiplet].id
        if t.read_bytes == 48:
            assert t.after == (own, own)                     # the local gather, twice (sender and owner)
        else:
            assert t.after == (nop_to[t.chiplet], own)
    # outputs: written by the owners only, to their nearest channel, after their accumulations
    writes = [t for t in txns if t.op == "dram_write"]
    assert sorted((w.channel, w.bytes) for w in writes) == [(0, 4 * 8), (1, 4 * 8)]
    for w in writes:
        (nop,) = [txns[d] for d in w.after]
        assert nop.dsts == (ATTACH[w.channel],) and nop.src == ATTACH[w.channel] and nop.dst_buf == "dram"
        acc = {t.id for t in srams if t.chiplet == nop.src}
        assert set(nop.after) == {gathers[nop.src].id} | acc


def test_the_recorded_prediction_uses_the_pricing_of_the_call(arch):
    """The mapper records the choice made with its own words, lane factor and dataflow flags."""
    shape = Shape.of(LAYER)
    tr = WeightStationaryMapper(arch).map(LAYER, weight_bytes=1.0, input_bytes=2.0, lane_factor=2.0, mapping="search")
    want = choose(shape, arch, "search", MAX_COMPUTE_TXNS, wword=1.0, word=2.0, lane_factor=2.0,
                  inputs_resident=False, outputs_resident=False, fused=None)
    assert tr.meta["mapping"] == want.candidate.label.rstrip("*")
    assert tr.meta["predicted_cycles"] == round(want.cost.cycles)
    assert tr.meta["predicted_cycles"] != round(cost(shape, want.candidate, arch).cycles)   # the call's pricing matters
    assert tr.meta["mac"] == "exact" and tr.meta["mapping_mode"] == "search"


def test_a_fused_add_is_priced_by_where_its_operand_comes_from(arch):
    """A DRAM-bound layer (C = 2048, K = 96, one pixel: its weights dominate): an operand from DRAM
    adds its 96 bytes to the DRAM bound (96 / (2 x 4 B) = 12 cycles), one from a global buffer does not."""
    from simulator.mapping.onpackage import FusedAdd
    from simulator.mapping.residency import Resident
    layer = Layer("w", "conv", 2048, 1, 1, 96, 1, 1)
    add = Layer("s", "add", 96, 1, 1, 96, inputs=("w", "y"))
    held = Resident("y", [((1, 1), (0, 96, 0, 1, 0, 1))], {(1, 1): 96}, 1)
    got = {}
    for source, fused in ((None, "dram"), (held, "nop")):
        tr = WeightStationaryMapper(arch).map(layer, fuse=FusedAdd(add, 1, source))
        want = choose(Shape.of(layer), arch, "fixed", MAX_COMPUTE_TXNS, fused=fused)
        assert want.cost.limit == "dram" and tr.meta["predicted_cycles"] == round(want.cost.cycles)
        got[fused] = want.cost.dram
    assert got["dram"] - got["nop"] == pytest.approx(96 / 8)


def test_shared_tiles_go_round_robin_over_three_channels(tmp_path):
    """Three DRAM channels attached at (0,0), (1,0), (0,1): shared tiles (one read multicast to the
    PEs that share it; here every tile) take channels 1, 2, 0, 1, ... in order."""
    from quad import QUAD_EDITS, quad_variant
    arch = quad_variant(tmp_path, "tri", {**QUAD_EDITS["package"], "dram": {
        **QUAD_EDITS["package"]["dram"], "channels": 3, "attach": [[0, 0], [1, 0], [0, 1]]}})
    tr = WeightStationaryMapper(arch).map(LAYER)
    reads = [t for t in tr.txns if t.op == "dram_read"]
    nops = {d: t for t in tr.txns if t.op == "nop" for d in t.after}
    modes = {d: t.mode for t in tr.txns if t.op == "noc" for d in t.after}   # nop -> how its tile reaches the PEs
    shared = [r.channel for r in reads if modes[nops[r.id].id] == "multicast"]
    assert len(shared) == len(reads) > 3 and shared == [(1 + i) % 3 for i in range(len(shared))]


def test_every_pe_computes_its_own_part(arch):
    """Work slices (k, c, rows, cols) of the one step, per PE i of the layer: k 4(i % 4) : +4,
    c 3c : min(8, 3c + 3) with c = (i // 4) % 3, row i // 12, both columns."""
    tr = WeightStationaryMapper(arch).map(LAYER)
    comps = {t.chiplet: t for t in tr.txns if t.op == "compute"}
    order = [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert sorted(comps) == order
    for n, chip in enumerate(order):
        t = comps[chip]
        assert (t.pes, t.k, t.c, t.rs, t.pixels) == (6, 4, 3, 1, 2)
        want = []
        for i in range(6 * n, 6 * n + 6):
            k, c, p = i % 4, (i // 4) % 3, i // 12
            want.append((4 * k, 4 * k + 4, 3 * c, min(8, 3 * c + 3), p, p + 1, 0, 2))
        assert list(t.data) == want
