"""The NoP flows of a layer (``simulator.mapping.placement.traffic``) and the helpers behind them,
by hand, on a small asymmetric package ("hexa"): a 2 x 3 chiplet mesh, 3 PEs per chiplet (a 1 x 3
NoC), two DRAM channels attached at chiplets [1, 0] (entering by its north edge, the NoP link it
shares with chiplet [0, 0]) and [0, 2] (by its south edge, shared with chiplet [1, 2]).

Physical chiplets are numbered row-major (``r * 3 + c``)::

    0 1 2
    3 4 5

so the attach chiplets are 3 and 2 (sorted: (2, 3)) and the shared edges are 3 <-> 0 and 2 <-> 5.

PE ``i`` of a partition holds part ``k = i % K_parts``, ``c = (i // K_parts) % C_parts``,
``p = i // (K_parts * C_parts)``; without slots, logical chiplet ``j`` holds PEs ``3j .. 3j + 2``.
"""
from __future__ import annotations

import numpy as np
import pytest

from simulator.config import load_arch
from simulator.mapping.placement import (_base, _merge, aligned_slots, chiplet_runs, free_room, output_bytes,
                                         slot_chiplets, traffic)
from simulator.mapping.residency import Resident, Residency
from simulator.mapping.tiling import Partition, Shape
from simulator.workload import Layer, Workload


@pytest.fixture
def hexa(write_arch):
    def edit(d):
        d["package"]["mesh"] = {"rows": 2, "cols": 3}
        d["package"]["dram"] = {"channels": 2, "channel_bandwidth_bytes_per_cycle": 4, "latency_cycles": 7,
                                "attach": [[1, 0], [0, 2]], "edges": ["north", "south"]}
        d["chiplet"]["noc"]["mesh"] = {"rows": 1, "cols": 3}
    return load_arch(write_arch(edit, base="tiny", name="hexa.yaml"))


# The layer of the first scenarios: a 1x1 convolution, C = 4, 3 x 2 inputs, K = 7 (P = 3, Q = 2),
# split by hand: K in 2 parts of 4 (the second clipped to 3), P in 2 parts of 2 rows (the second
# clipped to 1), C in 2 parts of 2. 8 PEs: logical chiplet 0 = PEs 0-2, 1 = PEs 3-5, 2 = PEs 6-7.
#   PE: 0       1       2       3       4       5       6       7
#   k:  0       1       0       1       0       1       0       1
#   c:  0       0       1       1       0       0       1       1
#   p:  0       0       0       0       1       1       1       1
CONV = Layer("t", "conv", 4, 3, 2, 7, 1, 1, 1, 1, 0, 0)
PART = Partition(k_parts=2, p_parts=2, c_parts=2, k_pe=4, p_pe=2, c_pe=2)
# runs (c, p, k_a, k_b) of each logical chiplet: PEs 0-1 = (c0, p0, k 0-2), PE 2 = (c1, p0, k 0-1);
# PE 3 = (c1, p0, k 1-2), PEs 4-5 = (c0, p1, k 0-2); PEs 6-7 = (c1, p1, k 0-2)
RUNS = [[(0, 0, 0, 2), (1, 0, 0, 1)], [(1, 0, 1, 2), (0, 1, 0, 2)], [(1, 1, 0, 2)]]
# A placement PE by PE: package PE slots (chiplet = slot // 3)
#   PE:    0   1   2   3   4   5   6   7
#   slot: 15  16   9  10  11   3   4  17
#   chip:  5   5   3   3   3   1   1   5   -> logical chiplets are chips 1, 3, 5 (in increasing order)
SLOTS = (15, 16, 9, 10, 11, 3, 4, 17)
SLOT_RUNS = [[(0, 1, 1, 2), (1, 1, 0, 1)], [(1, 0, 0, 2), (0, 1, 0, 1)], [(0, 0, 0, 2), (1, 1, 1, 2)]]


