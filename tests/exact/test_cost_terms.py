"""Each term of the mapping cost model (``simulator/mapping/cost.py``) by hand, on a package where
no two parameters that code could swap are equal ("tri"): a 2 x 3 chiplet mesh; 3 DRAM channels of
4 B/cycle (latency 7) whose ports sit on only 2 chiplets ([0, 0] twice and [1, 2]); NoP links of
4 B/cycle with hops of 3 + 2 cycles, so one crossing of the package is (2 + 3) x 5 = 25 cycles;
chiplets of 6 PEs (a 2 x 3 NoC of 2 B/cycle links); a global buffer of 8 B/cycle; PEs with 4
vector MACs of 2 lanes and 3-byte accumulation entries.

Candidates are built by hand (partition and tiling given), so the terms below follow from the
formulas of docs/models.md ("Mapping search") and the loop nest alone.
"""
from __future__ import annotations

import numpy as np
import pytest

from quad import quad_variant
from simulator.mapping.candidates import Candidate
from simulator.mapping.cost import Cost, cost, crossing, dram_bytes_per_cycle, nest, rank, with_links
from simulator.mapping.tiling import Partition, Shape, Tiling
from simulator.workload import Layer

CROSS = 25          # (rows + cols) x (router + link) NoP cycles
LAT = 7             # DRAM latency


@pytest.fixture
def tri(tmp_path):
    return quad_variant(tmp_path, "tri", {
        "mesh": {"rows": 2, "cols": 3},
        "nop": {"link_width_bits": 32, "router_latency_cycles": 3, "link_latency_cycles": 2},
        "dram": {"channels": 3, "channel_bandwidth_bytes_per_cycle": 4, "latency_cycles": LAT,
                 "attach": [[0, 0], [0, 0], [1, 2]]}})


# A grouped 3x3 convolution: C = K = 8 in 2 groups (4 input channels and 4 output channels per
# group), 4 x 4 inputs, no padding -> 2 x 2 outputs. The inputs are not shared by all output
# channels (K/groups = 4 < K = 8), so every PE loads its own.
GROUPED = Layer("g", "conv", 8, 4, 4, 8, 3, 3, 1, 1, 0, 0, groups=2)
# K in 4 parts of 2, P in 2 parts of 1 row, C in 2 parts of 2: 16 PEs (6 on a chiplet).
PART = Partition(k_parts=4, p_parts=2, c_parts=2, k_pe=2, p_pe=1, c_pe=2)
# k tile 2 (1 K tile), c tile 1 (2 C tiles), 1 row x 1 column (2 column tiles), C innermost
KSC = Tiling(2, 1, 1, 1, k_tiles=1, c_tiles=2, row_tiles=1, col_tiles=2, c_outer=False)
KCS = Tiling(2, 1, 1, 1, k_tiles=1, c_tiles=2, row_tiles=1, col_tiles=2, c_outer=True)
KS = Tiling(2, 2, 1, 1, k_tiles=1, c_tiles=1, row_tiles=1, col_tiles=2)


