"""Queueing in the transaction-level mesh: out-of-order and multi-source bookings.

Finish cycles are computed by hand from the model of ``simulator/hw/mesh.py``
(link at hop index j used from ``start + j·t_hop`` for ``ceil(bits·m / width)``
cycles, ``finish = start + max serialization + hops·t_hop``) and, for random
booking sequences, by a brute-force oracle that marks busy cycles one by one
and scans start cycles upward. The oracle shares no code with the mesh.
"""
from __future__ import annotations

from math import ceil

from hypothesis import given, settings
from hypothesis import strategies as st

from oracles import xy_links
from simulator.config.arch import Link
from simulator.hw.mesh import Mesh
from simulator.stats.counters import Counters

WIDTH, ROUTER, WIRE = 16, 2, 1   # router and wire latencies differ: a swap of the two stays visible in HOP
HOP = ROUTER + WIRE


def make_mesh(rows: int = 3, cols: int = 4) -> tuple[Mesh, Counters]:
    counters = Counters()
    link = Link(link_width_bits=WIDTH, router_latency_cycles=ROUTER, link_latency_cycles=WIRE)
    return Mesh("m", rows, cols, link, "noc_link.bit", "noc_router.bit", counters), counters


def bits_for(cycles: int) -> int:
    """Bytes whose serialization on one link takes exactly ``cycles`` cycles."""
    assert cycles * WIDTH % 8 == 0
    return cycles * WIDTH // 8


# --------------------------------------------------------------------------- hand-computed cases
def test_downstream_hop_is_used_one_hop_later():
    """A 2-hop transfer holds its second link from start + HOP; a 1-hop transfer on that link
    waits for the end of that window (not of the first link's window)."""
    mesh, _ = make_mesh()
    a = mesh.transfer(0, (0, 0), ((0, 2),), bits_for(10), "multicast", "x", now=0)
    assert a == 0 + 10 + 2 * HOP
    # link (0,1)->(0,2) is busy [HOP, HOP + 10) = [3, 13): a 10-cycle window from 0 overlaps it
    b = mesh.transfer(0, (0, 1), ((0, 2),), bits_for(10), "multicast", "x", now=0)
    assert b == (HOP + 10) + 10 + 1 * HOP == 26


def test_short_transfer_fills_the_gap_before_a_later_booking():
    """Booked out of time order: a transfer requested later but ready earlier uses the idle gap."""
    mesh, _ = make_mesh()
    late = mesh.transfer(10, (0, 0), ((0, 2),), bits_for(10), "multicast", "x", now=0)
    assert late == 10 + 10 + 2 * HOP        # link (0,1)->(0,2) busy [13, 23)
    early = mesh.transfer(0, (0, 1), ((0, 2),), bits_for(2), "multicast", "x", now=0)
    assert early == 0 + 2 + HOP             # [0, 2) fits before 13
    # [2, 14) would overlap [13, 23): the next free window of 12 cycles starts at 23
    long = mesh.transfer(0, (0, 1), ((0, 2),), bits_for(12), "multicast", "x", now=0)
    assert long == 23 + 12 + HOP
    # a window ending exactly where a booking starts does not overlap it: [3, 13) fits after [0, 2)?
    # no: [2, 12) is free (2 + 10 = 12 <= 13), so a 10-cycle transfer ready at 2 starts at 2
    fit = mesh.transfer(2, (0, 1), ((0, 2),), bits_for(10), "multicast", "x", now=0)
    assert fit == 2 + 10 + HOP


def test_window_touching_the_next_booking_fits_exactly():
    mesh, _ = make_mesh()
    mesh.transfer(20, (1, 1), ((1, 2),), bits_for(5), "multicast", "x", now=0)   # busy [20, 25)
    assert mesh.transfer(0, (1, 1), ((1, 2),), bits_for(20), "multicast", "x", now=0) == 20 + HOP
    assert mesh.transfer(0, (1, 1), ((1, 2),), bits_for(1), "multicast", "x", now=0) == 25 + 1 + HOP