def test_helpers_of_the_partition():
    shape = Shape.of(CONV)
    assert chiplet_runs(PART, 3) == RUNS
    chip_of, chips = slot_chiplets(8, 3, None)
    assert chip_of.tolist() == [0, 0, 0, 1, 1, 1, 2, 2] and chips == [0, 1, 2]
    chip_of, chips = slot_chiplets(8, 3, SLOTS)
    assert chip_of.tolist() == [2, 2, 1, 1, 1, 0, 0, 2] and chips == [1, 3, 5]
    chip_of, chips = slot_chiplets(3, 3, SLOTS)           # only the PEs used: slots 15, 16, 9
    assert chip_of.tolist() == [1, 1, 0] and chips == [3, 5]
    assert chiplet_runs(PART, 3, SLOTS) == SLOT_RUNS
    # (c, row base, row end, c base, c end, k base, k end) of a run, clipped to the layer
    assert _base(shape, PART, 1, 1, 1, 2) == (1, 2, 3, 2, 4, 4, 7)
    odd = Partition(k_parts=2, p_parts=2, c_parts=2, k_pe=4, p_pe=2, c_pe=3)
    assert _base(shape, odd, 1, 1, 1, 2) == (1, 2, 3, 3, 4, 4, 7)
    assert _base(shape, odd, 0, 0, 0, 1) == (0, 0, 2, 0, 3, 0, 4)


def test_output_bytes_of_the_final_parts():
    """Only c = 0 parts hold final outputs, each k x rows x Q, rounded up per PE:
    chiplet 0: (p0, k 0-4) 4 x 2 x 2 = 16 and (p0, k 4-7) 3 x 2 x 2 = 12 outputs;
    chiplet 1: (p1, k 0-4) 4 x 1 x 2 = 8 and (p1, k 4-7) 6; chiplet 2: none (c = 1).
    At 0.3 B per output: ceil(4.8) + ceil(3.6) = 9, ceil(2.4) + ceil(1.8) = 5."""
    shape = Shape.of(CONV)
    assert output_bytes(shape, PART, 3, 0.3).tolist() == [9, 5, 0]
    assert output_bytes(shape, PART, 3, 2.0).tolist() == [56, 28, 0]
    # with SLOTS: logical 0 holds (c0, p1, k 4-7): 6 -> 2; logical 1 (c0, p1, k 0-4): 8 -> 3;
    # logical 2 (c0, p0, k 0-8): 16 + 12 -> 5 + 4
    assert output_bytes(shape, PART, 3, 0.3, SLOTS).tolist() == [2, 3, 9]
    # K = 6 in 5 parts of 2 (by hand): parts 3 (channels 6-6) and 4 (8-6) hold nothing
    six = Shape.of(Layer("six", "conv", 2, 2, 2, 6, 1, 1, 1, 1, 0, 0))
    five = Partition(k_parts=5, p_parts=1, c_parts=1, k_pe=2, p_pe=2, c_pe=2)
    assert output_bytes(six, five, 3, 1.0).tolist() == [3 * 2 * 2 * 2, 0]