def test_the_loop_nest_bytes_of_a_grouped_conv(tri):
    """Per PE group over the nest, 2-byte weights and 1.5-byte activations:
    weights: 2 C tiles x (2 x 1 x 9 x 2 B = 36 B), reloaded for each of the 2 column tiles when
    C is innermost (144 B), once when C is outside (72 B) or whole (2 x 2 x 9 x 2 = 72 B);
    inputs, once per step: a K tile of 2 channels starting anywhere may touch
    min(2, ceil((2 - 1) / 4) + 1) = 2 groups, so 2 input channels per c channel; 2 C tiles x 2
    channels x the windows of 2 columns (3 rows x 3 columns each: 18) x 1.5 B = 108 B;
    the whole part's window: 2 groups x 2 channels x 3 rows x 4 columns x 1.5 B = 72 B;
    partial sums of a PE: 2 channels x 1 row x 2 columns x 3 B = 12 B."""
    shape = Shape.of(GROUPED)
    n = nest(shape, Candidate(PART, KSC, "x"), tri, wword=2.0, word=1.5)
    assert (n.w_loads, n.i_loads, n.i_window, n.psum_pe) == (144, 108, 72, 12)
    assert nest(shape, Candidate(PART, KCS, "x"), tri, wword=2.0, word=1.5).w_loads == 72
    assert nest(shape, Candidate(PART, KS, "x"), tri, wword=2.0, word=1.5).w_loads == 72
    # C not split: no partial sums; default words of 1 B
    whole = Partition(k_parts=4, p_parts=2, c_parts=1, k_pe=2, p_pe=1, c_pe=4)
    one_c_tile = Tiling(2, 4, 1, 1, k_tiles=1, c_tiles=1, row_tiles=1, col_tiles=2)
    n = nest(shape, Candidate(whole, one_c_tile, "x"), tri)
    assert n.psum_pe == 0 and n.w_loads == 2 * 4 * 9 and n.i_loads == 2 * 4 * 18
    # partial last tiles: K_pe = 3 and C_pe = 3 in tiles of 2 -> k tiles 2, 1 and c tiles 2, 1;
    # weights (2x2 + 2x1 + 1x2 + 1x1) x 9 = 81 B; input channels per (k, c) tile: 2 groups for a
    # 2-channel K tile, 1 for a single channel: 2x2 + 2x1 + 1x2 + 1x1 = 9, x 18 B of windows
    odd = Partition(k_parts=3, p_parts=2, c_parts=1, k_pe=3, p_pe=1, c_pe=3)
    halves = Tiling(2, 2, 1, 1, k_tiles=2, c_tiles=2, row_tiles=1, col_tiles=2, c_outer=True)
    n = nest(shape, Candidate(odd, halves, "x"), tri)
    assert (n.w_loads, n.i_loads) == (81, 9 * 18)
    # P whole (2 rows per PE), C split: partial sums of 2 channels x 2 rows x 2 columns x 3 B
    rows2 = Partition(k_parts=4, p_parts=1, c_parts=2, k_pe=2, p_pe=2, c_pe=2)
    assert nest(shape, Candidate(rows2, KSC, "x"), tri).psum_pe == 2 * 2 * 2 * 3


def grouped_cost(tri, tiling=KSC, **kw):
    return cost(Shape.of(GROUPED), Candidate(PART, tiling, "x"), tri, wword=2.0, word=1.5, **kw)


def test_every_term_of_a_grouped_conv(tri):
    """16 PEs, 6 on the busiest chiplet. P is split: PEs of one (k, c) share weights (8 groups;
    6 on a chiplet); inputs are per PE (16 groups; 6 on a chiplet).
    compute: ceil(2/4) x (ceil(1/2) + ceil(1/2)) x 9 x 1 row x 2 columns = 36; one step
    ceil(2/4) x ceil(1/2) x 9 x 1 x 1 = 9.
    DRAM: reads 8 x 144 + 16 x 108 = 2880 B, writes the 8 x 2 x 2 outputs x 1.5 B = 48 B;
    3 channels x 4 B/cycle: 2928 / 12 = 244.
    NoP: the busiest chiplet receives 6 x 144 + 6 x 108 = 1512 B, plus partial sums: it owns
    min(6, K_parts 4) final PEs, each accumulating (C_parts - 1) x 12 B: 48 -> 1560 B over one
    4 B/cycle link = 390; the 2 attach chiplets (not 3 channels) send 2880 B over 2 links: 360.
    global buffer: 1560 in + 864 weight and 648 input bytes to the NoC + 6 x 12 B gathered +
    2 x 48 partial-sum accumulation + the chiplet's 6 x 2 x 1 x 2 x 1.5 = 36 output bytes written
    out = 3276 B / 8 = 409.5. NoC: (864 + 648 + 72) / (2 links x 2 B) = 396.
    fill: DRAM latency 7 + one crossing 25 + one step 9 = 41."""
    c = grouped_cost(tri)
    assert c.bounds == {"compute": 36, "dram": 244, "nop": 390, "gb": 409.5, "noc": 396}
    assert (c.fill, c.fill_nop, c.steps) == (41, 25, 4)
    assert c.nop_dram == 360 and c.gb_rest == (3276 - 1560) / 8
    assert c.limit == "gb" and c.cycles == 409.5 + 41 and c.rank_cycles == c.cycles
    assert (c.links, c.byte_hops, c.spill, c.received) == (0, 0, 0, -1)     # not placed
    assert dram_bytes_per_cycle(tri) == 12


