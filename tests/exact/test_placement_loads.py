"""NoP link loads, the greedy ``follow`` placement and the mesh symmetries of
``simulator/mapping/placement.py``, by hand, on a 2 x 3 package (not square, so rows and columns
cannot be swapped unnoticed).

Physical chiplets are numbered row-major::

    0 1 2
    3 4 5

Routes are XY (along the source's row first, then along the destination's column), as in
``simulator.hw.mesh.Mesh``. A directed link is written ``(from, to)``. Every expected load below
is the sum, over the flows, of the flow's bytes on each link of its route, worked out in the
comments; ``received`` is, per chiplet, the NoP bytes its global buffer receives plus the bytes it
sends, maximised over the chiplets.
"""
from __future__ import annotations

import numpy as np
import pytest

from simulator.mapping.placement import Traffic, link_index, options, symmetries

ROWS, COLS = 2, 3


def by_link(loads: np.ndarray) -> dict[tuple[int, int], float]:
    """The non-zero loads keyed by directed link (from, to)."""
    index = link_index(ROWS, COLS)
    assert len(loads) == len(index) == 14          # 4 horizontal + 3 vertical neighbour pairs, 2 directions
    return {link: float(loads[i]) for link, i in index.items() if loads[i]}


def traffic(chiplets: int, attach=(2, 3), **kw) -> Traffic:
    return Traffic(ROWS, COLS, chiplets, attach, **kw)


# --- one flow kind at a time -------------------------------------------------------------------

def test_resident_inputs_cross_their_xy_routes():
    """Logical 0 at phys 4, logical 1 at phys 0.
    - 10 B from 2 to 4: along row 0 2->1, then down column 1 1->4;
    - 1000 B held by 4 itself: no link;
    - 20 B from 3 to 0: column 0 only, 3->0;
    - 40 B from 5 to 0: along row 1 5->4->3, then up 3->0.
    received: phys 0 receives 20 + 40 = 60 B; phys 4 receives 10 B (its own 1000 B are not NoP
    bytes, neither received nor sent); the senders 2, 3, 5 send 10, 20, 40 B: max 60."""
    tr = traffic(2)
    tr.uni[2, 0], tr.uni[4, 0], tr.uni[3, 1], tr.uni[5, 1] = 10, 1000, 20, 40
    loads = tr.link_loads((4, 0))
    assert by_link(loads) == {(2, 1): 10, (1, 4): 10, (3, 0): 60, (5, 4): 40, (4, 3): 40}
    assert tr.received == 60
    # placed the other way round (logical 0 at 0, logical 1 at 4): 2->1->0 (10 B); 4->0: 4->3->0
    # (1000 B, no longer local); 3->4 (20 B); 5->4 (40 B). Phys 0 receives 1010 B.
    loads = tr.link_loads((0, 4))
    assert by_link(loads) == {(2, 1): 10, (1, 0): 10, (4, 3): 1000, (3, 0): 1000, (3, 4): 20, (5, 4): 40}
    # phys 4 receives 60 B and sends 1000 B: 1060; phys 0 receives 1010 B
    assert tr.received == 1060


def test_a_chiplet_that_sends_and_receives_counts_both():
    """Logical 0 at phys 1 needs 30 B from 2 and 70 B from 5 (and holds 500 B itself); logical 1 at
    phys 2 needs 25 B from 1. Phys 1: receives 100, sends 25 -> 125; phys 2: receives 25, sends 30
    -> 55; phys 5 sends 70. Routes: 2->1; 5->4->1; 1->2."""
    tr = traffic(2)
    tr.uni[1, 0], tr.uni[2, 0], tr.uni[5, 0], tr.uni[1, 1] = 500, 30, 70, 25
    loads = tr.link_loads((1, 2))
    assert by_link(loads) == {(2, 1): 30, (5, 4): 70, (4, 1): 70, (1, 2): 25}
    assert tr.received == 125