def test_dram_flows_of_a_conv_split_over_three_chiplets(hexa):
    """Input windows (1x1 conv: the work's own rows and columns), per logical chiplet, merged:
    chiplet 0: channels 0-2 and 2-4 of rows 0-2 (2 x 2 x 2 + 2 x 2 x 2 = 16 elements);
    chiplet 1: channels 2-4 of rows 0-2 (8) and channels 0-2 of row 2 (4) = 12;
    chiplet 2: channels 2-4 of row 2 = 4. All different: each read for its chiplet alone, from
    DRAM (no resident source), 2 B per element, 3 times over the nest: 96, 72, 24 B.
    Weights (5 B per PE group): P is split, so the PEs of one (k, c) share them: group (k, c) =
    PEs g and g + 4: g 0 (PEs 0, 4) and g 1 (1, 5) on chiplets {0, 1}: 10 B; g 2 (2, 6) on {0, 2}:
    5 B; g 3 (3, 7) on {1, 2}: 5 B; all shared reads.
    Partial sums (7 B per PE of c = 1) go to the chiplet of the c = 0 PE of the same (k, p):
    PE 2 -> PE 0 (both on chiplet 0: nothing), PE 3 -> PE 1 (1 -> 0), PE 6 -> PE 4 and PE 7 -> PE 5
    (2 -> 1 twice). Outputs written to DRAM: output_bytes at 0.3 B: 9, 5, 0."""
    shape = Shape.of(CONV)
    tr = traffic(shape, PART, hexa, word=2.0, input_reloads=3.0, w_bytes_pe=5.0, psum_bytes_pe=7.0,
                 out_word=0.3, outputs_resident=False)
    assert (tr.rows, tr.cols, tr.chiplets, tr.attach, tr.entries) == (2, 3, 3, (2, 3), {3: 0, 2: 5})
    assert not tr.uni.any() and tr.uni.shape == (6, 3) and tr.multi == []
    assert tr.dram_uni.tolist() == [96, 72, 24]
    assert tr.dram_multi == [(10.0, (0, 1)), (5.0, (0, 2)), (5.0, (1, 2))]
    assert tr.psum.tolist() == [[0, 0, 0], [7, 0, 0], [0, 14, 0]]
    assert tr.dram_out.tolist() == [9, 5, 0]
    # the output word defaults to the input word (2 B); outputs kept on the package move nothing
    tr = traffic(shape, PART, hexa, word=2.0, outputs_resident=False)
    assert tr.dram_out.tolist() == [56, 28, 0] and tr.dram_uni.tolist() == [32, 24, 8]
    assert not tr.psum.any() and tr.dram_multi == []          # no psum or weight bytes given
    tr = traffic(shape, PART, hexa)
    assert not tr.dram_out.any() and tr.dram_uni.tolist() == [16, 12, 4]


def test_dram_flows_under_a_pe_placement(hexa):
    """SLOTS: logical 0 (chip 1) runs PEs 5, 6; logical 1 (chip 3) PEs 2, 3, 4; logical 2 (chip 5)
    PEs 0, 1, 7. Inputs: logical 0: (c0, p1) channels 0-2 row 2 and (c1, p1) channels 2-4 row 2:
    4 + 4; logical 1: channels 2-4 rows 0-2 (8) and channels 0-2 row 2 (4); logical 2: channels
    0-2 rows 0-2 (8) and channels 2-4 row 2 (4). Weights: group g = PEs g, g + 4: g 0 (PEs 0, 4)
    on {1, 2}, g 1 (1, 5) on {0, 2}, g 2 (2, 6) on {0, 1}, g 3 (3, 7) on {1, 2}.
    Partial sums: PE 2 (logical 1) -> PE 0 (logical 2), PE 3 (1) -> PE 1 (2), PE 6 (0) -> PE 4 (1),
    PE 7 (2) -> PE 5 (0)."""
    shape = Shape.of(CONV)
    tr = traffic(shape, PART, hexa, w_bytes_pe=5.0, psum_bytes_pe=7.0, out_word=0.3, outputs_resident=False,
                 slots=SLOTS)
    assert tr.chiplets == 3
    assert tr.dram_uni.tolist() == [8, 12, 12]
    assert tr.dram_multi == [(10.0, (1, 2)), (5.0, (0, 2)), (5.0, (0, 1))]
    assert tr.psum.tolist() == [[0, 7, 0], [0, 0, 14], [7, 0, 0]]
    assert tr.dram_out.tolist() == [2, 3, 9]