def test_two_sources_share_only_the_last_link():
    """(0,0)->(1,2) goes X first along row 0 then down column 2; (0,2)->(1,2) shares only the
    last link (0,2)->(1,2), which the first transfer reaches at hop index 2."""
    mesh, _ = make_mesh()
    first = mesh.transfer(0, (0, 0), ((1, 2),), bits_for(4), "multicast", "x", now=0)
    assert first == 4 + 3 * HOP
    # link (0,2)->(1,2) busy [2·HOP, 2·HOP + 4) = [6, 10): a 6-cycle window [0, 6) just fits
    # before it, a 7-cycle one overlaps it and waits for cycle 10
    assert mesh.transfer(0, (0, 2), ((1, 2),), bits_for(6), "multicast", "x", now=0) == 6 + HOP
    second = mesh.transfer(0, (0, 2), ((1, 2),), bits_for(7), "multicast", "x", now=0)
    assert second == 10 + 7 + HOP
    # a transfer from (1,0) to (1,2) goes along row 1 and shares no link with the others
    third = mesh.transfer(0, (1, 0), ((1, 2),), bits_for(6), "multicast", "x", now=0)
    assert third == 6 + 2 * HOP


def test_scatter_serializes_the_sum_on_the_shared_first_link():
    mesh, counters = make_mesh()
    # from (0,0) to (0,1), (0,2), (0,3): link (0,0)->(0,1) carries 3 tiles, (0,1)->(0,2) two, the last one
    nbytes = bits_for(2)
    finish = mesh.transfer(0, (0, 0), ((0, 1), (0, 2), (0, 3)), nbytes, "scatter", "x", now=0)
    assert finish == 3 * 2 + 3 * HOP
    bits = nbytes * 8
    counts = counters.take()
    assert counts[("x", "noc_link.bit")] == bits * (3 + 2 + 1)
    assert counts[("x", "noc_router.bit")] == bits * (3 + 2 + 1 + 3)
    # the last link (0,2)->(0,3) is busy [2·HOP, 2·HOP + 2): a 1-hop transfer on it waits
    assert mesh.transfer(0, (0, 2), ((0, 3),), bits_for(7), "multicast", "y", now=0) == 2 * HOP + 2 + 7 + HOP


def test_multicast_counts_each_tree_link_once():
    mesh, counters = make_mesh()
    nbytes = bits_for(3)
    finish = mesh.transfer(0, (0, 0), ((0, 2), (2, 2), (2, 0)), nbytes, "multicast", "x", now=0)
    # tree: (0,0)->(0,1)->(0,2)->(1,2)->(2,2) and (0,0)->(1,0)->(2,0): 6 links, deepest route 4 hops
    assert finish == 3 + 4 * HOP
    counts = counters.take()
    assert counts[("x", "noc_link.bit")] == 6 * nbytes * 8
    assert counts[("x", "noc_router.bit")] == 7 * nbytes * 8


def test_gather_uses_the_links_towards_the_source():
    """Outputs gathered into (0,0) do not queue behind a multicast leaving (0,0)."""
    mesh, _ = make_mesh()
    out = mesh.transfer(0, (0, 0), ((0, 1), (0, 2)), bits_for(10), "multicast", "x", now=0)
    assert out == 10 + 2 * HOP
    # senders (0,1) and (0,2): link (0,1)->(0,0) carries both tiles (20 cycles), (0,2)->(0,1) one
    back = mesh.transfer(0, (0, 0), ((0, 1), (0, 2)), bits_for(10), "gather", "x", now=0)
    assert back == 20 + 2 * HOP
    # a second gather queues on (0,1)->(0,0), busy [0, 20) from hop index 0 (sender (0,1))
    again = mesh.transfer(0, (0, 0), ((0, 1),), bits_for(1), "gather", "x", now=0)
    assert again == 20 + 1 + HOP


def test_forgotten_reservations_are_those_ended_before_now():
    """``now`` promises that no later request is ready earlier; intervals ended by then are dropped,
    intervals still running are kept."""
    mesh, _ = make_mesh()
    mesh.transfer(0, (2, 0), ((2, 1),), bits_for(10), "multicast", "x", now=0)     # busy [0, 10)
    assert mesh.transfer(5, (2, 0), ((2, 1),), bits_for(1), "multicast", "x", now=5) == 10 + 1 + HOP
    assert mesh.transfer(30, (2, 0), ((2, 1),), bits_for(1), "multicast", "x", now=30) == 30 + 1 + HOP


