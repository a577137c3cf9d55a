"""Injection and ejection ports of the transaction-level mesh (network model ``transaction-ports``).

A non-square 2 x 3 mesh with router and wire latencies that differ (hop = 2 + 1 = 3 cycles), so
that a swap of rows and columns, of the two latencies or of source and destination changes a
value. Expected plans and finish cycles are written out by hand from the rules in the docstring
of ``simulator/hw/mesh.py``: calendars are numbered links first (14 directed links of a 2 x 3
mesh), then the 6 injection ports, then the 6 ejection ports, node ``(r, c)`` at index ``3r + c``;
the source's injection port carries the bits once for a multicast and once per destination for a
scatter; each destination's ejection port is used from ``H_d · hop`` for its bits; a gather
injects at every destination (offset 0) and ejects everything at the source from
``max_d H_d · hop``.
"""
from __future__ import annotations

from simulator.config.arch import Link
from simulator.hw.mesh import Mesh
from simulator.stats.counters import Counters

WIDTH, ROUTER, WIRE = 16, 2, 1
HOP = ROUTER + WIRE
ROWS, COLS = 2, 3
N_LINKS = 2 * (ROWS * (COLS - 1) + COLS * (ROWS - 1))   # 14 directed links
INJ, EJ = N_LINKS, N_LINKS + ROWS * COLS                 # first injection / ejection calendar


def mesh(ports: bool = True) -> Mesh:
    link = Link(link_width_bits=WIDTH, router_latency_cycles=ROUTER, link_latency_cycles=WIRE)
    return Mesh("noc", ROWS, COLS, link, "noc_link.bit", "noc_router.bit", Counters(), ports=ports)


def node(r: int, c: int) -> int:
    return r * COLS + c


def port_plan(m: Mesh, src, dsts, mode) -> set[tuple[int, int, int]]:
    """The (calendar, hop offset, multiplicity) entries of the ports in the transfer's plan."""
    return {e for e in m._tree(src, dsts, mode).links if e[0] >= N_LINKS}


def test_link_count_of_the_fixture():
    assert len(mesh().links) == N_LINKS == 14


def test_multicast_injects_once_and_ejects_at_each_destination_after_its_own_hops():
    # (0,0) -> (1,2): 3 hops; (0,0) -> (0,1): 1 hop
    assert port_plan(mesh(), (0, 0), ((1, 2), (0, 1)), "multicast") == {
        (INJ + node(0, 0), 0, 1), (EJ + node(1, 2), 3 * HOP, 1), (EJ + node(0, 1), 1 * HOP, 1)}


def test_scatter_injects_once_per_destination():
    # (1,2) -> (0,0): 3 hops; (1,2) -> (1,0): 2 hops
    assert port_plan(mesh(), (1, 2), ((0, 0), (1, 0)), "scatter") == {
        (INJ + node(1, 2), 0, 2), (EJ + node(0, 0), 3 * HOP, 1), (EJ + node(1, 0), 2 * HOP, 1)}


def test_gather_injects_at_every_sender_and_ejects_all_at_the_source_after_the_longest_route():
    # senders (1,2) (3 hops) and (0,1) (1 hop) into (0,0)
    assert port_plan(mesh(), (0, 0), ((1, 2), (0, 1)), "gather") == {
        (INJ + node(1, 2), 0, 1), (INJ + node(0, 1), 0, 1), (EJ + node(0, 0), 3 * HOP, 2)}


def test_without_ports_the_plan_has_only_links():
    assert port_plan(mesh(False), (0, 0), ((1, 2), (0, 1)), "scatter") == set()


def test_a_unicast_waits_for_the_ejection_window_a_gather_booked():
    """Gather of 8 B (64 bits = 4 cycles per copy) from (1,2) and (0,1) into (0,0) at cycle 0:
    link (0,1)->(0,0) busy [0, 4), injection port of (0,1) busy [0, 4), ejection port of (0,0)
    busy [9, 17) (2 copies from offset 3 hops x 3). Its finish: 0 + 8 (the port's serialization,
    the longest) + 3 x 3 = 17.
    Then a unicast of 8 B (0,1) -> (0,0) ready at 0: injection port [s, s+4), link [s, s+4),
    ejection port [s+3, s+7). s = 0: injection busy -> s = 4; ejection window [7, 11) meets
    [9, 17) -> s = 17 - 3 = 14; all free. Finish 14 + 4 + 1 x 3 = 21."""
    m = mesh()
    assert m.transfer(0, (0, 0), ((1, 2), (0, 1)), 8, "gather", "noc") == 17
    assert m.transfer(0, (0, 1), ((0, 0),), 8, "scatter", "noc") == 21
    # the same requests without ports: the gather's links carry one copy each (4 cycles), and the
    # unicast waits only for the link (0,1)->(0,0) [0, 4): 4 + 4 + 3 = 11
    m = mesh(False)
    assert m.transfer(0, (0, 0), ((1, 2), (0, 1)), 8, "gather", "noc") == 4 + 3 * HOP
    assert m.transfer(0, (0, 1), ((0, 0),), 8, "scatter", "noc") == 11


def test_a_scatter_holds_the_injection_port_for_every_destination():
    """Scatter of 8 B from (0,0) to (0,1) and (1,2): injection port [0, 8). A unicast (0,0) -> (1,0)
    ready at 0 starts at 8 (its link and ejection port are free): 8 + 4 + 3 = 15."""
    m = mesh()
    m.transfer(0, (0, 0), ((0, 1), (1, 2)), 8, "scatter", "noc")
    assert m.transfer(0, (0, 0), ((1, 0),), 8, "scatter", "noc") == 15
    # a multicast to the same two destinations injects once: [0, 4) -> the unicast starts at 4
    m = mesh()
    m.transfer(0, (0, 0), ((0, 1), (1, 2)), 8, "multicast", "noc")
    assert m.transfer(0, (0, 0), ((1, 0),), 8, "scatter", "noc") == 4 + 4 + HOP


def test_ports_carry_no_link_bits():
    """Per-link bits and busy cycles are those of the links alone (14 entries), with or without ports."""
    a, b = mesh(False), mesh(True)
    for m in (a, b):
        m.transfer(0, (0, 0), ((1, 2), (0, 1)), 8, "gather", "noc")
    assert len(b.link_bits) == N_LINKS
    assert a.link_bits == b.link_bits and a.link_busy == b.link_busy
    assert sum(b.link_bits) == 64 * (3 + 1)        # 64 bits over 3 links + 1 link


def test_the_package_gives_ports_to_the_network_it_names(tmp_path):
    """``transaction-ports`` for one network turns the ports on in that network's meshes only."""
    from quad import quad_arch
    from simulator.hw.network import TransactionNetwork
    from simulator.hw.package import Package

    arch = quad_arch(tmp_path)
    for models, nop, noc in (({"noc": "transaction-ports"}, False, True), ({"nop": "transaction-ports"}, True, False),
                             (None, False, False)):
        pkg = Package(arch, Counters(), network_model=models)
        assert pkg.nop.ports is nop and isinstance(pkg.nop_net, TransactionNetwork)
        assert [c.noc.ports for c in pkg.chiplets.values()] == [noc] * 4
        assert all(isinstance(c.net, TransactionNetwork) and c.net.mesh is c.noc for c in pkg.chiplets.values())