def test_dram_reads_and_writes_use_the_nearest_attach_chiplet():
    """Attach chiplets 2 and 3 (opposite corners: never a tie). Logical 0, 1, 2 at phys 1, 5, 4.
    Nearest: phys 1 -> 2 (1 hop, 3 is 2), phys 5 -> 2 (1 vs 2), phys 4 -> 3 (1 vs 2).
    Reads 10, 20, 40 B: 2->1, 2->5, 3->4. Writes 1, 2, 4 B: 1->2, 5->2, 4->3.
    received: phys 1 receives 10 and sends its 1 B of outputs: 11; phys 5: 20 + 2; phys 4: 40 + 4;
    the attach chiplets receive 1 + 2 (phys 2) and 4 (phys 3). Max 44."""
    tr = traffic(3, dram_uni=np.array([10.0, 20.0, 40.0]), dram_out=np.array([1.0, 2.0, 4.0]))
    loads = tr.link_loads((1, 5, 4))
    assert by_link(loads) == {(2, 1): 10, (2, 5): 20, (3, 4): 40, (1, 2): 1, (5, 2): 2, (4, 3): 4}
    assert tr.received == 44


def test_a_tie_between_attach_chiplets_goes_to_the_first():
    """Attach chiplets 0 and 2: phys 1 (1 hop from each) and phys 4 (2 from each) tie and read from
    0, the first attach chiplet: 0->1, and 0->1->4; phys 5 is nearer to 2: 2->5."""
    tr = traffic(3, attach=(0, 2), dram_uni=np.array([5.0, 7.0, 11.0]))
    loads = tr.link_loads((1, 4, 5))
    assert by_link(loads) == {(0, 1): 5 + 7, (1, 4): 7, (2, 5): 11}
    assert tr.received == 11


def test_partial_sums_go_from_logical_to_logical_chiplet():
    """Logical 0, 1, 2 at phys 1, 5, 4. psum[1, 0] = 7 B: 5->4->1; psum[2, 0] = 5 B: 4->1;
    psum[2, 1] = 3 B: 4->5. Phys 1 receives 12; phys 5 receives 3 and sends 7: 10; phys 4 sends 8."""
    tr = traffic(3)
    tr.psum[1, 0], tr.psum[2, 0], tr.psum[2, 1] = 7, 5, 3
    loads = tr.link_loads((1, 5, 4))
    assert by_link(loads) == {(5, 4): 7, (4, 1): 7 + 5, (4, 5): 3}
    assert tr.received == 12
    tr.psum[2, 1] = 30       # now phys 5 receives 30 and sends 7: 37; phys 4 sends 35
    tr.link_loads((1, 5, 4))
    assert tr.received == 37


def test_a_resident_multicast_crosses_each_link_of_its_tree_once():
    """Logical 0 and 2 (at phys 1 and 4) share 8 B from phys 0, 16 B from phys 5 and 100 B from
    phys 4 (the destination itself). Trees: from 0 to {1, 4}: 0->1, 1->4 (8 B each); from 5 to
    {1, 4}: 5->4 and 4->1 (5->1 goes along row 1 first, through 4); from 4 to {1, 4}: 4->1.
    So 4->1 carries 16 + 100. Each source reads its bytes once (one tree).
    received: phys 1 receives all 124 B; phys 4 receives 24 and sends 100: 124; phys 5 sends 16."""
    tr = traffic(3)
    by_src = np.zeros(6)
    by_src[0], by_src[5], by_src[4] = 8, 16, 100
    tr.multi.append((by_src, (0, 2)))
    loads = tr.link_loads((1, 5, 4))
    assert by_link(loads) == {(0, 1): 8, (1, 4): 8, (5, 4): 16, (4, 1): 116}
    assert tr.received == 124
    # the same bytes to logical 0 and 1 (phys 1 and 5): from 0: 0->1, 1->2, 2->5; from 5: 5->4, 4->1
    # and 5 itself; from 4: 4->1 and 4->5. Phys 5 receives 8 + 100 and sends 16: 124; phys 4 sends
    # 100 and receives nothing: 100; phys 1 receives 124.
    tr.multi[0] = (by_src, (0, 1))
    loads = tr.link_loads((1, 5, 4))
    assert by_link(loads) == {(0, 1): 8, (1, 2): 8, (2, 5): 8, (5, 4): 16, (4, 1): 116, (4, 5): 100}
    assert tr.received == 124
    by_src[0] = 50      # phys 5: 50 + 100 + 16 = 166; phys 1: 166
    tr.link_loads((1, 5, 4))
    assert tr.received == 166


