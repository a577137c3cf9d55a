"""Every bound of the mapping search's cost model (``simulator/mapping/cost.py``), by hand, on the
asymmetric 2x2-chiplet package of ``tests/quad.py`` (24 PEs: 4 chiplets x 6; 4 vector MACs x 2
lanes; 2 DRAM channels x 4 B/cycle, latency 7, attached at 2 chiplets; NoP links 4 B/cycle, hop
5; NoC links 2 B/cycle; global buffer 8 B/cycle; 24-bit = 3 B accumulation entries).

The layer: a 1x1 convolution, K = 16, C = 8, 2 x 2 outputs (P = Q = 2).
Fixed partition (tiling.partition): K in min(ceil(16/4), 24) = 4 parts of 4; P in
min(2, 24 // 4) = 2 parts of 1 row; C (8 >= 2 lanes x 2) in min(24 // 8, 8 // 2) = 3 parts of
ceil(8/3) = 3. All 24 PEs are used. One tile per PE: k 4, c 3, 1 row x 2 columns.
"""
from __future__ import annotations

import pytest

from quad import quad_arch
from simulator.mapping.candidates import candidates
from simulator.mapping.cost import cost, rank
from simulator.mapping.tiling import Shape
from simulator.workload import Layer

LAYER = Layer("x", "conv", 8, 2, 2, 16, 1, 1, 1, 1, 0, 0)