def test_c_outside_the_spatial_tiles_loads_weights_once(tri):
    """KCS: weights 72 B per group: DRAM reads 8 x 72 + 1728 = 2304 (+48 written) / 12 = 196;
    the chiplet receives 6 x 72 + 648 + 48 = 1128 B (282 cycles), now below the attach
    chiplets' 2304 / 8 = 288: the NoP bound is theirs."""
    c = grouped_cost(tri, KCS)
    assert c.dram == pytest.approx(196) and c.nop == 288 and c.nop_dram == 288


def test_pes_placed_by_slot_count_per_chiplet(tri):
    """16 PEs placed 4 per chiplet (slots 0-3, 6-9, 12-15, 18-21): 4 PEs on the busiest chiplet.
    It receives 4 x 144 + 4 x 108 + 48 = 1056 B (264 cycles; the attach bound, 360, wins); its
    global buffer moves 1056 + 576 + 432 + 4 x 12 + 96 + 4 x 2 x 2 x 1.5 = 2232 B (279); its NoC
    (576 + 432 + 48) / 4 = 264."""
    slots = (0, 1, 2, 3, 6, 7, 8, 9, 12, 13, 14, 15, 18, 19, 20, 21)
    c = cost(Shape.of(GROUPED), Candidate(PART, KSC, "x", slots=slots), tri, wword=2.0, word=1.5)
    assert (c.nop, c.gb, c.noc) == (360, 279, 264)
    assert c.dram == 244                                       # DRAM bytes do not depend on placement
    # 6, 5 and 5 PEs on chiplets 0, 1, 2: the busiest has 6, as without slots
    crowded = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16)
    c = cost(Shape.of(GROUPED), Candidate(PART, KSC, "x", slots=crowded), tri, wword=2.0, word=1.5)
    assert (c.nop, c.gb, c.noc) == (390, 409.5, 396)


def test_a_step_of_two_rows(tri):
    """P_pe = 2 rows in one row tile: one step is ceil(2/4) x ceil(1/2) x 9 x 2 rows x 1 column
    = 18 cycles, the fill 7 + 25 + 18."""
    rows2 = Partition(k_parts=4, p_parts=1, c_parts=2, k_pe=2, p_pe=2, c_pe=2)
    t = Tiling(2, 1, 2, 1, k_tiles=1, c_tiles=2, row_tiles=1, col_tiles=2)
    assert cost(Shape.of(GROUPED), Candidate(rows2, t, "x"), tri).fill == LAT + CROSS + 18


def test_fewer_weight_groups_than_pes_on_a_chiplet(tri):
    """K in 2 parts of 4, P in 2 parts of 1 row, C whole (4 PEs on one chiplet): the 4 PEs form
    only 2 (k, c) weight groups. Weights per group: 2 K tiles x 2 x 4 x 9 = 144 B; inputs per PE:
    2 K tiles x 8 channels (2 groups x 4) x 18 B of windows = 288 B. The chiplet receives
    2 x 144 + 4 x 288 = 1440 B (360 cycles; the attach chiplets send the same 1440 B over 2
    links: 180); its global buffer: 1440 in + 288 + 1152 to the NoC + 4 PEs x 8 outputs gathered
    + 32 written out = 2944 B (368); its NoC (288 + 1152 + 32) / 4 = 368."""
    part = Partition(k_parts=2, p_parts=2, c_parts=1, k_pe=4, p_pe=1, c_pe=4)
    t = Tiling(2, 4, 1, 1, k_tiles=2, c_tiles=1, row_tiles=1, col_tiles=2)
    c = cost(Shape.of(GROUPED), Candidate(part, t, "x"), tri)
    assert (c.nop, c.gb, c.noc, c.nop_dram) == (360, 368, 368, 180)
    # 2-byte activations: inputs 2 x 1152 B to the NoC, outputs gathered 4 PEs x 8 x 2 B
    assert cost(Shape.of(GROUPED), Candidate(part, t, "x"), tri, word=2.0).noc == (288 + 2304 + 64) / 4