def test_a_shared_dram_read_is_spread_over_the_attach_chiplets():
    """30 B read once for logical 0 and 1 (phys 1 and 5): half from each attach chiplet, each
    crossing its XY tree once. From 2: 2->1 and 2->5 (15 B each); from 3: 3->4, then 4->1 and
    4->5 (3->1 and 3->5 both go along row 1 first). Each destination receives all 30 B."""
    tr = traffic(3)
    tr.dram_multi.append((30.0, (0, 1)))
    loads = tr.link_loads((1, 5, 4))
    assert by_link(loads) == {(2, 1): 15, (2, 5): 15, (3, 4): 15, (4, 1): 15, (4, 5): 15}
    assert tr.received == 30
    tr.uni[0, 0] = 50          # logical 0 (phys 1) also receives 50 B from phys 0: 50 + 30 = 80
    loads = tr.link_loads((1, 5, 4))
    assert by_link(loads)[(0, 1)] == 50 and tr.received == 80


def test_a_layer_on_no_chiplet_moves_nothing():
    tr = traffic(0)
    loads = tr.link_loads(())
    assert loads.shape == (14,) and not loads.any() and tr.received == 0


def test_dram_channels_entering_by_a_shared_edge_load_that_link():
    """Attach chiplets 2 and 3; the channel of 2 enters by its edge facing 5 (entries {2: 5}), the
    channel of 3 has its own port. Logical 0, 1 at phys 1 and 4: nearest attach 2 and 3.
    Reads 10 and 20 B: 2->1 and 3->4, and the 10 B read at 2 first cross 5->2. Writes 3 and 6 B:
    1->2 (then 2->5 into the channel) and 4->3 (own port). A shared read of 8 B for both: 4 B from
    each attach chiplet over its tree (from 2 to {1, 4}: 2->1, 1->4; from 3: 3->4, 4->1), and the
    4 B of 2's half also cross 5->2."""
    tr = traffic(2, entries={2: 5}, dram_uni=np.array([10.0, 20.0]), dram_out=np.array([3.0, 6.0]))
    loads = tr.link_loads((1, 4))
    assert by_link(loads) == {(2, 1): 10, (3, 4): 20, (5, 2): 10, (1, 2): 3, (2, 5): 3, (4, 3): 6}
    tr.dram_multi.append((8.0, (0, 1)))
    loads = tr.link_loads((1, 4))
    assert by_link(loads) == {(2, 1): 14, (3, 4): 24, (5, 2): 14, (1, 2): 3, (2, 5): 3, (4, 3): 6,
                              (1, 4): 4, (4, 1): 4}
    # placed on the attach chiplets themselves (logical 0 at 2, logical 1 at 3): the private reads
    # and writes cross no mesh link, the shared edge link still carries the channel of 2 (10 + 4 B
    # in, 3 B out); the shared read from 2 reaches 3 by 2->1->0->3, the one from 3 reaches 2 by
    # 3->4->5->2 (4 B each)
    loads = tr.link_loads((2, 3))
    assert by_link(loads) == {(5, 2): 4 + 14, (2, 5): 3, (2, 1): 4, (1, 0): 4, (0, 3): 4,
                              (3, 4): 4, (4, 5): 4}


