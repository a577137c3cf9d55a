"""The flit-level network behind the package's network interface (``simulator/hw/network.py``):
two non-square 2 x 3 meshes sharing one kernel, transfers on each, finish cycles against the
zero-load closed form and per-link bits against the XY routes written out by hand.

Zero-load latency of a transfer of F flits over H hops (Dally & Towles' T0 with the injection
and ejection channels, the head entering at creation): ``(H + 1)·t_r + (H + 2)·t_w + F - 1``.
Bits: every flit is ``width`` bits; each link of the route carries F flits, and every router the
flits pass (H + 1 of them, the source router included) counts them as router bits.
"""
from __future__ import annotations

from simulator.config.arch import Link
from simulator.hw.mesh import Mesh
from simulator.hw.network import FlitNetwork, TransactionNetwork, build
from simulator.stats.counters import Counters

WIDTH, ROUTER, WIRE = 64, 2, 1
LINK = Link(link_width_bits=WIDTH, router_latency_cycles=ROUTER, link_latency_cycles=WIRE)


def zero_load(hops: int, flits: int) -> int:
    return (hops + 1) * ROUTER + (hops + 2) * WIRE + flits - 1


def two_meshes():
    counters = Counters()
    meshes = [Mesh(f"chip{k}.noc", 2, 3, LINK, "noc_link.bit", "noc_router.bit", counters) for k in range(2)]
    return meshes, counters


def run(net, until: int = 10_000) -> dict:
    return dict(net.advance(until, False))


def link_ids(mesh: Mesh, path) -> list[int]:
    return [mesh.links.index((a, b)) for a, b in zip(path, path[1:])]


def test_build_shares_one_kernel_between_equal_meshes():
    meshes, _ = two_meshes()
    views = build(meshes, LINK, "flit")
    assert len(views) == 2 and views[0].shared is views[1].shared and (views[0].k, views[1].k) == (0, 1)
    assert isinstance(views[0].shared, FlitNetwork) and views[0].deferred
    single = build(meshes[:1], LINK, "flit")
    assert len(single) == 1 and isinstance(single[0], FlitNetwork)
    tx = build(meshes, LINK, "transaction")
    assert [type(n) for n in tx] == [TransactionNetwork, TransactionNetwork] and [n.mesh for n in tx] == meshes


def test_unicast_on_the_second_mesh_finishes_at_zero_load_and_counts_its_route():
    """64 B = 8 flits from (0,0) to (1,2) on mesh 1: XY route (0,0)->(0,1)->(0,2)->(1,2), 3 hops."""
    meshes, counters = two_meshes()
    views = build(meshes, LINK, "flit")
    views[1].submit(5, (0, 0), ((1, 2),), 64, "multicast", "t")
    assert run(views[1].shared) == {"t": 5 + zero_load(3, 8)}
    views[1].shared.flush()
    route = link_ids(meshes[1], [(0, 0), (0, 1), (0, 2), (1, 2)])
    assert [meshes[1].link_bits[i] for i in route] == [8 * WIDTH] * 3
    assert sum(meshes[1].link_bits) == 3 * 8 * WIDTH and sum(meshes[0].link_bits) == 0
    assert [meshes[1].link_busy[i] for i in route] == [8] * 3 and sum(meshes[1].link_busy) == 24
    got = counters.take()
    assert got[("chip1.noc", "noc_link.bit")] == 3 * 8 * WIDTH
    assert got[("chip1.noc", "noc_router.bit")] == 4 * 8 * WIDTH
    assert ("chip0.noc", "noc_link.bit") not in got


def test_gather_on_the_first_mesh_counts_each_senders_route():
    """1 flit from each of (1,2) and (0,1) into (0,0) on mesh 0: routes (1,2)->(1,1)->(1,0)->(0,0)
    (X first) and (0,1)->(0,0)."""
    meshes, counters = two_meshes()
    views = build(meshes, LINK, "flit")
    views[0].submit(0, (0, 0), ((1, 2), (0, 1)), 8, "gather", "g")
    finish = run(views[0].shared)["g"]
    assert finish >= zero_load(3, 1)
    views[0].shared.flush()
    used = link_ids(meshes[0], [(1, 2), (1, 1), (1, 0), (0, 0)]) + link_ids(meshes[0], [(0, 1), (0, 0)])
    assert {i: b for i, b in enumerate(meshes[0].link_bits) if b} == {i: WIDTH for i in used}
    assert sum(meshes[1].link_bits) == 0
    got = counters.take()
    assert got[("chip0.noc", "noc_link.bit")] == 4 * WIDTH
    assert got[("chip0.noc", "noc_router.bit")] == (4 + 2) * WIDTH
    # a second flush counts nothing new
    views[0].shared.flush()
    assert counters.take() == {}