def test_resident_tensors_and_a_fused_add(tri):
    """Inputs resident: DRAM reads only the 1152 B of weights (+48 written): 100; the attach
    chiplets send 1152 B: 144. Outputs resident too: 1152 / 12 = 96, and the global buffer no
    longer writes the 36 output bytes out: (3276 - 36) / 8 = 405. A fused add over the NoP: the
    other operand (36 B on the chiplet) arrives (NoP (1560 + 36) / 4 = 399) and is read twice and
    written once more (3276 + 36 + 108 = 3420 B / 8 = 427.5); from DRAM it is also read there:
    (2880 + 48 + 48) / 12 = 248."""
    assert grouped_cost(tri, inputs_resident=True).dram == pytest.approx((1152 + 48) / 12)
    assert grouped_cost(tri, inputs_resident=True).nop_dram == 1152 / 8
    c = grouped_cost(tri, inputs_resident=True, outputs_resident=True)
    assert c.dram == 96 and c.gb == 405 and c.fill == LAT + CROSS + 9
    c = grouped_cost(tri, fused="nop")
    assert (c.nop, c.gb, c.dram) == (399, 427.5, 244)
    assert grouped_cost(tri, fused="dram").dram == 248


# An element-wise add of two 8-channel 4 x 4 tensors: K in 2 parts of 4 channels, P in 2 parts of
# 2 rows (4 PEs, one chiplet); tiles of 2 channels x 1 row x 4 columns (2 K tiles, 2 row tiles).
ADD = Layer("s", "add", 8, 4, 4, 8, inputs=("a", "b"))
ADD_PART = Partition(k_parts=2, p_parts=2, c_parts=1, k_pe=4, p_pe=2, c_pe=1)
ADD_TILES = Tiling(2, 1, 1, 4, k_tiles=2, c_tiles=1, row_tiles=2, col_tiles=1)


def test_a_vector_layer_on_resident_tensors(tri):
    """compute ceil(4 x 2 x 4 x 1 op / (4 x 2)) = 4; one step ceil(2 x 1 x 4 / 8) = 1.
    Inputs per PE: 2 K tiles x 2 operands x 2 channels x (1 + 1 rows x 4 columns) = 64 B.
    DRAM: 4 x 64 read + 128 written = 384 B / 12 = 32. NoP: 4 x 64 = 256 B in (64), attach 32.
    Global buffer: 256 in + 256 to the NoC + 4 PEs x 32 outputs gathered + 128 written = 768 (96);
    NoC (256 + 128) / 4 = 96 -- gb and noc tie, the first named is the limit.
    With inputs and outputs resident nothing touches DRAM: no DRAM latency in the fill (the
    crossing stays, the inputs cross the NoP): 25 + 1."""
    shape = Shape.of(ADD)
    cand = Candidate(ADD_PART, ADD_TILES, "x")
    c = cost(shape, cand, tri)
    assert c.bounds == {"compute": 4, "dram": 32, "nop": 64, "gb": 96, "noc": 96}
    assert c.limit == "gb" and c.fill == LAT + CROSS + 1
    r = cost(shape, cand, tri, inputs_resident=True, outputs_resident=True)
    assert (r.dram, r.nop, r.gb, r.nop_dram, r.fill, r.fill_nop) == (0, 64, 80, 0, CROSS + 1, CROSS)
    # tiles of 2 rows: one step is ceil(2 x 2 x 4 / 8) = 2 cycles
    two_rows = Tiling(2, 1, 2, 4, k_tiles=2, c_tiles=1, row_tiles=1, col_tiles=1)
    assert cost(shape, Candidate(ADD_PART, two_rows, "x"), tri).fill == LAT + CROSS + 2
    # a placement can move nothing (nop_dram = 0): the floor drops the crossing
    assert r.floor == max(4, 0, 96, 0, (640 - 256) / 8) + 1
    assert c.floor == max(4, 32, 96, 256 / 8, (768 - 256) / 8) + LAT + CROSS + 1


# One max over a single 1 x 1 pixel of one channel, with half-byte activations: the layer moves
# 0.5 B in and 0.5 B out. Whatever crosses the NoP or touches DRAM, however few bytes, counts.
ONE = Layer("one", "pool", 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, pool_mode="max")
ONE_CAND = Candidate(Partition(1, 1, 1, 1, 1, 1), Tiling(1, 1, 1, 1, 1, 1, 1, 1), "x")