def test_all_flow_kinds_add_up():
    """The flows of the single-kind tests above together (logical 0, 1, 2 at phys 1, 5, 4; attach
    2 and 3): loads add link by link, and each chiplet's received + sent bytes add:
    uni: 9 B from 3 to logical 1 (3->4->5); DRAM: reads 10, 20, 40, writes 1, 2, 4 (as in
    test_dram_reads...); psums as in test_partial_sums (7, 5, 3); the multicast of 8 / 16 / 100 B
    to logical 0 and 2.
    Per chiplet (received + sent): phys 1: 10 (DRAM) + 1 (write) + 12 (psums) + 124 (multicast)
    = 147; phys 4: 40 + 4 + 8 (psums sent) + 24 + 100 = 176; phys 5: 20 + 2 + 3 + 7 + 16 + 9 = 57."""
    tr = traffic(3, dram_uni=np.array([10.0, 20.0, 40.0]), dram_out=np.array([1.0, 2.0, 4.0]))
    tr.uni[3, 1] = 9
    tr.psum[1, 0], tr.psum[2, 0], tr.psum[2, 1] = 7, 5, 3
    by_src = np.zeros(6)
    by_src[0], by_src[5], by_src[4] = 8, 16, 100
    tr.multi.append((by_src, (0, 2)))
    loads = tr.link_loads((1, 5, 4))
    assert by_link(loads) == {
        (3, 4): 9 + 40, (4, 5): 9 + 3,                    # uni; DRAM read; psum
        (2, 1): 10, (2, 5): 20, (1, 2): 1, (5, 2): 2, (4, 3): 4,
        (5, 4): 7 + 16, (4, 1): 7 + 5 + 116, (0, 1): 8, (1, 4): 8}
    assert tr.received == 176
    assert loads.sum() == pytest.approx(9 * 2 + 10 + 20 + 40 + 1 + 2 + 4 + 7 * 2 + 5 + 3 + 8 * 2 + 16 * 2 + 100)


# --- follow: the greedy placement ----------------------------------------------------------------

def test_follow_places_the_largest_need_first_next_to_its_sources():
    """Needs: logical 0: 10 B from phys 5; logical 1: 30 B from phys 5 and (multicast) 20 B from
    phys 0; logical 2: the multicast's 20 B from phys 0. Totals 10, 50, 20: order 1, 2, 0.
    Hops from 5: [3, 2, 1, 2, 1, 0]; from 0: [0, 1, 2, 1, 2, 3] (phys 0..5).
    logical 1: 30·h5 + 20·h0 = [90, 80, 70, 80, 70, 60] -> phys 5;
    logical 2: 20·h0 -> phys 0 (0);
    logical 0: 10·h5 over the free 1..4 = [20, 10, 20, 10]: a tie, the lower index, phys 2."""
    tr = traffic(3)
    tr.uni[5, 0], tr.uni[5, 1] = 10, 30
    by_src = np.zeros(6)
    by_src[0] = 20
    tr.multi.append((by_src, (1, 2)))
    uni = tr.uni.copy()
    assert tr.follow() == (2, 5, 0)
    assert np.array_equal(tr.uni, uni)                   # the multicast is not folded into uni
    assert options(tr)["follow"] == (2, 5, 0)


def test_follow_breaks_ties_in_the_order_by_logical_index():
    """Logical 0 and 1 both need 10 B from phys 5: logical 0 goes first and takes phys 5 itself;
    logical 1 then ties between phys 2 and 4 (1 hop) and takes 2."""
    tr = traffic(2)
    tr.uni[5, 0] = tr.uni[5, 1] = 10
    assert tr.follow() == (5, 2)
    tr.uni[5, 1] = 11                                      # now logical 1 goes first
    assert tr.follow() == (2, 5)


