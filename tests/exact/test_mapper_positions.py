"""Where the mapper puts a layer's PEs (``WeightStationaryMapper._place`` and ``_slots``,
simulator/mapping/weight_stationary.py) under a placement's positions or a PE-by-PE slot list, by
hand on the 2x2 package (6 PEs per chiplet on a 2 x 3 NoC, chiplets row-major on 2 columns).

PE ``i`` of a partition holds part (p, c, k) with k fastest, then c, then p. Without slots, PE ``i``
is PE ``i mod 6`` (NoC node divmod(i mod 6, 3)) of logical chiplet ``i // 6``, which sits at
physical chiplet ``positions[i // 6]`` (row-major index; itself without positions). With slots, PE
``i`` runs on package PE ``slots[i]``. PEs with c = 0 hold final sums; the others send their
partial sums to the chiplet of the PE with the same (p, k) and c = 0.
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from quad import quad_arch
from simulator.mapping.slices import Geometry
from simulator.mapping.tiling import Partition, Shape
from simulator.mapping.weight_stationary import WeightStationaryMapper
from simulator.workload import Layer

SHAPE = Shape.of(Layer("x", "conv", 8, 2, 2, 8, 1, 1, 1, 1, 0, 0))
TWO = Partition(2, 1, 2, 4, 2, 4)       # 4 PEs: i = 0, 1 (k 0, 1; c 0), 2, 3 (k 0, 1; c 1)
EIGHT = Partition(4, 1, 2, 2, 2, 4)     # 8 PEs: i = 0..3 c = 0, i = 4..7 c = 1; k = i mod 4


@pytest.fixture
def mapper(tmp_path):
    return WeightStationaryMapper(quad_arch(tmp_path))


def layout(chips):
    return [(c.coord, c.nodes, c.finals, dict(c.owners)) for c in chips]


def test_row_major_without_positions(mapper):
    """All 4 PEs on logical chiplet 0 at (0, 0): nodes (0, 0), (0, 1), (0, 2), (1, 0); PEs 2 and 3
    (c = 1) send to the chiplet of PEs 0 and 1: (0, 0)."""
    chips = mapper._place(TWO, Geometry(SHAPE, TWO))
    assert layout(chips) == [((0, 0), [(0, 0), (0, 1), (0, 2), (1, 0)], [0, 1], {(0, 0): [2, 3]})]
    assert [c.gb for c in chips] == [(0, 1)]


def test_positions_move_logical_chiplets(mapper):
    """8 PEs: logical chiplet 0 (PEs 0..5) at physical 3 = (1, 1), logical 1 (PEs 6, 7) at 1 = (0, 1).
    Final sums on PEs 0..3; PEs 4..7 send to the chiplet of PE k (k < 4, logical 0): (1, 1)."""
    chips = mapper._place(EIGHT, Geometry(SHAPE, EIGHT), positions=(3, 1))
    assert layout(chips) == [
        ((1, 1), [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)], [0, 1, 2, 3], {(1, 1): [4, 5]}),
        ((0, 1), [(0, 0), (0, 1)], [], {(1, 1): [0, 1]})]


def test_slots_put_each_pe_where_it_says(mapper):
    """Slots 0, 7, 13, 20: PE 0 on chiplet 0 (0, 0) node (0, 0); PE 1 on chiplet 1 (0, 1) node (0, 1);
    PE 2 on chiplet 2 (1, 0) node (0, 1); PE 3 on chiplet 3 (1, 1) node (0, 2). PE 2 (k 0) sends to
    the chiplet of PE 0 (slot 0: (0, 0)), PE 3 (k 1) to that of PE 1 (slot 7: chiplet 1, (0, 1))."""
    chips = mapper._place(TWO, Geometry(SHAPE, TWO), slots=(0, 7, 13, 20))
    assert layout(chips) == [((0, 0), [(0, 0)], [0], {}), ((0, 1), [(0, 1)], [0], {}),
                             ((1, 0), [(0, 1)], [], {(0, 0): [0]}), ((1, 1), [(0, 2)], [], {(0, 1): [0]})]
    # PE nodes by (p, c) (sharing inputs) and by (c, k) (sharing weights); the part geometry of each PE
    assert [dict(c.groups) for c in chips] == [{(0, 0): [(0, 0)]}, {(0, 0): [(0, 1)]}, {(0, 1): [(0, 1)]},
                                               {(0, 1): [(0, 2)]}]
    assert [dict(c.wgroups) for c in chips] == [{(0, 0): [(0, 0)]}, {(0, 1): [(0, 1)]}, {(1, 0): [(0, 1)]},
                                                {(1, 1): [(0, 2)]}]
    geo = Geometry(SHAPE, TWO)
    assert [c.bases for c in chips] == [[geo.base(0)], [geo.base(1)], [geo.base(2)], [geo.base(3)]]


def test_package_pe_of_each_pe_index(mapper):
    """Slots are kept as given; without positions PE i is package PE i; with positions (3, 1),
    PEs 0..5 are 3 x 6 + 0..5 = 18..23 and PEs 6, 7 are 1 x 6 + 0, 1 = 6, 7."""
    assert mapper._slots(TWO, SimpleNamespace(slots=(5, 4, 3, 2), positions=(1,))) == (5, 4, 3, 2)
    assert mapper._slots(EIGHT, SimpleNamespace(slots=None, positions=None)) == tuple(range(8))
    assert mapper._slots(EIGHT, SimpleNamespace(slots=None, positions=(3, 1))) == (18, 19, 20, 21, 22, 23, 6, 7)


def test_partial_sums_of_a_second_row_part_go_to_its_own_owner(mapper):
    """K 2 x C 2 x P 2 = 8 PEs, row-major: PE i has k = i mod 2, c = (i // 2) mod 2, p = i // 4.
    Chiplet 0 (PEs 0..5): finals 0, 1, 4, 5; PEs 2, 3 (p 0) send to PEs 0, 1 on chiplet 0.
    Chiplet 1 at (0, 1) (PEs 6, 7: p 1, c 1) sends to PEs k + p x 4 = 4, 5: chiplet 0, (0, 0)."""
    part = Partition(2, 2, 2, 4, 1, 4)
    chips = mapper._place(part, Geometry(SHAPE, part))
    assert layout(chips) == [
        ((0, 0), [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)], [0, 1, 4, 5], {(0, 0): [2, 3]}),
        ((0, 1), [(0, 0), (0, 1)], [], {(0, 0): [0, 1]})]