def test_a_global_buffer_source_finishes_no_earlier_than_its_read_plus_the_hops():
    """extra_cycles = the buffer read: finish >= ready + extra + H·(t_r + t_w) = 5 + 100 + 3·3."""
    meshes, _ = two_meshes()
    views = build(meshes, LINK, "flit")
    views[1].submit(5, (0, 0), ((1, 2),), 64, "multicast", "t", extra_cycles=100)
    assert run(views[1].shared) == {"t": 5 + 100 + 3 * (ROUTER + WIRE)}


def test_advance_stops_at_the_first_completion_when_asked():
    """Two unicasts on different meshes: (0,0)->(0,1), 1 hop, and (0,0)->(1,2), 3 hops, 1 flit each.
    Stopping at completions returns them one by one, in finish order."""
    meshes, _ = two_meshes()
    views = build(meshes, LINK, "flit")
    views[0].submit(0, (0, 0), ((0, 1),), 8, "multicast", "near")
    views[1].submit(0, (0, 0), ((1, 2),), 8, "multicast", "far")
    net = views[0].shared
    assert net.busy
    assert net.advance(10_000, True) == [("near", zero_load(1, 1))]
    assert net.advance(10_000, True) == [("far", zero_load(3, 1))]
    assert not net.busy


def test_the_transaction_model_is_the_mesh_itself():
    """TransactionNetwork.submit returns Mesh.transfer's finish (no buffer read unless given):
    64 B over 3 hops of a 64-bit mesh: 8 cycles + 3 x 3."""
    meshes, counters = two_meshes()
    net = build(meshes, LINK, "transaction")[1]
    assert net.submit(5, (0, 0), ((1, 2),), 64, "multicast", "t") == 5 + 8 + 3 * (ROUTER + WIRE)
    assert net.submit(100, (0, 0), ((1, 2),), 64, "multicast", "t", extra_cycles=20) == 100 + 20 + 3 * (ROUTER + WIRE)
    assert counters.take()[("chip1.noc", "noc_link.bit")] == 2 * 3 * 64 * 8


def test_network_model_for_one_network_keeps_the_other_transaction_level():
    from simulator.errors import AxsimError
    from simulator.hw.network import parse_network_model
    assert parse_network_model("noc=flit") == {"nop": "transaction", "noc": "flit"}
    assert parse_network_model(" nop = transaction-ports ") == {"nop": "transaction-ports", "noc": "transaction"}
    try:
        parse_network_model("nop=flit,noc=cycle")
    except AxsimError as exc:
        assert str(exc) == ("--network-model: 'noc=cycle' in 'nop=flit,noc=cycle' is not allowed; allowed: "
                            "flit, flit-unicast, transaction, transaction-ports, or per network: nop=MODEL,noc=MODEL")
    else:
        raise AssertionError("accepted an unknown model")


def test_counts_accumulate_over_flushes_as_integers_and_rows_are_kept_on_later_meshes():
    """Two unicasts on mesh 1 from (1,0) to (0,0) (1 hop north), 2 flits each, flushed after each:
    the link (1,0)->(0,0) carries 4 flits in total; every count is an integer number of bits."""
    meshes, counters = two_meshes()
    views = build(meshes, LINK, "flit")
    net = views[1].shared
    for i in range(2):
        ready = net.now
        views[1].submit(ready, (1, 0), ((0, 0),), 16, "multicast", i)
        assert run(net) == {i: ready + zero_load(1, 2)}
        net.flush()
    lid = meshes[1].links.index(((1, 0), (0, 0)))
    assert meshes[1].link_bits[lid] == 4 * WIDTH and meshes[1].link_busy[lid] == 4
    assert sum(meshes[1].link_bits) == 4 * WIDTH and sum(meshes[0].link_bits) == 0
    assert all(type(b) is int for b in meshes[1].link_bits + meshes[1].link_busy)
    got = counters.take()
    assert got[("chip1.noc", "noc_link.bit")] == 4 * WIDTH


def test_advance_without_stopping_reports_every_finish():
    meshes, _ = two_meshes()
    views = build(meshes, LINK, "flit")
    views[0].submit(0, (0, 0), ((0, 1),), 8, "multicast", "near")
    views[1].submit(0, (1, 0), ((1, 2),), 8, "multicast", "far")
    assert views[0].shared.advance(10_000, False) == [("near", zero_load(1, 1)), ("far", zero_load(2, 1))]


def test_ejection_offsets_use_the_distance_from_a_source_off_the_first_column():
    """(0,2) -> (0,1): 1 hop, so the ejection port of (0,1) is used from 1 x 3 cycles."""
    from test_mesh_ports import EJ, INJ, mesh, node, port_plan
    assert port_plan(mesh(), (0, 2), ((0, 1),), "multicast") == {(INJ + node(0, 2), 0, 1), (EJ + node(0, 1), 3, 1)}


def test_an_empty_transfer_takes_only_the_hops():
    """0 bytes over 3 hops of the transaction model: no serialization, 3 x 3 cycles."""
    meshes, _ = two_meshes()
    net = build(meshes, LINK, "transaction")[0]
    assert net.submit(4, (0, 0), ((1, 2),), 0, "multicast", "t") == 4 + 3 * (ROUTER + WIRE)