def test_extra_cycles_extend_a_short_serialization_only():
    mesh, _ = make_mesh()
    assert mesh.transfer(0, (0, 0), ((0, 1),), bits_for(4), "multicast", "x", extra_cycles=9, now=0) == 9 + HOP
    assert mesh.transfer(100, (0, 0), ((0, 1),), bits_for(4), "multicast", "x", extra_cycles=3, now=0) \
        == 100 + 4 + HOP


# --------------------------------------------------------------------------- brute-force oracle
class Oracle:
    """Cycle-by-cycle occupancy of every link; the earliest start is found by scanning."""

    def __init__(self):
        self.busy: dict[tuple, set[int]] = {}

    def transfer(self, ready, src, dsts, nbytes, mode):
        bits = nbytes * 8
        windows: dict[tuple, tuple[int, int]] = {}   # link -> (hop index, multiplicity)
        hops = 0
        for dst in dsts:
            # a gather: every destination sends to the source on its own XY route
            path = xy_links(dst, src) if mode == "gather" else xy_links(src, dst)
            hops = max(hops, len(path))
            for j, link in enumerate(path):
                j0, m = windows.get(link, (j, 0))
                windows[link] = (min(j0, j), m + 1)
        sers = {link: ceil(bits * (1 if mode == "multicast" else m) / WIDTH) for link, (j, m) in windows.items()}
        start = ready
        while any(cyc in self.busy.get(link, ())
                  for link, (j, _) in windows.items()
                  for cyc in range(start + j * HOP, start + j * HOP + sers[link])):
            start += 1
        for link, (j, _) in windows.items():
            self.busy.setdefault(link, set()).update(range(start + j * HOP, start + j * HOP + sers[link]))
        longest = max(sers.values()) if sers else ceil(bits / WIDTH)
        return start + longest + hops * HOP


NODE = st.tuples(st.integers(0, 2), st.integers(0, 3))
BOOKING = st.tuples(st.integers(0, 60), NODE, st.lists(NODE, min_size=1, max_size=3, unique=True),
                    st.integers(1, 40), st.sampled_from(["multicast", "scatter", "gather"]))


@settings(max_examples=60, deadline=None)
@given(st.lists(BOOKING, min_size=1, max_size=8))
def test_random_bookings_match_the_brute_force_oracle(bookings):
    mesh, _ = make_mesh()
    oracle = Oracle()
    for ready, src, dsts, nbytes, mode in bookings:
        got = mesh.transfer(ready, src, tuple(dsts), nbytes, mode, "x", now=0)
        assert got == oracle.transfer(ready, src, dsts, nbytes, mode), (ready, src, dsts, nbytes, mode)


def test_forgetting_keeps_the_reservations_still_ahead():
    """At now = 20 the interval [0, 10) is dropped but [50, 60) on the same link must stay."""
    mesh, _ = make_mesh()
    mesh.transfer(0, (2, 2), ((2, 3),), bits_for(10), "multicast", "x", now=0)     # [0, 10)
    mesh.transfer(50, (2, 2), ((2, 3),), bits_for(10), "multicast", "x", now=0)    # [50, 60)
    assert mesh.transfer(45, (2, 2), ((2, 3),), bits_for(10), "multicast", "x", now=20) == 60 + 10 + HOP


def test_a_link_emptied_by_forgetting_does_not_end_the_check_of_the_others():
    mesh, _ = make_mesh()
    mesh.transfer(0, (0, 0), ((0, 1),), bits_for(5), "multicast", "x", now=0)      # (0,0)->(0,1) [0, 5)
    mesh.transfer(30, (0, 1), ((0, 2),), bits_for(10), "multicast", "x", now=0)    # (0,1)->(0,2) [30, 40)
    # from (0,0) to (0,2) at 20: the first link is free (its old interval is forgotten); the second
    # is needed from start + HOP for 10 cycles, so [23, 33) collides and the start moves to 40 - HOP
    assert mesh.transfer(20, (0, 0), ((0, 2),), bits_for(10), "multicast", "x", now=20) == 37 + 10 + 2 * HOP


def test_an_empty_transfer_takes_only_its_hops():
    mesh, _ = make_mesh()
    assert mesh.transfer(7, (0, 0), ((2, 3),), 0, "multicast", "x") == 7 + 5 * HOP
    assert mesh.transfer(7, (1, 1), ((1, 1),), 0, "multicast", "x") == 7
