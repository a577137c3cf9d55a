"""The transaction-level mesh: XY routes, zero-load latency, multicast/scatter trees,
contention on shared links, link and router bit counters."""
from __future__ import annotations

import itertools
from math import ceil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.config.arch import Link
from simulator.hw.mesh import Mesh
from simulator.stats.counters import Counters

WIDTH, ROUTER, WIRE = 64, 2, 3  # bits per cycle, router and link cycles per hop
HOP = ROUTER + WIRE


def make_mesh(rows: int = 4, cols: int = 4, width: int = WIDTH) -> tuple[Mesh, Counters]:
    counters = Counters()
    link = Link(link_width_bits=width, router_latency_cycles=ROUTER, link_latency_cycles=WIRE)
    return Mesh("m", rows, cols, link, "noc_link.bit", "noc_router.bit", counters), counters


def nodes_of(mesh: Mesh, route) -> list[tuple[int, int]]:
    """The sequence of routers visited by a route (list of link ids)."""
    out = [mesh.links[route[0]][0]] if route else []
    for lid in route:
        a, b = mesh.links[lid]
        assert a == out[-1], "route links must be contiguous"
        out.append(b)
    return out


def manhattan(a, b) -> int:
    return abs(a[0] - b[0]) + abs(a[1] - b[1])


# --------------------------------------------------------------------------- topology and routes
def test_link_count():
    mesh, _ = make_mesh(3, 5)
    # each undirected neighbour pair gives two directed links
    assert len(mesh.links) == 2 * (3 * 4 + 5 * 2)
    assert len(set(mesh.links)) == len(mesh.links)


def test_xy_route_every_pair():
    mesh, _ = make_mesh(3, 4)
    all_nodes = [(r, c) for r in range(3) for c in range(4)]
    for src, dst in itertools.product(all_nodes, repeat=2):
        route = mesh.route(src, dst)
        assert len(route) == manhattan(src, dst)
        if not route:
            assert src == dst
            continue
        visited = nodes_of(mesh, route)
        assert visited[0] == src and visited[-1] == dst
        # X (column) first: the row stays the source row until the column is reached
        turn = abs(dst[1] - src[1])
        assert all(node[0] == src[0] for node in visited[: turn + 1])
        assert all(node[1] == dst[1] for node in visited[turn:])


def test_route_example():
    mesh, _ = make_mesh()
    assert nodes_of(mesh, mesh.route((2, 0), (0, 2))) == [(2, 0), (2, 1), (2, 2), (1, 2), (0, 2)]


# --------------------------------------------------------------------------- zero-load latency
@given(src=st.tuples(st.integers(0, 3), st.integers(0, 4)), dst=st.tuples(st.integers(0, 3), st.integers(0, 4)),
       nbytes=st.integers(1, 5000), ready=st.integers(0, 1000))
@settings(max_examples=60, deadline=None)
def test_zero_load_latency_closed_form(src, dst, nbytes, ready):
    """Zero-load latency (Dally & Towles): T0 = hops x (router + link) + ceil(bits / width)."""
    mesh, _ = make_mesh(4, 5)
    finish = mesh.transfer(ready, src, (dst,), nbytes, "multicast", "c")
    assert finish - ready == manhattan(src, dst) * HOP + ceil(nbytes * 8 / WIDTH)


def test_zero_load_latency_hand_numbers():
    mesh, _ = make_mesh()
    # 3 hops x 5 cycles + 1000 bits / 64 = 15.6 -> 16 cycles
    assert mesh.transfer(10, (0, 0), ((1, 2),), 125, "multicast", "c") == 10 + 15 + 16


def test_extra_cycles_overlap_with_serialization():
    mesh, _ = make_mesh()
    # the buffer access (extra) replaces the serialization time when it is longer
    assert mesh.transfer(0, (0, 0), ((0, 1),), 8, "multicast", "c", extra_cycles=20) == 20 + HOP
    mesh2, _ = make_mesh()
    assert mesh2.transfer(0, (0, 0), ((0, 1),), 80, "multicast", "c", extra_cycles=3) == 10 + HOP


# --------------------------------------------------------------------------- trees and link loads
DSTS = ((0, 3), (2, 3), (3, 3))  # from (0, 0): all share the row-0 links (0,0)->(0,3)


def tree_links(mesh: Mesh, src, dsts) -> set[int]:
    return {lid for d in dsts for lid in mesh.route(src, d)}