def test_half_a_byte_still_pays_the_latencies(tri):
    """Inputs resident, the 0.5 output byte written to DRAM: fill = DRAM latency 7 + crossing 25 +
    one step ceil(1/8) = 1; the attach chiplets' bound 0.5 / 8 keeps the crossing when the
    placement moves nothing. Both resident: only the 0.5 B received cross the NoP: 25 + 1."""
    shape = Shape.of(ONE)
    out = cost(shape, ONE_CAND, tri, word=0.5, inputs_resident=True)
    assert (out.fill, out.fill_nop, out.nop_dram) == (LAT + CROSS + 1, CROSS, 0.5 / 8)
    assert crossing(out, False, tri) == {"fill": LAT + CROSS + 1, "fill_nop": CROSS}
    kept = cost(shape, ONE_CAND, tri, word=0.5, inputs_resident=True, outputs_resident=True)
    assert (kept.fill, kept.fill_nop, kept.nop_dram) == (CROSS + 1, CROSS, 0)
    # placed: half a byte over one link keeps the crossing; nothing over any link drops it
    assert with_links(kept, np.array([0.0, 0.5]), 0.5, tri).fill == CROSS + 1
    assert with_links(kept, np.array([0.0, 0.0]), 0.0, tri).fill == 1


def test_the_floor_and_the_ranking_cycles_of_a_cost():
    c = Cost(compute=10, dram=20, nop=30, gb=25, noc=5, fill=27, spill=4, nop_dram=12, gb_rest=22, fill_nop=20)
    assert c.cycles == 30 + 27 and c.rank_cycles == 30 + 27 + 4 and c.limit == "nop"
    assert c.floor == 22 + 27                  # max(compute, dram, noc, nop_dram, gb_rest) + fill
    c = Cost(compute=10, dram=20, nop=30, gb=25, noc=5, fill=27, nop_dram=0, gb_rest=3, fill_nop=20)
    assert c.floor == 20 + 27 - 20             # nothing has to cross the NoP: the crossing may go
    assert Cost(compute=9, dram=9, nop=1, gb=1, noc=9, fill=0).limit == "compute"     # a tie: the first


def test_with_links_and_crossing(tri):
    """The grouped conv placed: busiest link 1600 B -> 400 cycles (above the attach bound 360);
    the busiest global buffer receives or sends 1000 B: gb = 214.5 + 1000 / 8; byte-hops the sum."""
    c = grouped_cost(tri)
    placed = with_links(c, np.array([0.0, 100.0, 1600.0, 40.0]), 1000.0, tri)
    assert (placed.nop, placed.links, placed.byte_hops, placed.received) == (400, 400, 1740, 1000)
    assert placed.gb == 214.5 + 125 and placed.fill == 41 and placed.fill_nop == 25
    assert placed.dram == c.dram and placed.compute == c.compute
    light = with_links(c, np.array([0.0, 40.0]), 0.0, tri)
    assert (light.nop, light.links, light.gb) == (360, 10, 214.5)
    # nothing crosses a link, but the layer reads DRAM through the NoP: the crossing stays
    assert with_links(c, np.zeros(3), 0.0, tri).fill == 41
    assert with_links(c, np.array([]), 0.0, tri).links == 0
    # the add on resident tensors, its inputs already where it runs: no crossing left
    r = cost(Shape.of(ADD), Candidate(ADD_PART, ADD_TILES, "x"), tri, inputs_resident=True, outputs_resident=True)
    still = with_links(r, np.zeros(3), 0.0, tri)
    assert (still.fill, still.fill_nop, still.nop) == (1, 0, 0)
    assert crossing(r, True, tri) == {"fill": CROSS + 1, "fill_nop": CROSS}
    assert crossing(r, False, tri) == {"fill": 1, "fill_nop": 0}


def test_rank_passes_its_options_and_sorts_by_cycles(tri):
    shape = Shape.of(GROUPED)
    ksc, kcs = Candidate(PART, KSC, "ksc"), Candidate(PART, KCS, "kcs")
    ranked = rank(shape, [ksc, kcs], tri, wword=2.0, word=1.5)
    assert [cand.label for _, cand in ranked] == ["kcs", "ksc"]          # 196 + ... < 409.5 + 41
    assert ranked[1][0] == grouped_cost(tri)
    ranked = rank(shape, [kcs, ksc], tri, wword=2.0, word=1.5, inputs_resident=True)
    assert ranked[0][0] == cost(shape, kcs, tri, wword=2.0, word=1.5, inputs_resident=True)