def test_weights_read_per_chiplet_when_p_is_not_split(hexa):
    """C = 2, 2 x 2 inputs, K = 5: K in 5 parts of 1, P and C whole: PEs 0-2 on chiplet 0, 3-4 on
    chiplet 1. Every PE has its own weights (3 B): 9 and 6 B read for each chiplet. Every PE needs
    the whole input (2 channels x 2 x 2 = 8 B): one set shared by both chiplets, read once."""
    shape = Shape.of(Layer("m", "conv", 2, 2, 2, 5, 1, 1, 1, 1, 0, 0))
    part = Partition(k_parts=5, p_parts=1, c_parts=1, k_pe=1, p_pe=2, c_pe=2)
    tr = traffic(shape, part, hexa, w_bytes_pe=3.0)
    assert tr.chiplets == 2
    assert tr.dram_uni.tolist() == [9, 6]
    assert tr.dram_multi == [(8.0, (0, 1))]
    assert tr.multi == [] and not tr.uni.any()


# A 1x1 convolution, C = 2, 3 x 1 inputs, K = 2, split in 3 row parts and 2 channel parts (6 PEs):
# PE i is (c = i % 2, p = i // 2); the (k, c) groups of PEs sharing weights are the c = 0 PEs 0, 2, 4
# and the c = 1 PEs 1, 3, 5.
ROWS3 = Layer("v", "conv", 2, 3, 1, 2, 1, 1, 1, 1, 0, 0)
ROWS3_PART = Partition(k_parts=1, p_parts=3, c_parts=2, k_pe=2, p_pe=1, c_pe=1)


def test_weights_of_a_group_on_one_chiplet_are_read_for_it_alone(hexa):
    """Slots (0, 3, 1, 4, 2, 5): the c = 0 PEs on chip 0, the c = 1 PEs on chip 1. Inputs:
    channel 0 of the 3 rows for chip 0, channel 1 for chip 1 (3 B each, different sets); each
    weight group (5 B) lies on one chiplet: read for it alone. Partial sums (7 B) of the three
    c = 1 PEs go to their c = 0 owners, all on chip 0: 21 B from logical 1 to logical 0."""
    tr = traffic(Shape.of(ROWS3), ROWS3_PART, hexa, w_bytes_pe=5.0, psum_bytes_pe=7.0, slots=(0, 3, 1, 4, 2, 5))
    assert tr.dram_uni.tolist() == [3 + 5, 3 + 5] and tr.dram_multi == []
    assert tr.psum.tolist() == [[0, 0], [21, 0]]


def test_partial_sums_stay_on_a_chiplet_that_holds_both_parts(hexa):
    """Slots (0, 1, 3, 4, 6, 7): row part p on chip p (both channel parts together): no partial
    sum crosses the NoP; each weight group spans the 3 chiplets (10 B shared); inputs: both
    channels of row p, for chip p alone (2 B each)."""
    tr = traffic(Shape.of(ROWS3), ROWS3_PART, hexa, w_bytes_pe=5.0, psum_bytes_pe=7.0, slots=(0, 1, 3, 4, 6, 7))
    assert tr.chiplets == 3 and not tr.psum.any()
    assert tr.dram_multi == [(10.0, (0, 1, 2))] and tr.dram_uni.tolist() == [2, 2, 2]


def test_weights_and_inputs_both_read_per_chiplet(hexa):
    """C = 4, K = 6, 2 x 2 inputs; K in 3 parts, C in 2 parts of 2 channels, P whole (6 PEs):
    chip 0 holds the c = 0 PEs (channels 0-1: 8 B of inputs), chip 1 the c = 1 PEs (channels
    2-3: 8 B). P is not split: every PE reads its own weights (3 B), 9 B per chiplet. Partial
    sums (4 B) of the 3 PEs on chip 1 go to chip 0."""
    shape = Shape.of(Layer("w", "conv", 4, 2, 2, 6, 1, 1, 1, 1, 0, 0))
    part = Partition(k_parts=3, p_parts=1, c_parts=2, k_pe=2, p_pe=2, c_pe=2)
    tr = traffic(shape, part, hexa, w_bytes_pe=3.0, psum_bytes_pe=4.0)
    assert tr.dram_uni.tolist() == [8 + 9, 8 + 9] and tr.dram_multi == []
    assert tr.psum.tolist() == [[0, 0], [12, 0]]