# per-PE quantities of the nest (one step):
W_LOADS = 4 * 3                      # weights of one (k, c) tile: 12 B
I_LOADS = 3 * 1 * 2                  # 3 channels x 1 input row x 2 input columns: 6 B
W_GROUPS = 4 * 3                     # p_parts > 1: PEs of one (k, c) share weights -> k_parts x c_parts
I_GROUPS = 2 * 3                     # inputs shared across K: p_parts x c_parts
W_GROUPS_CHIP = min(6, W_GROUPS)     # 6 PEs on a chiplet
I_GROUPS_CHIP = min(6, -(-6 // 4))   # ceil(PEs here / k_parts) = 2
OUT = 16 * 2 * 2                     # output bytes of the layer: 64
PSUM_PE = 4 * 1 * 2 * 3              # k_pe x p_pe x Q x 3 B: 24
OUT_CHIP = 6 * 4 * 1 * 2             # final outputs one chiplet holds: 48
PSUM_IN = min(6, 4) * (3 - 1) * PSUM_PE   # owner chiplet: 4 final PEs x 2 other parts x 24 = 192


@pytest.fixture
def quad(tmp_path):
    return quad_arch(tmp_path)


def fixed(quad):
    shape = Shape.of(LAYER)
    cand = candidates(shape, quad)[0]
    p, t = cand.part, cand.tiling
    assert (p.k_parts, p.p_parts, p.c_parts, p.k_pe, p.p_pe, p.c_pe) == (4, 2, 3, 4, 1, 3)
    assert (t.k_tile, t.c_tile, t.rows, t.cols, t.steps, t.c_outer) == (4, 3, 1, 2, 1, False)
    return shape, cand


def test_every_bound_by_hand(quad):
    shape, cand = fixed(quad)
    c = cost(shape, cand, quad)
    # compute: ceil(4/4) x ceil(3/2) x 1 x 1 row x 2 columns
    assert c.compute == 1 * 2 * 1 * 1 * 2
    # DRAM: reads 12 groups x 12 B of weights + 6 groups x 6 B of inputs, writes 64 B; 2 x 4 B/cycle
    dram_read = W_GROUPS * W_LOADS + I_GROUPS * I_LOADS
    assert dram_read == 180
    assert c.dram == pytest.approx((180 + 64) / 8)
    # NoP: the busiest chiplet receives 6 x 12 + 2 x 6 + 192 psum bytes over one 4 B/cycle link;
    # the attach chiplets send 180 B over 2 links
    recv = W_GROUPS_CHIP * W_LOADS + I_GROUPS_CHIP * I_LOADS + PSUM_IN
    assert recv == 276
    assert c.nop == pytest.approx(max(276 / 4, 180 / (2 * 4), 64 / (2 * 4)))
    # global buffer: NoP writes 276 + weight reads to the NoC 6 x 12 + input reads 2 x 6 + gathers of
    # 6 PEs x 24 psum bytes + 2 x 192 psum accumulation + 48 output bytes written out; 8 B/cycle
    w_noc, i_noc, gather = 6 * 12, 2 * 6, 6 * PSUM_PE
    assert c.gb == pytest.approx((276 + w_noc + i_noc + gather + 2 * PSUM_IN + OUT_CHIP) / 8) == 117
    # NoC: bytes through the global buffer's router, 2 links x 2 B/cycle
    assert c.noc == pytest.approx((w_noc + i_noc + gather) / 4) == 57
    # fill: DRAM latency 7 + (2 + 2) NoP hops x 5 + one step (4 cycles)
    assert c.fill == 7 + 4 * 5 + 4
    assert c.limit == "gb" and c.cycles == pytest.approx(117 + 31)
    assert c.bounds == {"compute": 4, "dram": pytest.approx(30.5), "nop": 69, "gb": 117, "noc": 57}


def test_resident_inputs_and_outputs_leave_dram_and_the_write_out(quad):
    shape, cand = fixed(quad)
    c = cost(shape, cand, quad, inputs_resident=True)
    assert c.dram == pytest.approx((144 + 64) / 8)          # weights only, plus the write
    c = cost(shape, cand, quad, outputs_resident=True)
    assert c.dram == pytest.approx(180 / 8)
    assert c.gb == pytest.approx((936 - OUT_CHIP) / 8)       # no write-out of the 48 output bytes
    c = cost(shape, cand, quad, inputs_resident=True, outputs_resident=True)
    assert c.dram == pytest.approx(144 / 8)
    assert c.nop == pytest.approx(69)                        # the received bytes still bind


@pytest.mark.parametrize("fused, dram", [("nop", (180 + 64) / 8), ("dram", (180 + 64 + 64) / 8)])
def test_a_fused_add_brings_an_output_sized_operand(quad, fused, dram):
    """The other operand: 48 B more into each owner chiplet; read twice and written once in its
    global buffer (3 x 48); from DRAM it is also read there (64 B)."""
    shape, cand = fixed(quad)
    c = cost(shape, cand, quad, fused=fused)
    assert c.dram == pytest.approx(dram)
    assert c.nop == pytest.approx((276 + OUT_CHIP) / 4)
    assert c.gb == pytest.approx((276 + OUT_CHIP + 72 + 12 + 144 + 384 + OUT_CHIP + 3 * OUT_CHIP) / 8)


def test_word_sizes_of_weights_and_activations_are_separate(quad):
    shape, cand = fixed(quad)
    # 2-byte weights: 12 groups x 24 B + 36 B of inputs + 64 B written
    assert cost(shape, cand, quad, wword=2).dram == pytest.approx((12 * 24 + 36 + 64) / 8)
    # 2-byte activations: inputs 6 x 12 B, outputs 128 B
    assert cost(shape, cand, quad, word=2).dram == pytest.approx((144 + 72 + 128) / 8)


def test_a_lane_factor_shortens_the_reduction(quad):
    """f = 2: ceil(3 / (2 x 2)) = 1 reduction cycle instead of 2; the step (and the fill) too."""
    shape, cand = fixed(quad)
    c = cost(shape, cand, quad, lane_factor=2)
    assert c.compute == 1 * 1 * 1 * 1 * 2
    assert c.fill == 7 + 4 * 5 + 2


def test_pooling_is_priced_on_the_vector_units(quad):
    """3x3 max pooling, 8 channels, 4 x 4 -> 2 x 2 (stride 2, no padding): no weights, one C part;
    K in min(ceil(8/4), 24) = 2 parts of 4, P in min(2, 12) = 2 parts of 1 row.
    compute: ceil(4 x 1 x 2 x 9 / (4 x 2)) = 9 cycles."""
    layer = Layer("p", "pool", 8, 5, 5, 8, 3, 3, 2, 2, 0, 0, pool_mode="max")
    shape = Shape.of(layer)
    cand = candidates(shape, quad)[0]
    p = cand.part
    assert (p.k_parts, p.p_parts, p.c_parts, p.k_pe, p.p_pe) == (2, 2, 1, 4, 1)
    c = cost(shape, cand, quad)
    assert c.compute == -(-(4 * 1 * 2 * 9) // 8) == 9
    assert c.dram > 0


def test_rank_orders_by_predicted_cycles_and_keeps_ties_in_order(quad):
    shape, _ = fixed(quad)
    cands = candidates(shape, quad)
    ranked = rank(shape, cands, quad)
    cycles = [c.cycles for c, _ in ranked]
    assert cycles == sorted(cycles) and len(ranked) == len(cands)
    # ties keep the candidates' order (a stable sort)
    pos = {id(c): i for i, c in enumerate(cands)}
    for (a, ca), (b, cb) in zip(ranked, ranked[1:]):
        if a.cycles == b.cycles:
            assert pos[id(ca)] < pos[id(cb)]


def fixed_of(quad, layer):
    shape = Shape.of(layer)
    return shape, candidates(shape, quad)[0]


def test_bounds_when_every_pe_holds_its_own_weights(quad):
    """C = 2048, K = 96, one output pixel: K in 24 parts of 4, P and C whole (every PE its own
    weights: p_parts = 1). Tiles k 2 x c 1024, 2 x 2 steps, C tiles outside (2 partial sums fit).
    Weights per PE: 4 x 2048 = 8192 B; inputs: 2 k tiles x 2048 channels = 4096 B, shared by all.
    Chiplet: 6 PEs. DRAM: 24 x 8192 + 4096 read, 96 written; NoP: a chiplet receives
    6 x 8192 + 4096 = 53248 B, the attach chiplets send 200704 B over 2 links; global buffer: 53248 in,
    6 x 8192 + 4096 out to the NoC, 6 x 4 gathered, 24 written out; the step: 1 x 512 x 1 cycles."""
    shape, cand = fixed_of(quad, Layer("w", "conv", 2048, 1, 1, 96, 1, 1))
    p, t = cand.part, cand.tiling
    assert (p.k_parts, p.p_parts, p.c_parts, p.k_pe) == (24, 1, 1, 4)
    assert (t.k_tile, t.c_tile, t.c_tiles, t.c_outer) == (2, 1024, 2, True)
    c = cost(shape, cand, quad)
    assert c.compute == (1 + 1) * (512 + 512)
    assert c.dram == pytest.approx((24 * 8192 + 4096 + 96) / 8)
    assert c.nop == pytest.approx(max(53248 / 4, (24 * 8192 + 4096) / 8, 96 / 8))
    assert c.gb == pytest.approx((53248 + 6 * 8192 + 4096 + 6 * 4 + 24) / 8)
    assert c.noc == pytest.approx((6 * 8192 + 4096 + 6 * 4) / 4)
    assert c.fill == 7 + 4 * 5 + 512 and c.limit == "dram"


def test_weights_reload_per_spatial_tile_only_when_the_c_loop_is_innermost(quad):
    """(a) C = 512, K = 288, 1 x 4 outputs: one C tile (k 3 x c 512), 2 column tiles: weights once
    per (k, c) tile: 4 x 3 x 512 = 6144 B per PE. (b) C = 2048, K = 96, 16 x 16 outputs: k 2 x c 1024,
    1 x 1 spatial tiles (256), C innermost (2 x 256 partial sums exceed 256 entries): weights
    4 x 2048 x 256 B per PE; inputs 4096 channels-per-step x 256 pixels."""
    shape, cand = fixed_of(quad, Layer("w", "conv", 512, 1, 4, 288, 1, 1))
    t = cand.tiling
    assert (t.c_tiles, t.col_tiles, t.k_tiles, t.c_outer) == (1, 2, 4, False)
    assert cost(shape, cand, quad).dram == pytest.approx((24 * 6144 + 2048 * 4 + 288 * 4) / 8)
    shape, cand = fixed_of(quad, Layer("b", "conv", 2048, 16, 16, 96, 1, 1))
    t = cand.tiling
    assert (t.k_tile, t.c_tile, t.rows, t.cols, t.c_tiles, t.c_outer) == (2, 1024, 1, 1, 2, False)
    w_loads = 4 * 2 * 1024 * 256
    i_loads = 2 * 2048 * 256
    assert cost(shape, cand, quad).dram == pytest.approx((24 * w_loads + i_loads + 96 * 256) / 8)


def test_rows_per_pe_and_word_size_of_the_outputs(quad):
    """C = 4, 12 x 1 outputs, K = 16: K in 4 parts, P in min(12, 6) = 6 parts of 2 rows. Compute
    ceil(4/4) x ceil(4/2) x 1 x 2 rows x 1 = 4; the outputs a chiplet holds, 6 x 4 x 2 x 1 x 2 B =
    96 B with 2-byte words, leave the global buffer once unless they stay resident."""
    shape, cand = fixed_of(quad, Layer("r", "conv", 4, 12, 1, 16, 1, 1))
    assert (cand.part.k_parts, cand.part.p_parts, cand.part.p_pe) == (4, 6, 2)
    assert cost(shape, cand, quad).compute == 4
    two = cost(shape, cand, quad, word=2.0)
    kept = cost(shape, cand, quad, word=2.0, outputs_resident=True)
    assert two.gb - kept.gb == pytest.approx(96 / 8)


def test_written_outputs_can_bind_the_nop(quad):
    """C = 2, K = 96, 8 x 8 outputs: 6144 output bytes leave over the 2 attach links (768 cycles),
    more than any chiplet receives (8 B of weights per PE, 128 B of inputs: 44 cycles)."""
    shape, cand = fixed_of(quad, Layer("o", "conv", 2, 8, 8, 96, 1, 1))
    c = cost(shape, cand, quad)
    assert c.nop == pytest.approx(6144 / 8)
    assert c.dram == pytest.approx((24 * 8 + 128 + 6144) / 8)


def test_pooling_bounds_and_step(quad):
    """The pooling layer of test_pooling_is_priced_on_the_vector_units: 4 PEs on one chiplet, no
    weights; each PE's input tile: 4 channels x 3 rows x 5 columns = 60 B, not shared. The
    chiplet receives 4 x 60 B (60 cycles on one NoP link); one step: ceil(4 x 1 x 2 x 9 / 8) = 9."""
    layer = Layer("p", "pool", 8, 5, 5, 8, 3, 3, 2, 2, 0, 0, pool_mode="max")
    shape, cand = fixed_of(quad, layer)
    c = cost(shape, cand, quad)
    assert c.nop == pytest.approx(240 / 4)
    assert c.fill == 7 + 4 * 5 + 9


def test_weights_shared_by_fewer_groups_than_pes(quad):
    """C = 2, K = 4, 6 x 1 outputs: K whole (1 part), P in 6 parts of 1 row, C whole: 6 PEs on one
    chiplet share one weight tile (8 B) and each loads its own 2 input bytes. The chiplet receives
    8 + 6 x 2 = 20 B (5 cycles on one NoP link); its global buffer moves 20 in, 8 + 12 out to the
    NoC, 6 x 4 gathered and 24 written out: 88 B (11 cycles); its NoC 8 + 12 + 24 = 44 B (11 cycles)."""
    shape, cand = fixed_of(quad, Layer("s", "conv", 2, 6, 1, 4, 1, 1))
    assert (cand.part.k_parts, cand.part.p_parts, cand.part.c_parts) == (1, 6, 1)
    c = cost(shape, cand, quad)
    assert c.nop == pytest.approx(5) and c.gb == pytest.approx(11) and c.noc == pytest.approx(11)