def test_multicast_tree_link_count_and_bits():
    mesh, counters = make_mesh()
    nbytes = 100
    finish = mesh.transfer(0, (0, 0), DSTS, nbytes, "multicast", "c")
    links = tree_links(mesh, (0, 0), DSTS)
    assert len(links) == 3 + 3  # 3 links along row 0, then (0,3)->(1,3)->(2,3)->(3,3)
    for lid in range(len(mesh.links)):
        assert mesh.link_bits[lid] == (nbytes * 8 if lid in links else 0)
    assert counters.peek()[("c", "noc_link.bit")] == nbytes * 8 * len(links)
    # routers: every tree link enters one, plus the source router
    assert counters.peek()[("c", "noc_router.bit")] == nbytes * 8 * (len(links) + 1)
    # farthest destination: 6 hops; every link serializes the 800 bits once
    assert finish == 6 * HOP + ceil(800 / WIDTH)


def test_scatter_link_loads_sum_over_destinations():
    mesh, counters = make_mesh()
    nbytes = 100
    finish = mesh.transfer(0, (0, 0), DSTS, nbytes, "scatter", "c")
    bits = nbytes * 8
    expected = {}
    for d in DSTS:
        for lid in mesh.route((0, 0), d):
            expected[lid] = expected.get(lid, 0) + bits
    for lid in range(len(mesh.links)):
        assert mesh.link_bits[lid] == expected.get(lid, 0)
    # the row-0 links carry all three destinations' data
    first = mesh.route((0, 0), (0, 1))[0]
    assert mesh.link_bits[first] == 3 * bits
    assert counters.peek()[("c", "noc_link.bit")] == bits * sum(manhattan((0, 0), d) for d in DSTS)
    # routers: each destination's path crosses hops + 1 routers
    assert counters.peek()[("c", "noc_router.bit")] == bits * sum(manhattan((0, 0), d) + 1 for d in DSTS)
    # the busiest link serializes 3 x 800 bits
    assert finish == 6 * HOP + ceil(3 * bits / WIDTH)


def test_scatter_moves_more_than_multicast():
    m1, c1 = make_mesh()
    m2, c2 = make_mesh()
    m1.transfer(0, (0, 0), DSTS, 64, "multicast", "c")
    m2.transfer(0, (0, 0), DSTS, 64, "scatter", "c")
    assert c2.peek()[("c", "noc_link.bit")] > c1.peek()[("c", "noc_link.bit")]
    assert max(m2.link_busy) == 3 * max(m1.link_busy)


def test_gather_uses_each_senders_xy_route_towards_the_receiver():
    """A gather's bits flow from every destination to src along XY from the sender: walked by hand
    here, link by link; the same number of link and router bits as the scatter (same distances)."""
    m1, c1 = make_mesh()
    m2, c2 = make_mesh()
    m1.transfer(0, (0, 0), DSTS, 64, "scatter", "c")
    m2.transfer(0, (0, 0), DSTS, 64, "gather", "c")
    expected = {}
    for r, c in DSTS:
        while c != 0:  # X first, towards column 0
            expected[((r, c), (r, c - 1))] = expected.get(((r, c), (r, c - 1)), 0) + 512
            c -= 1
        while r != 0:
            expected[((r, c), (r - 1, c))] = expected.get(((r, c), (r - 1, c)), 0) + 512
            r -= 1
    got = {link: bits for link, bits in zip(m2.links, m2.link_bits) if bits}
    assert got == expected
    assert sum(m1.link_bits) == sum(m2.link_bits) and c1.peek() == c2.peek()