def resident(*pieces):
    """A resident tensor: (chiplet, (k0, k1, y0, y1, q0, q1)) pieces."""
    return Resident("a", list(pieces), {chip: 1 for chip, _ in pieces}, 1)


def test_a_resident_input_shared_by_two_chiplets_is_one_multicast(hexa):
    """The layer of test_weights_read_per_chiplet...: both chiplets read the whole 2 x 2 x 2 input,
    held by three chiplets: [1, 0] (phys 3) channel 0 (4 elements), [0, 2] (phys 2) channel 1 row 0
    (2), [1, 1] (phys 4) channel 1 row 1 (2). One multicast to logical chiplets 0 and 1 with
    4, 2, 2 B from phys 3, 2, 4."""
    layer = Layer("m", "conv", 2, 2, 2, 5, 1, 1, 1, 1, 0, 0)
    shape = Shape.of(layer)
    part = Partition(k_parts=5, p_parts=1, c_parts=1, k_pe=1, p_pe=2, c_pe=2)
    res = resident(((1, 0), (0, 1, 0, 2, 0, 2)), ((0, 2), (1, 2, 0, 1, 0, 2)), ((1, 1), (1, 2, 1, 2, 0, 2)))
    tr = traffic(shape, part, hexa, layer=layer, sources=(res,))
    ((by_src, dsts),) = tr.multi
    assert dsts == (0, 1) and by_src.tolist() == [0, 0, 2, 4, 2, 0]
    assert tr.dram_multi == [] and not tr.dram_uni.any() and not tr.uni.any()
    # twice the word and 1.5 reloads: 3 x the bytes
    tr = traffic(shape, part, hexa, layer=layer, sources=(res,), word=2.0, input_reloads=1.5)
    assert tr.multi[0][1] == (0, 1) and tr.multi[0][0].tolist() == [0, 0, 6, 12, 6, 0]
    # without the consumer layer the resident tensor cannot be located: the input is read from DRAM
    tr = traffic(shape, part, hexa, sources=(res,))
    assert tr.multi == [] and tr.dram_multi == [(8.0, (0, 1))]


def test_an_add_reads_one_operand_from_the_package_and_the_other_from_dram(hexa):
    """An element-wise add of two 2-channel 2 x 2 tensors on 2 PEs (K in 2 parts of 1 channel),
    both on chiplet 0. Its input slices cover both operands (t 0-2), channels 0-2, 2 x 2: 8
    elements per operand. Operand 0 is resident: channels 0-2 of row 0 on phys 2 (4), channel 0 of
    row 1 on phys 5 (2), channel 1 of row 1 on phys 4 (2); operand 1 comes from DRAM (8 B)."""
    layer = Layer("s", "add", 2, 2, 2, 2, inputs=("a", "b"))
    shape = Shape.of(layer)
    part = Partition(k_parts=2, p_parts=1, c_parts=1, k_pe=1, p_pe=2, c_pe=1)
    res = resident(((0, 2), (0, 2, 0, 1, 0, 2)), ((1, 2), (0, 1, 1, 2, 0, 2)), ((1, 1), (1, 2, 1, 2, 0, 2)))
    tr = traffic(shape, part, hexa, layer=layer, sources=(res,))
    assert tr.chiplets == 1
    assert tr.uni[:, 0].tolist() == [0, 0, 4, 0, 2, 2]
    assert tr.dram_uni.tolist() == [8]
    tr = traffic(shape, part, hexa, layer=layer, sources=(res, res))   # both operands resident
    assert tr.uni[:, 0].tolist() == [0, 0, 8, 0, 4, 4] and tr.dram_uni.tolist() == [0]
    tr = traffic(shape, part, hexa, layer=layer)                         # both from DRAM
    assert not tr.uni.any() and tr.dram_uni.tolist() == [16]