def test_options_are_the_symmetries_cut_to_the_chiplets_used_and_follow_when_inputs_are_resident():
    tr = traffic(2, dram_uni=np.array([1.0, 2.0]))
    # only DRAM traffic: no follow
    assert options(tr) == {"id": (0, 1), "flip-c": (2, 1), "flip-r": (3, 4), "rot180": (5, 4)}
    tr.uni[5, 1] = 3                                      # logical 1 needs phys 5: follow places it there
    assert options(tr)["follow"] == (0, 5) and len(options(tr)) == 5
    m = traffic(3)
    by_src = np.zeros(6)
    by_src[3] = 4
    m.multi.append((by_src, (0, 2)))                     # a multicast alone also makes follow an option
    opts = options(m)
    # follow: logical 0 and 2 need 4 B from phys 3 (order 0, 2, then 1): 0 -> phys 3; 2 -> phys 0
    # or 4 (1 hop), the lower index 0; logical 1 needs nothing: the lowest free index, phys 1
    assert opts["rot180"] == (5, 4, 3) and opts["follow"] == (3, 1, 0)


def test_a_traffic_fills_in_zero_flows_of_the_right_shapes():
    tr = Traffic(2, 3, 4, (0,))
    assert tr.uni.shape == (6, 4) and tr.dram_uni.shape == (4,) and tr.dram_out.shape == (4,)
    assert tr.psum.shape == (4, 4)
    assert not (tr.uni.any() or tr.dram_uni.any() or tr.dram_out.any() or tr.psum.any())
    assert tr.multi == [] and tr.dram_multi == [] and tr.entries == {} and tr.received == 0
    given = np.ones((6, 4))
    kept = Traffic(2, 3, 4, (0,), uni=given, dram_uni=np.ones(4), dram_out=np.full(4, 2.0),
                   psum=np.full((4, 4), 3.0))
    assert kept.uni is given and kept.dram_uni.sum() == 4 and kept.dram_out.sum() == 8
    assert kept.psum.sum() == 48


# --- symmetries ----------------------------------------------------------------------------------

def test_symmetries_of_rectangular_meshes():
    """2 x 3: mirror left-right (column c -> 2 - c), top-bottom (row r -> 1 - r), both (a half
    turn); no transposition on a rectangle. 3 x 2: the same with 3 rows and 2 columns."""
    assert symmetries(2, 3) == {"id": (0, 1, 2, 3, 4, 5), "flip-c": (2, 1, 0, 5, 4, 3),
                                "flip-r": (3, 4, 5, 0, 1, 2), "rot180": (5, 4, 3, 2, 1, 0)}
    assert symmetries(3, 2) == {"id": (0, 1, 2, 3, 4, 5), "flip-c": (1, 0, 3, 2, 5, 4),
                                "flip-r": (4, 5, 2, 3, 0, 1), "rot180": (5, 4, 3, 2, 1, 0)}


def test_the_eight_symmetries_of_a_square_mesh():
    """3 x 3 (row 0 on top): transpose (r, c) -> (c, r); anti-transpose (r, c) -> (2 - c, 2 - r);
    rot90 takes the top-left corner to the top-right one (a clockwise quarter turn: (r, c) ->
    (c, 2 - r)); rot270 takes it to the bottom-left one ((r, c) -> (2 - c, r))."""
    s = symmetries(3, 3)
    assert s == {"id": tuple(range(9)), "flip-c": (2, 1, 0, 5, 4, 3, 8, 7, 6),
                 "flip-r": (6, 7, 8, 3, 4, 5, 0, 1, 2), "rot180": tuple(range(8, -1, -1)),
                 "transpose": (0, 3, 6, 1, 4, 7, 2, 5, 8), "anti": (8, 5, 2, 7, 4, 1, 6, 3, 0),
                 "rot90": (2, 5, 8, 1, 4, 7, 0, 3, 6), "rot270": (6, 3, 0, 7, 4, 1, 8, 5, 2)}
    # each keeps every distance between chiplets (brute force over all pairs)
    for perm in s.values():
        for a in range(9):
            for b in range(9):
                d = abs(a // 3 - b // 3) + abs(a % 3 - b % 3)
                assert abs(perm[a] // 3 - perm[b] // 3) + abs(perm[a] % 3 - perm[b] % 3) == d