def test_gather_loads_like_scatter_on_the_senders_routes():
    m1, c1 = make_mesh()
    m2, c2 = make_mesh()
    f1 = m1.transfer(0, (0, 0), DSTS, 64, "scatter", "c")
    f2 = m2.transfer(0, (0, 0), DSTS, 64, "gather", "c")
    assert c1.peek() == c2.peek()  # same link and router traversals in total
    # each sender's XY route to (0,0): (0,3) along row 0; (2,3) and (3,3) along their rows to
    # column 0, then up column 0, sharing (2,0)->(1,0) and (1,0)->(0,0)
    used = {m2.links[i]: b // 512 for i, b in enumerate(m2.link_bits) if b}
    assert used == {((0, 3), (0, 2)): 1, ((0, 2), (0, 1)): 1, ((0, 1), (0, 0)): 1,
                    ((2, 3), (2, 2)): 1, ((2, 2), (2, 1)): 1, ((2, 1), (2, 0)): 1,
                    ((3, 3), (3, 2)): 1, ((3, 2), (3, 1)): 1, ((3, 1), (3, 0)): 1, ((3, 0), (2, 0)): 1,
                    ((2, 0), (1, 0)): 2, ((1, 0), (0, 0)): 2}
    # scatter: 3 tiles on the first link (24 cycles); gather: at most 2 on a link; 6 hops either way
    assert (f1, f2) == (3 * 8 + 6 * HOP, 2 * 8 + 6 * HOP)


def test_local_transfer_has_no_links():
    mesh, counters = make_mesh()
    assert mesh.transfer(5, (1, 1), ((1, 1),), 64, "multicast", "c") == 5 + ceil(512 / WIDTH)
    assert sum(mesh.link_bits) == 0
    assert counters.peek()[("c", "noc_link.bit")] == 0
    assert counters.peek()[("c", "noc_router.bit")] == 512  # the one shared router


# --------------------------------------------------------------------------- contention
def test_shared_link_serializes():
    mesh, _ = make_mesh()
    nbytes = 160  # 1280 bits = 20 cycles
    ser = ceil(nbytes * 8 / WIDTH)
    f1 = mesh.transfer(0, (0, 0), ((0, 2),), nbytes, "multicast", "a")
    f2 = mesh.transfer(0, (0, 0), ((0, 3),), nbytes, "multicast", "b")  # shares (0,0)->(0,1)->(0,2)
    assert f1 == 2 * HOP + ser
    alone = 3 * HOP + ser
    assert f2 == alone + ser  # waits for the first transfer's serialization
    assert mesh.link_busy[mesh.route((0, 0), (0, 1))[0]] == 2 * ser


def test_identical_transfers_finish_one_serialization_apart():
    mesh, _ = make_mesh()
    f1 = mesh.transfer(0, (3, 0), ((0, 0),), 256, "multicast", "a")
    f2 = mesh.transfer(0, (3, 0), ((0, 0),), 256, "multicast", "b")
    assert f2 - f1 == ceil(256 * 8 / WIDTH)


def test_disjoint_transfers_do_not_interfere():
    mesh, _ = make_mesh()
    f1 = mesh.transfer(0, (0, 0), ((0, 3),), 160, "multicast", "a")
    f2 = mesh.transfer(0, (1, 0), ((1, 3),), 160, "multicast", "b")
    f3 = mesh.transfer(0, (0, 3), ((0, 0),), 160, "multicast", "c")  # opposite direction: other links
    assert f1 == f2 == f3 == 3 * HOP + 20


def test_later_transfer_after_link_is_free_does_not_wait():
    mesh, _ = make_mesh()
    f1 = mesh.transfer(0, (0, 0), ((0, 1),), 64, "multicast", "a")
    # ready after the first one's serialization (8 cycles) has ended
    assert mesh.transfer(8, (0, 0), ((0, 1),), 64, "multicast", "b") == 8 + HOP + 8
    assert f1 == HOP + 8


def test_counters_per_component():
    mesh, counters = make_mesh()
    mesh.transfer(0, (0, 0), ((0, 2),), 10, "multicast", "a")
    mesh.transfer(0, (0, 0), ((2, 0),), 20, "multicast", "b")
    counts = counters.peek()
    assert counts[("a", "noc_link.bit")] == 80 * 2 and counts[("b", "noc_link.bit")] == 160 * 2
    assert counts[("a", "noc_router.bit")] == 80 * 3 and counts[("b", "noc_router.bit")] == 160 * 3
    assert sum(mesh.link_bits) == 80 * 2 + 160 * 2


def test_check_node():
    mesh, _ = make_mesh(2, 3)
    assert mesh.check_node((1, 2)) and not mesh.check_node((2, 0)) and not mesh.check_node((0, 3))


@pytest.mark.parametrize("width", [1, 7, 64, 100])
def test_serialization_rounds_up(width):
    mesh, _ = make_mesh(width=width)
    assert mesh.transfer(0, (0, 0), ((0, 1),), 13, "multicast", "c") == HOP + ceil(104 / width)


def test_xy_routes_are_shortest_paths_in_the_mesh_graph():
    """networkx as an independent oracle: every XY route is a shortest path of the grid graph."""
    import networkx as nx

    from simulator.config.arch import Link
    from simulator.hw.mesh import Mesh
    from simulator.stats.counters import Counters

    rows, cols = 4, 5
    mesh = Mesh("m", rows, cols, Link(link_width_bits=64), "noc_link.bit", "noc_router.bit", Counters())
    graph = nx.grid_2d_graph(rows, cols)
    lengths = dict(nx.all_pairs_shortest_path_length(graph))
    for src in graph.nodes:
        for dst in graph.nodes:
            route = mesh.route(src, dst)
            assert len(route) == lengths[src][dst]
            hops = [mesh.links[lid] for lid in route]
            assert all(graph.has_edge(a, b) for a, b in hops)
            assert [a for a, _ in hops][:1] == ([src] if route else [])
            assert all(hops[i][1] == hops[i + 1][0] for i in range(len(hops) - 1))