def test_an_empty_part_moves_no_input(hexa):
    """K = 6 split by hand in 4 parts of 2: the fourth part (channels 6-8) is empty. PEs 0-2 (k 0-6)
    on chiplet 0 read the whole 2 x 2 x 2 input (8 B); PE 3, alone on chiplet 1, has no work and
    reads nothing."""
    shape = Shape.of(Layer("e", "conv", 2, 2, 2, 6, 1, 1, 1, 1, 0, 0))
    part = Partition(k_parts=4, p_parts=1, c_parts=1, k_pe=2, p_pe=2, c_pe=2)
    tr = traffic(shape, part, hexa)
    assert tr.chiplets == 2 and tr.dram_uni.tolist() == [8, 0] and tr.dram_multi == []


def test_merging_input_slices_where_they_touch():
    """12-field input slices (t, g, c, rows, cols, halos): joined along the group range, then along
    the row range, when all other ranges agree and the ranges touch or overlap; halo counts
    dropped. Duplicates count once."""
    def s(g0, g1, c0, c1, r0, r1, halo=0):
        return (0, 1, g0, g1, c0, c1, r0, r1, 0, 4, halo, 0)
    assert _merge([s(0, 1, 0, 2, 0, 2, 1), s(0, 1, 0, 2, 2, 4)]) == [s(0, 1, 0, 2, 0, 4)]   # touching rows
    assert _merge([s(0, 1, 0, 2, 2, 5), s(0, 1, 0, 2, 0, 3)]) == [s(0, 1, 0, 2, 0, 5)]      # overlapping
    assert _merge([s(0, 1, 0, 2, 0, 5), s(0, 1, 0, 2, 1, 2)]) == [s(0, 1, 0, 2, 0, 5)]      # contained
    assert _merge([s(0, 1, 0, 2, 0, 2), s(0, 1, 0, 2, 3, 4)]) == [s(0, 1, 0, 2, 0, 2), s(0, 1, 0, 2, 3, 4)]
    assert _merge([s(0, 1, 0, 2, 0, 2), s(0, 1, 2, 4, 0, 2)]) == [s(0, 1, 0, 2, 0, 2), s(0, 1, 2, 4, 0, 2)]
    assert _merge([s(1, 2, 0, 1, 0, 2), s(0, 1, 0, 1, 0, 2)]) == [s(0, 2, 0, 1, 0, 2)]      # along g
    assert _merge([s(0, 1, 0, 1, 0, 2, 1), s(1, 2, 0, 1, 0, 2)]) == [s(0, 2, 0, 1, 0, 2)]   # halos not compared
    # a 2 x 2 block of (group, rows) pieces becomes one slice: groups first, then rows
    block = [s(0, 1, 0, 1, 0, 2), s(1, 2, 0, 1, 2, 4), s(1, 2, 0, 1, 0, 2), s(0, 1, 0, 1, 2, 4)]
    assert _merge(block) == [s(0, 2, 0, 1, 0, 4)]
    assert _merge([s(0, 1, 0, 1, 0, 2)] * 3) == [s(0, 1, 0, 1, 0, 2)]
    # an L shape: groups 0-2 on rows 0-2, group 0 on rows 2-4: two slices
    assert sorted(_merge([s(0, 1, 0, 1, 0, 2), s(1, 2, 0, 1, 0, 2), s(0, 1, 0, 1, 2, 4)])) == sorted(
        [s(0, 2, 0, 1, 0, 2), s(0, 1, 0, 1, 2, 4)])
    assert _merge([]) == []


def test_halo_rows_of_neighbouring_parts_are_moved_once(hexa):
    """A 3x1 convolution (stride 1, no padding), C = 2, 8 x 1 inputs -> 6 x 1 outputs, K = 1:
    P in 6 parts of 1 row on PEs 0-5 (chiplets 0 and 1). Part p reads input rows p .. p + 3:
    chiplet 0 (p 0-2) rows 0-5, chiplet 1 (p 3-5) rows 3-8; merged, 2 x 5 x 1 = 10 elements each,
    not 3 x 2 x 3 = 18."""
    shape = Shape.of(Layer("h", "conv", 2, 8, 1, 1, 3, 1, 1, 1, 0, 0))
    part = Partition(k_parts=1, p_parts=6, c_parts=1, k_pe=1, p_pe=1, c_pe=2)
    tr = traffic(shape, part, hexa)
    assert tr.dram_uni.tolist() == [10, 10]


# --- free room of the global buffers for resident outputs ------------------------------------------

def test_free_room_per_chiplet(hexa):
    """tiny's 16 KiB global buffer, 3/4 for resident tensors: 12288 B per chiplet, less what is
    held: 100 B on [1, 0] (index 3), 7 B on [0, 2] (index 2)."""
    a = Layer("a", "conv", 2, 4, 4, 4, 1, 1, 1, 1, 0, 0)
    b = Layer("b", "conv", 4, 4, 4, 4, 1, 1, 1, 1, 0, 0)
    res = Residency(hexa, Workload("w", (a, b), "test"))
    res.used[(1, 0)] = 100
    res.used[(0, 2)] = 7
    assert free_room(res, a) == (12288, 12288, 12281, 12188, 12288, 12288)
    assert free_room(res, b) is None                        # no consumer: its outputs go to DRAM


def test_free_room_when_a_consumer_reads_dram(hexa):
    """a (4 x 4 outputs) feeds b and an fc layer: the fc layer reads its flattened input from
    DRAM, so a's outputs go to DRAM whatever the placement."""
    a = Layer("a", "conv", 2, 4, 4, 4, 1, 1, 1, 1, 0, 0)
    b = Layer("b", "conv", 4, 4, 4, 4, 1, 1, 1, 1, 0, 0)
    f = Layer("f", "fc", 64, 1, 1, 10, inputs=("a",))
    res = Residency(hexa, Workload("w", (a, b, f), "test"))
    assert free_room(res, a) is None
    res = Residency(hexa, Workload("w", (a, f), "test"))
    assert free_room(res, a) is None


# --- producer-aligned slots --------------------------------------------------------------------

PRODUCER = Partition(k_parts=2, p_parts=2, c_parts=1, k_pe=4, p_pe=2, c_pe=8)
# producer PE (k, p) = index k + 2 p ran on slot: (0,0) -> 10 (chip 3), (1,0) -> 4 (chip 1),
# (0,1) -> 0 (chip 0), (1,1) -> 17 (chip 5)
PRODUCER_SLOTS = (10, 4, 0, 17)


def test_aligned_slots_follow_the_producer_parts():
    """A 2x2 max pool (stride 2) over 8 channels of 4 x 4 -> 2 x 2; parts: K in 4 of 2 channels, P
    in 2 of 1 row. Part (p, k) starts at channel 2k and input row 2p, written by the producer part
    (2k // 4, 2p // 2): k 0, 1 -> producer k 0; k 2, 3 -> 1; p 0 -> producer p 0, p 1 -> 1.
      PE 0 (k0 p0): slot 10;  PE 1 (k1 p0): 10 taken -> first free PE of chip 3: 9
      PE 2 (k2 p0): slot 4;   PE 3 (k3 p0): 4 taken -> chip 1: 3
      PE 4 (k0 p1): slot 0;   PE 5 (k1 p1): 0 taken -> chip 0: 1
      PE 6 (k2 p1): slot 17;  PE 7 (k3 p1): 17 taken -> chip 5: 15"""
    shape = Shape.of(Layer("p", "pool", 8, 4, 4, 8, 2, 2, 2, 2, 0, 0, pool_mode="max"))
    part = Partition(k_parts=4, p_parts=2, c_parts=1, k_pe=2, p_pe=1, c_pe=1)
    assert aligned_slots(shape, part, PRODUCER, PRODUCER_SLOTS, 3, 18) == (10, 9, 4, 3, 0, 1, 17, 15)
    # 12 channels in 3 parts of 4: channels 8-11 lie beyond the producer's K parts; they follow
    # its last K part (1): PE 2 (k2 p0) wants slot 4, taken by PE 1 -> 3; PE 5 (k2 p1) wants 17 -> 15
    wide = Shape.of(Layer("w", "pool", 12, 4, 4, 12, 2, 2, 2, 2, 0, 0, pool_mode="max"))
    thirds = Partition(k_parts=3, p_parts=2, c_parts=1, k_pe=4, p_pe=1, c_pe=1)
    assert aligned_slots(wide, thirds, PRODUCER, PRODUCER_SLOTS, 3, 18) == (10, 4, 3, 0, 17, 15)
    # slot 17 is not a PE of a 17-PE package: no alignment
    assert aligned_slots(shape, part, PRODUCER, PRODUCER_SLOTS, 3, 17) is None


def test_aligned_slots_for_rows_beyond_the_producer_parts():
    """The pool of the test above on 6 x 4 inputs (P = 3), K in 2 parts of 4: part (p, k) starts at
    input row 2p; row 4 (p = 2) lies beyond the producer's 2 row parts of 2 rows and follows its
    last one (p 1): PE 4 (k0 p2) wants slot 0, taken by PE 2 -> 1; PE 5 (k1 p2) wants 17 -> 15."""
    shape = Shape.of(Layer("p", "pool", 8, 6, 4, 8, 2, 2, 2, 2, 0, 0, pool_mode="max"))
    part = Partition(k_parts=2, p_parts=3, c_parts=1, k_pe=4, p_pe=1, c_pe=1)
    assert aligned_slots(shape, part, PRODUCER, PRODUCER_SLOTS, 3, 18) == (10, 4, 0, 17, 1, 15)
    # a producer with 3 row parts of 2 rows (PE k + 2p on the slots below): part p reads row 2p,
    # written by producer row part p
    producer = Partition(k_parts=2, p_parts=3, c_parts=1, k_pe=4, p_pe=2, c_pe=8)
    assert aligned_slots(shape, part, producer, (10, 4, 0, 17, 6, 13), 3, 18) == (10, 4, 0, 17, 6, 13)


def test_aligned_slots_give_up_when_a_chiplet_is_full():
    """A 1x1 max pool over 4 channels of 2 x 2, K in 4 parts of 1: every part starts in producer
    part k 0 (channels 0-3), p 0: slot 10, then 9, 11, and the fourth finds chip 3 full."""
    shape = Shape.of(Layer("p", "pool", 4, 2, 2, 4, 1, 1, 1, 1, 0, 0, pool_mode="max"))
    three = Partition(k_parts=3, p_parts=1, c_parts=1, k_pe=1, p_pe=2, c_pe=1)
    assert aligned_slots(shape, three, PRODUCER, PRODUCER_SLOTS, 3, 18) == (10, 9, 11)
    four = Partition(k_parts=4, p_parts=1, c_parts=1, k_pe=1, p_pe=2, c_pe=1)
    assert aligned_slots(shape, four, PRODUCER, PRODUCER_SLOTS, 3, 18) is None


def test_aligned_slots_only_for_channel_wise_layers():
    """A depthwise convolution (groups = K) is channel-wise; a dense convolution is not."""
    part = Partition(k_parts=4, p_parts=2, c_parts=1, k_pe=2, p_pe=1, c_pe=1)
    dw = Shape.of(Layer("d", "conv", 8, 4, 4, 8, 2, 2, 2, 2, 0, 0, groups=8))
    assert aligned_slots(dw, part, PRODUCER, PRODUCER_SLOTS, 3, 18) == (10, 9, 4, 3, 0, 1, 17, 15)
    dense = Shape.of(Layer("c", "conv", 8, 4, 4, 8, 2, 2, 2, 2, 0, 0))
    assert aligned_slots(dense, part, PRODUCER, PRODUCER_SLOTS, 3, 18) is None
